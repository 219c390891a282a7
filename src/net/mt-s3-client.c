/* mt-s3-client.c — an asynchronous S3 client */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "mt-s3-client.h"
#include "mt-sigv4.h"
#include "mt-time.h"

G_DEFINE_QUARK (mt-s3-error-quark, mt_s3_error)

/* A listing page is at most 1000 keys; anything bigger is not S3. */
#define MAX_LISTING_BODY (16 * 1024 * 1024)
/* An error document is a few hundred bytes. */
#define MAX_ERROR_BODY (64 * 1024)
#define MAX_RETRY_DELAY_MS 20000
#define READ_CHUNK (64 * 1024)

struct _MtS3Client
{
  GObject parent_instance;

  MtAwsCredentials *credentials;
  char *bucket;
  char *endpoint_url;
  char *region;
  MtS3Endpoint *endpoint;
  SoupSession *session;

  guint max_in_flight;
  guint max_attempts;
  guint retry_delay_ms;

  guint in_flight;
  GQueue waiting; /* Request, for a free place */
  guint requests;
  guint retries;
};

G_DEFINE_FINAL_TYPE (MtS3Client, mt_s3_client, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_BUCKET,
  PROP_REGION,
  PROP_MAX_IN_FLIGHT,
  PROP_MAX_ATTEMPTS,
  PROP_RETRY_DELAY_MS,
  PROP_REQUESTS,
  PROP_RETRIES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

void
mt_s3_object_free (MtS3Object *object)
{
  if (object == NULL)
    return;
  g_free (object->key);
  g_free (object->etag);
  g_free (object);
}

static void
mt_s3_client_dispose (GObject *object)
{
  MtS3Client *self = MT_S3_CLIENT (object);

  /* Every request holds a reference to the client, so none is left. */
  g_warn_if_fail (g_queue_is_empty (&self->waiting));
  if (self->session != NULL)
    soup_session_abort (self->session);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (mt_s3_client_parent_class)->dispose (object);
}

static void
mt_s3_client_finalize (GObject *object)
{
  MtS3Client *self = MT_S3_CLIENT (object);

  g_clear_pointer (&self->credentials, mt_aws_credentials_unref);
  g_free (self->bucket);
  g_free (self->endpoint_url);
  g_free (self->region);
  g_clear_pointer (&self->endpoint, mt_s3_endpoint_free);

  G_OBJECT_CLASS (mt_s3_client_parent_class)->finalize (object);
}

static void
mt_s3_client_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  MtS3Client *self = MT_S3_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BUCKET:
      g_value_set_string (value, self->bucket);
      break;
    case PROP_REGION:
      g_value_set_string (value, self->region);
      break;
    case PROP_MAX_IN_FLIGHT:
      g_value_set_uint (value, self->max_in_flight);
      break;
    case PROP_MAX_ATTEMPTS:
      g_value_set_uint (value, self->max_attempts);
      break;
    case PROP_RETRY_DELAY_MS:
      g_value_set_uint (value, self->retry_delay_ms);
      break;
    case PROP_REQUESTS:
      g_value_set_uint (value, self->requests);
      break;
    case PROP_RETRIES:
      g_value_set_uint (value, self->retries);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_s3_client_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  MtS3Client *self = MT_S3_CLIENT (object);

  switch (prop_id)
    {
    case PROP_MAX_IN_FLIGHT:
      mt_s3_client_set_max_in_flight (self, g_value_get_uint (value));
      break;
    case PROP_MAX_ATTEMPTS:
      mt_s3_client_set_max_attempts (self, g_value_get_uint (value));
      break;
    case PROP_RETRY_DELAY_MS:
      mt_s3_client_set_retry_delay_ms (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_s3_client_class_init (MtS3ClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = mt_s3_client_dispose;
  object_class->finalize = mt_s3_client_finalize;
  object_class->get_property = mt_s3_client_get_property;
  object_class->set_property = mt_s3_client_set_property;

  properties[PROP_BUCKET] = g_param_spec_string ("bucket", NULL, NULL, NULL, ro);
  properties[PROP_REGION] = g_param_spec_string ("region", NULL, NULL, NULL, ro);
  properties[PROP_MAX_IN_FLIGHT] = g_param_spec_uint ("max-in-flight", NULL, NULL, 1, 256, 16, rw);
  properties[PROP_MAX_ATTEMPTS] = g_param_spec_uint ("max-attempts", NULL, NULL, 1, 20, 5, rw);
  properties[PROP_RETRY_DELAY_MS] = g_param_spec_uint ("retry-delay-ms", NULL, NULL, 0, MAX_RETRY_DELAY_MS, 200, rw);
  properties[PROP_REQUESTS] = g_param_spec_uint ("requests", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_RETRIES] = g_param_spec_uint ("retries", NULL, NULL, 0, G_MAXUINT, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_s3_client_init (MtS3Client *self)
{
  self->max_in_flight = 16;
  self->max_attempts = 5;
  self->retry_delay_ms = 200;
  g_queue_init (&self->waiting);
}

MtS3Client *
mt_s3_client_new (MtAwsCredentials  *credentials,
                  const char        *region,
                  const char        *endpoint_url,
                  const char        *bucket,
                  GError           **error)
{
  g_autoptr(MtS3Client) self = NULL;
  MtS3Endpoint *endpoint;

  g_return_val_if_fail (credentials != NULL, NULL);

  endpoint = mt_s3_endpoint_new (endpoint_url, region, bucket, error);
  if (endpoint == NULL)
    return NULL;

  self = g_object_new (MT_TYPE_S3_CLIENT, NULL);
  self->credentials = mt_aws_credentials_ref (credentials);
  self->bucket = g_strdup (bucket);
  self->endpoint_url = g_strdup (endpoint_url);
  self->region = g_strdup (region);
  self->endpoint = endpoint;
  /* TLS certificates are verified: libsoup does by default, and nothing
   * here turns that off. */
  /* libsoup's own limit (2 per host) must not be the one that binds: the
   * client's limit on requests in flight keeps connections in check. */
  self->session = soup_session_new_with_options ("user-agent", "Mealtrace/" PACKAGE_VERSION,
                                                 "timeout", 60,
                                                 "idle-timeout", 30,
                                                 "max-conns", 256,
                                                 "max-conns-per-host", 256,
                                                 NULL);
  return g_steal_pointer (&self);
}

const char *
mt_s3_client_get_bucket (MtS3Client *self)
{
  g_return_val_if_fail (MT_IS_S3_CLIENT (self), NULL);
  return self->bucket;
}

const char *
mt_s3_client_get_region (MtS3Client *self)
{
  g_return_val_if_fail (MT_IS_S3_CLIENT (self), NULL);
  return self->region;
}

guint
mt_s3_client_get_max_in_flight (MtS3Client *self)
{
  g_return_val_if_fail (MT_IS_S3_CLIENT (self), 0);
  return self->max_in_flight;
}

guint
mt_s3_client_get_max_attempts (MtS3Client *self)
{
  g_return_val_if_fail (MT_IS_S3_CLIENT (self), 0);
  return self->max_attempts;
}

void
mt_s3_client_set_max_attempts (MtS3Client *self,
                               guint       max_attempts)
{
  g_return_if_fail (MT_IS_S3_CLIENT (self));

  max_attempts = CLAMP (max_attempts, 1, 20);
  if (self->max_attempts == max_attempts)
    return;
  self->max_attempts = max_attempts;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_ATTEMPTS]);
}

guint
mt_s3_client_get_retry_delay_ms (MtS3Client *self)
{
  g_return_val_if_fail (MT_IS_S3_CLIENT (self), 0);
  return self->retry_delay_ms;
}

void
mt_s3_client_set_retry_delay_ms (MtS3Client *self,
                                 guint       retry_delay_ms)
{
  g_return_if_fail (MT_IS_S3_CLIENT (self));

  retry_delay_ms = MIN (retry_delay_ms, MAX_RETRY_DELAY_MS);
  if (self->retry_delay_ms == retry_delay_ms)
    return;
  self->retry_delay_ms = retry_delay_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRY_DELAY_MS]);
}

guint
mt_s3_client_get_requests (MtS3Client *self)
{
  g_return_val_if_fail (MT_IS_S3_CLIENT (self), 0);
  return self->requests;
}

guint
mt_s3_client_get_retries (MtS3Client *self)
{
  g_return_val_if_fail (MT_IS_S3_CLIENT (self), 0);
  return self->retries;
}

/* One HTTP exchange with S3, from waiting for a place to the body read:
 * retried, redirected to the right region, limited in flight. */

typedef enum {
  REQUEST_WAITING,   /* for a place in flight */
  REQUEST_SENDING,   /* holding a place */
  REQUEST_SLEEPING,  /* between attempts */
  REQUEST_DONE,
} RequestState;

typedef struct {
  MtS3Client *client;
  GTask *task;            /* borrowed: the task owns this */
  char *path;             /* below the bucket, encoded: "/key" or "" */
  char *query;            /* encoded, or NULL */
  gsize max_size;         /* body cap for a success */
  gboolean too_large_is_error; /* FALSE: a success body over the cap is malformed */
  RequestState state;
  guint attempt;
  gboolean redirected;
  char *signed_region;    /* the region the attempt on the wire was signed for */
  /* Checks a success's body as part of the attempt: a body that fails it is
   * retried like a failed answer. */
  gboolean (*validate) (GBytes *body, gpointer data, GError **error);
  gpointer validate_data;
  SoupMessage *message;
  GInputStream *stream;
  GByteArray *body;
  guint status;
  guint timer;
  GSource *cancel_source;
  GError *last_error;     /* why the last attempt failed, if it may be retried */
} Request;

static void
request_free (gpointer data)
{
  Request *request = data;

  g_assert (request->timer == 0);
  g_assert (request->cancel_source == NULL);
  g_free (request->path);
  g_free (request->query);
  g_free (request->signed_region);
  g_clear_object (&request->message);
  g_clear_object (&request->stream);
  g_clear_pointer (&request->body, g_byte_array_unref);
  g_clear_error (&request->last_error);
  g_object_unref (request->client);
  g_free (request);
}

static void send_attempt (Request *request);

static void
unwatch_cancellation (Request *request)
{
  if (request->cancel_source == NULL)
    return;
  g_source_destroy (request->cancel_source);
  g_clear_pointer (&request->cancel_source, g_source_unref);
}

/* Gives back the place in flight and lets the next request in. */
static void
release_place (MtS3Client *self)
{
  g_assert (self->in_flight > 0);
  self->in_flight--;

  while (self->in_flight < self->max_in_flight && !g_queue_is_empty (&self->waiting))
    {
      Request *next = g_queue_pop_head (&self->waiting);

      unwatch_cancellation (next);
      self->in_flight++;
      next->state = REQUEST_SENDING;
      send_attempt (next);
    }
}

void
mt_s3_client_set_max_in_flight (MtS3Client *self,
                                guint       max_in_flight)
{
  g_return_if_fail (MT_IS_S3_CLIENT (self));

  max_in_flight = CLAMP (max_in_flight, 1, 256);
  if (self->max_in_flight == max_in_flight)
    return;
  self->max_in_flight = max_in_flight;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_IN_FLIGHT]);
}

/* Ends the request with @error or @body; the task runs its callback. */
static void
request_finish (Request *request,
                GError  *error,
                GBytes  *body)
{
  GTask *task = request->task;

  g_assert (request->state != REQUEST_DONE);
  request->state = REQUEST_DONE;
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, body, (GDestroyNotify) g_bytes_unref);
  g_object_unref (task);
}

static gboolean
on_cancelled_while_idle (GCancellable *cancellable,
                         gpointer      data)
{
  Request *request = data;
  MtS3Client *self = request->client;

  /* Waiting for a place or sleeping between attempts: stop at once. */
  if (request->state == REQUEST_WAITING)
    g_queue_remove (&self->waiting, request);
  if (request->timer != 0)
    {
      g_source_destroy (g_main_context_find_source_by_id (g_task_get_context (request->task), request->timer));
      request->timer = 0;
    }
  g_clear_pointer (&request->cancel_source, g_source_unref);
  request_finish (request, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                _("Operation was cancelled")), NULL);
  return G_SOURCE_REMOVE;
}

static void
watch_cancellation (Request *request)
{
  GCancellable *cancellable = g_task_get_cancellable (request->task);

  if (cancellable == NULL)
    return;
  request->cancel_source = g_cancellable_source_new (cancellable);
  g_source_set_callback (request->cancel_source, G_SOURCE_FUNC (on_cancelled_while_idle), request, NULL);
  g_source_attach (request->cancel_source, g_task_get_context (request->task));
}

static void
acquire_place (Request *request)
{
  MtS3Client *self = request->client;

  if (self->in_flight < self->max_in_flight)
    {
      self->in_flight++;
      request->state = REQUEST_SENDING;
      send_attempt (request);
      return;
    }
  request->state = REQUEST_WAITING;
  g_queue_push_tail (&self->waiting, request);
  watch_cancellation (request);
}

static gboolean
on_retry_timer (gpointer data)
{
  Request *request = data;

  request->timer = 0;
  unwatch_cancellation (request);
  acquire_place (request);
  return G_SOURCE_REMOVE;
}

/* Exponential backoff with jitter: half the doubled delay, plus a random
 * part of the other half, so that many clients do not retry in step. */
static guint
retry_delay (MtS3Client *self,
             guint       attempt)
{
  guint64 ceiling = (guint64) self->retry_delay_ms << MIN (attempt - 1, 16);

  ceiling = MIN (ceiling, MAX_RETRY_DELAY_MS);
  if (ceiling == 0)
    return 0;
  return (guint) (ceiling / 2 + g_random_int_range (0, (gint32) (ceiling - ceiling / 2) + 1));
}

/* The attempt failed in a way another attempt may cure: try again after a
 * pause (at least @at_least_ms, when the server asked for one) if attempts
 * remain, else fail with @error. Takes @error. */
static void
retry_after_or_fail (Request *request,
                     GError  *error,
                     guint    at_least_ms)
{
  GSource *timer;

  MtS3Client *self = request->client;

  g_clear_object (&request->message);
  g_clear_object (&request->stream);
  g_clear_pointer (&request->body, g_byte_array_unref);
  release_place (self);

  if (request->attempt >= self->max_attempts)
    {
      g_prefix_error (&error, ngettext ("After %u attempt: ", "After %u attempts: ", request->attempt),
                      request->attempt);
      request_finish (request, error, NULL);
      return;
    }

  g_clear_error (&request->last_error);
  request->last_error = error;
  self->retries++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRIES]);
  request->state = REQUEST_SLEEPING;
  /* In the context the request was made in, like everything else of it. */
  timer = g_timeout_source_new (MAX (retry_delay (self, request->attempt), at_least_ms));
  g_source_set_callback (timer, on_retry_timer, request, NULL);
  g_source_set_name (timer, "[mealtrace] s3 retry");
  request->timer = g_source_attach (timer, g_task_get_context (request->task));
  g_source_unref (timer);
  watch_cancellation (request);
}

static void
retry_or_fail (Request *request,
               GError  *error)
{
  retry_after_or_fail (request, error, 0);
}

static void
fail (Request *request,
      GError  *error)
{
  g_clear_object (&request->stream);
  release_place (request->client);
  request_finish (request, error, NULL);
}

/* S3's error document: <Error><Code/><Message/><Region/></Error>. */
typedef struct {
  GString *text;
  char *code;
  char *message;
  char *region;
} ErrorDoc;

static void
error_doc_start (GMarkupParseContext *context,
                 const char          *element,
                 const char         **names,
                 const char         **values,
                 gpointer             data,
                 GError             **error)
{
  ErrorDoc *doc = data;

  g_string_truncate (doc->text, 0);
}

static void
error_doc_end (GMarkupParseContext *context,
               const char          *element,
               gpointer             data,
               GError             **error)
{
  ErrorDoc *doc = data;
  char **slot = strcmp (element, "Code") == 0 ? &doc->code
              : strcmp (element, "Message") == 0 ? &doc->message
              : strcmp (element, "Region") == 0 ? &doc->region : NULL;

  if (slot != NULL && *slot == NULL)
    *slot = g_strndup (doc->text->str, MIN (doc->text->len, 1024));
  g_string_truncate (doc->text, 0);
}

static void
doc_text (GMarkupParseContext *context,
          const char          *text,
          gsize                length,
          gpointer             data,
          GError             **error)
{
  GString **buffer = data;

  /* The first member of both document structs is their text buffer. */
  g_string_append_len (*buffer, text, length);
}

static const GMarkupParser error_parser = {
  error_doc_start, error_doc_end, doc_text, NULL, NULL,
};

static void
parse_error_doc (GBytes   *body,
                 ErrorDoc *doc)
{
  g_autoptr(GMarkupParseContext) context = NULL;
  gsize length = 0;
  const char *data = body != NULL ? g_bytes_get_data (body, &length) : NULL;

  doc->text = g_string_new (NULL);
  if (length == 0)
    return;
  context = g_markup_parse_context_new (&error_parser, G_MARKUP_IGNORE_QUALIFIED, doc, NULL);
  /* A broken document still gives what came before the break. */
  if (g_markup_parse_context_parse (context, data, length, NULL))
    g_markup_parse_context_end_parse (context, NULL);
}

static void
error_doc_clear (ErrorDoc *doc)
{
  g_string_free (doc->text, TRUE);
  g_free (doc->code);
  g_free (doc->message);
  g_free (doc->region);
}

static gboolean
is_retryable (guint       status,
              const char *code)
{
  static const char *const codes[] = {
    "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "Throttling",
    "ThrottlingException", "RequestLimitExceeded",
  };

  if (status == 500 || status == 502 || status == 503 || status == 504 || status == 429)
    return TRUE;
  for (guint i = 0; code != NULL && i < G_N_ELEMENTS (codes); i++)
    if (strcmp (code, codes[i]) == 0)
      return TRUE;
  return FALSE;
}

/* A message from the server, fit to show: short, one line, and with
 * nothing of the credentials in it, should a server echo what it got. */
static char *
scrub_message (MtS3Client *self,
               const char *message)
{
  const char *secrets[] = {
    mt_aws_credentials_get_secret_access_key (self->credentials),
    mt_aws_credentials_get_session_token (self->credentials),
  };
  g_autofree char *text = g_utf8_make_valid (message, -1);
  GString *out;
  char *cut;

  /* Whatever follows a signature or an authorization goes. */
  for (guint i = 0; i < 2; i++)
    if ((cut = strstr (text, i == 0 ? "Signature" : "Authorization")) != NULL)
      *cut = '\0';
  out = g_string_new (text);
  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    if (secrets[i] != NULL && secrets[i][0] != '\0')
      {
        g_autoptr(GString) encoded = g_string_new (NULL);

        mt_sigv4_uri_encode (encoded, secrets[i], -1, FALSE);
        g_string_replace (out, secrets[i], "…", 0);
        g_string_replace (out, encoded->str, "…", 0);
      }
  g_strdelimit (out->str, "\r\n\t", ' ');
  if (g_utf8_strlen (out->str, -1) > 200)
    {
      g_string_truncate (out, g_utf8_offset_to_pointer (out->str, 200) - out->str);
      g_string_append (out, "…");
    }
  return g_string_free (out, FALSE);
}

/* An error code as S3 writes them (AccessDenied): letters and digits only,
 * whatever a server sends. */
static char *
safe_code (const char *code)
{
  GString *out = g_string_new (NULL);

  for (const char *p = code; *p != '\0' && out->len < 64; p++)
    if (g_ascii_isalnum (*p) || *p == '.')
      g_string_append_c (out, *p);
  return g_string_free (out, FALSE);
}

/* S3's answer as an error a caller can act on and a person can read. */
static GError *
s3_error (MtS3Client *self,
          guint       status,
          ErrorDoc   *doc)
{
  const char *code = doc->code != NULL ? doc->code : "";
  const char *source = mt_aws_credentials_get_source (self->credentials);
  g_autofree char *shown = safe_code (code);

  if (strcmp (code, "AccessDenied") == 0 || strcmp (code, "AllAccessDisabled") == 0 ||
      (code[0] == '\0' && status == 403))
    return g_error_new (MT_S3_ERROR, MT_S3_ERROR_ACCESS_DENIED,
                        _("S3 denied access to bucket “%s” (AccessDenied). Check that the AWS credentials from %s may list and read it."),
                        self->bucket, source);
  if (strcmp (code, "InvalidAccessKeyId") == 0)
    return g_error_new (MT_S3_ERROR, MT_S3_ERROR_INVALID_ACCESS_KEY,
                        _("S3 does not know the AWS access key from %s (InvalidAccessKeyId). Check the access key id."),
                        source);
  if (strcmp (code, "SignatureDoesNotMatch") == 0)
    return g_error_new (MT_S3_ERROR, MT_S3_ERROR_SIGNATURE_MISMATCH,
                        _("S3 rejected the request's signature (SignatureDoesNotMatch): the AWS secret access key from %s is probably wrong."),
                        source);
  if (strcmp (code, "ExpiredToken") == 0 || strcmp (code, "TokenRefreshRequired") == 0)
    return g_error_new (MT_S3_ERROR, MT_S3_ERROR_EXPIRED_TOKEN,
                        _("The AWS session token from %s has expired (%s). Get new temporary credentials and try again."),
                        source, shown);
  if (strcmp (code, "InvalidToken") == 0)
    return g_error_new (MT_S3_ERROR, MT_S3_ERROR_INVALID_TOKEN,
                        _("S3 rejected the AWS session token from %s (InvalidToken). Check AWS_SESSION_TOKEN."),
                        source);
  if (strcmp (code, "NoSuchBucket") == 0)
    return g_error_new (MT_S3_ERROR, MT_S3_ERROR_NO_SUCH_BUCKET,
                        _("There is no bucket “%s” (NoSuchBucket). Check the bucket name."),
                        self->bucket);
  if (strcmp (code, "NoSuchKey") == 0 || (code[0] == '\0' && status == 404))
    return g_error_new_literal (MT_S3_ERROR, MT_S3_ERROR_NO_SUCH_KEY,
                                _("The object is not in the bucket any more (NoSuchKey)."));
  if (strcmp (code, "RequestTimeTooSkewed") == 0)
    return g_error_new_literal (MT_S3_ERROR, MT_S3_ERROR_CLOCK_SKEW,
                                _("This computer's clock is too far from S3's (RequestTimeTooSkewed). Set the clock right and try again."));
  if (strcmp (code, "SlowDown") == 0)
    return g_error_new_literal (MT_S3_ERROR, MT_S3_ERROR_SLOW_DOWN,
                                _("S3 kept asking to slow down (SlowDown). Try again later, or with fewer requests in flight."));
  if (strcmp (code, "PermanentRedirect") == 0 || strcmp (code, "AuthorizationHeaderMalformed") == 0 ||
      status == 301 || status == 307)
    return g_error_new (MT_S3_ERROR, MT_S3_ERROR_WRONG_REGION,
                        _("Bucket “%s” is not in region %s, and S3 did not say which it is in (%s). Set AWS_REGION to the bucket's region."),
                        self->bucket, self->region, code[0] != '\0' ? shown : "redirect");
  if (status >= 500)
    return g_error_new (MT_S3_ERROR, MT_S3_ERROR_SERVER,
                        _("S3 answered %u %s. Try again later."),
                        status, code[0] != '\0' ? shown : soup_status_get_phrase (status));
  {
    g_autofree char *message = scrub_message (self, doc->message != NULL ? doc->message
                                                                       : soup_status_get_phrase (status));
    return g_error_new (MT_S3_ERROR, MT_S3_ERROR_FAILED,
                        _("S3 refused the request: %s (%s, HTTP %u)."), message,
                        code[0] != '\0' ? shown : "no code", status);
  }
}

static void
set_region (MtS3Client *self,
            const char *region)
{
  MtS3Endpoint *endpoint = mt_s3_endpoint_new (self->endpoint_url, region, self->bucket, NULL);

  if (endpoint == NULL)
    return;
  g_clear_pointer (&self->endpoint, mt_s3_endpoint_free);
  self->endpoint = endpoint;
  g_free (self->region);
  self->region = g_strdup (region);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REGION]);
}

/* The whole answer is in: a body for a success, an error otherwise. */
/* How long the server asked to wait, from Retry-After (seconds only). */
static guint
retry_after_ms (SoupMessageHeaders *headers)
{
  const char *value = soup_message_headers_get_one (headers, "Retry-After");
  guint64 seconds;

  if (value == NULL || !g_ascii_string_to_unsigned (value, 10, 0, 300, &seconds, NULL))
    return 0;
  return (guint) seconds * 1000;
}

/* The whole answer is in: a body for a success, an error otherwise. */
static void
answer_complete (Request *request)
{
  MtS3Client *self = request->client;
  g_autoptr(GBytes) body = g_byte_array_free_to_bytes (g_steal_pointer (&request->body));
  guint status = request->status;
  SoupMessageHeaders *headers = soup_message_get_response_headers (request->message);
  const char *bucket_region;
  ErrorDoc doc = { 0 };
  GError *error = NULL;

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      if (request->validate != NULL && !request->validate (body, request->validate_data, &error))
        {
          /* Cut short in transit, say: the next answer may come whole. */
          retry_or_fail (request, error);
          return;
        }
      g_clear_object (&request->stream);
      g_clear_object (&request->message);
      release_place (self);
      request_finish (request, NULL, g_steal_pointer (&body));
      return;
    }

  bucket_region = soup_message_headers_get_one (headers, "x-amz-bucket-region");
  parse_error_doc (body, &doc);
  if (bucket_region == NULL)
    bucket_region = doc.region;

  /* The bucket is elsewhere: follow S3 there, once, and stay there. The
   * comparison is with the region this attempt was signed for: requests in
   * flight together all meet the redirect, and all follow it. */
  if ((status == 301 || status == 307 || status == 400) && bucket_region != NULL &&
      !request->redirected && strcmp (bucket_region, request->signed_region) != 0 &&
      mt_aws_region_is_valid (bucket_region))
    {
      if (strcmp (bucket_region, self->region) != 0)
        {
          g_debug ("bucket %s is in %s, not %s", self->bucket, bucket_region, self->region);
          set_region (self, bucket_region);
        }
      request->redirected = TRUE;
      /* Going to the right place is not another attempt. */
      request->attempt--;
      error_doc_clear (&doc);
      g_clear_object (&request->stream);
      g_clear_object (&request->message);
      send_attempt (request);
      return;
    }

  error = s3_error (self, status, &doc);
  if (is_retryable (status, doc.code))
    retry_after_or_fail (request, error, retry_after_ms (headers));
  else
    fail (request, error);
  error_doc_clear (&doc);
}

static void on_body_read (GObject *source, GAsyncResult *result, gpointer data);

static void
read_more (Request *request)
{
  g_input_stream_read_bytes_async (request->stream, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (request->task), on_body_read, request);
}

static GError *
network_error (Request *request,
               GError  *cause)
{
  MtS3Client *self = request->client;

  return g_error_new (MT_S3_ERROR, MT_S3_ERROR_NETWORK,
                      _("Could not reach S3 at %s: %s. Check the network connection."),
                      self->endpoint->host, cause->message);
}

/* A certificate that cannot be trusted does not get better by asking
 * again: fail at once, and say so. */
static void
transport_failed (Request *request,
                  GError  *cause)
{
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    fail (request, g_error_copy (cause));
  else if (cause->domain == G_TLS_ERROR)
    fail (request, g_error_new (MT_S3_ERROR, MT_S3_ERROR_TLS,
                                _("The TLS certificate of %s cannot be trusted (%s). Check the endpoint and the system's certificates."),
                                request->client->endpoint->host, cause->message));
  else
    retry_or_fail (request, network_error (request, cause));
}

static void
on_body_read (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  Request *request = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk = NULL;
  gboolean success = SOUP_STATUS_IS_SUCCESSFUL (request->status);
  gsize limit = success ? request->max_size : MAX_ERROR_BODY;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (chunk == NULL)
    {
      /* Cut off part way: the answer cannot be trusted, ask again. */
      transport_failed (request, error);
      return;
    }

  if (g_bytes_get_size (chunk) == 0)
    {
      answer_complete (request);
      return;
    }

  if (request->body->len + g_bytes_get_size (chunk) > limit)
    {
      if (success)
        {
          fail (request, request->too_large_is_error
                ? g_error_new (MT_S3_ERROR, MT_S3_ERROR_TOO_LARGE,
                               _("The object is larger than %" G_GSIZE_FORMAT " bytes, the most Mealtrace reads."),
                               limit)
                : g_error_new_literal (MT_S3_ERROR, MT_S3_ERROR_MALFORMED,
                                       _("S3 sent an answer far larger than any listing. Check the endpoint.")));
          return;
        }
      /* An error document this long is cut; what matters is at its start. */
      g_byte_array_append (request->body, g_bytes_get_data (chunk, NULL), limit - request->body->len);
      answer_complete (request);
      return;
    }
  g_byte_array_append (request->body, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
  read_more (request);
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  Request *request = data;
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *headers;

  request->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (request->stream == NULL)
    {
      transport_failed (request, error);
      return;
    }

  request->status = soup_message_get_status (request->message);
  headers = soup_message_get_response_headers (request->message);

  /* Refuse what is too large before reading a byte of it. */
  if (SOUP_STATUS_IS_SUCCESSFUL (request->status) &&
      soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      (guint64) soup_message_headers_get_content_length (headers) > request->max_size)
    {
      fail (request, request->too_large_is_error
            ? g_error_new (MT_S3_ERROR, MT_S3_ERROR_TOO_LARGE,
                           _("The object is %" G_GUINT64_FORMAT " bytes, more than the %" G_GSIZE_FORMAT " Mealtrace reads."),
                           (guint64) soup_message_headers_get_content_length (headers), request->max_size)
            : g_error_new_literal (MT_S3_ERROR, MT_S3_ERROR_MALFORMED,
                                   _("S3 announced an answer far larger than any listing. Check the endpoint.")));
      return;
    }

  request->body = g_byte_array_new ();
  read_more (request);
}

static MtSigv4Credentials
signing_credentials (MtS3Client *self)
{
  MtSigv4Credentials credentials = {
    mt_aws_credentials_get_access_key_id (self->credentials),
    mt_aws_credentials_get_secret_access_key (self->credentials),
    mt_aws_credentials_get_session_token (self->credentials),
  };

  return credentials;
}

/* Signs and sends one attempt; the request holds a place in flight. */
static void
send_attempt (Request *request)
{
  MtS3Client *self = request->client;
  MtS3Endpoint *endpoint = self->endpoint;
  g_autofree char *path = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(MtSigv4Request) signing = NULL;
  g_autoptr(MtSigv4Result) signature = NULL;
  SoupMessageHeaders *headers;
  MtSigv4Credentials credentials = signing_credentials (self);
  MtSigv4Params params = { 0 };

  request->attempt++;
  path = g_strconcat (endpoint->base_path, request->path, NULL);
  if (path[0] == '\0')
    {
      g_free (path);
      path = g_strdup ("/");
    }

  /* Built, not parsed: parsing would resolve `.` and `..` in keys. */
  uri = g_uri_build (SOUP_HTTP_URI_FLAGS, endpoint->scheme, NULL, endpoint->hostname,
                     endpoint->port, path, request->query, NULL);
  request->message = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  /* Redirects are S3's to explain (a region) and ours to follow, signed
   * again: libsoup would carry the session token to wherever they point. */
  soup_message_add_flags (request->message, SOUP_MESSAGE_NO_REDIRECT);
  g_free (request->signed_region);
  request->signed_region = g_strdup (self->region);

  params.mode = MT_SIGV4_S3;
  params.region = self->region;
  params.service = "s3";
  params.time = g_get_real_time () / G_USEC_PER_SEC;
  signing = mt_sigv4_request_new (SOUP_METHOD_GET, path, request->query);
  mt_sigv4_request_add_header (signing, "host", endpoint->host);
  signature = mt_sigv4_sign (signing, &credentials, &params);

  headers = soup_message_get_request_headers (request->message);
  for (guint i = 0; i + 1 < signature->headers->len; i += 2)
    soup_message_headers_replace (headers, g_ptr_array_index (signature->headers, i),
                                  g_ptr_array_index (signature->headers, i + 1));

  self->requests++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REQUESTS]);
  soup_session_send_async (self->session, request->message, G_PRIORITY_DEFAULT,
                           g_task_get_cancellable (request->task), on_sent, request);
}

static void
s3_request_async (MtS3Client          *self,
                  const char          *path,
                  const char          *query,
                  gsize                max_size,
                  gboolean             too_large_is_error,
                  gboolean           (*validate) (GBytes *, gpointer, GError **),
                  gpointer             validate_data,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Request *request = g_new0 (Request, 1);

  request->client = g_object_ref (self);
  request->task = task;
  request->path = g_strdup (path);
  request->query = g_strdup (query);
  request->max_size = max_size;
  request->too_large_is_error = too_large_is_error;
  request->validate = validate;
  request->validate_data = validate_data;
  g_task_set_source_tag (task, s3_request_async);
  g_task_set_task_data (task, request, request_free);

  if (g_task_return_error_if_cancelled (task))
    {
      request->state = REQUEST_DONE;
      g_object_unref (task);
      return;
    }
  acquire_place (request);
}

static GBytes *
s3_request_finish (MtS3Client    *self,
                   GAsyncResult  *result,
                   GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Listing */

typedef struct {
  GString *text;         /* first: doc_text appends here */
  GPtrArray *objects;    /* MtS3Object of this page */
  MtS3Object *current;
  GPtrArray *path;       /* element names, outermost first */
  gboolean url_encoded;
  gboolean truncated;
  char *next_token;
  gboolean seen_root;
} Page;

static void
page_clear (Page *page)
{
  g_string_free (page->text, TRUE);
  g_ptr_array_unref (page->objects);
  g_clear_pointer (&page->current, mt_s3_object_free);
  g_ptr_array_unref (page->path);
  g_free (page->next_token);
}

static void
page_start (GMarkupParseContext *context,
            const char          *element,
            const char         **names,
            const char         **values,
            gpointer             data,
            GError             **error)
{
  Page *page = data;

  if (page->path->len == 0)
    {
      if (strcmp (element, "ListBucketResult") != 0)
        {
          g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                       "<%s> where <ListBucketResult> belongs", element);
          return;
        }
      page->seen_root = TRUE;
    }
  if (page->path->len == 1 && strcmp (element, "Contents") == 0)
    {
      g_clear_pointer (&page->current, mt_s3_object_free);
      page->current = g_new0 (MtS3Object, 1);
      page->current->last_modified = MT_TIME_NONE;
      page->current->size = -1;
    }
  if (page->path->len > 8)
    {
      g_set_error_literal (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, "nested too deeply");
      return;
    }
  g_ptr_array_add (page->path, g_strdup (element));
  g_string_truncate (page->text, 0);
}

/* S3's url encoding is a form encoding: `+` is a space. */
static char *
form_decode (const char *text)
{
  g_autofree char *plus = g_strdup (text);

  g_strdelimit (plus, "+", ' ');
  return mt_sigv4_uri_decode (plus, -1);
}

static void
page_end (GMarkupParseContext *context,
          const char          *element,
          gpointer             data,
          GError             **error)
{
  Page *page = data;
  const char *text = page->text->str;
  guint depth = page->path->len;

  if (depth == 3 && page->current != NULL)
    {
      MtS3Object *object = page->current;

      if (strcmp (element, "Key") == 0)
        {
          g_free (object->key);
          object->key = g_strdup (text);
        }
      else if (strcmp (element, "LastModified") == 0)
        {
          if (!mt_time_parse_iso8601 (text, NULL, &object->last_modified, NULL))
            g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                         "LastModified “%.40s” is not a time", text);
        }
      else if (strcmp (element, "Size") == 0)
        {
          guint64 size;

          if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, &size, NULL))
            g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                         "Size “%.40s” is not a number", text);
          else
            object->size = (gint64) size;
        }
      else if (strcmp (element, "ETag") == 0)
        {
          g_free (object->etag);
          object->etag = g_strdup (text);
        }
    }
  else if (depth == 2 && strcmp (element, "Contents") == 0 && page->current != NULL)
    {
      MtS3Object *object = g_steal_pointer (&page->current);

      if (object->key == NULL || object->last_modified == MT_TIME_NONE || object->size < 0)
        {
          g_set_error_literal (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                               "an object without Key, LastModified or Size");
          mt_s3_object_free (object);
          return;
        }
      g_ptr_array_add (page->objects, object);
    }
  else if (depth == 2 && strcmp (element, "IsTruncated") == 0)
    page->truncated = strcmp (text, "true") == 0;
  else if (depth == 2 && strcmp (element, "NextContinuationToken") == 0)
    {
      g_free (page->next_token);
      page->next_token = g_strdup (text);
    }
  else if (depth == 2 && strcmp (element, "EncodingType") == 0)
    page->url_encoded = strcmp (text, "url") == 0;

  g_ptr_array_set_size (page->path, depth - 1);
  g_string_truncate (page->text, 0);
}

static const GMarkupParser page_parser = {
  page_start, page_end, doc_text, NULL, NULL,
};

/* A listing may not run on for ever: ten million keys is far past any
 * folder of meal photos, and a server that keeps going is broken. */
#define MAX_PAGES 10000

typedef struct {
  char *prefix;
  char *token;
  GHashTable *tokens_seen;
  GPtrArray *objects;
  guint pages;
  Page page;      /* the page just read */
} Listing;

static void
page_reset (Page *page)
{
  if (page->text != NULL)
    page_clear (page);
  memset (page, 0, sizeof *page);
  page->text = g_string_new (NULL);
  page->objects = g_ptr_array_new_with_free_func ((GDestroyNotify) mt_s3_object_free);
  page->path = g_ptr_array_new_with_free_func (g_free);
}

static void
listing_free (gpointer data)
{
  Listing *listing = data;

  g_free (listing->prefix);
  g_free (listing->token);
  g_hash_table_unref (listing->tokens_seen);
  g_ptr_array_unref (listing->objects);
  if (listing->page.text != NULL)
    page_clear (&listing->page);
  g_free (listing);
}

/* Reads a page into the listing as part of the request: a page that cannot
 * be read (cut short in transit, say) is asked for again, with backoff. */
static gboolean
parse_page (GBytes   *body,
            gpointer  data,
            GError  **error)
{
  Listing *listing = data;
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize length = 0;
  const char *xml = g_bytes_get_data (body, &length);

  page_reset (&listing->page);
  context = g_markup_parse_context_new (&page_parser, G_MARKUP_IGNORE_QUALIFIED, &listing->page, NULL);
  if (!g_markup_parse_context_parse (context, xml != NULL ? xml : "", length, &local_error) ||
      !g_markup_parse_context_end_parse (context, &local_error) || !listing->page.seen_root)
    {
      g_set_error (error, MT_S3_ERROR, MT_S3_ERROR_MALFORMED,
                   _("S3 sent a page that cannot be read (%s). Check the endpoint."),
                   local_error != NULL ? local_error->message : _("no listing in it"));
      return FALSE;
    }
  return TRUE;
}

static void request_page (GTask *task);

static void
on_page (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  g_autoptr(GTask) task = data;
  Listing *listing = g_task_get_task_data (task);
  Page *page = &listing->page;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  body = s3_request_finish (MT_S3_CLIENT (source), result, &error);
  if (body == NULL)
    {
      g_prefix_error (&error, _("Listing “%s”: "), listing->prefix);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; i < page->objects->len; i++)
    {
      MtS3Object *object = g_ptr_array_index (page->objects, i);

      if (page->url_encoded)
        {
          char *decoded = form_decode (object->key);

          g_free (object->key);
          object->key = decoded;
        }
      page->objects->pdata[i] = NULL;
      g_ptr_array_add (listing->objects, object);
    }
  listing->pages++;

  if (page->truncated)
    {
      /* A next page needs a new token: a missing or repeated one would
       * lose or repeat keys, or never end. */
      if (page->next_token == NULL || page->next_token[0] == '\0' ||
          g_hash_table_contains (listing->tokens_seen, page->next_token))
        {
          g_task_return_new_error (task, MT_S3_ERROR, MT_S3_ERROR_MALFORMED,
                                   _("Listing “%s”: S3 said more keys follow but gave no new continuation token. Try again."),
                                   listing->prefix);
          return;
        }
      if (listing->pages >= MAX_PAGES)
        {
          g_task_return_new_error (task, MT_S3_ERROR, MT_S3_ERROR_TOO_LARGE,
                                   _("Listing “%s”: more than %u pages of keys. Check the prefix."),
                                   listing->prefix, MAX_PAGES);
          return;
        }
      g_free (listing->token);
      listing->token = g_strdup (page->next_token);
      g_hash_table_add (listing->tokens_seen, g_strdup (page->next_token));
      request_page (g_steal_pointer (&task));
      return;
    }

  g_task_return_pointer (task, g_ptr_array_ref (listing->objects), (GDestroyNotify) g_ptr_array_unref);
}

static void
append_param (GString    *query,
              const char *name,
              const char *value)
{
  if (query->len > 0)
    g_string_append_c (query, '&');
  g_string_append_printf (query, "%s=", name);
  mt_sigv4_uri_encode (query, value, -1, FALSE);
}

static void
request_page (GTask *task)
{
  Listing *listing = g_task_get_task_data (task);
  g_autoptr(GString) query = g_string_new (NULL);

  append_param (query, "list-type", "2");
  if (listing->token != NULL)
    append_param (query, "continuation-token", listing->token);
  append_param (query, "encoding-type", "url");
  append_param (query, "max-keys", "1000");
  append_param (query, "prefix", listing->prefix);

  s3_request_async (g_task_get_source_object (task), "/", query->str, MAX_LISTING_BODY, FALSE,
                    parse_page, listing, g_task_get_cancellable (task), on_page, task);
}

void
mt_s3_client_list_objects_async (MtS3Client          *self,
                                 const char          *prefix,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task;
  Listing *listing;

  g_return_if_fail (MT_IS_S3_CLIENT (self));
  g_return_if_fail (prefix != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mt_s3_client_list_objects_async);
  listing = g_new0 (Listing, 1);
  listing->prefix = g_strdup (prefix);
  listing->tokens_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  listing->objects = g_ptr_array_new_with_free_func ((GDestroyNotify) mt_s3_object_free);
  g_task_set_task_data (task, listing, listing_free);
  request_page (task);
}

GPtrArray *
mt_s3_client_list_objects_finish (MtS3Client    *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Objects */

static char *
object_path (const char *key)
{
  GString *path = g_string_new ("/");

  mt_sigv4_uri_encode (path, key, -1, TRUE);
  return g_string_free (path, FALSE);
}

static void
on_object (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  g_autoptr(GTask) task = data;
  GError *error = NULL;
  GBytes *body = s3_request_finish (MT_S3_CLIENT (source), result, &error);

  if (body == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, body, (GDestroyNotify) g_bytes_unref);
}

void
mt_s3_client_get_object_async (MtS3Client          *self,
                               const char          *key,
                               gsize                max_size,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autofree char *path = NULL;
  GTask *task;

  g_return_if_fail (MT_IS_S3_CLIENT (self));
  g_return_if_fail (key != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mt_s3_client_get_object_async);
  path = object_path (key);
  s3_request_async (self, path, NULL, max_size, TRUE, NULL, NULL, cancellable, on_object, task);
}

GBytes *
mt_s3_client_get_object_finish (MtS3Client    *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

char *
mt_s3_client_presign_get (MtS3Client  *self,
                          const char  *key,
                          guint        expires,
                          gint64       time,
                          GError     **error)
{
  g_autofree char *object = NULL;
  g_autofree char *path = NULL;
  g_autoptr(MtSigv4Request) signing = NULL;
  g_autoptr(MtSigv4Result) signature = NULL;
  GString *url;
  MtSigv4Credentials credentials = signing_credentials (self);
  MtSigv4Params params = { 0 };

  g_return_val_if_fail (MT_IS_S3_CLIENT (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  object = object_path (key);
  path = g_strconcat (self->endpoint->base_path, object, NULL);
  params.mode = MT_SIGV4_S3;
  params.region = self->region;
  params.service = "s3";
  params.time = time != 0 ? time : g_get_real_time () / G_USEC_PER_SEC;
  params.expires = expires;
  signing = mt_sigv4_request_new (SOUP_METHOD_GET, path, NULL);
  mt_sigv4_request_add_header (signing, "host", self->endpoint->host);
  signature = mt_sigv4_presign (signing, &credentials, &params, error);
  if (signature == NULL)
    return NULL;

  url = g_string_new (NULL);
  g_string_append_printf (url, "%s://%s%s?", self->endpoint->scheme, self->endpoint->host, path);
  for (guint i = 0; i < signature->query->len; i++)
    g_string_append_printf (url, "%s%s", i > 0 ? "&" : "", (const char *) g_ptr_array_index (signature->query, i));
  return g_string_free (url, FALSE);
}
