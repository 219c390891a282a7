/* mt-loopback-s3.c — an S3 server in the process */

#include "config.h"

#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

#include "mt-loopback-s3.h"
#include "mt-loopback-server.h"
#include "mt-sigv4.h"
#include "mt-time.h"

typedef struct {
  gint64 last_modified;
  GBytes *data;
  gsize size;
  char *etag;
} StoredObject;

struct _MtLoopbackS3
{
  GObject parent_instance;

  MtLoopbackServer *server;
  char *region;
  char *access_key_id;
  char *secret_access_key;
  char *session_token;
  GHashTable *buckets; /* name → GTree of key → StoredObject */
  guint latency_ms;
  guint page_size;
  gint64 clock_offset;
  guint wrong_region_status;
};

G_DEFINE_FINAL_TYPE (MtLoopbackS3, mt_loopback_s3, G_TYPE_OBJECT)

static void
stored_object_free (gpointer data)
{
  StoredObject *object = data;

  g_clear_pointer (&object->data, g_bytes_unref);
  g_free (object->etag);
  g_free (object);
}

static void
mt_loopback_s3_finalize (GObject *object)
{
  MtLoopbackS3 *self = MT_LOOPBACK_S3 (object);

  g_clear_pointer (&self->server, mt_loopback_server_free);
  g_free (self->region);
  g_free (self->access_key_id);
  g_free (self->secret_access_key);
  g_free (self->session_token);
  g_hash_table_unref (self->buckets);

  G_OBJECT_CLASS (mt_loopback_s3_parent_class)->finalize (object);
}

static void
mt_loopback_s3_class_init (MtLoopbackS3Class *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_loopback_s3_finalize;
}

static void
mt_loopback_s3_init (MtLoopbackS3 *self)
{
  self->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_tree_unref);
  self->page_size = 1000;
  self->wrong_region_status = 400;
}

/* Responses */

static void
set_xml (SoupServerMessage *msg,
         guint              status,
         const char        *xml)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_COPY, xml, strlen (xml));
}

static void
set_error (SoupServerMessage *msg,
           guint              status,
           const char        *code,
           const char        *message,
           const char        *region)
{
  g_autoptr(GString) xml = g_string_new ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
  g_autofree char *escaped = g_markup_escape_text (message, -1);

  g_string_append_printf (xml, "<Code>%s</Code><Message>%s</Message>", code, escaped);
  if (region != NULL)
    g_string_append_printf (xml, "<Region>%s</Region>", region);
  g_string_append (xml, "<RequestId>LOOPBACK0000</RequestId></Error>");
  set_xml (msg, status, xml->str);
}

/* S3's url encoding of keys in listings: form style, `+` for a space. */
static void
append_form_encoded (GString    *out,
                     const char *text)
{
  g_autoptr(GString) encoded = g_string_new (NULL);

  mt_sigv4_uri_encode (encoded, text, -1, FALSE);
  for (gsize i = 0; i < encoded->len; i++)
    {
      if (g_str_has_prefix (encoded->str + i, "%20"))
        {
          g_string_append_c (out, '+');
          i += 2;
        }
      else
        g_string_append_c (out, encoded->str[i]);
    }
}

/* Signatures */

static gboolean
parse_amz_date (const char *text,
                gint64     *out)
{
  int y, mo, d, h, mi, s;
  g_autoptr(GDateTime) dt = NULL;

  if (text == NULL || strlen (text) != 16 ||
      sscanf (text, "%4d%2d%2dT%2d%2d%2dZ", &y, &mo, &d, &h, &mi, &s) != 6)
    return FALSE;
  dt = g_date_time_new_utc (y, mo, d, h, mi, s);
  if (dt == NULL)
    return FALSE;
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

/* The query without the parameters presigning adds. */
static char *
operation_query (const char *query)
{
  g_auto(GStrv) pairs = g_strsplit (query != NULL ? query : "", "&", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; pairs[i] != NULL; i++)
    {
      if (pairs[i][0] == '\0' || g_str_has_prefix (pairs[i], "X-Amz-"))
        continue;
      g_string_append_printf (out, "%s%s", out->len > 0 ? "&" : "", pairs[i]);
    }
  return g_string_free (out, FALSE);
}

static char *
query_value (const char *query,
             const char *name)
{
  g_auto(GStrv) pairs = g_strsplit (query != NULL ? query : "", "&", -1);
  gsize length = strlen (name);

  for (guint i = 0; pairs[i] != NULL; i++)
    if (strncmp (pairs[i], name, length) == 0 && pairs[i][length] == '=')
      return mt_sigv4_uri_decode (pairs[i] + length + 1, -1);
  return NULL;
}

/* Checks the request's signature as S3 would; on failure, sets the error
 * answer and returns FALSE. */
static gboolean
check_signature (MtLoopbackS3          *self,
                 SoupServerMessage *msg,
                 const char        *path)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  GUri *uri = soup_server_message_get_uri (msg);
  const char *raw_query = g_uri_get_query (uri);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  g_autofree char *presigned_signature = query_value (raw_query, "X-Amz-Signature");
  g_autofree char *credential = NULL, *signed_headers = NULL, *signature = NULL, *amz_date = NULL;
  g_autofree char *token = NULL, *expires_text = NULL;
  g_auto(GStrv) scope = NULL;
  g_autoptr(MtSigv4Request) request = NULL;
  g_autoptr(MtSigv4Result) result = NULL;
  g_autoptr(GString) path_encoded = g_string_new (NULL);
  MtSigv4Credentials credentials = { self->access_key_id, self->secret_access_key, self->session_token };
  MtSigv4Params params = { 0 };
  gint64 time = 0, now = g_get_real_time () / G_USEC_PER_SEC + self->clock_offset;

  if (presigned_signature != NULL)
    {
      credential = query_value (raw_query, "X-Amz-Credential");
      signed_headers = query_value (raw_query, "X-Amz-SignedHeaders");
      amz_date = query_value (raw_query, "X-Amz-Date");
      token = query_value (raw_query, "X-Amz-Security-Token");
      expires_text = query_value (raw_query, "X-Amz-Expires");
      signature = g_strdup (presigned_signature);
    }
  else if (authorization != NULL && g_str_has_prefix (authorization, "AWS4-HMAC-SHA256 "))
    {
      g_auto(GStrv) parts = g_strsplit (authorization + strlen ("AWS4-HMAC-SHA256 "), ", ", -1);

      for (guint i = 0; parts[i] != NULL; i++)
        {
          if (g_str_has_prefix (parts[i], "Credential="))
            credential = g_strdup (parts[i] + strlen ("Credential="));
          else if (g_str_has_prefix (parts[i], "SignedHeaders="))
            signed_headers = g_strdup (parts[i] + strlen ("SignedHeaders="));
          else if (g_str_has_prefix (parts[i], "Signature="))
            signature = g_strdup (parts[i] + strlen ("Signature="));
        }
      amz_date = g_strdup (soup_message_headers_get_one (headers, "x-amz-date"));
      token = g_strdup (soup_message_headers_get_one (headers, "x-amz-security-token"));
    }
  else
    {
      set_error (msg, 403, "AccessDenied", "Access Denied", NULL);
      return FALSE;
    }

  scope = g_strsplit (credential != NULL ? credential : "", "/", -1);
  if (g_strv_length (scope) != 5 || signature == NULL || signed_headers == NULL ||
      !parse_amz_date (amz_date, &time))
    {
      set_error (msg, 400, "AuthorizationHeaderMalformed", "The authorization header is malformed.", NULL);
      return FALSE;
    }
  if (strcmp (scope[0], self->access_key_id) != 0)
    {
      set_error (msg, 403, "InvalidAccessKeyId",
                 "The AWS Access Key Id you provided does not exist in our records.", NULL);
      return FALSE;
    }
  if (strcmp (scope[2], self->region) != 0)
    {
      g_autofree char *message = g_strdup_printf ("The authorization header is malformed; the region '%s' is wrong; expecting '%s'",
                                                  scope[2], self->region);

      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "x-amz-bucket-region", self->region);
      if (self->wrong_region_status == 301)
        set_error (msg, 301, "PermanentRedirect",
                   "The bucket you are attempting to access must be addressed using the specified endpoint.", NULL);
      else
        set_error (msg, 400, "AuthorizationHeaderMalformed", message, self->region);
      return FALSE;
    }
  if (g_strcmp0 (token, self->session_token) != 0)
    {
      set_error (msg, 403, "InvalidToken", "The provided token is malformed or otherwise invalid.", NULL);
      return FALSE;
    }
  if (presigned_signature == NULL && ABS (now - time) > 15 * 60)
    {
      set_error (msg, 403, "RequestTimeTooSkewed",
                 "The difference between the request time and the current time is too large.", NULL);
      return FALSE;
    }

  /* Sign the same request again and compare. */
  mt_sigv4_uri_encode (path_encoded, path, -1, TRUE);
  params.mode = MT_SIGV4_S3;
  params.region = scope[2];
  params.service = scope[3];
  params.time = time;
  if (presigned_signature != NULL)
    {
      g_autofree char *operation = operation_query (raw_query);
      guint64 expires = 0;

      if (!g_ascii_string_to_unsigned (expires_text != NULL ? expires_text : "", 10, 1, 604800, &expires, NULL) ||
          now > time + (gint64) expires)
        {
          set_error (msg, 403, "AccessDenied", "Request has expired", NULL);
          return FALSE;
        }
      params.expires = (guint) expires;
      request = mt_sigv4_request_new (soup_server_message_get_method (msg), path_encoded->str, operation);
      mt_sigv4_request_add_header (request, "host", soup_message_headers_get_one (headers, "Host"));
      result = mt_sigv4_presign (request, &credentials, &params, NULL);
    }
  else
    {
      g_auto(GStrv) names = g_strsplit (signed_headers, ";", -1);
      const char *payload = soup_message_headers_get_one (headers, "x-amz-content-sha256");

      request = mt_sigv4_request_new (soup_server_message_get_method (msg), path_encoded->str, raw_query);
      for (guint i = 0; names[i] != NULL; i++)
        {
          const char *value = soup_message_headers_get_one (headers, names[i]);

          /* The signer adds its own x-amz-* headers. */
          if (g_str_has_prefix (names[i], "x-amz-"))
            continue;
          mt_sigv4_request_add_header (request, names[i], value != NULL ? value : "");
        }
      mt_sigv4_request_set_payload_hash (request, payload != NULL ? payload : "");
      result = mt_sigv4_sign (request, &credentials, &params);
      if (result != NULL && !strstr (result->authorization, signed_headers))
        g_clear_pointer (&result, mt_sigv4_result_free);
    }

  if (result == NULL || strcmp (result->signature, signature) != 0)
    {
      set_error (msg, 403, "SignatureDoesNotMatch",
                 "The request signature we calculated does not match the signature you provided.", NULL);
      return FALSE;
    }
  return TRUE;
}

/* Listing and objects */

typedef struct {
  const char *prefix;
  GString *xml;
  guint count;
  guint max;
  const char *last_key;
  gboolean truncated;
  gboolean url;
} ListWalk;

static void
list_objects (MtLoopbackS3          *self,
              SoupServerMessage *msg,
              const char        *bucket,
              GTree             *objects,
              GHashTable        *query)
{
  const char *prefix = query != NULL ? g_hash_table_lookup (query, "prefix") : NULL;
  const char *token = query != NULL ? g_hash_table_lookup (query, "continuation-token") : NULL;
  const char *max_text = query != NULL ? g_hash_table_lookup (query, "max-keys") : NULL;
  const char *encoding = query != NULL ? g_hash_table_lookup (query, "encoding-type") : NULL;
  g_autoptr(GString) xml = g_string_new ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                          "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
  g_autoptr(GString) contents = g_string_new (NULL);
  g_autofree char *after = NULL;
  GTreeNode *node;
  guint max = self->page_size, count = 0;
  gboolean url = g_strcmp0 (encoding, "url") == 0;
  const char *last = NULL;

  if (prefix == NULL)
    prefix = "";
  if (max_text != NULL)
    max = MIN (max, (guint) g_ascii_strtoull (max_text, NULL, 10));
  if (token != NULL)
    {
      gsize length;
      guchar *decoded = g_base64_decode (token, &length);

      after = g_strndup ((const char *) decoded, length);
      g_free (decoded);
    }

  node = after != NULL ? g_tree_upper_bound (objects, after) : g_tree_lower_bound (objects, prefix);
  for (; node != NULL && count < max; node = g_tree_node_next (node))
    {
      const char *key = g_tree_node_key (node);
      StoredObject *object = g_tree_node_value (node);
      g_autofree char *modified = mt_time_format_utc (object->last_modified);
      g_autofree char *etag = g_markup_escape_text (object->etag, -1);

      if (!g_str_has_prefix (key, prefix))
        break;
      g_string_append (contents, "<Contents><Key>");
      if (url)
        append_form_encoded (contents, key);
      else
        {
          g_autofree char *escaped = g_markup_escape_text (key, -1);

          g_string_append (contents, escaped);
        }
      g_string_append_printf (contents, "</Key><LastModified>%s</LastModified><ETag>%s</ETag>"
                              "<Size>%" G_GSIZE_FORMAT "</Size><StorageClass>STANDARD</StorageClass></Contents>",
                              modified, etag, object->size);
      last = key;
      count++;
    }
  while (node != NULL && !g_str_has_prefix (g_tree_node_key (node), prefix))
    node = NULL;

  g_string_append_printf (xml, "<Name>%s</Name><Prefix>", bucket);
  if (url)
    append_form_encoded (xml, prefix);
  else
    {
      g_autofree char *escaped = g_markup_escape_text (prefix, -1);

      g_string_append (xml, escaped);
    }
  g_string_append_printf (xml, "</Prefix><KeyCount>%u</KeyCount><MaxKeys>%u</MaxKeys>", count, max);
  if (url)
    g_string_append (xml, "<EncodingType>url</EncodingType>");
  g_string_append_printf (xml, "<IsTruncated>%s</IsTruncated>", node != NULL ? "true" : "false");
  if (token != NULL)
    g_string_append_printf (xml, "<ContinuationToken>%s</ContinuationToken>", token);
  if (node != NULL && last != NULL)
    {
      g_autofree char *next = g_base64_encode ((const guchar *) last, strlen (last));

      g_string_append_printf (xml, "<NextContinuationToken>%s</NextContinuationToken>", next);
    }
  g_string_append (xml, contents->str);
  g_string_append (xml, "</ListBucketResult>");
  set_xml (msg, 200, xml->str);
}

static void
get_object (MtLoopbackS3          *self,
            SoupServerMessage *msg,
            GTree             *objects,
            const char        *key)
{
  StoredObject *object = g_tree_lookup (objects, key);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autoptr(GDateTime) modified = NULL;
  g_autofree char *date = NULL;

  if (object == NULL)
    {
      set_error (msg, 404, "NoSuchKey", "The specified key does not exist.", NULL);
      return;
    }
  modified = g_date_time_new_from_unix_utc (object->last_modified / 1000);
  date = g_date_time_format (modified, "%a, %d %b %Y %H:%M:%S GMT");
  soup_message_headers_replace (headers, "ETag", object->etag);
  soup_message_headers_replace (headers, "Last-Modified", date);
  soup_server_message_set_status (msg, 200, NULL);
  if (object->data != NULL)
    soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                      g_bytes_get_data (object->data, NULL), g_bytes_get_size (object->data));
  else
    {
      g_autofree char *filler = g_malloc0 (object->size + 1);

      soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                        filler, object->size);
    }
}

static void
handle (SoupServer        *server,
        SoupServerMessage *msg,
        const char        *path,
        GHashTable        *query,
        gpointer           data)
{
  MtLoopbackS3 *self = data;
  g_autofree char *bucket = NULL;
  const char *key = NULL, *slash, *target;
  gboolean listing;
  GTree *objects;
  guint wait_ms = self->latency_ms;

  mt_loopback_server_arrived (self->server, msg);

  /* Path style: /bucket or /bucket/key (libsoup hands the path decoded). */
  slash = strchr (path + 1, '/');
  bucket = slash != NULL ? g_strndup (path + 1, slash - path - 1) : g_strdup (path + 1);
  if (slash != NULL && slash[1] != '\0')
    key = slash + 1;
  listing = key == NULL;
  /* What the request is about: the listing's prefix, or the object's key. */
  if (listing)
    target = query != NULL && g_hash_table_lookup (query, "prefix") != NULL
             ? (const char *) g_hash_table_lookup (query, "prefix") : "";
  else
    target = key;

  if (mt_loopback_server_run_arrived (self->server, msg, target, &wait_ms))
    return;

  if (strcmp (soup_server_message_get_method (msg), SOUP_METHOD_GET) != 0)
    set_error (msg, 405, "MethodNotAllowed", "The specified method is not allowed.", NULL);
  else if (check_signature (self, msg, path))
    {
      objects = g_hash_table_lookup (self->buckets, bucket);
      if (objects == NULL)
        set_error (msg, 404, "NoSuchBucket", "The specified bucket does not exist", NULL);
      else if (mt_loopback_server_run_admitted (self->server, msg, target))
        {
          /* A hook answered. */
        }
      else if (!listing)
        get_object (self, msg, objects, key);
      else if (query == NULL || g_strcmp0 (g_hash_table_lookup (query, "list-type"), "2") != 0)
        set_error (msg, 400, "InvalidArgument", "Only ListObjectsV2 is spoken here.", NULL);
      else
        list_objects (self, msg, bucket, objects, query);
    }

  mt_loopback_server_run_answered (self->server, msg, target);
  mt_loopback_server_delay (self->server, msg, wait_ms);
}

/* Setup */

MtLoopbackS3 *
mt_loopback_s3_new (const char *region,
                const char *access_key_id,
                const char *secret_access_key,
                const char *session_token)
{
  MtLoopbackS3 *self = g_object_new (MT_TYPE_LOOPBACK_S3, NULL);

  self->region = g_strdup (region);
  self->access_key_id = g_strdup (access_key_id);
  self->secret_access_key = g_strdup (secret_access_key);
  self->session_token = g_strdup (session_token);
  self->server = mt_loopback_server_new ("AmazonS3", handle, self);
  return self;
}

MtLoopbackServer *
mt_loopback_s3_get_server (MtLoopbackS3 *self)
{
  return self->server;
}

void
mt_loopback_s3_answer_error (SoupServerMessage *msg,
                             guint              status,
                             const char        *code,
                             const char        *message)
{
  set_error (msg, status, code, message, NULL);
}

const char *
mt_loopback_s3_get_endpoint (MtLoopbackS3 *self)
{
  return mt_loopback_server_get_url (self->server);
}

static int
compare_keys (gconstpointer a,
              gconstpointer b,
              gpointer      data)
{
  /* UTF-8 in bytewise order, as S3 lists. */
  return strcmp (a, b);
}

void
mt_loopback_s3_add_bucket (MtLoopbackS3   *self,
                       const char *bucket)
{
  if (!g_hash_table_contains (self->buckets, bucket))
    g_hash_table_insert (self->buckets, g_strdup (bucket),
                         g_tree_new_full (compare_keys, NULL, g_free, stored_object_free));
}

void
mt_loopback_s3_put (MtLoopbackS3   *self,
                const char *bucket,
                const char *key,
                gint64      last_modified,
                GBytes     *data,
                gsize       size)
{
  GTree *objects;
  StoredObject *object = g_new0 (StoredObject, 1);
  g_autofree char *md5 = NULL;

  mt_loopback_s3_add_bucket (self, bucket);
  objects = g_hash_table_lookup (self->buckets, bucket);
  object->last_modified = last_modified;
  object->data = data != NULL ? g_bytes_ref (data) : NULL;
  object->size = data != NULL ? g_bytes_get_size (data) : size;
  md5 = data != NULL ? g_compute_checksum_for_bytes (G_CHECKSUM_MD5, data)
                     : g_compute_checksum_for_string (G_CHECKSUM_MD5, key, -1);
  object->etag = g_strdup_printf ("\"%s\"", md5);
  g_tree_replace (objects, g_strdup (key), object);
}

void
mt_loopback_s3_set_latency_ms (MtLoopbackS3 *self,
                           guint     latency_ms)
{
  self->latency_ms = latency_ms;
}

void
mt_loopback_s3_set_wrong_region_status (MtLoopbackS3 *self,
                                    guint     status)
{
  self->wrong_region_status = status;
}

void
mt_loopback_s3_set_clock_offset (MtLoopbackS3 *self,
                             gint64    seconds)
{
  self->clock_offset = seconds;
}

void
mt_loopback_s3_set_page_size (MtLoopbackS3 *self,
                          guint     page_size)
{
  self->page_size = MAX (page_size, 1);
}

guint
mt_loopback_s3_get_requests (MtLoopbackS3 *self)
{
  return mt_loopback_server_get_requests (self->server);
}

guint
mt_loopback_s3_get_max_in_flight (MtLoopbackS3 *self)
{
  return mt_loopback_server_get_max_in_flight (self->server);
}

void
mt_loopback_s3_reset_counters (MtLoopbackS3 *self)
{
  mt_loopback_server_reset_counters (self->server);
}
