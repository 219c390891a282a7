/* mt-http.h — HTTP requests that retry, wait their turn and keep a pace
 *
 * What the S3 and Langfuse clients share: each call is sent when a place
 * under the limit of requests in flight is free (and when the pace allows),
 * its answer read under a size cap, then judged by the caller's handler:
 * done, retried after a backoff with jitter (or as long as the server
 * asked), sent again at once (a redirect followed), or failed. Cancelling
 * stops a call at once, whatever it is doing.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef enum {
  MT_HTTP_DONE,    /* the answer's body is the result */
  MT_HTTP_RETRY,   /* ask again after a pause, while attempts remain */
  MT_HTTP_RESEND,  /* send again at once; not counted as an attempt */
  MT_HTTP_FAIL,    /* give up */
  MT_HTTP_SLOW_DOWN, /* the server is too busy for so many at once: fewer in
                      * flight (for every call), then as RETRY; not counted
                      * as an attempt while more than one was allowed */
} MtHttpVerdict;

typedef struct {
  /* The message for the next attempt, signed and ready. */
  SoupMessage   *(*prepare)         (gpointer      data);
  /* Judges a whole answer: for a success, @body is the body (at most the
   * call's cap); for anything else, its first 64 KiB. RETRY and FAIL set
   * @error; RETRY may set @wait_ms, the least pause the server asked for. */
  MtHttpVerdict  (*judge)           (gpointer      data,
                                     SoupMessage  *message,
                                     GBytes       *body,
                                     guint        *wait_ms,
                                     GError      **error);
  /* The caller's words for a network failure (@tls: a certificate that
   * cannot be trusted, which is not retried) and for a body over the cap. */
  GError        *(*transport_error) (gpointer      data,
                                     GError       *cause,
                                     gboolean      tls);
  GError        *(*too_large)       (gpointer      data,
                                     guint64       size,
                                     gsize         limit);
} MtHttpHandler;

/* Called before each attempt: 0 to send now, else how many milliseconds
 * to wait before asking again. */
typedef guint (*MtHttpGate) (gpointer data);

#define MT_TYPE_HTTP (mt_http_get_type ())

G_DECLARE_FINAL_TYPE (MtHttp, mt_http, MT, HTTP, GObject)

MtHttp   *mt_http_new                (void);

SoupSession *mt_http_get_session     (MtHttp              *self);

/* Requests in flight at most, across all calls (default 16). */
guint     mt_http_get_max_in_flight  (MtHttp              *self);
void      mt_http_set_max_in_flight  (MtHttp              *self,
                                      guint                max_in_flight);
/* Attempts per call, the first included (default 5). */
guint     mt_http_get_max_attempts   (MtHttp              *self);
void      mt_http_set_max_attempts   (MtHttp              *self,
                                      guint                max_attempts);
/* The first retry waits up to this long, each next one twice as long, at
 * most 20 s (default 200 ms). */
guint     mt_http_get_retry_delay_ms (MtHttp              *self);
void      mt_http_set_retry_delay_ms (MtHttp              *self,
                                      guint                retry_delay_ms);

/* Sent and retried so far, and on the wire now. */
guint     mt_http_get_requests       (MtHttp              *self);
guint     mt_http_get_retries        (MtHttp              *self);
guint     mt_http_get_in_flight      (MtHttp              *self);

/* The pace every attempt must pass before it is sent. */
void      mt_http_set_gate           (MtHttp              *self,
                                      MtHttpGate           gate,
                                      gpointer             gate_data);

/* Sends a call; @handler and @data must live until it finishes (@data is
 * freed with @data_free then). */
void      mt_http_send_async         (MtHttp              *self,
                                      const MtHttpHandler *handler,
                                      gpointer             data,
                                      GDestroyNotify       data_free,
                                      gsize                max_body,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);
GBytes   *mt_http_send_finish        (MtHttp              *self,
                                      GAsyncResult        *result,
                                      GError             **error);

/* A moment a server names in a header, in Unix milliseconds: an HTTP
 * date, ISO 8601, JavaScript's Date.toString() ("Mon Nov 23 2026 10:00:00
 * GMT+0000 (…)"), or Unix seconds or milliseconds. @to_the_second (may be
 * %NULL): whether it was given to the second only, so that the moment meant
 * may be up to a second later. */
gboolean  mt_http_parse_moment       (const char          *text,
                                      gint64              *unix_ms,
                                      gboolean            *to_the_second);

/* How long Retry-After asks to wait, in milliseconds: seconds (fractions
 * allowed, rounded up) or an HTTP date. FALSE when there is none, or none
 * that can be read. */
gboolean  mt_http_get_retry_after    (SoupMessageHeaders  *headers,
                                      gint64              *wait_ms);

G_END_DECLS
