/* mt-langfuse-client.h — every trace of a time window, from either API
 *
 * Langfuse Cloud serves the v2 observations API (its v1 read endpoints were
 * retired on 2026-11-16); self-hosted Langfuse v2/v3 serves only v1. The
 * client speaks both and, asked for "auto", tries v2 and falls back to v1
 * when the server answers 404, remembering the answer.
 *
 * v2 rebuilds traces from observations: the root observation gives the
 * timestamp, name, user, session, input and output; the trace's GENERATION
 * observations give the model, the prompt (its name and version, else the
 * system message of the generation's input) and the cost of the first of
 * them, and the total cost, the sum over all of them. v1 reads the traces
 * and their generations.
 *
 * Requests are paced below the rate limit the server announces
 * (X-RateLimit-*), 429 answers wait for Retry-After, and 5xx, 524 and
 * network failures are retried with backoff.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MT_LANGFUSE_ERROR (mt_langfuse_error_quark ())

typedef enum {
  MT_LANGFUSE_ERROR_UNAUTHORIZED, /* 401: the keys are wrong */
  MT_LANGFUSE_ERROR_FORBIDDEN,    /* 403: the keys may not read traces */
  MT_LANGFUSE_ERROR_NOT_FOUND,    /* 404 where the API should be */
  MT_LANGFUSE_ERROR_RATE_LIMITED, /* still 429 after every retry */
  MT_LANGFUSE_ERROR_SERVER,       /* 5xx after every retry */
  MT_LANGFUSE_ERROR_NETWORK,      /* no answer after every retry */
  MT_LANGFUSE_ERROR_TLS,          /* a certificate that cannot be trusted */
  MT_LANGFUSE_ERROR_MALFORMED,    /* an answer that is not what Langfuse sends */
  MT_LANGFUSE_ERROR_INVALID,      /* a setting that cannot be right */
  MT_LANGFUSE_ERROR_NOT_CONFIGURED, /* a required setting is missing */
  MT_LANGFUSE_ERROR_FAILED,       /* any other refusal */
} MtLangfuseError;

GQuark mt_langfuse_error_quark (void);

typedef enum {
  MT_LANGFUSE_API_AUTO,
  MT_LANGFUSE_API_V2,
  MT_LANGFUSE_API_V1,
} MtLangfuseApi;

/* "auto", "v2" or "v1". */
const char   *mt_langfuse_api_to_string   (MtLangfuseApi  api);
gboolean      mt_langfuse_api_from_string (const char    *text,
                                           MtLangfuseApi *api);

/* The Langfuse settings of SPEC §2, from an environment given as a string
 * vector (%NULL: the process's own), as the AWS settings are read. */
typedef struct {
  char *public_key;
  char *secret_key;
  char *base_url;        /* never %NULL */
  char *base_url_source; /* "LANGFUSE_BASE_URL", "LANGFUSE_HOST" or "default" */
  MtLangfuseApi api;     /* MEALTRACE_LANGFUSE_API, else auto */
} MtLangfuseSettings;

MtLangfuseSettings *mt_langfuse_settings_load (const char * const *envp,
                                               GError            **error);
void          mt_langfuse_settings_free   (MtLangfuseSettings *settings);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtLangfuseSettings, mt_langfuse_settings_free)

#define MT_TYPE_LANGFUSE_CLIENT (mt_langfuse_client_get_type ())

G_DECLARE_FINAL_TYPE (MtLangfuseClient, mt_langfuse_client, MT, LANGFUSE_CLIENT, GObject)

/* Fails when @base_url is not an http(s) URL. The keys are sent with Basic
 * authentication: the public key as user, the secret key as password. */
MtLangfuseClient *mt_langfuse_client_new      (const char        *base_url,
                                               const char        *public_key,
                                               const char        *secret_key,
                                               GError           **error);

const char   *mt_langfuse_client_get_base_url       (MtLangfuseClient *self);

/* The generation "auto" settled on, once it has (else AUTO). */
MtLangfuseApi mt_langfuse_client_get_detected_api   (MtLangfuseClient *self);

/* Takes over what @earlier learnt of the same server with the same keys:
 * the generation "auto" settled on and the rate limit (with any wait it
 * asked for), so that a new fetch in the same session neither asks again
 * nor runs into the limit. Nothing when the server or keys differ. */
void          mt_langfuse_client_learn_from         (MtLangfuseClient *self,
                                                     MtLangfuseClient *earlier);

/* Requests in flight at most (default 8), attempts per request (5), the
 * first retry's pause (200 ms), as for MtHttp. */
void          mt_langfuse_client_set_max_in_flight  (MtLangfuseClient *self,
                                                     guint             max_in_flight);
void          mt_langfuse_client_set_max_attempts   (MtLangfuseClient *self,
                                                     guint             max_attempts);
void          mt_langfuse_client_set_retry_delay_ms (MtLangfuseClient *self,
                                                     guint             retry_delay_ms);

/* Whether a long window may be split into time slices walked at once
 * (default TRUE); the client does so only when the rate limit leaves room. */
void          mt_langfuse_client_set_slicing        (MtLangfuseClient *self,
                                                     gboolean          slicing);

/* Progress, as properties a view can bind to: requests sent and retried
 * (since the client was made); pages read, observations or v1 traces read,
 * and traces of the window found, in the fetch under way; and whether the
 * client is waiting for the rate limit to allow the next request. */
guint         mt_langfuse_client_get_requests       (MtLangfuseClient *self);
guint         mt_langfuse_client_get_retries        (MtLangfuseClient *self);
guint         mt_langfuse_client_get_pages          (MtLangfuseClient *self);
guint         mt_langfuse_client_get_items          (MtLangfuseClient *self);
guint         mt_langfuse_client_get_traces         (MtLangfuseClient *self);
gboolean      mt_langfuse_client_get_rate_limited   (MtLangfuseClient *self);

/* Every trace whose timestamp is in [@from, @to) (milliseconds since the
 * epoch), users or none, as a GPtrArray of MtTrace by (timestamp, id).
 * The "user-found" signal names each user as soon as a page shows it. */
void          mt_langfuse_client_fetch_traces_async  (MtLangfuseClient    *self,
                                                      gint64               from,
                                                      gint64               to,
                                                      MtLangfuseApi        api,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
/* @used: the generation that served the traces. */
GPtrArray    *mt_langfuse_client_fetch_traces_finish (MtLangfuseClient    *self,
                                                      GAsyncResult        *result,
                                                      MtLangfuseApi       *used,
                                                      GError             **error);

G_END_DECLS
