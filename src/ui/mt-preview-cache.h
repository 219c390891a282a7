/* mt-preview-cache.h — meal photos from S3, decoded and scaled for display
 *
 * Photos are fetched with the run's S3 client, decoded and scaled down off
 * the main thread (honouring EXIF orientation) and kept as textures, the
 * least recently used dropped first once their decoded pixels (estimated at
 * 4 bytes a pixel) would pass the cache's bound. Requests for the same photo
 * at the same size share one fetch. Failures are not cached: the next
 * request for the photo fetches it again.
 *
 * Photos are untrusted input. An object larger than
 * MT_PREVIEW_CACHE_MAX_OBJECT_SIZE is refused before its body is read (or,
 * sent with no length, as soon as it passes the cap). Only JPEG, PNG, WebP
 * and GIF are decoded, each by its own loader chosen from the file's
 * signature, never by guessing; the size an image's header declares is
 * checked before any loader sees it, so that a small file declaring a huge
 * image (a decompression bomb) is refused without being decoded.
 */
#pragma once

#include <gdk/gdk.h>

#include "mt-s3-client.h"

G_BEGIN_DECLS

#define MT_PREVIEW_ERROR (mt_preview_error_quark ())

typedef enum {
  MT_PREVIEW_ERROR_NO_CLIENT,    /* no S3 client to fetch photos with */
  MT_PREVIEW_ERROR_EMPTY,        /* the object has no bytes */
  MT_PREVIEW_ERROR_TRUNCATED,    /* a photo that ends before its image does */
  MT_PREVIEW_ERROR_NOT_AN_IMAGE, /* not a JPEG, PNG, WebP or GIF (or no loader for it) */
  MT_PREVIEW_ERROR_TOO_LARGE,    /* more pixels than Mealtrace decodes */
  MT_PREVIEW_ERROR_CORRUPT,      /* a photo whose header or data is damaged */
} MtPreviewError;

GQuark mt_preview_error_quark (void);

/* The largest object fetched for a preview; a larger one fails with
 * MT_S3_ERROR_TOO_LARGE. */
#define MT_PREVIEW_CACHE_MAX_OBJECT_SIZE (25 * 1024 * 1024)

/* The most pixels a photo may declare. A decode may take 4 bytes for
 * each (512 MB): a photo whose decoder would need more (its pixels, or a
 * progressive JPEG's coefficients) fails with MT_PREVIEW_ERROR_TOO_LARGE
 * before it is decoded. */
#define MT_PREVIEW_CACHE_MAX_PIXELS (128 * 1000 * 1000)

#define MT_TYPE_PREVIEW_CACHE (mt_preview_cache_get_type ())

G_DECLARE_FINAL_TYPE (MtPreviewCache, mt_preview_cache, MT, PREVIEW_CACHE, GObject)

/* Holds at most @max_bytes of decoded pixels; a texture larger than that
 * alone is handed out but not kept. */
MtPreviewCache *mt_preview_cache_new          (gsize                max_bytes);

/* The client photos are fetched with (a new run's). When it changes, every
 * cached texture is dropped and every load in flight is cancelled: its
 * callers get G_IO_ERROR_CANCELLED. %NULL allowed: loads then fail with
 * MT_PREVIEW_ERROR_NO_CLIENT. */
void            mt_preview_cache_set_client   (MtPreviewCache      *self,
                                               MtS3Client          *client);
MtS3Client     *mt_preview_cache_get_client   (MtPreviewCache      *self);

/* The texture of @key whose longest side is at most @size pixels, if it is
 * cached (a new reference), or %NULL. A hit counts as a use. */
GdkTexture     *mt_preview_cache_lookup       (MtPreviewCache      *self,
                                               const char          *key,
                                               int                  size);

/* The object @key as a texture scaled down (never up) so that its longest
 * side is at most @size pixels, aspect ratio kept; from the cache when it is
 * there. Cancelling @cancellable ends this request only: the fetch goes on
 * while another request waits for the same (@key, @size). Errors are in
 * MT_PREVIEW_ERROR, MT_S3_ERROR or G_IO_ERROR (cancelled), with a message
 * that names the photo. */
void            mt_preview_cache_load_async   (MtPreviewCache      *self,
                                               const char          *key,
                                               int                  size,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GdkTexture     *mt_preview_cache_load_finish  (MtPreviewCache      *self,
                                               GAsyncResult        *result,
                                               GError             **error);

/* Decoded bytes the cache holds now (width × height × 4 per texture). */
gsize           mt_preview_cache_get_bytes    (MtPreviewCache      *self);
gsize           mt_preview_cache_get_max_bytes (MtPreviewCache     *self);

G_END_DECLS
