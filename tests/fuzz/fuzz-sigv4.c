/* fuzz-sigv4.c — SigV4 canonicalisation: key, path and query encoding
 *
 * The first byte chooses the rules (bit 0: S3's or the generic ones, bit
 * 1: keep the path as it is, bit 2: a presigned URL); then come the path,
 * a NUL, and the query. What must hold:
 * - percent-encoding then decoding any text gives the text back, and the
 *   encoding holds only unreserved bytes, `%XX` and (when kept) `/`;
 * - the canonical request's path and query lines hold only what may go on
 *   a request line unescaped;
 * - the query's order does not change the canonical request;
 * - the signature is 64 lower-case hex digits.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt-fuzz.h"
#include "mt-sigv4.h"

static gboolean
only_encoded (const char *text,
              const char *also)
{
  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isalnum (*p) || strchr ("-_.~", *p) != NULL || strchr (also, *p) != NULL)
        continue;
      if (*p == '%' && g_ascii_isxdigit (p[1]) && g_ascii_isxdigit (p[2]))
        continue;
      return FALSE;
    }
  return TRUE;
}

static void
check_encoding (const char *text,
                gboolean    keep_slash)
{
  g_autoptr(GString) encoded = g_string_new (NULL);
  g_autofree char *decoded = NULL;

  mt_sigv4_uri_encode (encoded, text, -1, keep_slash);
  if (!only_encoded (encoded->str, keep_slash ? "/" : ""))
    abort ();
  for (const char *p = encoded->str; (p = strchr (p, '%')) != NULL; p++)
    if (g_ascii_islower (p[1]) || g_ascii_islower (p[2]))
      abort ();
  decoded = mt_sigv4_uri_decode (encoded->str, encoded->len);
  if (strcmp (decoded, text) != 0)
    {
      fprintf (stderr, "“%s” encoded as “%s” decodes to “%s”\n", text, encoded->str, decoded);
      abort ();
    }
}

static char *
reversed_query (const char *query)
{
  g_auto(GStrv) parts = g_strsplit (query, "&", -1);
  guint n = g_strv_length (parts);

  for (guint i = 0; i < n / 2; i++)
    {
      char *swap = parts[i];

      parts[i] = parts[n - 1 - i];
      parts[n - 1 - i] = swap;
    }
  return g_strjoinv ("&", parts);
}

static MtSigv4Result *
sign (const char          *path,
      const char          *query,
      const MtSigv4Params *params,
      gboolean             presign)
{
  static const MtSigv4Credentials credentials = {
    "AKIAFUZZFUZZFUZZFUZZ", "fuzzSECRETcanary0123456789abcdefghij/+XY", "fuzzTOKENcanary",
  };
  g_autoptr(MtSigv4Request) request = mt_sigv4_request_new ("GET", path, query);
  g_autoptr(GError) error = NULL;
  MtSigv4Result *result;

  mt_sigv4_request_add_header (request, "Host", "meals.s3.eu-west-1.amazonaws.com");
  if (params->mode == MT_SIGV4_S3)
    mt_sigv4_request_set_payload_hash (request, MT_SIGV4_UNSIGNED_PAYLOAD);
  result = presign ? mt_sigv4_presign (request, &credentials, params, &error) : mt_sigv4_sign (request, &credentials, params);
  if (result == NULL)
    abort ();
  return result;
}

static void
check_canonical_request (const char *canonical)
{
  g_auto(GStrv) lines = g_strsplit (canonical, "\n", 4);

  if (g_strv_length (lines) < 4 || strcmp (lines[0], "GET") != 0 || lines[1][0] != '/' ||
      !only_encoded (lines[1], "/") || !only_encoded (lines[2], "=&"))
    {
      fprintf (stderr, "canonical request:\n%s\n", canonical);
      abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *path = NULL;
  g_autofree char *query = NULL;
  g_autofree char *reversed = NULL;
  g_autoptr(MtSigv4Result) result = NULL;
  g_autoptr(MtSigv4Result) again = NULL;
  MtSigv4Params params = { 0 };
  const uint8_t *rest;
  size_t rest_size;
  gboolean presign;

  if (size == 0)
    return 0;
  params.mode = data[0] & 1 ? MT_SIGV4_S3 : MT_SIGV4_GENERIC;
  params.keep_path = (data[0] & 2) != 0;
  presign = (data[0] & 4) != 0;
  params.region = "eu-west-1";
  params.service = "s3";
  params.time = G_GINT64_CONSTANT (1790812800);
  params.expires = 3600;
  path = mt_fuzz_take_part (data + 1, size - 1, &rest, &rest_size);
  query = mt_fuzz_take_part (rest, rest_size, NULL, NULL);

  check_encoding (path, FALSE);
  check_encoding (path, TRUE);
  check_encoding (query, FALSE);

  result = sign (path, query, &params, presign);
  check_canonical_request (result->canonical_request);
  if (strlen (result->signature) != 64 || !only_encoded (result->signature, ""))
    abort ();
  for (const char *p = result->signature; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      abort ();

  reversed = reversed_query (query);
  again = sign (path, reversed, &params, presign);
  if (strcmp (result->canonical_request, again->canonical_request) != 0)
    {
      fprintf (stderr, "query “%s” and its reverse “%s” sign differently\n", query, reversed);
      abort ();
    }
  return 0;
}
