/* mt-json-writer.c — a streaming JSON writer with Python's json layout */

#include "config.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "mt-core-private.h"
#include "mt-json-scan.h"
#include "mt-json-writer.h"

struct _MtJsonWriter
{
  GString *out;
  GByteArray *has_items; /* per open container */
  gboolean pretty;
  gboolean after_member;
};

MtJsonWriter *
mt_json_writer_new (GString  *buffer,
                    gboolean  pretty)
{
  MtJsonWriter *self = g_new0 (MtJsonWriter, 1);

  self->out = buffer;
  self->pretty = pretty;
  self->has_items = g_byte_array_new ();
  return self;
}

void
mt_json_writer_free (MtJsonWriter *self)
{
  if (self == NULL)
    return;
  g_byte_array_unref (self->has_items);
  g_free (self);
}

static void
newline_indent (MtJsonWriter *self)
{
  static const char spaces[] = "\n                                                                ";
  gsize width = 2 * (gsize) self->has_items->len;

  mt_string_put (self->out, spaces, MIN (width, sizeof spaces - 2) + 1);
  for (; width > sizeof spaces - 2; width -= 2)
    mt_string_put (self->out, "  ", 2);
}

/* Everything before a value or a member name: comma, line break, indent. */
static void
before_item (MtJsonWriter *self)
{
  guint depth = self->has_items->len;

  if (self->after_member)
    {
      self->after_member = FALSE;
      return;
    }
  if (depth == 0)
    return;
  if (self->has_items->data[depth - 1])
    g_string_append_c (self->out, ',');
  self->has_items->data[depth - 1] = TRUE;
  if (self->pretty)
    newline_indent (self);
}

static void
open_container (MtJsonWriter *self,
                char          bracket)
{
  guint8 none = FALSE;

  before_item (self);
  g_string_append_c (self->out, bracket);
  g_byte_array_append (self->has_items, &none, 1);
}

static void
close_container (MtJsonWriter *self,
                 char          bracket)
{
  guint depth = self->has_items->len;
  gboolean had_items;

  g_return_if_fail (depth > 0);

  had_items = self->has_items->data[depth - 1];
  g_byte_array_set_size (self->has_items, depth - 1);
  if (had_items && self->pretty)
    newline_indent (self);
  g_string_append_c (self->out, bracket);
}

void
mt_json_writer_begin_object (MtJsonWriter *self)
{
  open_container (self, '{');
}

void
mt_json_writer_end_object (MtJsonWriter *self)
{
  close_container (self, '}');
}

void
mt_json_writer_begin_array (MtJsonWriter *self)
{
  open_container (self, '[');
}

void
mt_json_writer_end_array (MtJsonWriter *self)
{
  close_container (self, ']');
}

void
mt_json_writer_member (MtJsonWriter *self,
                       const char   *name)
{
  before_item (self);
  mt_json_append_string (self->out, name);
  if (self->pretty)
    mt_string_put (self->out, ": ", 2);
  else
    g_string_append_c (self->out, ':');
  self->after_member = TRUE;
}

void
mt_json_writer_null (MtJsonWriter *self)
{
  before_item (self);
  g_string_append_len (self->out, "null", 4);
}

void
mt_json_writer_boolean (MtJsonWriter *self,
                        gboolean      value)
{
  before_item (self);
  g_string_append (self->out, value ? "true" : "false");
}

void
mt_json_writer_string (MtJsonWriter *self,
                       const char   *value)
{
  before_item (self);
  if (value == NULL)
    g_string_append_len (self->out, "null", 4);
  else
    mt_json_append_string (self->out, value);
}

void
mt_json_writer_int (MtJsonWriter *self,
                    gint64        value)
{
  char digits[24];
  char *p = digits + sizeof digits;
  guint64 magnitude = value < 0 ? -(guint64) value : (guint64) value;

  before_item (self);
  do
    *--p = (char) ('0' + magnitude % 10);
  while ((magnitude /= 10) != 0);
  if (value < 0)
    *--p = '-';
  mt_string_put (self->out, p, (gsize) (digits + sizeof digits - p));
}

void
mt_json_writer_double (MtJsonWriter *self,
                       double        value)
{
  before_item (self);
  if (isfinite (value))
    mt_format_double (self->out, value);
  else
    g_string_append_len (self->out, "null", 4);
}

void
mt_json_writer_number (MtJsonWriter *self,
                       const char   *text)
{
  before_item (self);
  g_string_append (self->out, text);
}

void
mt_json_writer_compact_value (MtJsonWriter *self,
                              const char   *text,
                              gsize         length)
{
  g_return_if_fail (!self->pretty);

  before_item (self);
  mt_string_put (self->out, text, length);
}

void
mt_json_writer_seconds (MtJsonWriter *self,
                        gint64        ms)
{
  before_item (self);
  mt_format_seconds (self->out, ms);
}

static void
write_scalar (MtJsonWriter *self,
              JsonNode     *node)
{
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      mt_json_writer_int (self, json_node_get_int (node));
      break;
    case G_TYPE_DOUBLE:
      mt_json_writer_double (self, json_node_get_double (node));
      break;
    case G_TYPE_BOOLEAN:
      mt_json_writer_boolean (self, json_node_get_boolean (node));
      break;
    case G_TYPE_STRING:
      mt_json_writer_string (self, json_node_get_string (node));
      break;
    default:
      mt_json_writer_null (self);
      break;
    }
}

typedef struct {
  JsonNode *container;
  JsonObjectIter iter; /* objects */
  guint index;         /* arrays */
} Frame;

void
mt_json_writer_node (MtJsonWriter *self,
                     JsonNode     *node)
{
  g_autoptr(GArray) stack = NULL;

  /* Model input can nest deeply; an explicit stack cannot overflow. */
  stack = g_array_new (FALSE, FALSE, sizeof (Frame));

  for (;;)
    {
      if (node == NULL || JSON_NODE_HOLDS_NULL (node))
        mt_json_writer_null (self);
      else if (JSON_NODE_HOLDS_VALUE (node))
        write_scalar (self, node);
      else
        {
          Frame frame;

          memset (&frame, 0, sizeof frame);
          frame.container = node;
          if (JSON_NODE_HOLDS_OBJECT (node))
            {
              mt_json_writer_begin_object (self);
              json_object_iter_init_ordered (&frame.iter, json_node_get_object (node));
            }
          else
            mt_json_writer_begin_array (self);
          g_array_append_val (stack, frame);
        }

      /* Find the next value to write, closing finished containers. */
      node = NULL;
      while (stack->len > 0)
        {
          Frame *top = &g_array_index (stack, Frame, stack->len - 1);

          if (JSON_NODE_HOLDS_OBJECT (top->container))
            {
              const char *name;
              JsonNode *member;

              if (json_object_iter_next_ordered (&top->iter, &name, &member))
                {
                  mt_json_writer_member (self, name);
                  node = member;
                  break;
                }
              mt_json_writer_end_object (self);
            }
          else
            {
              JsonArray *array = json_node_get_array (top->container);

              if (top->index < json_array_get_length (array))
                {
                  node = json_array_get_element (array, top->index++);
                  break;
                }
              mt_json_writer_end_array (self);
            }
          g_array_set_size (stack, stack->len - 1);
        }

      if (stack->len == 0)
        return;
    }
}

typedef struct {
  guint count;
  gboolean object;
} TextFrame;

/* A plain text's scalar: strings without escapes go out as they came,
 * since such a string is already in the form the writer would give it. */
static gboolean
write_text_scalar (MtJsonWriter    *self,
                   MtJsonScan      *scan,
                   MtJsonScanToken  token,
                   GString         *scratch)
{
  const char *raw;
  gsize length;
  double value;
  gboolean is_integer;
  gint64 integer;

  switch (token)
    {
    case MT_JSON_SCAN_STRING:
      if (!mt_json_scan_skip (scan, &raw, &length))
        return FALSE;
      if (memchr (raw, '\\', length) == NULL)
        {
          before_item (self);
          mt_string_put (self->out, raw, length);
          return TRUE;
        }
      scan->p = raw;
      if (!mt_json_scan_string (scan, scratch))
        return FALSE;
      mt_json_writer_string (self, scratch->str);
      return TRUE;
    case MT_JSON_SCAN_NUMBER:
      if (!mt_json_scan_number (scan, &value, &is_integer, &integer))
        return FALSE;
      if (is_integer)
        mt_json_writer_int (self, integer);
      else
        mt_json_writer_double (self, value);
      return TRUE;
    case MT_JSON_SCAN_NULL:
      mt_json_writer_null (self);
      return mt_json_scan_literal (scan);
    case MT_JSON_SCAN_TRUE:
    case MT_JSON_SCAN_FALSE:
      mt_json_writer_boolean (self, token == MT_JSON_SCAN_TRUE);
      return mt_json_scan_literal (scan);
    case MT_JSON_SCAN_OBJECT:
    case MT_JSON_SCAN_ARRAY:
    case MT_JSON_SCAN_ERROR_TOKEN:
    default:
      return FALSE;
    }
}

gboolean
mt_json_writer_text (MtJsonWriter *self,
                     const char   *text,
                     gsize         length)
{
  g_autoptr(GArray) stack = g_array_new (FALSE, FALSE, sizeof (TextFrame));
  g_autoptr(GString) scratch = g_string_new (NULL);
  MtJsonScan scan;

  mt_json_scan_init (&scan, text, length, G_MAXUINT);
  for (;;)
    {
      MtJsonScanToken token = mt_json_scan_peek (&scan);

      if (token == MT_JSON_SCAN_OBJECT || token == MT_JSON_SCAN_ARRAY)
        {
          TextFrame frame = { 0, token == MT_JSON_SCAN_OBJECT };

          if (frame.object ? !mt_json_scan_begin_object (&scan) : !mt_json_scan_begin_array (&scan))
            break;
          if (frame.object)
            mt_json_writer_begin_object (self);
          else
            mt_json_writer_begin_array (self);
          g_array_append_val (stack, frame);
        }
      else if (!write_text_scalar (self, &scan, token, scratch))
        break;

      /* The next value, after closing the containers that end here. */
      while (stack->len > 0)
        {
          TextFrame *top = &g_array_index (stack, TextFrame, stack->len - 1);
          int more = top->object ? mt_json_scan_member (&scan, &top->count, scratch)
                                 : mt_json_scan_element (&scan, &top->count);

          if (more < 0)
            break;
          if (more > 0)
            {
              if (top->object)
                mt_json_writer_member (self, scratch->str);
              break;
            }
          if (top->object)
            mt_json_writer_end_object (self);
          else
            mt_json_writer_end_array (self);
          g_array_set_size (stack, stack->len - 1);
        }
      if (scan.error != NULL)
        break;
      if (stack->len == 0)
        return mt_json_scan_end (&scan);
    }

  /* Not JSON after all: a caller's mistake, left visible in the output. */
  while (stack->len > 0)
    {
      if (g_array_index (stack, TextFrame, stack->len - 1).object)
        mt_json_writer_end_object (self);
      else
        mt_json_writer_end_array (self);
      g_array_set_size (stack, stack->len - 1);
    }
  g_critical ("mt_json_writer_text: not JSON text (%s)", scan.error != NULL ? scan.error : "a bad value");
  return FALSE;
}

static void
append_escaped_valid (GString    *out,
                      const char *text,
                      gsize       len)
{
  static const char hex[] = "0123456789abcdef";
  const char *run = text;
  const char *end = text + len;

  for (const char *p = text; p < end; p++)
    {
      guchar c;
      const char *escape = NULL;

      p = (const char *) mt_json_plain_end ((const guchar *) p, (const guchar *) end, TRUE);
      if (p == end)
        break;
      c = (guchar) *p;

      mt_string_put (out, run, (gsize) (p - run));
      run = p + 1;
      switch (c)
        {
        case '"': escape = "\\\""; break;
        case '\\': escape = "\\\\"; break;
        case '\n': escape = "\\n"; break;
        case '\r': escape = "\\r"; break;
        case '\t': escape = "\\t"; break;
        case '\b': escape = "\\b"; break;
        case '\f': escape = "\\f"; break;
        default: break;
        }
      if (escape != NULL)
        g_string_append (out, escape);
      else
        {
          char u[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf], 0 };
          g_string_append_len (out, u, 6);
        }
    }
  mt_string_put (out, run, (gsize) (end - run));
}

void
mt_json_append_string (GString    *out,
                       const char *text)
{
  gsize len = strlen (text);

  g_string_append_c (out, '"');
  if (g_utf8_validate_len (text, len, NULL))
    append_escaped_valid (out, text, len);
  else
    {
      g_autofree char *valid = g_utf8_make_valid (text, len);
      append_escaped_valid (out, valid, strlen (valid));
    }
  g_string_append_c (out, '"');
}

/* The significant digits of @value with @precision of them, and the decimal
 * exponent of the first; TRUE when they read back as @value. */
static gboolean
digits_at (double value,
           int    precision,
           char  *digits,
           int   *exponent)
{
  static const char *const formats[] = {
    "%.0e", "%.1e", "%.2e", "%.3e", "%.4e", "%.5e", "%.6e", "%.7e", "%.8e",
    "%.9e", "%.10e", "%.11e", "%.12e", "%.13e", "%.14e", "%.15e", "%.16e",
  };
  char buf[40];
  const char *p;
  char *e;
  int n = 0;

  g_return_val_if_fail (precision >= 1 && precision <= (int) G_N_ELEMENTS (formats), FALSE);
  g_ascii_formatd (buf, sizeof buf, formats[precision - 1], value);
  if (g_ascii_strtod (buf, NULL) != value)
    return FALSE;

  p = buf[0] == '-' ? buf + 1 : buf;
  for (; *p != 'e'; p++)
    if (*p != '.')
      digits[n++] = *p;
  while (n > 1 && digits[n - 1] == '0')
    n--;
  digits[n] = '\0';
  *exponent = (int) g_ascii_strtoll (p + 1, &e, 10);
  return TRUE;
}

/* The same as digits_at() at the fewest digits, for the doubles most data
 * holds (costs, durations): @value is the double nearest some n × 10^-k
 * with n of at most 15 digits, and the smallest such k gives the shortest
 * form. Two decimals of 15 digits or fewer never meet in one double, so
 * that form is the only one of its length. FALSE when there is none. */
static gboolean
digits_fast (double  value,
             char   *digits,
             int    *exponent)
{
  static const double powers[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
  };
  double magnitude = fabs (value);

  if (!(magnitude >= 1e-5 && magnitude < 1e15))
    return FALSE;
  for (guint k = 0; k < G_N_ELEMENTS (powers); k++)
    {
      double scaled = magnitude * powers[k];
      double n = nearbyint (scaled);
      char text[24];
      int length = 0, zeros = 0;
      guint64 integer;

      if (n >= 1e15)
        return FALSE;
      /* n and 10^k are exact, and the division rounds correctly: this is
       * the double the decimal n × 10^-k reads as. */
      if (n < 1.0 || n / powers[k] != magnitude)
        continue;
      for (integer = (guint64) n; integer > 0; integer /= 10)
        text[length++] = (char) ('0' + integer % 10);
      *exponent = length - 1 - (int) k;
      /* Most significant first, without trailing zeros. */
      while (zeros < length - 1 && text[zeros] == '0')
        zeros++;
      for (int i = 0; i < length - zeros; i++)
        digits[i] = text[length - 1 - i];
      digits[length - zeros] = '\0';
      return TRUE;
    }
  return FALSE;
}

void
mt_format_double (GString *out,
                  double   value)
{
  char digits[24];
  int exponent = 0;
  int n;

  g_return_if_fail (isfinite (value));

  /* A normal double's shortest form of up to 15 digits is its 15-digit form
   * without trailing zeros; only longer ones need another try. Subnormals
   * carry fewer digits, so they are tried from one digit up. */
  if (!digits_fast (value, digits, &exponent))
    {
      if (value != 0.0 && fabs (value) < DBL_MIN)
        {
          for (int precision = 1; precision <= 17; precision++)
            if (digits_at (value, precision, digits, &exponent))
              break;
        }
      else if (!digits_at (value, 15, digits, &exponent) &&
               !digits_at (value, 16, digits, &exponent))
        digits_at (value, 17, digits, &exponent);
    }
  n = (int) strlen (digits);

  if (signbit (value))
    g_string_append_c (out, '-');

  if (exponent < -4 || exponent >= 16)
    {
      g_string_append_c (out, digits[0]);
      if (n > 1)
        {
          g_string_append_c (out, '.');
          g_string_append (out, digits + 1);
        }
      g_string_append_printf (out, "e%c%02d", exponent < 0 ? '-' : '+', ABS (exponent));
    }
  else if (exponent < 0)
    {
      g_string_append (out, "0.");
      for (int i = -1; i > exponent; i--)
        g_string_append_c (out, '0');
      g_string_append (out, digits);
    }
  else
    {
      for (int i = 0; i <= exponent; i++)
        g_string_append_c (out, i < n ? digits[i] : '0');
      g_string_append_c (out, '.');
      if (n > exponent + 1)
        g_string_append (out, digits + exponent + 1);
      else
        g_string_append_c (out, '0');
    }
}

void
mt_format_seconds (GString *out,
                   gint64   ms)
{
  guint64 magnitude = ms < 0 ? -(guint64) ms : (guint64) ms;
  guint frac = (guint) (magnitude % 1000);

  if (ms < 0)
    g_string_append_c (out, '-');
  g_string_append_printf (out, "%" G_GUINT64_FORMAT, magnitude / 1000);
  if (frac != 0)
    {
      char buf[5];

      g_snprintf (buf, sizeof buf, ".%03u", frac);
      for (int i = 3; buf[i] == '0'; i--)
        buf[i] = '\0';
      g_string_append (out, buf);
    }
}

char *
mt_json_node_to_compact (JsonNode *node)
{
  g_autoptr(GString) out = NULL;
  g_autoptr(MtJsonWriter) writer = NULL;

  if (node == NULL)
    return NULL;
  out = g_string_new (NULL);
  writer = mt_json_writer_new (out, FALSE);
  mt_json_writer_node (writer, node);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
mt_json_text_to_compact (const char *text,
                         gsize       length)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(MtJsonWriter) writer = mt_json_writer_new (out, FALSE);

  if (!mt_json_writer_text (writer, text, length))
    return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}
