/* mt-s3-client.h — an asynchronous S3 client: listings, objects, presigned URLs
 *
 * Every request is signed with SigV4, retried with exponential backoff and
 * jitter on 500/503/SlowDown and network errors, and counted against a
 * limit on requests in flight shared by all of the client's operations.
 * A wrong region is followed once (S3 names the right one) and remembered.
 */
#pragma once

#include <gio/gio.h>

#include "mt-aws-credentials.h"

G_BEGIN_DECLS

#define MT_S3_ERROR (mt_s3_error_quark ())

typedef enum {
  MT_S3_ERROR_ACCESS_DENIED,      /* AccessDenied, AllAccessDisabled */
  MT_S3_ERROR_INVALID_ACCESS_KEY, /* InvalidAccessKeyId */
  MT_S3_ERROR_SIGNATURE_MISMATCH, /* SignatureDoesNotMatch: a wrong secret */
  MT_S3_ERROR_EXPIRED_TOKEN,      /* ExpiredToken, TokenRefreshRequired */
  MT_S3_ERROR_INVALID_TOKEN,      /* InvalidToken */
  MT_S3_ERROR_NO_SUCH_BUCKET,
  MT_S3_ERROR_NO_SUCH_KEY,
  MT_S3_ERROR_CLOCK_SKEW,         /* RequestTimeTooSkewed */
  MT_S3_ERROR_SLOW_DOWN,          /* still throttled after every retry */
  MT_S3_ERROR_WRONG_REGION,       /* a region redirect that could not be followed */
  MT_S3_ERROR_SERVER,             /* 5xx after every retry */
  MT_S3_ERROR_NETWORK,            /* no answer after every retry */
  MT_S3_ERROR_TLS,                /* the server's certificate cannot be trusted */
  MT_S3_ERROR_MALFORMED,          /* an answer that is not what S3 sends */
  MT_S3_ERROR_TOO_LARGE,          /* over the size cap */
  MT_S3_ERROR_FAILED,             /* any other S3 error */
} MtS3Error;

GQuark mt_s3_error_quark (void);

/* One object of a listing. */
typedef struct {
  char *key;           /* exactly as stored */
  gint64 last_modified; /* milliseconds since the epoch */
  gint64 size;
  char *etag;
} MtS3Object;

void mt_s3_object_free (MtS3Object *object);

#define MT_TYPE_S3_CLIENT (mt_s3_client_get_type ())

G_DECLARE_FINAL_TYPE (MtS3Client, mt_s3_client, MT, S3_CLIENT, GObject)

/* Fails when the bucket or endpoint cannot make a URL. */
MtS3Client *mt_s3_client_new                (MtAwsCredentials    *credentials,
                                             const char          *region,
                                             const char          *endpoint_url,
                                             const char          *bucket,
                                             GError             **error);

const char *mt_s3_client_get_bucket         (MtS3Client          *self);
/* The region requests go to; it changes when S3 redirects. */
const char *mt_s3_client_get_region         (MtS3Client          *self);

/* Takes over the region @earlier learnt for the same bucket at the same
 * endpoint, when both started from the same region, so that a new fetch in
 * the same session is not redirected again. */
void        mt_s3_client_learn_from         (MtS3Client          *self,
                                             MtS3Client          *earlier);

/* Requests in flight at most, across all operations (default 16). */
guint       mt_s3_client_get_max_in_flight  (MtS3Client          *self);
void        mt_s3_client_set_max_in_flight  (MtS3Client          *self,
                                             guint                max_in_flight);
/* Attempts per request, the first included (default 5). */
guint       mt_s3_client_get_max_attempts   (MtS3Client          *self);
void        mt_s3_client_set_max_attempts   (MtS3Client          *self,
                                             guint                max_attempts);
/* The first retry waits up to this long, each next one twice as long, at
 * most 20 s (default 200 ms). */
guint       mt_s3_client_get_retry_delay_ms (MtS3Client          *self);
void        mt_s3_client_set_retry_delay_ms (MtS3Client          *self,
                                             guint                retry_delay_ms);

/* Requests sent and retried so far. */
guint       mt_s3_client_get_requests       (MtS3Client          *self);
guint       mt_s3_client_get_retries        (MtS3Client          *self);

/* Every object whose key starts with @prefix, in S3's (bytewise) order,
 * page after page: a GPtrArray of MtS3Object. */
void        mt_s3_client_list_objects_async (MtS3Client          *self,
                                             const char          *prefix,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
GPtrArray  *mt_s3_client_list_objects_finish (MtS3Client         *self,
                                              GAsyncResult       *result,
                                              GError            **error);

/* Called with each page of a listing as it comes: @objects are the page's
 * (take what you keep: steal the pointers), @next_token is where the next
 * page starts (%NULL after the last). Return FALSE to stop there. */
typedef gboolean (*MtS3PageFunc) (GPtrArray  *objects,
                                  const char *next_token,
                                  gpointer    data);

/* The same listing handed over page by page, from @continuation_token
 * (%NULL: the start). @page_data is freed with @page_data_free when the
 * listing ends. */
void        mt_s3_client_list_pages_async   (MtS3Client          *self,
                                             const char          *prefix,
                                             const char          *continuation_token,
                                             MtS3PageFunc         page_func,
                                             gpointer             page_data,
                                             GDestroyNotify       page_data_free,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
/* TRUE when the listing ran (@complete: to its last page, not stopped). */
gboolean    mt_s3_client_list_pages_finish  (MtS3Client          *self,
                                             GAsyncResult        *result,
                                             gboolean            *complete,
                                             GError             **error);

/* An object's bytes; MT_S3_ERROR_TOO_LARGE, without reading it, when it is
 * larger than @max_size. */
void        mt_s3_client_get_object_async   (MtS3Client          *self,
                                             const char          *key,
                                             gsize                max_size,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
GBytes     *mt_s3_client_get_object_finish  (MtS3Client          *self,
                                             GAsyncResult        *result,
                                             GError             **error);

/* A URL anyone can GET the object with for @expires seconds (1 s to 7 days),
 * signed at @time (seconds since the epoch; 0 for now) for the client's
 * region as it stands: after a listing, the bucket's own. */
char       *mt_s3_client_presign_get        (MtS3Client          *self,
                                             const char          *key,
                                             guint                expires,
                                             gint64               time,
                                             GError             **error);

G_END_DECLS
