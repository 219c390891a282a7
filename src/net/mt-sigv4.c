/* mt-sigv4.c — AWS Signature Version 4 */

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <string.h>
#include <time.h>

#include "mt-sigv4.h"

typedef struct {
  char *name;  /* lower case */
  char *value; /* as given */
  guint order; /* repeated names keep their order */
} Header;

struct _MtSigv4Request
{
  char *method;
  char *path;
  char *query;
  GArray *headers; /* Header, in the order added */
  char *payload_hash;
};

static void
header_clear (gpointer data)
{
  Header *header = data;

  g_free (header->name);
  g_free (header->value);
}

MtSigv4Request *
mt_sigv4_request_new (const char *method,
                      const char *path,
                      const char *query)
{
  MtSigv4Request *request = g_new0 (MtSigv4Request, 1);

  g_return_val_if_fail (method != NULL, NULL);

  request->method = g_ascii_strup (method, -1);
  /* A request line's path starts at the root, whatever the caller wrote. */
  request->path = path != NULL && path[0] == '/' ? g_strdup (path) : g_strconcat ("/", path, NULL);
  request->query = g_strdup (query != NULL ? query : "");
  request->headers = g_array_new (FALSE, FALSE, sizeof (Header));
  g_array_set_clear_func (request->headers, header_clear);
  request->payload_hash = mt_sigv4_sha256_hex (NULL, 0);
  return request;
}

void
mt_sigv4_request_free (MtSigv4Request *request)
{
  if (request == NULL)
    return;
  g_free (request->method);
  g_free (request->path);
  g_free (request->query);
  g_array_unref (request->headers);
  g_free (request->payload_hash);
  g_free (request);
}

void
mt_sigv4_request_add_header (MtSigv4Request *request,
                             const char     *name,
                             const char     *value)
{
  Header header;

  g_return_if_fail (request != NULL);
  g_return_if_fail (name != NULL && value != NULL);

  header.name = g_ascii_strdown (name, -1);
  header.value = g_strdup (value);
  header.order = request->headers->len;
  g_array_append_val (request->headers, header);
}

void
mt_sigv4_request_set_body (MtSigv4Request *request,
                           const guint8   *body,
                           gsize           length)
{
  g_return_if_fail (request != NULL);

  g_free (request->payload_hash);
  request->payload_hash = mt_sigv4_sha256_hex (body, length);
}

void
mt_sigv4_request_set_payload_hash (MtSigv4Request *request,
                                   const char     *payload_hash)
{
  g_return_if_fail (request != NULL);
  g_return_if_fail (payload_hash != NULL);

  g_free (request->payload_hash);
  request->payload_hash = g_strdup (payload_hash);
}

void
mt_sigv4_result_free (MtSigv4Result *result)
{
  if (result == NULL)
    return;
  g_free (result->canonical_request);
  g_free (result->string_to_sign);
  g_free (result->signature);
  g_free (result->authorization);
  g_ptr_array_unref (result->headers);
  g_ptr_array_unref (result->query);
  g_free (result);
}

/* Encoding */

static inline gboolean
is_unreserved (guchar c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.' || c == '~';
}

void
mt_sigv4_uri_encode (GString    *out,
                     const char *text,
                     gssize      length,
                     gboolean    keep_slash)
{
  static const char hex[] = "0123456789ABCDEF";
  gsize n = length < 0 ? strlen (text) : (gsize) length;

  for (gsize i = 0; i < n; i++)
    {
      guchar c = (guchar) text[i];

      if (is_unreserved (c) || (keep_slash && c == '/'))
        g_string_append_c (out, (char) c);
      else
        {
          char escaped[3] = { '%', hex[c >> 4], hex[c & 0xf] };

          g_string_append_len (out, escaped, 3);
        }
    }
}

char *
mt_sigv4_uri_decode (const char *text,
                     gssize      length)
{
  gsize n = length < 0 ? strlen (text) : (gsize) length;
  GString *out = g_string_sized_new (n);

  for (gsize i = 0; i < n; i++)
    {
      if (text[i] == '%' && i + 2 < n &&
          g_ascii_isxdigit (text[i + 1]) && g_ascii_isxdigit (text[i + 2]) &&
          (text[i + 1] != '0' || text[i + 2] != '0'))
        {
          g_string_append_c (out, (char) (g_ascii_xdigit_value (text[i + 1]) * 16 +
                                          g_ascii_xdigit_value (text[i + 2])));
          i += 2;
        }
      else
        g_string_append_c (out, text[i]);
    }
  return g_string_free (out, FALSE);
}

/* Crypto */

static char *
hex_encode (const guint8 *data,
            gsize         length)
{
  static const char hex[] = "0123456789abcdef";
  char *out = g_malloc (2 * length + 1);

  for (gsize i = 0; i < length; i++)
    {
      out[2 * i] = hex[data[i] >> 4];
      out[2 * i + 1] = hex[data[i] & 0xf];
    }
  out[2 * length] = '\0';
  return out;
}

char *
mt_sigv4_sha256_hex (const guint8 *data,
                     gsize         length)
{
  guint8 digest[SHA256_DIGEST_LENGTH];

  SHA256 (data != NULL ? data : (const guint8 *) "", length, digest);
  return hex_encode (digest, sizeof digest);
}

static void
hmac (const guint8 *key,
      gsize         key_length,
      const char   *data,
      guint8        out[SHA256_DIGEST_LENGTH])
{
  unsigned int out_length = SHA256_DIGEST_LENGTH;

  HMAC (EVP_sha256 (), key, (int) key_length, (const guint8 *) data, strlen (data), out, &out_length);
}

/* The signing key depends only on the secret, the day, the region and the
 * service; presigning many URLs reuses the last one. */
static GMutex key_lock;
static struct {
  guint8 secret_hash[SHA256_DIGEST_LENGTH]; /* not the secret itself */
  gboolean valid;
  char date[9];
  char *region;
  char *service;
  guint8 key[SHA256_DIGEST_LENGTH];
} key_cache;

static void
signing_key (const char *secret,
             const char *date,
             const char *region,
             const char *service,
             guint8      out[SHA256_DIGEST_LENGTH])
{
  g_autofree char *first = NULL;
  guint8 k1[SHA256_DIGEST_LENGTH], k2[SHA256_DIGEST_LENGTH], k3[SHA256_DIGEST_LENGTH];
  guint8 secret_hash[SHA256_DIGEST_LENGTH];

  SHA256 ((const guint8 *) secret, strlen (secret), secret_hash);
  g_mutex_lock (&key_lock);
  if (key_cache.valid && memcmp (key_cache.secret_hash, secret_hash, sizeof secret_hash) == 0 &&
      strcmp (key_cache.date, date) == 0 && strcmp (key_cache.region, region) == 0 &&
      strcmp (key_cache.service, service) == 0)
    {
      memcpy (out, key_cache.key, SHA256_DIGEST_LENGTH);
      g_mutex_unlock (&key_lock);
      return;
    }
  g_mutex_unlock (&key_lock);

  first = g_strconcat ("AWS4", secret, NULL);
  hmac ((const guint8 *) first, strlen (first), date, k1);
  hmac (k1, sizeof k1, region, k2);
  hmac (k2, sizeof k2, service, k3);
  hmac (k3, sizeof k3, "aws4_request", out);
  /* Nothing derived from the secret stays on the stack. */
  memset (first, 0, strlen (first));
  memset (k1, 0, sizeof k1);
  memset (k2, 0, sizeof k2);
  memset (k3, 0, sizeof k3);

  g_mutex_lock (&key_lock);
  g_free (key_cache.region);
  g_free (key_cache.service);
  memcpy (key_cache.secret_hash, secret_hash, sizeof secret_hash);
  key_cache.valid = TRUE;
  g_strlcpy (key_cache.date, date, sizeof key_cache.date);
  key_cache.region = g_strdup (region);
  key_cache.service = g_strdup (service);
  memcpy (key_cache.key, out, SHA256_DIGEST_LENGTH);
  g_mutex_unlock (&key_lock);
}

char *
mt_sigv4_format_time (gint64 time)
{
  time_t t = (time_t) time;
  struct tm tm;
  char buf[32];

  gmtime_r (&t, &tm);
  strftime (buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return g_strdup (buf);
}

/* Canonical forms */

/* RFC 3986 dot segments removed, and empty segments with them. */
static char *
normalize_path (const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);
  g_autoptr(GPtrArray) kept = g_ptr_array_new ();
  GString *out = g_string_new (NULL);
  gboolean trailing = g_str_has_suffix (path, "/");

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (strcmp (parts[i], "..") == 0)
        {
          if (kept->len > 0)
            g_ptr_array_set_size (kept, kept->len - 1);
          continue;
        }
      g_ptr_array_add (kept, parts[i]);
    }
  for (guint i = 0; i < kept->len; i++)
    g_string_append_printf (out, "/%s", (const char *) g_ptr_array_index (kept, i));
  if (out->len == 0 || trailing)
    g_string_append_c (out, '/');
  return g_string_free (out, FALSE);
}

static char *
canonical_path (const MtSigv4Request *request,
                const MtSigv4Params  *params)
{
  GString *out = g_string_new (NULL);

  if (params->mode == MT_SIGV4_S3)
    {
      /* S3 signs the path exactly as sent: escapes stay as they are, and
       * only bytes that cannot go on a request line unescaped are escaped. */
      for (const char *p = request->path; *p != '\0'; p++)
        {
          /* An escape stays; a `%` that starts none is a byte like any. */
          if (*p == '%' && g_ascii_isxdigit (p[1]) && g_ascii_isxdigit (p[2]))
            g_string_append_c (out, '%');
          else
            mt_sigv4_uri_encode (out, p, 1, TRUE);
        }
    }
  else
    {
      g_autofree char *path = !params->keep_path ? normalize_path (request->path)
                                                 : g_strdup (request->path);

      /* Generic rules encode the path as it stands, so an encoded path is
       * encoded twice. */
      mt_sigv4_uri_encode (out, path, -1, TRUE);
    }
  return g_string_free (out, FALSE);
}

typedef struct {
  char *name;  /* encoded */
  char *value; /* encoded */
} Param;

static int
compare_params (gconstpointer a,
                gconstpointer b)
{
  const Param *x = a, *y = b;
  int cmp = strcmp (x->name, y->name);

  return cmp != 0 ? cmp : strcmp (x->value, y->value);
}

static void
param_clear (gpointer data)
{
  Param *param = data;

  g_free (param->name);
  g_free (param->value);
}

static char *
encode_component (const char *text,
                  gssize      length)
{
  g_autofree char *decoded = mt_sigv4_uri_decode (text, length);
  GString *out = g_string_new (NULL);

  mt_sigv4_uri_encode (out, decoded, -1, FALSE);
  return g_string_free (out, FALSE);
}

/* The query's parameters decoded and encoded again the AWS way, plus @extra
 * ("name=value", already encoded), sorted by name, then value. */
static char *
canonical_query (const char *query,
                 GPtrArray  *extra)
{
  g_autoptr(GArray) params = g_array_new (FALSE, FALSE, sizeof (Param));
  GString *out = g_string_new (NULL);

  g_array_set_clear_func (params, param_clear);

  if (query != NULL && query[0] != '\0')
    {
      g_auto(GStrv) pairs = g_strsplit (query, "&", -1);

      for (guint i = 0; pairs[i] != NULL; i++)
        {
          const char *eq = strchr (pairs[i], '=');
          Param param;

          if (pairs[i][0] == '\0')
            continue;
          param.name = encode_component (pairs[i], eq != NULL ? eq - pairs[i] : -1);
          param.value = eq != NULL ? encode_component (eq + 1, -1) : g_strdup ("");
          g_array_append_val (params, param);
        }
    }
  for (guint i = 0; extra != NULL && i < extra->len; i++)
    {
      const char *pair = g_ptr_array_index (extra, i);
      const char *eq = strchr (pair, '=');
      Param param = { g_strndup (pair, eq - pair), g_strdup (eq + 1) };

      g_array_append_val (params, param);
    }

  g_array_sort (params, compare_params);
  for (guint i = 0; i < params->len; i++)
    {
      Param *param = &g_array_index (params, Param, i);

      g_string_append_printf (out, "%s%s=%s", i > 0 ? "&" : "", param->name, param->value);
    }
  return g_string_free (out, FALSE);
}

/* Trimmed, every run of white space made one space (folded lines too). */
static void
append_header_value (GString    *out,
                     const char *value)
{
  gboolean space = FALSE;
  gsize start = out->len;

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        {
          space = TRUE;
          continue;
        }
      if (space && out->len > start)
        g_string_append_c (out, ' ');
      space = FALSE;
      g_string_append_c (out, *p);
    }
}

static int
compare_headers (gconstpointer a,
                 gconstpointer b)
{
  const Header *x = a, *y = b;
  int cmp = strcmp (x->name, y->name);

  if (cmp != 0)
    return cmp;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* The canonical headers block and the signed header list, from the
 * request's headers and @extra (more Header). */
static void
canonical_headers (const MtSigv4Request *request,
                   GArray               *extra,
                   char                **out_block,
                   char                **out_signed)
{
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (Header));
  GString *block = g_string_new (NULL);
  GString *names = g_string_new (NULL);

  g_array_append_vals (all, request->headers->data, request->headers->len);
  for (guint i = 0; extra != NULL && i < extra->len; i++)
    {
      Header header = g_array_index (extra, Header, i);

      header.order = request->headers->len + i;
      g_array_append_val (all, header);
    }
  g_array_sort (all, compare_headers);

  for (guint i = 0; i < all->len; i++)
    {
      Header *header = &g_array_index (all, Header, i);

      if (i > 0 && strcmp (header->name, g_array_index (all, Header, i - 1).name) == 0)
        {
          g_string_append_c (block, ',');
          append_header_value (block, header->value);
          continue;
        }
      if (i > 0)
        {
          g_string_append_c (block, '\n');
          g_string_append_c (names, ';');
        }
      g_string_append_printf (block, "%s:", header->name);
      append_header_value (block, header->value);
      g_string_append (names, header->name);
    }
  g_string_append_c (block, '\n');

  *out_block = g_string_free (block, FALSE);
  *out_signed = g_string_free (names, FALSE);
}

static void
finish (MtSigv4Result            *result,
        const MtSigv4Request     *request,
        const MtSigv4Credentials *credentials,
        const MtSigv4Params      *params,
        const char               *amz_date,
        const char               *scope,
        const char               *query,
        const char               *headers_block,
        const char               *signed_headers,
        const char               *payload_hash)
{
  g_autofree char *path = canonical_path (request, params);
  g_autofree char *request_hash = NULL;
  guint8 key[SHA256_DIGEST_LENGTH], signature[SHA256_DIGEST_LENGTH];
  char date[9];
  unsigned int length = SHA256_DIGEST_LENGTH;

  result->canonical_request = g_strdup_printf ("%s\n%s\n%s\n%s\n%s\n%s",
                                               request->method, path, query,
                                               headers_block, signed_headers, payload_hash);
  request_hash = mt_sigv4_sha256_hex ((const guint8 *) result->canonical_request,
                                      strlen (result->canonical_request));
  result->string_to_sign = g_strdup_printf ("AWS4-HMAC-SHA256\n%s\n%s\n%s",
                                            amz_date, scope, request_hash);

  g_strlcpy (date, amz_date, sizeof date);
  signing_key (credentials->secret_access_key, date, params->region, params->service, key);
  HMAC (EVP_sha256 (), key, sizeof key, (const guint8 *) result->string_to_sign,
        strlen (result->string_to_sign), signature, &length);
  memset (key, 0, sizeof key);
  result->signature = hex_encode (signature, sizeof signature);
}

static MtSigv4Result *
result_new (void)
{
  MtSigv4Result *result = g_new0 (MtSigv4Result, 1);

  result->headers = g_ptr_array_new_with_free_func (g_free);
  result->query = g_ptr_array_new_with_free_func (g_free);
  return result;
}

MtSigv4Result *
mt_sigv4_sign (const MtSigv4Request     *request,
               const MtSigv4Credentials *credentials,
               const MtSigv4Params      *params)
{
  MtSigv4Result *result;
  g_autofree char *amz_date = mt_sigv4_format_time (params->time);
  g_autofree char *scope = NULL;
  g_autofree char *query = canonical_query (request->query, NULL);
  g_autofree char *block = NULL;
  g_autofree char *signed_headers = NULL;
  g_autoptr(GArray) extra = g_array_new (FALSE, FALSE, sizeof (Header));
  const char *token = credentials->session_token;
  gboolean hash_header = params->mode == MT_SIGV4_S3 || params->sign_body;
  const char *payload_hash = request->payload_hash;

  g_return_val_if_fail (credentials->access_key_id != NULL && credentials->secret_access_key != NULL, NULL);

  result = result_new ();
  scope = g_strdup_printf ("%.8s/%s/%s/aws4_request", amz_date, params->region, params->service);
  if (params->mode == MT_SIGV4_GENERIC && !params->sign_body)
    payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  /* What is added to the request, in the order it is sent. */
  if (token != NULL)
    {
      g_ptr_array_add (result->headers, g_strdup ("X-Amz-Security-Token"));
      g_ptr_array_add (result->headers, g_strdup (token));
    }
  g_ptr_array_add (result->headers, g_strdup ("X-Amz-Date"));
  g_ptr_array_add (result->headers, g_strdup (amz_date));
  if (hash_header)
    {
      g_ptr_array_add (result->headers, g_strdup ("x-amz-content-sha256"));
      g_ptr_array_add (result->headers, g_strdup (payload_hash));
    }

  /* And what of it is signed. */
  g_array_append_val (extra, ((Header) { (char *) "x-amz-date", amz_date, 0 }));
  if (token != NULL && !params->omit_session_token)
    g_array_append_val (extra, ((Header) { (char *) "x-amz-security-token", (char *) token, 0 }));
  if (hash_header)
    g_array_append_val (extra, ((Header) { (char *) "x-amz-content-sha256", (char *) payload_hash, 0 }));
  canonical_headers (request, extra, &block, &signed_headers);

  finish (result, request, credentials, params, amz_date, scope, query, block, signed_headers,
          payload_hash);

  result->authorization = g_strdup_printf ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                                           credentials->access_key_id, scope, signed_headers,
                                           result->signature);
  g_ptr_array_add (result->headers, g_strdup ("Authorization"));
  g_ptr_array_add (result->headers, g_strdup (result->authorization));
  return result;
}

static void
add_param (GPtrArray  *query,
           const char *name,
           const char *value)
{
  GString *pair = g_string_new (name);

  g_string_append_c (pair, '=');
  mt_sigv4_uri_encode (pair, value, -1, FALSE);
  g_ptr_array_add (query, g_string_free (pair, FALSE));
}

MtSigv4Result *
mt_sigv4_presign (const MtSigv4Request     *request,
                  const MtSigv4Credentials *credentials,
                  const MtSigv4Params      *params,
                  GError                  **error)
{
  g_autoptr(MtSigv4Result) result = NULL;
  g_autofree char *amz_date = mt_sigv4_format_time (params->time);
  g_autofree char *scope = NULL;
  g_autofree char *credential = NULL;
  g_autofree char *expires = NULL;
  g_autofree char *query = NULL;
  g_autofree char *block = NULL;
  g_autofree char *signed_headers = NULL;
  g_autoptr(GPtrArray) signed_params = g_ptr_array_new_with_free_func (g_free);
  const char *token = credentials->session_token;
  const char *payload_hash = request->payload_hash;

  g_return_val_if_fail (credentials->access_key_id != NULL && credentials->secret_access_key != NULL, NULL);

  if (params->expires < 1 || params->expires > MT_SIGV4_MAX_EXPIRES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("A presigned URL lives from 1 second to 7 days; %u seconds is out of range."),
                   params->expires);
      return NULL;
    }

  result = result_new ();
  scope = g_strdup_printf ("%.8s/%s/%s/aws4_request", amz_date, params->region, params->service);
  credential = g_strdup_printf ("%s/%s", credentials->access_key_id, scope);
  expires = g_strdup_printf ("%u", params->expires);
  if (params->mode == MT_SIGV4_S3)
    payload_hash = MT_SIGV4_UNSIGNED_PAYLOAD;
  else if (!params->sign_body)
    payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  canonical_headers (request, NULL, &block, &signed_headers);

  /* In the order AWS documents and its SDKs send them. */
  add_param (signed_params, "X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  add_param (signed_params, "X-Amz-Credential", credential);
  add_param (signed_params, "X-Amz-Date", amz_date);
  add_param (signed_params, "X-Amz-Expires", expires);
  add_param (signed_params, "X-Amz-SignedHeaders", signed_headers);
  if (token != NULL && !params->omit_session_token)
    add_param (signed_params, "X-Amz-Security-Token", token);

  query = canonical_query (request->query, signed_params);
  finish (result, request, credentials, params, amz_date, scope, query, block, signed_headers,
          payload_hash);

  for (guint i = 0; i < signed_params->len; i++)
    g_ptr_array_add (result->query, g_strdup (g_ptr_array_index (signed_params, i)));
  if (token != NULL && params->omit_session_token)
    add_param (result->query, "X-Amz-Security-Token", token);
  add_param (result->query, "X-Amz-Signature", result->signature);
  return g_steal_pointer (&result);
}

void
mt_sigv4_thread_done (void)
{
  OPENSSL_thread_stop ();
}
