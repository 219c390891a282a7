/* mt-fuzz.c — what Mealtrace's fuzz targets share */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt-fuzz.h"

void
mt_fuzz_setup (void)
{
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
}

/* What a target that needs nothing more is set up with; one that does
 * defines its own, which takes the place of this one. */
__attribute__ ((weak)) int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  mt_fuzz_setup ();
  return 0;
}

void
mt_fuzz_check_message (const char *message,
                       const char *what)
{
  if (message == NULL || !g_utf8_validate (message, -1, NULL))
    {
      fprintf (stderr, "%s: the message is missing or not UTF-8\n", what);
      abort ();
    }
}

char *
mt_fuzz_take_part (const uint8_t  *data,
                   size_t          size,
                   const uint8_t **rest,
                   size_t         *rest_size)
{
  const uint8_t *nul = size > 0 ? memchr (data, '\0', size) : NULL;
  size_t length = nul != NULL ? (size_t) (nul - data) : size;

  if (rest != NULL)
    *rest = nul != NULL ? nul + 1 : data + size;
  if (rest_size != NULL)
    *rest_size = nul != NULL ? size - length - 1 : 0;
  return g_strndup ((const char *) data, length);
}
