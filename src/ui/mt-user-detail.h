/* mt-user-detail.h — one user's pairs, left-over traces and lone photos
 *
 * The window's detail pane: a card per pair with the photo's preview
 * beside its trace (times, gap, model, prompt, costs, input and output),
 * then the traces no photo followed and the photos no trace came before.
 * Previews come through the preview cache; links and presigned URLs
 * through the run's configuration and S3 client. Cards are made a page at
 * a time, so that a user with thousands of pairs opens at once.
 */
#pragma once

#include <gtk/gtk.h>

#include "mt-config.h"
#include "mt-preview-cache.h"
#include "mt-s3-client.h"
#include "mt-user-result.h"

G_BEGIN_DECLS

#define MT_TYPE_USER_DETAIL (mt_user_detail_get_type ())

G_DECLARE_FINAL_TYPE (MtUserDetail, mt_user_detail, MT, USER_DETAIL, GtkWidget)

/* Cards made at once, and at each "Show more". */
#define MT_USER_DETAIL_PAGE 20

GtkWidget    *mt_user_detail_new          (MtPreviewCache *cache);
/* The run the users come from: its zone, URL lifetime and S3 client. */
void          mt_user_detail_set_run      (MtUserDetail   *self,
                                           MtConfig       *config,
                                           MtS3Client     *client);
/* %NULL shows the placeholder. */
void          mt_user_detail_set_user     (MtUserDetail   *self,
                                           MtUserResult   *user);
MtUserResult *mt_user_detail_get_user     (MtUserDetail   *self);

/* What the pane shows, for its tests: pair cards made, previews showing a
 * decoded photo, previews showing the broken state. */
guint         mt_user_detail_get_n_pair_cards      (MtUserDetail *self);
guint         mt_user_detail_get_n_previews_loaded (MtUserDetail *self);
guint         mt_user_detail_get_n_previews_broken (MtUserDetail *self);
/* Copies the presigned URL of the @index-th pair's photo, as the card's
 * button does; FALSE (and a message) when it cannot be made. */
gboolean      mt_user_detail_copy_image_url        (MtUserDetail *self,
                                                    guint         index);

G_END_DECLS
