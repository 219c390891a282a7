/* test-json-writer.c — Python's json layout and repr() numbers */

#include <math.h>

#include "mt-core.h"

static char *
fmt_double (double value)
{
  GString *s = g_string_new (NULL);

  mt_format_double (s, value);
  return g_string_free (s, FALSE);
}

static void
test_double_repr (void)
{
  /* What Python 3's repr() prints for each. */
  struct { double value; const char *repr; } cases[] = {
    { 0.0, "0.0" }, { -0.0, "-0.0" }, { 1.0, "1.0" }, { 80.0, "80.0" }, { 62.5, "62.5" },
    { 0.1, "0.1" }, { 0.0023, "0.0023" }, { 0.0145, "0.0145" }, { 0.1 + 0.2, "0.30000000000000004" },
    { 1.0 / 3.0, "0.3333333333333333" }, { 2.0 / 3.0, "0.6666666666666666" },
    { 0.0001, "0.0001" }, { 0.00001, "1e-05" }, { 1.5e-7, "1.5e-07" }, { 1.2345e-5, "1.2345e-05" },
    { 1234567.0, "1234567.0" }, { 9007199254740992.0, "9007199254740992.0" },
    { 9999999999999998.0, "9999999999999998.0" }, { 1e16, "1e+16" }, { 1.5e16, "1.5e+16" },
    { 123456789012345680.0, "1.2345678901234568e+17" }, { 5e-324, "5e-324" },
    { 1.7976931348623157e308, "1.7976931348623157e+308" }, { -2.5e-10, "-2.5e-10" },
    { 100.0, "100.0" }, { 0.5, "0.5" }, { 12345.678, "12345.678" }, { 1e22, "1e+22" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = fmt_double (cases[i].value);

      g_assert_cmpstr (text, ==, cases[i].repr);
    }
}

static void
test_double_round_trip (void)
{
  GRand *rand = g_rand_new_with_seed (7);

  /* Whatever the double, the text reads back as exactly that double. */
  for (guint i = 0; i < 100000; i++)
    {
      union { guint64 bits; double value; } u;
      g_autofree char *text = NULL;

      u.bits = ((guint64) g_rand_int (rand) << 32) | g_rand_int (rand);
      if (!isfinite (u.value))
        continue;
      text = fmt_double (u.value);
      g_assert_cmpfloat (g_ascii_strtod (text, NULL), ==, u.value);
      g_assert_true (strchr (text, '.') != NULL || strchr (text, 'e') != NULL);
    }
  g_rand_free (rand);
}

static void
test_seconds (void)
{
  struct { gint64 ms; const char *text; } cases[] = {
    { 0, "0" }, { 300000, "300" }, { 300500, "300.5" }, { 1, "0.001" }, { 1010, "1.01" },
    { 999, "0.999" }, { -1500, "-1.5" }, { 86400000, "86400" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GString) s = g_string_new (NULL);

      mt_format_seconds (s, cases[i].ms);
      g_assert_cmpstr (s->str, ==, cases[i].text);
    }
}

static char *
write_node (JsonNode *node, gboolean pretty)
{
  GString *out = g_string_new (NULL);
  g_autoptr(MtJsonWriter) w = mt_json_writer_new (out, pretty);

  mt_json_writer_node (w, node);
  return g_string_free (out, FALSE);
}

static void
test_layout (void)
{
  g_autoptr(JsonNode) node = json_from_string (
    "{\"a\": 1, \"b\": [true, null, 2.5, \"x\"], \"c\": {}, \"d\": [], "
    "\"e\": {\"f\": [[], {}]}, \"g\": -7}", NULL);
  g_autofree char *pretty = write_node (node, TRUE);
  g_autofree char *compact = write_node (node, FALSE);

  /* Exactly what json.dumps(value, indent=2, ensure_ascii=False) prints. */
  g_assert_cmpstr (pretty, ==,
                   "{\n"
                   "  \"a\": 1,\n"
                   "  \"b\": [\n"
                   "    true,\n"
                   "    null,\n"
                   "    2.5,\n"
                   "    \"x\"\n"
                   "  ],\n"
                   "  \"c\": {},\n"
                   "  \"d\": [],\n"
                   "  \"e\": {\n"
                   "    \"f\": [\n"
                   "      [],\n"
                   "      {}\n"
                   "    ]\n"
                   "  },\n"
                   "  \"g\": -7\n"
                   "}");
  g_assert_cmpstr (compact, ==, "{\"a\":1,\"b\":[true,null,2.5,\"x\"],\"c\":{},\"d\":[],\"e\":{\"f\":[[],{}]},\"g\":-7}");
}

static void
test_strings (void)
{
  g_autoptr(GString) s = g_string_new (NULL);

  mt_json_append_string (s, "quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f "
                            "nul-ish \x01 \x1f del \x7f ph\xe1\xbb\x9f \xf0\x9f\x8d\x9c \xe2\x80\xa8");
  g_assert_cmpstr (s->str, ==,
                   "\"quote \\\" backslash \\\\ slash / tab \\t nl \\n cr \\r bs \\b ff \\f "
                   "nul-ish \\u0001 \\u001f del \x7f ph\xe1\xbb\x9f \xf0\x9f\x8d\x9c \xe2\x80\xa8\"");

  /* Invalid UTF-8 never reaches an export: each bad byte becomes U+FFFD. */
  g_string_truncate (s, 0);
  mt_json_append_string (s, "a\xff" "b\xc3");
  g_assert_true (g_utf8_validate (s->str, -1, NULL));
  g_assert_cmpstr (s->str, ==, "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\"");
}

static void
test_writer_values (void)
{
  GString *out = g_string_new (NULL);
  g_autoptr(MtJsonWriter) w = mt_json_writer_new (out, FALSE);
  g_autofree char *text = NULL;

  mt_json_writer_begin_array (w);
  mt_json_writer_string (w, NULL);
  mt_json_writer_double (w, NAN);
  mt_json_writer_double (w, INFINITY);
  mt_json_writer_double (w, 3.0);
  mt_json_writer_int (w, G_MININT64);
  mt_json_writer_seconds (w, 1500);
  mt_json_writer_number (w, "62.5");
  mt_json_writer_boolean (w, FALSE);
  mt_json_writer_node (w, NULL);
  /* A value written before, copied with the separators around it. */
  mt_json_writer_compact_value (w, "{\"a\":[1,2]}xyz", 11);
  mt_json_writer_begin_object (w);
  mt_json_writer_member (w, "b");
  mt_json_writer_compact_value (w, "\"c\"", 3);
  mt_json_writer_end_object (w);
  mt_json_writer_end_array (w);
  text = g_string_free (out, FALSE);

  g_assert_cmpstr (text, ==, "[null,null,null,3.0,-9223372036854775808,1.5,62.5,false,null,{\"a\":[1,2]},{\"b\":\"c\"}]");
}

static void
test_deep_nesting (void)
{
  const guint depth = 10000;
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);
  JsonArray *array = json_array_new ();
  g_autofree char *compact = NULL;
  g_autoptr(GString) expected = NULL;

  /* Written with an explicit stack: nesting cannot exhaust the C stack. */
  json_node_take_array (root, array);
  for (guint i = 1; i < depth; i++)
    {
      JsonArray *inner = json_array_new ();

      json_array_add_array_element (array, inner);
      array = inner;
    }
  json_array_add_int_element (array, 1);

  compact = write_node (root, FALSE);
  expected = g_string_new (NULL);
  for (guint i = 0; i < depth; i++)
    g_string_append_c (expected, '[');
  g_string_append_c (expected, '1');
  for (guint i = 0; i < depth; i++)
    g_string_append_c (expected, ']');
  g_assert_cmpstr (compact, ==, expected->str);
}

/* Python itself is the oracle for layout and numbers, on random values. */
static JsonNode *
random_node (GRand *rand, guint depth)
{
  static const char *const strings[] = {
    "", "pho bo", "c\xc6\xa1m t\xe1\xba\xa5m", "\"quoted\"", "back\\slash", "line\nbreak",
    "\x01\x02\x1f", "=SUM(A1)", "\xf0\x9f\x8d\x9c", "tab\there", "\x7f",
  };
  JsonNode *node;
  guint kind = g_rand_int_range (rand, 0, depth > 4 ? 6 : 8);

  switch (kind)
    {
    case 0:
      return json_node_new (JSON_NODE_NULL);
    case 1:
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_boolean (node, g_rand_boolean (rand));
      return node;
    case 2:
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_int (node, (gint64) g_rand_int (rand) - G_MAXINT32);
      return node;
    case 3:
      {
        double mantissa = g_rand_double_range (rand, -10, 10);
        int exponent = g_rand_int_range (rand, -30, 30);

        node = json_node_new (JSON_NODE_VALUE);
        json_node_set_double (node, g_rand_boolean (rand) ? mantissa * pow (10, exponent)
                                                          : round (mantissa * 1000) / 1000);
        return node;
      }
    case 4:
    case 5:
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (node, strings[g_rand_int_range (rand, 0, G_N_ELEMENTS (strings))]);
      return node;
    case 6:
      {
        JsonArray *array = json_array_new ();
        guint n = g_rand_int_range (rand, 0, 4);

        for (guint i = 0; i < n; i++)
          json_array_add_element (array, random_node (rand, depth + 1));
        node = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (node, array);
        return node;
      }
    default:
      {
        JsonObject *object = json_object_new ();
        guint n = g_rand_int_range (rand, 0, 4);

        for (guint i = 0; i < n; i++)
          {
            g_autofree char *name = g_strdup_printf ("k%u-%s", i,
                                                     strings[g_rand_int_range (rand, 0, G_N_ELEMENTS (strings))]);
            json_object_set_member (object, name, random_node (rand, depth + 1));
          }
        node = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (node, object);
        return node;
      }
    }
}

/* What python3 writes for @script given @input; %NULL, the test skipped,
 * without python3. */
static GBytes *
run_python (const char    *script,
            const GString *input)
{
  g_autofree char *python = g_find_program_in_path ("python3");
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GBytes) in = NULL;
  g_autoptr(GError) error = NULL;
  GBytes *output = NULL;

  if (python == NULL)
    {
      g_test_skip ("python3 is not installed");
      return NULL;
    }
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                           python, "-c", script, NULL);
  g_assert_no_error (error);
  in = g_bytes_new (input->str, input->len);
  g_subprocess_communicate (proc, in, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (proc));
  return output;
}

static void
test_python_agrees (void)
{
  static const char script[] =
    "import json, sys\n"
    "for line in sys.stdin.read().split('\\x1e')[:-1]:\n"
    "    sys.stdout.write(json.dumps(json.loads(line), indent=2, ensure_ascii=False) + '\\x1e')\n";
  g_autoptr(GString) ours_compact = g_string_new (NULL);
  g_autoptr(GString) ours_pretty = g_string_new (NULL);
  g_autoptr(GBytes) output = NULL;
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  const guint n_docs = 400;

  for (guint i = 0; i < n_docs; i++)
    {
      g_autoptr(JsonNode) node = random_node (rand, 0);
      g_autofree char *compact = write_node (node, FALSE);
      g_autofree char *pretty = write_node (node, TRUE);

      g_string_append_printf (ours_compact, "%s\x1e", compact);
      g_string_append_printf (ours_pretty, "%s\x1e", pretty);
    }
  g_rand_free (rand);

  output = run_python (script, ours_compact);
  if (output == NULL)
    return;
  /* Python read our compact form and wrote its own pretty one: identical. */
  g_assert_cmpuint (g_bytes_get_size (output), ==, ours_pretty->len);
  g_assert_cmpmem (g_bytes_get_data (output, NULL), g_bytes_get_size (output),
                   ours_pretty->str, ours_pretty->len);
}

/* A character to escape at every place of a string longer than one
 * eight-byte step: what is written reads back as the string. */
static void
test_escape_every_offset (void)
{
  static const char *const specials[] = { "\"", "\\", "\n", "\x01", "\x1f", "\xc3\xa9", "\xe1\xbb\x87", "\x7f" };

  for (guint s = 0; s < G_N_ELEMENTS (specials); s++)
    for (guint at = 0; at <= 25; at++)
      {
        g_autoptr(GString) text = g_string_new (NULL);
        g_autoptr(GString) out = g_string_new (NULL);
        g_autoptr(JsonParser) parser = json_parser_new ();
        g_autoptr(GError) error = NULL;

        for (guint i = 0; i < at; i++)
          g_string_append_c (text, (char) ('a' + i % 26));
        g_string_append (text, specials[s]);
        g_string_append (text, "tail, then a second \" and more");
        mt_json_append_string (out, text->str);
        for (gsize i = 0; i < out->len; i++)
          g_assert_cmpint ((guchar) out->str[i], >=, 0x20);
        g_assert_true (json_parser_load_from_data (parser, out->str, (gssize) out->len, &error));
        g_assert_no_error (error);
        g_assert_cmpstr (json_node_get_string (json_parser_get_root (parser)), ==, text->str);
      }
}

/* Doubles as data holds them (decimals of 1 to 17 digits, at scales from
 * 1e-22 to 1e22) and any bits at all: each is written as Python's repr()
 * writes it. */
static void
test_double_python_repr (void)
{
  static const char script[] =
    "import sys\n"
    "for line in sys.stdin.read().split()[0::2]:\n"
    "    sys.stdout.write(repr(float(line)) + '\\n')\n";
  g_autoptr(GString) input_text = g_string_new (NULL);
  g_autoptr(GString) ours = g_string_new (NULL);
  g_autoptr(GBytes) output = NULL;
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());

  for (guint i = 0; i < 60000; i++)
    {
      double value;
      g_autofree char *text = NULL;

      if (i % 3 != 0)
        {
          /* n × 10^e, n of 1 to 17 digits. */
          guint digits = (guint) g_rand_int_range (rand, 1, 18);
          guint64 n = 0;
          char decimal[64];

          for (guint d = 0; d < digits; d++)
            n = n * 10 + (guint64) g_rand_int_range (rand, 0, 10);
          g_snprintf (decimal, sizeof decimal, "%s%" G_GUINT64_FORMAT "e%d", g_rand_boolean (rand) ? "-" : "",
                      n, g_rand_int_range (rand, -22, 23));
          value = g_ascii_strtod (decimal, NULL);
        }
      else
        {
          union { guint64 bits; double value; } u;

          u.bits = ((guint64) g_rand_int (rand) << 32) | g_rand_int (rand);
          value = u.value;
          if (!isfinite (value))
            continue;
        }
      text = fmt_double (value);
      /* What Python is given reads as the same double: %.17g. */
      g_string_append_printf (input_text, "%.17g %s\n", value, text);
      g_string_append_printf (ours, "%s\n", text);
    }
  g_rand_free (rand);

  output = run_python (script, input_text);
  if (output == NULL)
    return;
  g_assert_cmpmem (g_bytes_get_data (output, NULL), g_bytes_get_size (output), ours->str, ours->len);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/json-writer/double-repr", test_double_repr);
  g_test_add_func ("/json-writer/double-round-trip", test_double_round_trip);
  g_test_add_func ("/json-writer/double-python-repr", test_double_python_repr);
  g_test_add_func ("/json-writer/seconds", test_seconds);
  g_test_add_func ("/json-writer/layout", test_layout);
  g_test_add_func ("/json-writer/strings", test_strings);
  g_test_add_func ("/json-writer/escape-every-offset", test_escape_every_offset);
  g_test_add_func ("/json-writer/values", test_writer_values);
  g_test_add_func ("/json-writer/deep-nesting", test_deep_nesting);
  g_test_add_func ("/json-writer/python-agrees", test_python_agrees);

  return g_test_run ();
}
