/* mt-image.h — one meal photo: an S3 object under {prefix}{user_id}/ */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define MT_TYPE_IMAGE (mt_image_get_type ())

G_DECLARE_FINAL_TYPE (MtImage, mt_image, MT, IMAGE, GObject)

/* @last_modified is in milliseconds since the epoch; it is the image's time. */
MtImage    *mt_image_new               (const char *key,
                                        const char *user_id,
                                        gint64      last_modified,
                                        gint64      size,
                                        const char *etag);

const char *mt_image_get_key           (MtImage    *self);
/* The last segment of the key. */
const char *mt_image_get_name          (MtImage    *self);
const char *mt_image_get_user_id       (MtImage    *self);
gint64      mt_image_get_last_modified (MtImage    *self);
gint64      mt_image_get_size          (MtImage    *self);
const char *mt_image_get_etag          (MtImage    *self);

/* A (presigned) URL to fetch the image; %NULL until one is made. */
const char *mt_image_get_url           (MtImage    *self);
void        mt_image_set_url           (MtImage    *self,
                                        const char *url);

/* Whether an object key names an image: it ends in .jpg .jpeg .png .webp
 * .gif .heic or .heif, in any case. */
gboolean    mt_image_key_is_image      (const char *key);

/* The user of `{prefix}{user_id}/{file}`, or %NULL when @key does not have
 * that shape (outside the prefix, no user folder, or no file name). */
char       *mt_image_user_id_from_key  (const char *key,
                                        const char *prefix);

G_END_DECLS
