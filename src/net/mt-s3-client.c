/* mt-s3-client.c — an asynchronous S3 client */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "mt-http.h"
#include "mt-s3-client-private.h"
#include "mt-s3-xml.h"
#include "mt-sigv4.h"
#include "mt-time.h"

G_DEFINE_QUARK (mt-s3-error-quark, mt_s3_error)

/* A listing page is at most 1000 keys; anything bigger is not S3. */
#define MAX_LISTING_BODY (16 * 1024 * 1024)

struct _MtS3Client
{
  GObject parent_instance;

  MtAwsCredentials *credentials;
  char *bucket;
  char *endpoint_url;
  char *region;
  char *first_region; /* the one it was made with */
  MtS3Endpoint *endpoint;
  MtHttp *http;
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
mt_s3_client_finalize (GObject *object)
{
  MtS3Client *self = MT_S3_CLIENT (object);

  g_clear_pointer (&self->credentials, mt_aws_credentials_unref);
  g_free (self->bucket);
  g_free (self->endpoint_url);
  g_free (self->first_region);
  g_free (self->region);
  g_clear_pointer (&self->endpoint, mt_s3_endpoint_free);
  g_clear_object (&self->http);

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
      g_value_set_uint (value, mt_http_get_max_in_flight (self->http));
      break;
    case PROP_MAX_ATTEMPTS:
      g_value_set_uint (value, mt_http_get_max_attempts (self->http));
      break;
    case PROP_RETRY_DELAY_MS:
      g_value_set_uint (value, mt_http_get_retry_delay_ms (self->http));
      break;
    case PROP_REQUESTS:
      g_value_set_uint (value, mt_http_get_requests (self->http));
      break;
    case PROP_RETRIES:
      g_value_set_uint (value, mt_http_get_retries (self->http));
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

  object_class->finalize = mt_s3_client_finalize;
  object_class->get_property = mt_s3_client_get_property;
  object_class->set_property = mt_s3_client_set_property;

  properties[PROP_BUCKET] = g_param_spec_string ("bucket", NULL, NULL, NULL, ro);
  properties[PROP_REGION] = g_param_spec_string ("region", NULL, NULL, NULL, ro);
  properties[PROP_MAX_IN_FLIGHT] = g_param_spec_uint ("max-in-flight", NULL, NULL, 1, 256, 16, rw);
  properties[PROP_MAX_ATTEMPTS] = g_param_spec_uint ("max-attempts", NULL, NULL, 1, 20, 5, rw);
  properties[PROP_RETRY_DELAY_MS] = g_param_spec_uint ("retry-delay-ms", NULL, NULL, 0, 20000, 200, rw);
  properties[PROP_REQUESTS] = g_param_spec_uint ("requests", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_RETRIES] = g_param_spec_uint ("retries", NULL, NULL, 0, G_MAXUINT, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

/* The engine's settings and counters are the client's. */
static void
forward_notify (GObject    *http,
                GParamSpec *pspec,
                gpointer    data)
{
  GParamSpec *own = g_object_class_find_property (G_OBJECT_GET_CLASS (data), pspec->name);

  if (own != NULL)
    g_object_notify_by_pspec (data, own);
}

static void
mt_s3_client_init (MtS3Client *self)
{
  self->http = mt_http_new ();
  g_signal_connect_object (self->http, "notify", G_CALLBACK (forward_notify), self, 0);
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
  self->first_region = g_strdup (region);
  self->endpoint = endpoint;
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
  return mt_http_get_max_in_flight (self->http);
}

void
mt_s3_client_set_max_in_flight (MtS3Client *self,
                                guint       max_in_flight)
{
  g_return_if_fail (MT_IS_S3_CLIENT (self));
  mt_http_set_max_in_flight (self->http, max_in_flight);
}

guint
mt_s3_client_get_max_attempts (MtS3Client *self)
{
  g_return_val_if_fail (MT_IS_S3_CLIENT (self), 0);
  return mt_http_get_max_attempts (self->http);
}

void
mt_s3_client_set_max_attempts (MtS3Client *self,
                               guint       max_attempts)
{
  g_return_if_fail (MT_IS_S3_CLIENT (self));
  mt_http_set_max_attempts (self->http, max_attempts);
}

guint
mt_s3_client_get_retry_delay_ms (MtS3Client *self)
{
  g_return_val_if_fail (MT_IS_S3_CLIENT (self), 0);
  return mt_http_get_retry_delay_ms (self->http);
}

void
mt_s3_client_set_retry_delay_ms (MtS3Client *self,
                                 guint       retry_delay_ms)
{
  g_return_if_fail (MT_IS_S3_CLIENT (self));
  mt_http_set_retry_delay_ms (self->http, retry_delay_ms);
}

guint
mt_s3_client_get_requests (MtS3Client *self)
{
  g_return_val_if_fail (MT_IS_S3_CLIENT (self), 0);
  return mt_http_get_requests (self->http);
}

guint
mt_s3_client_get_retries (MtS3Client *self)
{
  g_return_val_if_fail (MT_IS_S3_CLIENT (self), 0);
  return mt_http_get_retries (self->http);
}

/* One S3 request, as the HTTP engine sees it. */
typedef struct {
  MtS3Client *client;
  char *path;             /* below the bucket, encoded: "/key" or "" */
  char *query;            /* encoded, or NULL */
  gboolean too_large_is_error; /* FALSE: a success body over the cap is malformed */
  gboolean redirected;
  char *signed_region;    /* the region the attempt on the wire was signed for */
  /* Checks a success's body as part of the attempt: a body that fails it is
   * retried like a failed answer. */
  gboolean (*validate) (GBytes *body, gpointer data, GError **error);
  gpointer validate_data;
} S3Call;

static void
s3_call_free (gpointer data)
{
  S3Call *call = data;

  g_object_unref (call->client);
  g_free (call->path);
  g_free (call->query);
  g_free (call->signed_region);
  g_free (call);
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
          MtS3ErrorDoc *doc)
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

GError *
mt_s3_client_error_for_answer (MtS3Client *self,
                               guint       status,
                               GBytes     *body)
{
  MtS3ErrorDoc doc;
  GError *error;

  mt_s3_error_doc_parse (body, &doc);
  error = s3_error (self, status, &doc);
  mt_s3_error_doc_clear (&doc);
  return error;
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

void
mt_s3_client_learn_from (MtS3Client *self,
                         MtS3Client *earlier)
{
  g_return_if_fail (MT_IS_S3_CLIENT (self));
  g_return_if_fail (MT_IS_S3_CLIENT (earlier));

  if (self == earlier || g_strcmp0 (self->endpoint_url, earlier->endpoint_url) != 0 ||
      strcmp (self->bucket, earlier->bucket) != 0 || strcmp (self->first_region, earlier->first_region) != 0 ||
      strcmp (self->region, earlier->region) == 0)
    return;
  set_region (self, earlier->region);
}

/* How long the server asked to wait (Retry-After), at most five minutes. */
static guint
retry_after_ms (SoupMessageHeaders *headers)
{
  gint64 wait_ms;

  if (!mt_http_get_retry_after (headers, &wait_ms))
    return 0;
  return (guint) MIN (wait_ms, 300000);
}

static MtHttpVerdict
s3_judge (gpointer      data,
          SoupMessage  *message,
          GBytes       *body,
          guint        *wait_ms,
          GError      **error)
{
  S3Call *call = data;
  MtS3Client *self = call->client;
  guint status = soup_message_get_status (message);
  SoupMessageHeaders *headers = soup_message_get_response_headers (message);
  const char *bucket_region;
  MtS3ErrorDoc doc;
  MtHttpVerdict verdict;

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      /* Cut short in transit, say: the next answer may come whole. */
      if (call->validate != NULL && !call->validate (body, call->validate_data, error))
        return MT_HTTP_RETRY;
      return MT_HTTP_DONE;
    }

  bucket_region = soup_message_headers_get_one (headers, "x-amz-bucket-region");
  mt_s3_error_doc_parse (body, &doc);
  if (bucket_region == NULL)
    bucket_region = doc.region;

  /* The bucket is elsewhere: follow S3 there, once, and stay there. The
   * comparison is with the region this attempt was signed for: requests in
   * flight together all meet the redirect, and all follow it. */
  if ((status == 301 || status == 307 || status == 400) && bucket_region != NULL &&
      !call->redirected && strcmp (bucket_region, call->signed_region) != 0 &&
      mt_aws_region_is_valid (bucket_region))
    {
      if (strcmp (bucket_region, self->region) != 0)
        {
          g_debug ("bucket %s is in %s, not %s", self->bucket, bucket_region, self->region);
          set_region (self, bucket_region);
        }
      call->redirected = TRUE;
      mt_s3_error_doc_clear (&doc);
      return MT_HTTP_RESEND;
    }

  *error = s3_error (self, status, &doc);
  verdict = is_retryable (status, doc.code) ? MT_HTTP_RETRY : MT_HTTP_FAIL;
  /* Throttled: fewer requests at once, then again. */
  if (verdict == MT_HTTP_RETRY && (status == 429 || g_strcmp0 (doc.code, "SlowDown") == 0 ||
                                   g_strcmp0 (doc.code, "Throttling") == 0 ||
                                   g_strcmp0 (doc.code, "ThrottlingException") == 0 ||
                                   g_strcmp0 (doc.code, "RequestLimitExceeded") == 0))
    verdict = MT_HTTP_SLOW_DOWN;
  if (verdict != MT_HTTP_FAIL)
    *wait_ms = retry_after_ms (headers);
  mt_s3_error_doc_clear (&doc);
  return verdict;
}

static GError *
s3_transport_error (gpointer  data,
                    GError   *cause,
                    gboolean  tls)
{
  S3Call *call = data;
  MtS3Client *self = call->client;

  /* A certificate that cannot be trusted does not get better by asking again. */
  if (tls)
    return g_error_new (MT_S3_ERROR, MT_S3_ERROR_TLS,
                        _("The TLS certificate of %s cannot be trusted (%s). Check the endpoint and the system's certificates."),
                        self->endpoint->host, cause->message);
  return g_error_new (MT_S3_ERROR, MT_S3_ERROR_NETWORK,
                      _("Could not reach S3 at %s: %s. Check the network connection."),
                      self->endpoint->host, cause->message);
}

static GError *
s3_too_large (gpointer data,
              guint64  size,
              gsize    limit)
{
  S3Call *call = data;

  if (!call->too_large_is_error)
    return g_error_new_literal (MT_S3_ERROR, MT_S3_ERROR_MALFORMED,
                                _("S3 sent an answer far larger than any listing. Check the endpoint."));
  {
    /* Numbers as text: a format macro cannot stand in a translatable string. */
    g_autofree char *size_text = g_strdup_printf ("%" G_GUINT64_FORMAT, size);
    g_autofree char *limit_text = g_strdup_printf ("%" G_GSIZE_FORMAT, limit);

    /* Translators: the object's size, then the most Mealtrace reads, in bytes. */
    return g_error_new (MT_S3_ERROR, MT_S3_ERROR_TOO_LARGE,
                        _("The object is %s bytes or more, more than the %s Mealtrace reads."),
                        size_text, limit_text);
  }
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

/* Builds and signs one attempt, for the region as it stands now. */
static SoupMessage *
s3_prepare (gpointer data)
{
  S3Call *call = data;
  MtS3Client *self = call->client;
  MtS3Endpoint *endpoint = self->endpoint;
  g_autofree char *path = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(MtSigv4Request) signing = NULL;
  g_autoptr(MtSigv4Result) signature = NULL;
  SoupMessage *message;
  SoupMessageHeaders *headers;
  MtSigv4Credentials credentials = signing_credentials (self);
  MtSigv4Params params = { 0 };

  path = g_strconcat (endpoint->base_path, call->path, NULL);
  if (path[0] == '\0')
    {
      g_free (path);
      path = g_strdup ("/");
    }

  /* Built, not parsed: parsing would resolve `.` and `..` in keys. */
  uri = g_uri_build (SOUP_HTTP_URI_FLAGS, endpoint->scheme, NULL, endpoint->hostname,
                     endpoint->port, path, call->query, NULL);
  message = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  g_free (call->signed_region);
  call->signed_region = g_strdup (self->region);

  params.mode = MT_SIGV4_S3;
  params.region = self->region;
  params.service = "s3";
  params.time = g_get_real_time () / G_USEC_PER_SEC;
  signing = mt_sigv4_request_new (SOUP_METHOD_GET, path, call->query);
  mt_sigv4_request_add_header (signing, "host", endpoint->host);
  signature = mt_sigv4_sign (signing, &credentials, &params);

  headers = soup_message_get_request_headers (message);
  for (guint i = 0; i + 1 < signature->headers->len; i += 2)
    soup_message_headers_replace (headers, g_ptr_array_index (signature->headers, i),
                                  g_ptr_array_index (signature->headers, i + 1));
  return message;
}

static const MtHttpHandler s3_handler = {
  s3_prepare, s3_judge, s3_transport_error, s3_too_large,
};

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
  S3Call *call = g_new0 (S3Call, 1);

  call->client = g_object_ref (self);
  call->path = g_strdup (path);
  call->query = g_strdup (query);
  call->too_large_is_error = too_large_is_error;
  call->validate = validate;
  call->validate_data = validate_data;
  mt_http_send_async (self->http, &s3_handler, call, s3_call_free, max_size, cancellable,
                      callback, user_data);
}

static GBytes *
s3_request_finish (MtS3Client    *self,
                   GAsyncResult  *result,
                   GError       **error)
{
  return mt_http_send_finish (self->http, result, error);
}

/* Listing */

/* A listing may not run on for ever: ten million keys is far past any
 * folder of meal photos, and a server that keeps going is broken. */
#define MAX_PAGES 10000

typedef struct {
  char *prefix;
  char *token;
  GHashTable *tokens_seen;
  GPtrArray *objects;
  guint pages;
  MtS3ListingPage page;      /* the page just read */
  MtS3PageFunc page_func;  /* when pages are handed over as they come */
  gpointer page_data;
  GDestroyNotify page_data_free;
} Listing;

static void
listing_free (gpointer data)
{
  Listing *listing = data;

  g_free (listing->prefix);
  g_free (listing->token);
  g_hash_table_unref (listing->tokens_seen);
  g_ptr_array_unref (listing->objects);
  mt_s3_listing_page_clear (&listing->page);
  if (listing->page_data_free != NULL)
    listing->page_data_free (listing->page_data);
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

  return mt_s3_listing_page_parse (body, &listing->page, error);
}

static void request_page (GTask *task);

static void
on_page (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  g_autoptr(GTask) task = data;
  Listing *listing = g_task_get_task_data (task);
  MtS3ListingPage *page = &listing->page;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  body = s3_request_finish (g_task_get_source_object (task), result, &error);
  if (body == NULL)
    {
      g_prefix_error (&error, _("Listing “%s”: "), listing->prefix);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Kept whole: the objects move to the listing. */
  if (listing->page_func == NULL)
    for (guint i = 0; i < page->objects->len; i++)
      {
        g_ptr_array_add (listing->objects, page->objects->pdata[i]);
        page->objects->pdata[i] = NULL;
      }
  listing->pages++;

  if (listing->page_func != NULL)
    {
      /* The caller takes the page, and says whether to go on. */
      const char *next = page->truncated ? page->next_token : NULL;

      if (page->truncated && (next == NULL || next[0] == '\0' ||
                              g_hash_table_contains (listing->tokens_seen, next)))
        next = NULL;
      else if (!listing->page_func (page->objects, next, listing->page_data))
        {
          g_task_return_boolean (task, FALSE);
          return;
        }
      else if (next == NULL)
        {
          g_task_return_boolean (task, TRUE);
          return;
        }
    }

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

  if (listing->page_func != NULL)
    g_task_return_boolean (task, TRUE);
  else
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

void
mt_s3_client_list_pages_async (MtS3Client          *self,
                               const char          *prefix,
                               const char          *continuation_token,
                               MtS3PageFunc         page_func,
                               gpointer             page_data,
                               GDestroyNotify       page_data_free,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;
  Listing *listing;

  g_return_if_fail (MT_IS_S3_CLIENT (self));
  g_return_if_fail (prefix != NULL && page_func != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mt_s3_client_list_pages_async);
  listing = g_new0 (Listing, 1);
  listing->prefix = g_strdup (prefix);
  listing->token = g_strdup (continuation_token);
  listing->tokens_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (continuation_token != NULL)
    g_hash_table_add (listing->tokens_seen, g_strdup (continuation_token));
  listing->objects = g_ptr_array_new_with_free_func ((GDestroyNotify) mt_s3_object_free);
  listing->page_func = page_func;
  listing->page_data = page_data;
  listing->page_data_free = page_data_free;
  g_task_set_task_data (task, listing, listing_free);
  request_page (task);
}

gboolean
mt_s3_client_list_pages_finish (MtS3Client    *self,
                                GAsyncResult  *result,
                                gboolean      *complete,
                                GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean done;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  done = g_task_propagate_boolean (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (complete != NULL)
    *complete = done;
  return TRUE;
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
  GBytes *body = s3_request_finish (g_task_get_source_object (task), result, &error);

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
