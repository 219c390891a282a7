/* fuzz-dotenv.c — the .env reader
 *
 * What must hold: a file reads into names that are names (letters, digits
 * and `_`, not starting with a digit) and values that are UTF-8 without a
 * NUL, or fails with MT_CONFIG_ERROR and a UTF-8 message that names the
 * file and quotes nothing of the values.
 */

#include <stdlib.h>
#include <string.h>

#include "mt-config.h"
#include "mt-fuzz.h"

/* No value may be quoted in an error: it may be a secret. The seed corpus
 * puts this in values; the fuzzer carries it into broken lines. */
#define CANARY "CANARYsecretVALUE"

static gboolean
is_name (const char *name)
{
  if (!(g_ascii_isalpha (name[0]) || name[0] == '_'))
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!(g_ascii_isalnum (*p) || *p == '_'))
      return FALSE;
  return TRUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GHashTable) values = NULL;
  g_autoptr(GError) error = NULL;
  GHashTableIter iter;
  gpointer name, value;

  values = mt_dotenv_parse ((const char *) data, size, "/home/analyst/.env", &error);
  if (values == NULL)
    {
      if (!g_error_matches (error, MT_CONFIG_ERROR, MT_CONFIG_ERROR_FILE))
        abort ();
      mt_fuzz_check_message (error->message, ".env");
      if (strstr (error->message, "/home/analyst/.env") == NULL || strstr (error->message, CANARY) != NULL)
        abort ();
      return 0;
    }
  if (error != NULL)
    abort ();
  g_hash_table_iter_init (&iter, values);
  while (g_hash_table_iter_next (&iter, &name, &value))
    if (!is_name (name) || !g_utf8_validate (value, -1, NULL))
      abort ();
  return 0;
}
