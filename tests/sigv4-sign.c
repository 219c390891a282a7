/* sigv4-sign — signs S3 requests described on standard input
 *
 * One JSON object per line: {"method", "host", "path" (as sent), "query"
 * (as sent, without "?"), "access_key", "secret_key", "token" (or null),
 * "region", "time" (seconds), "expires"}. For each, one JSON object per
 * line on standard output: the headers an Authorization-signed request
 * carries and the presigned URL. sigv4-botocore.py compares them with
 * botocore's.
 *
 * A line with "key" instead of "host", "path" and "query" (and "bucket",
 * "endpoint_url" or null) asks the S3 client itself for the object's
 * presigned URL: the client's own addressing and key encoding, answered as
 * {"url"}.
 */

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "mt-s3-client.h"
#include "mt-sigv4.h"

static const char *
optional_string (JsonObject *in,
                 const char *name)
{
  return json_object_get_null_member (in, name) ? NULL : json_object_get_string_member (in, name);
}

/* The S3 client's presigned URL for an object. */
static void
presign_with_client (JsonObject  *in,
                     JsonBuilder *out)
{
  g_autoptr(MtAwsCredentials) credentials = NULL;
  g_autoptr(MtS3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  credentials = mt_aws_credentials_new (json_object_get_string_member (in, "access_key"),
                                        json_object_get_string_member (in, "secret_key"),
                                        optional_string (in, "token"), "test");
  client = mt_s3_client_new (credentials, json_object_get_string_member (in, "region"),
                             optional_string (in, "endpoint_url"), json_object_get_string_member (in, "bucket"),
                             &error);
  if (client == NULL)
    g_error ("client: %s", error->message);
  url = mt_s3_client_presign_get (client, json_object_get_string_member (in, "key"),
                                  (guint) json_object_get_int_member (in, "expires"),
                                  json_object_get_int_member (in, "time"), &error);
  if (url == NULL)
    g_error ("presign: %s", error->message);
  json_builder_begin_object (out);
  json_builder_set_member_name (out, "url");
  json_builder_add_string_value (out, url);
  json_builder_end_object (out);
}

static void
sign_line (const char *line, JsonBuilder *out)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(MtSigv4Request) request = NULL;
  g_autoptr(MtSigv4Result) header = NULL;
  g_autoptr(MtSigv4Result) query = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) url = NULL;
  JsonObject *in;
  MtSigv4Credentials creds;
  MtSigv4Params params = { 0 };
  const char *host, *path, *raw_query;

  if (!json_parser_load_from_data (parser, line, -1, &error))
    g_error ("bad input line: %s", error->message);
  in = json_node_get_object (json_parser_get_root (parser));
  if (json_object_has_member (in, "key"))
    {
      presign_with_client (in, out);
      return;
    }

  host = json_object_get_string_member (in, "host");
  path = json_object_get_string_member (in, "path");
  raw_query = json_object_get_string_member (in, "query");
  creds.access_key_id = json_object_get_string_member (in, "access_key");
  creds.secret_access_key = json_object_get_string_member (in, "secret_key");
  creds.session_token = optional_string (in, "token");
  params.mode = MT_SIGV4_S3;
  params.region = json_object_get_string_member (in, "region");
  params.service = "s3";
  params.time = json_object_get_int_member (in, "time");
  params.expires = (guint) json_object_get_int_member (in, "expires");

  request = mt_sigv4_request_new (json_object_get_string_member (in, "method"), path, raw_query);
  mt_sigv4_request_add_header (request, "host", host);
  header = mt_sigv4_sign (request, &creds, &params);
  query = mt_sigv4_presign (request, &creds, &params, &error);
  if (query == NULL)
    g_error ("presign: %s", error->message);

  url = g_string_new ("https://");
  g_string_append_printf (url, "%s%s?", host, path);
  if (raw_query[0] != '\0')
    g_string_append_printf (url, "%s&", raw_query);
  for (guint i = 0; i < query->query->len; i++)
    g_string_append_printf (url, "%s%s", i ? "&" : "", (const char *) g_ptr_array_index (query->query, i));

  json_builder_begin_object (out);
  json_builder_set_member_name (out, "headers");
  json_builder_begin_object (out);
  for (guint i = 0; i + 1 < header->headers->len; i += 2)
    {
      g_autofree char *name = g_ascii_strdown (g_ptr_array_index (header->headers, i), -1);

      json_builder_set_member_name (out, name);
      json_builder_add_string_value (out, g_ptr_array_index (header->headers, i + 1));
    }
  json_builder_end_object (out);
  json_builder_set_member_name (out, "url");
  json_builder_add_string_value (out, url->str);
  json_builder_end_object (out);
}

int
main (int argc, char *argv[])
{
  char *line = NULL;
  size_t capacity = 0;
  ssize_t length;

  while ((length = getline (&line, &capacity, stdin)) > 0)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *text = NULL;

      if (line[length - 1] == '\n')
        line[length - 1] = '\0';
      if (line[0] == '\0')
        continue;
      sign_line (line, builder);
      root = json_builder_get_root (builder);
      text = json_to_string (root, FALSE);
      printf ("%s\n", text);
    }
  free (line);
  return 0;
}
