/* mt-text.c — text from outside, made fit to quote in a message */

#include "config.h"

#include <string.h>

#include "mt-text.h"

char *
mt_text_quote (const char *text,
               gssize      length,
               guint       max_chars)
{
  g_autofree char *valid = NULL;
  GString *out;
  guint chars = 0;

  if (text == NULL)
    return g_strdup ("");
  valid = g_utf8_make_valid (text, length);
  out = g_string_sized_new (MIN (strlen (valid), (gsize) max_chars * 4) + 4);
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (chars == max_chars)
        {
          g_string_append (out, "…");
          break;
        }
      if (g_unichar_iscntrl (c))
        g_string_append_unichar (out, 0xfffd);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
      chars++;
    }
  return g_string_free (out, FALSE);
}
