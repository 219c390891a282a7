/* mt-match-result.h — the whole result of a run: users, summary, provenance
 *
 * A GListModel of MtUserResult, sorted by user id (bytewise), so a view can
 * sort and filter it directly.
 */
#pragma once

#include <gio/gio.h>

#include "mt-match-summary.h"
#include "mt-user-result.h"

G_BEGIN_DECLS

#define MT_TYPE_MATCH_RESULT (mt_match_result_get_type ())

G_DECLARE_FINAL_TYPE (MtMatchResult, mt_match_result, MT, MATCH_RESULT, GObject)

MtMatchSummary     *mt_match_result_get_summary          (MtMatchResult *self);

/* The user's result (owned by @self), or %NULL when the user had no trace
 * in the window. */
MtUserResult       *mt_match_result_lookup_user          (MtMatchResult *self,
                                                          const char    *user_id);

/* The window [from, to); MT_TIME_NONE for an open end. */
gint64              mt_match_result_get_window_from      (MtMatchResult *self);
gint64              mt_match_result_get_window_to        (MtMatchResult *self);
/* The "past N days" filter that made the window, or 0 for a custom range. */
guint               mt_match_result_get_time_filter_days (MtMatchResult *self);
/* The maximum trace→image gap in milliseconds, or -1 for none. */
gint64              mt_match_result_get_max_gap_ms       (MtMatchResult *self);

/* Where the data came from: "v2" or "v1"; "per_user" or "whole_prefix". */
const char         *mt_match_result_get_langfuse_api     (MtMatchResult *self);
void                mt_match_result_set_langfuse_api     (MtMatchResult *self,
                                                          const char    *langfuse_api);
const char         *mt_match_result_get_s3_listing       (MtMatchResult *self);
void                mt_match_result_set_s3_listing       (MtMatchResult *self,
                                                          const char    *s3_listing);

/* One message per fetch that failed after its retries. Never %NULL. */
const char * const *mt_match_result_get_errors           (MtMatchResult *self);
void                mt_match_result_add_error            (MtMatchResult *self,
                                                          const char    *message);

/* FALSE when any fetch failed or any user is incomplete. */
gboolean            mt_match_result_is_complete          (MtMatchResult *self);

G_END_DECLS
