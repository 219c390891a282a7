/* mt-user-result.h — what matching found for one user */
#pragma once

#include "mt-image.h"
#include "mt-pair.h"
#include "mt-trace.h"

G_BEGIN_DECLS

typedef enum {
  MT_USER_STATUS_MATCHED,    /* at least one pair */
  MT_USER_STATUS_NO_IMAGES,  /* traces, but no image in the window */
  MT_USER_STATUS_NO_PAIRS,   /* images, but none after a free trace */
  MT_USER_STATUS_INCOMPLETE, /* the user's data could not all be fetched */
} MtUserStatus;

#define MT_TYPE_USER_RESULT (mt_user_result_get_type ())

G_DECLARE_FINAL_TYPE (MtUserResult, mt_user_result, MT, USER_RESULT, GObject)

const char   *mt_user_result_get_user_id          (MtUserResult *self);
MtUserStatus  mt_user_result_get_status           (MtUserResult *self);
guint         mt_user_result_get_n_traces         (MtUserResult *self);
guint         mt_user_result_get_n_images         (MtUserResult *self);
guint         mt_user_result_get_n_pairs          (MtUserResult *self);

/* The newest image's time, or MT_TIME_NONE when the user has no image. */
gint64        mt_user_result_get_latest_image     (MtUserResult *self);

/* Every trace in the window, by (timestamp, id). */
GPtrArray    *mt_user_result_get_traces           (MtUserResult *self);
/* Every image in the window, by (time, key). */
GPtrArray    *mt_user_result_get_images           (MtUserResult *self);
/* MtPair, by image time. */
GPtrArray    *mt_user_result_get_pairs            (MtUserResult *self);
/* Traces in no pair, by (timestamp, id). */
GPtrArray    *mt_user_result_get_unused_traces    (MtUserResult *self);
/* Images in no pair, by (time, key). */
GPtrArray    *mt_user_result_get_unmatched_images (MtUserResult *self);

G_END_DECLS
