/* mt-json-scan.c — a strict, fast JSON reader over a buffer */

#include "config.h"

#include <string.h>

#include "mt-core-private.h"
#include "mt-json-scan.h"

void
mt_json_scan_init (MtJsonScan *scan,
                   const char *text,
                   gsize       length,
                   guint       max_depth)
{
  scan->start = scan->p = text;
  scan->end = text + length;
  scan->depth = 0;
  scan->max_depth = max_depth;
  scan->error = NULL;
  scan->error_offset = 0;
}

/* The first error stays: the reader stops there. */
static gboolean
fail (MtJsonScan *scan,
      const char *what,
      const char *where)
{
  if (scan->error == NULL)
    {
      scan->error = what;
      scan->error_offset = (gsize) (where - scan->start);
    }
  scan->p = scan->end;
  return FALSE;
}

char *
mt_json_scan_error (MtJsonScan *scan)
{
  if (scan->error == NULL)
    return NULL;
  return g_strdup_printf ("%s at offset %" G_GSIZE_FORMAT, scan->error, scan->error_offset);
}

static inline void
skip_space (MtJsonScan *scan)
{
  const char *p = scan->p;

  while (p < scan->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
    p++;
  scan->p = p;
}

MtJsonScanToken
mt_json_scan_peek (MtJsonScan *scan)
{
  if (scan->error != NULL)
    return MT_JSON_SCAN_ERROR_TOKEN;
  skip_space (scan);
  if (scan->p == scan->end)
    return fail (scan, "the text ends where a value should be", scan->p), MT_JSON_SCAN_ERROR_TOKEN;
  switch (*scan->p)
    {
    case '{':
      return MT_JSON_SCAN_OBJECT;
    case '[':
      return MT_JSON_SCAN_ARRAY;
    case '"':
      return MT_JSON_SCAN_STRING;
    case 'n':
      return MT_JSON_SCAN_NULL;
    case 't':
      return MT_JSON_SCAN_TRUE;
    case 'f':
      return MT_JSON_SCAN_FALSE;
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      return MT_JSON_SCAN_NUMBER;
    default:
      return fail (scan, "an unexpected character", scan->p), MT_JSON_SCAN_ERROR_TOKEN;
    }
}

static gboolean
begin (MtJsonScan *scan,
       char        open)
{
  if (scan->error != NULL)
    return FALSE;
  skip_space (scan);
  if (scan->p == scan->end || *scan->p != open)
    return fail (scan, open == '{' ? "an object was expected" : "an array was expected", scan->p);
  if (scan->depth >= scan->max_depth)
    return fail (scan, "nested too deeply", scan->p);
  scan->depth++;
  scan->p++;
  return TRUE;
}

gboolean
mt_json_scan_begin_object (MtJsonScan *scan)
{
  return begin (scan, '{');
}

gboolean
mt_json_scan_begin_array (MtJsonScan *scan)
{
  return begin (scan, '[');
}

/* Before the next member or element: 1 when one follows, 0 at @close. */
static int
next (MtJsonScan *scan,
      guint      *count,
      char        close)
{
  if (scan->error != NULL)
    return -1;
  skip_space (scan);
  if (scan->p == scan->end)
    return fail (scan, "the text ends inside an object or array", scan->p), -1;
  if (*scan->p == close)
    {
      scan->p++;
      scan->depth--;
      return 0;
    }
  if (*count > 0)
    {
      if (*scan->p != ',')
        return fail (scan, "a comma was expected", scan->p), -1;
      scan->p++;
      skip_space (scan);
      if (scan->p == scan->end || *scan->p == close)
        return fail (scan, "a value was expected after the comma", scan->p), -1;
    }
  (*count)++;
  return 1;
}

int
mt_json_scan_element (MtJsonScan *scan,
                      guint      *count)
{
  return next (scan, count, ']');
}

int
mt_json_scan_member (MtJsonScan *scan,
                     guint      *count,
                     GString    *name)
{
  int more = next (scan, count, '}');

  if (more != 1)
    return more;
  if (*scan->p != '"')
    return fail (scan, "a member name was expected", scan->p), -1;
  if (!mt_json_scan_string (scan, name))
    return -1;
  skip_space (scan);
  if (scan->p == scan->end || *scan->p != ':')
    return fail (scan, "a colon was expected", scan->p), -1;
  scan->p++;
  return 1;
}

static int
hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Four hex digits at @p (the end checked by the caller). */
static int
hex4 (const char *p)
{
  int value = 0;

  for (int i = 0; i < 4; i++)
    {
      int digit = hex_digit (p[i]);

      if (digit < 0)
        return -1;
      value = value * 16 + digit;
    }
  return value;
}

/* The length of the UTF-8 sequence at @p (a lead byte ≥ 0x80), 0 when it
 * is not one: RFC 3629, no overlong forms, no surrogates, ≤ U+10FFFF. */
static gsize
utf8_sequence (const guchar *p,
               const guchar *end)
{
  guchar c = p[0];
  gsize length;
  guchar low = 0x80, high = 0xbf;

  if (c >= 0xc2 && c <= 0xdf)
    length = 2;
  else if (c >= 0xe0 && c <= 0xef)
    {
      length = 3;
      if (c == 0xe0)
        low = 0xa0;
      else if (c == 0xed)
        high = 0x9f;
    }
  else if (c >= 0xf0 && c <= 0xf4)
    {
      length = 4;
      if (c == 0xf0)
        low = 0x90;
      else if (c == 0xf4)
        high = 0x8f;
    }
  else
    return 0;
  if ((gsize) (end - p) < length)
    return 0;
  if (p[1] < low || p[1] > high)
    return 0;
  for (gsize i = 2; i < length; i++)
    if (p[i] < 0x80 || p[i] > 0xbf)
      return 0;
  return length;
}

gboolean
mt_json_scan_string (MtJsonScan *scan,
                     GString    *out)
{
  const guchar *p, *run, *end = (const guchar *) scan->end;

  if (out != NULL)
    g_string_truncate (out, 0);
  if (scan->error != NULL)
    return FALSE;
  skip_space (scan);
  if (scan->p == scan->end || *scan->p != '"')
    return fail (scan, "a string was expected", scan->p);

  p = run = (const guchar *) scan->p + 1;
  for (;;)
    {
      /* Plain ASCII, the most of any text, in one stretch. */
      p = mt_json_plain_end (p, end, FALSE);
      if (p == end)
        return fail (scan, "the text ends inside a string", (const char *) p);
      if (*p == '"')
        break;
      if (*p < 0x20)
        return fail (scan, "a control character inside a string", (const char *) p);
      if (*p >= 0x80)
        {
          gsize length = utf8_sequence (p, end);

          if (length == 0)
            return fail (scan, "text that is not UTF-8", (const char *) p);
          p += length;
          continue;
        }

      /* A backslash. */
      if (out != NULL)
        mt_string_put (out, (const char *) run, (gsize) (p - run));
      if (end - p < 2)
        return fail (scan, "the text ends inside a string", (const char *) p);
      switch (p[1])
        {
        case '"': case '\\': case '/':
          if (out != NULL)
            g_string_append_c (out, (char) p[1]);
          p += 2;
          break;
        case 'b':
          if (out != NULL)
            g_string_append_c (out, '\b');
          p += 2;
          break;
        case 'f':
          if (out != NULL)
            g_string_append_c (out, '\f');
          p += 2;
          break;
        case 'n':
          if (out != NULL)
            g_string_append_c (out, '\n');
          p += 2;
          break;
        case 'r':
          if (out != NULL)
            g_string_append_c (out, '\r');
          p += 2;
          break;
        case 't':
          if (out != NULL)
            g_string_append_c (out, '\t');
          p += 2;
          break;
        case 'u':
          {
            int unit, low;
            gunichar c;

            if (end - p < 6 || (unit = hex4 ((const char *) p + 2)) < 0)
              return fail (scan, "a bad \\u escape", (const char *) p);
            p += 6;
            c = (gunichar) unit;
            if (unit >= 0xd800 && unit <= 0xdbff)
              {
                /* A surrogate pair; a lone half is U+FFFD. */
                if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' && (low = hex4 ((const char *) p + 2)) >= 0xdc00 &&
                    low <= 0xdfff)
                  {
                    c = 0x10000 + (((gunichar) unit - 0xd800) << 10) + ((gunichar) low - 0xdc00);
                    p += 6;
                  }
                else
                  c = 0xfffd;
              }
            else if (unit >= 0xdc00 && unit <= 0xdfff)
              c = 0xfffd;
            if (out != NULL)
              g_string_append_unichar (out, c);
          }
          break;
        default:
          return fail (scan, "a bad escape", (const char *) p);
        }
      run = p;
    }
  if (out != NULL)
    mt_string_put (out, (const char *) run, (gsize) (p - run));
  scan->p = (const char *) p + 1;
  return TRUE;
}

gboolean
mt_json_scan_number (MtJsonScan *scan,
                     double     *value,
                     gboolean   *is_integer,
                     gint64     *integer)
{
  const char *p, *start;
  gboolean negative = FALSE, integral = TRUE, fits = TRUE;
  guint64 magnitude = 0;
  char stack[64];
  g_autofree char *heap = NULL;
  char *copy;
  gsize length;

  if (scan->error != NULL)
    return FALSE;
  skip_space (scan);
  p = start = scan->p;
  if (p < scan->end && *p == '-')
    {
      negative = TRUE;
      p++;
    }
  if (p == scan->end || !g_ascii_isdigit (*p))
    return fail (scan, "a number was expected", p);
  if (*p == '0')
    {
      p++;
      if (p < scan->end && g_ascii_isdigit (*p))
        return fail (scan, "a number with a leading zero", p);
    }
  else
    while (p < scan->end && g_ascii_isdigit (*p))
      {
        guint digit = (guint) (*p - '0');

        if (magnitude > (G_MAXUINT64 - digit) / 10)
          fits = FALSE;
        else
          magnitude = magnitude * 10 + digit;
        p++;
      }
  if (p < scan->end && *p == '.')
    {
      integral = FALSE;
      p++;
      if (p == scan->end || !g_ascii_isdigit (*p))
        return fail (scan, "a digit was expected after the point", p);
      while (p < scan->end && g_ascii_isdigit (*p))
        p++;
    }
  if (p < scan->end && (*p == 'e' || *p == 'E'))
    {
      integral = FALSE;
      p++;
      if (p < scan->end && (*p == '+' || *p == '-'))
        p++;
      if (p == scan->end || !g_ascii_isdigit (*p))
        return fail (scan, "a digit was expected in the exponent", p);
      while (p < scan->end && g_ascii_isdigit (*p))
        p++;
    }
  scan->p = p;

  fits = fits && integral &&
         (negative ? magnitude <= (guint64) G_MAXINT64 + 1 : magnitude <= (guint64) G_MAXINT64);
  if (is_integer != NULL)
    *is_integer = fits;
  if (fits)
    {
      gint64 number = negative ? (gint64) (0 - magnitude) : (gint64) magnitude;

      if (integer != NULL)
        *integer = number;
      if (value != NULL)
        *value = (double) number;
      return TRUE;
    }
  if (value == NULL)
    return TRUE;
  /* The buffer need not end in a NUL: strtod reads a copy. */
  length = (gsize) (p - start);
  copy = length < sizeof stack ? stack : (heap = g_malloc (length + 1));
  memcpy (copy, start, length);
  copy[length] = '\0';
  *value = g_ascii_strtod (copy, NULL);
  return TRUE;
}

gboolean
mt_json_scan_literal (MtJsonScan *scan)
{
  static const char *const words[] = { "null", "true", "false" };

  if (scan->error != NULL)
    return FALSE;
  skip_space (scan);
  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    {
      gsize length = strlen (words[i]);

      if ((gsize) (scan->end - scan->p) >= length && memcmp (scan->p, words[i], length) == 0)
        {
          scan->p += length;
          return TRUE;
        }
    }
  return fail (scan, "an unexpected word", scan->p);
}

gboolean
mt_json_scan_skip (MtJsonScan  *scan,
                   const char **raw,
                   gsize       *raw_length)
{
  MtJsonScanToken token = mt_json_scan_peek (scan);
  const char *start = scan->p;
  guint count = 0;
  int more;
  gboolean ok;

  switch (token)
    {
    case MT_JSON_SCAN_OBJECT:
      ok = mt_json_scan_begin_object (scan);
      while (ok && (more = mt_json_scan_member (scan, &count, NULL)) == 1)
        ok = mt_json_scan_skip (scan, NULL, NULL);
      ok = ok && scan->error == NULL;
      break;
    case MT_JSON_SCAN_ARRAY:
      ok = mt_json_scan_begin_array (scan);
      while (ok && (more = mt_json_scan_element (scan, &count)) == 1)
        ok = mt_json_scan_skip (scan, NULL, NULL);
      ok = ok && scan->error == NULL;
      break;
    case MT_JSON_SCAN_STRING:
      ok = mt_json_scan_string (scan, NULL);
      break;
    case MT_JSON_SCAN_NUMBER:
      ok = mt_json_scan_number (scan, NULL, NULL, NULL);
      break;
    case MT_JSON_SCAN_NULL:
    case MT_JSON_SCAN_TRUE:
    case MT_JSON_SCAN_FALSE:
      ok = mt_json_scan_literal (scan);
      break;
    case MT_JSON_SCAN_ERROR_TOKEN:
    default:
      ok = FALSE;
      break;
    }
  if (ok && raw != NULL)
    *raw = start;
  if (ok && raw_length != NULL)
    *raw_length = (gsize) (scan->p - start);
  return ok;
}

JsonNode *
mt_json_scan_node (MtJsonScan *scan)
{
  MtJsonScanToken token = mt_json_scan_peek (scan);
  JsonNode *node = NULL;
  guint count = 0;
  int more;

  switch (token)
    {
    case MT_JSON_SCAN_OBJECT:
      {
        JsonObject *object;
        g_autoptr(GString) name = g_string_new (NULL);

        if (!mt_json_scan_begin_object (scan))
          return NULL;
        object = json_object_new ();
        while ((more = mt_json_scan_member (scan, &count, name)) == 1)
          {
            JsonNode *member = mt_json_scan_node (scan);

            if (member == NULL)
              break;
            json_object_set_member (object, name->str, member);
          }
        if (scan->error != NULL)
          {
            json_object_unref (object);
            return NULL;
          }
        node = json_node_init_object (json_node_alloc (), object);
        json_object_unref (object);
      }
      break;
    case MT_JSON_SCAN_ARRAY:
      {
        JsonArray *array;

        if (!mt_json_scan_begin_array (scan))
          return NULL;
        array = json_array_new ();
        while ((more = mt_json_scan_element (scan, &count)) == 1)
          {
            JsonNode *element = mt_json_scan_node (scan);

            if (element == NULL)
              break;
            json_array_add_element (array, element);
          }
        if (scan->error != NULL)
          {
            json_array_unref (array);
            return NULL;
          }
        node = json_node_init_array (json_node_alloc (), array);
        json_array_unref (array);
      }
      break;
    case MT_JSON_SCAN_STRING:
      {
        GString *text = g_string_new (NULL);

        if (!mt_json_scan_string (scan, text))
          {
            g_string_free (text, TRUE);
            return NULL;
          }
        node = json_node_alloc ();
        json_node_init_string (node, text->str);
        g_string_free (text, TRUE);
      }
      break;
    case MT_JSON_SCAN_NUMBER:
      {
        double value;
        gboolean is_integer;
        gint64 integer;

        if (!mt_json_scan_number (scan, &value, &is_integer, &integer))
          return NULL;
        node = json_node_alloc ();
        if (is_integer)
          json_node_init_int (node, integer);
        else
          json_node_init_double (node, value);
      }
      break;
    case MT_JSON_SCAN_NULL:
      if (!mt_json_scan_literal (scan))
        return NULL;
      node = json_node_init_null (json_node_alloc ());
      break;
    case MT_JSON_SCAN_TRUE:
    case MT_JSON_SCAN_FALSE:
      if (!mt_json_scan_literal (scan))
        return NULL;
      node = json_node_init_boolean (json_node_alloc (), token == MT_JSON_SCAN_TRUE);
      break;
    case MT_JSON_SCAN_ERROR_TOKEN:
    default:
      return NULL;
    }
  return node;
}

/* A value of a plain text (see mt_json_text_is_plain()); @names holds the
 * names of the enclosing objects' members, each ended by a NUL, and @name
 * is room for the name being read. */
#define PLAIN_MAX_MEMBERS 64

static gboolean
plain_value (MtJsonScan *scan,
             GString    *names,
             GString    *name)
{
  MtJsonScanToken token = mt_json_scan_peek (scan);
  guint count = 0;
  int more;

  if (token == MT_JSON_SCAN_OBJECT)
    {
      gsize first = names->len;

      if (!mt_json_scan_begin_object (scan))
        return FALSE;
      while ((more = mt_json_scan_member (scan, &count, name)) == 1)
        {
          /* A repeated name, or too many names to compare cheaply: the
           * tree decides what is written. Names are compared as a tree
           * keeps them, up to any U+0000. */
          if (count > PLAIN_MAX_MEMBERS)
            return FALSE;
          for (gsize at = first; at < names->len; at += strlen (names->str + at) + 1)
            if (strcmp (names->str + at, name->str) == 0)
              return FALSE;
          g_string_append_len (names, name->str, (gssize) strlen (name->str) + 1);
          if (!plain_value (scan, names, name))
            return FALSE;
        }
      g_string_truncate (names, first);
      return more == 0;
    }
  if (token == MT_JSON_SCAN_ARRAY)
    {
      if (!mt_json_scan_begin_array (scan))
        return FALSE;
      while ((more = mt_json_scan_element (scan, &count)) == 1)
        if (!plain_value (scan, names, name))
          return FALSE;
      return more == 0;
    }
  return mt_json_scan_skip (scan, NULL, NULL);
}

gboolean
mt_json_text_is_plain (const char *text,
                       gsize       length,
                       guint       max_depth)
{
  g_autoptr(GString) names = g_string_new (NULL);
  g_autoptr(GString) name = g_string_new (NULL);
  MtJsonScan scan;

  mt_json_scan_init (&scan, text, length, max_depth);
  return plain_value (&scan, names, name) && mt_json_scan_end (&scan);
}

gboolean
mt_json_scan_end (MtJsonScan *scan)
{
  if (scan->error != NULL)
    return FALSE;
  skip_space (scan);
  if (scan->p != scan->end)
    return fail (scan, "more text after the value", scan->p);
  return TRUE;
}

JsonNode *
mt_json_parse_text (const char *text,
                    gsize       length,
                    guint       max_depth)
{
  MtJsonScan scan;
  JsonNode *node;

  mt_json_scan_init (&scan, text, length, max_depth);
  node = mt_json_scan_node (&scan);
  if (node != NULL && !mt_json_scan_end (&scan))
    g_clear_pointer (&node, json_node_unref);
  return node;
}
