/* fuzz-s3-error.c — S3's error document, and the error a person reads
 *
 * The document is read, then turned into the error the S3 client gives
 * for it (under each status that reaches that path). What must hold: the
 * fields are at most 1024 bytes, and the message is UTF-8, one line, and
 * never holds the secret access key or the session token, plain or
 * percent-encoded, whatever the server echoes.
 */

#include <stdlib.h>
#include <string.h>

#include "mt-fuzz.h"
#include "mt-s3-client-private.h"
#include "mt-s3-xml.h"

#define SECRET "fuzzSECRETcanary0123456789abcdefghij/+XY"
#define TOKEN "fuzzTOKENcanary/+=0123456789"
#define SECRET_ENCODED "fuzzSECRETcanary0123456789abcdefghij%2F%2BXY"
#define TOKEN_ENCODED "fuzzTOKENcanary%2F%2B%3D0123456789"

static MtS3Client *client;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(MtAwsCredentials) credentials = NULL;

  mt_fuzz_setup ();
  credentials = mt_aws_credentials_new ("AKIAFUZZFUZZFUZZFUZZ", SECRET, TOKEN, "the fuzz target");
  client = mt_s3_client_new (credentials, "eu-west-1", NULL, "meals", NULL);
  if (client == NULL)
    abort ();
  return 0;
}

static void
check_field (const char *field)
{
  if (field != NULL && strlen (field) > 1024)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static const guint statuses[] = { 400, 403, 404, 409, 500, 503 };
  g_autoptr(GBytes) body = g_bytes_new (data, size);
  MtS3ErrorDoc doc;

  mt_s3_error_doc_parse (body, &doc);
  check_field (doc.code);
  check_field (doc.message);
  check_field (doc.region);
  mt_s3_error_doc_clear (&doc);

  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      g_autoptr(GError) error = mt_s3_client_error_for_answer (client, statuses[i], body);

      if (error == NULL || error->domain != MT_S3_ERROR)
        abort ();
      mt_fuzz_check_message (error->message, "S3 error");
      if (strchr (error->message, '\n') != NULL ||
          strstr (error->message, SECRET) != NULL || strstr (error->message, SECRET_ENCODED) != NULL ||
          strstr (error->message, TOKEN) != NULL || strstr (error->message, TOKEN_ENCODED) != NULL)
        abort ();
    }
  return 0;
}
