/* test-json-scan.c — the strict JSON reader: valid and invalid texts against
 * json-glib's own parser, the walking API, nesting limits, error offsets, a
 * differential fuzz test on random and mutated documents, and plain texts
 * written straight from the text as their trees are written */

#include <string.h>

#include "mt-json-scan.h"
#include "mt-json-writer.h"

#define MAX_DEPTH 64

/* Exactly @length bytes with nothing after them, not even a NUL: a read
 * past the end is one the sanitizers see. */
static char *
exact_copy (const char *text, gsize length)
{
  char *copy = g_malloc (MAX (length, 1));

  memcpy (copy, text, length);
  return copy;
}

static char *
shown (const char *text, gsize length)
{
  g_autofree char *nul_terminated = g_strndup (text, length);

  return g_strescape (nul_terminated, NULL);
}

/* json-glib's reading; NULL too for no value at all, which it accepts. */
static JsonNode *
glib_parse (const char *text, gsize length)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, text, (gssize) length, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return root != NULL ? json_node_copy (root) : NULL;
}

/* A value as a text that names its type and is exact: %a keeps every bit of
 * a double, the sign of a zero too. */
static char *
value_text (JsonNode *node)
{
  GType type = json_node_get_value_type (node);

  if (type == G_TYPE_INT64)
    return g_strdup_printf ("int64 %" G_GINT64_FORMAT, json_node_get_int (node));
  if (type == G_TYPE_DOUBLE)
    return g_strdup_printf ("double %a (%.17g)", json_node_get_double (node), json_node_get_double (node));
  if (type == G_TYPE_BOOLEAN)
    return g_strdup_printf ("boolean %d", json_node_get_boolean (node));
  if (type == G_TYPE_STRING)
    return g_strdup_printf ("string \"%s\"", json_node_get_string (node));
  return g_strdup_printf ("a %s", g_type_name (type));
}

/* NULL when @a and @b are the same tree, else where and how they differ. */
static char *
node_diff (JsonNode *a, JsonNode *b, GString *path)
{
  JsonNodeType type = json_node_get_node_type (a);
  gsize path_length = path->len;
  char *diff = NULL;

  if (type != json_node_get_node_type (b))
    return g_strdup_printf ("%s: node types %d and %d", path->str, type, json_node_get_node_type (b));
  if (type == JSON_NODE_VALUE)
    {
      g_autofree char *x = value_text (a);
      g_autofree char *y = value_text (b);

      return strcmp (x, y) != 0 ? g_strdup_printf ("%s: %s and %s", path->str, x, y) : NULL;
    }
  if (type == JSON_NODE_ARRAY)
    {
      JsonArray *x = json_node_get_array (a), *y = json_node_get_array (b);

      if (json_array_get_length (x) != json_array_get_length (y))
        return g_strdup_printf ("%s: %u and %u elements", path->str,
                                json_array_get_length (x), json_array_get_length (y));
      for (guint i = 0; i < json_array_get_length (x) && diff == NULL; i++)
        {
          g_string_append_printf (path, "[%u]", i);
          diff = node_diff (json_array_get_element (x, i), json_array_get_element (y, i), path);
          g_string_truncate (path, path_length);
        }
    }
  else if (type == JSON_NODE_OBJECT)
    {
      JsonObject *x = json_node_get_object (a), *y = json_node_get_object (b);
      g_autoptr(GList) names = json_object_get_members (x);

      if (json_object_get_size (x) != json_object_get_size (y))
        return g_strdup_printf ("%s: %u and %u members", path->str,
                                json_object_get_size (x), json_object_get_size (y));
      for (GList *l = names; l != NULL && diff == NULL; l = l->next)
        {
          if (!json_object_has_member (y, l->data))
            return g_strdup_printf ("%s: member \"%s\" in one only", path->str, (char *) l->data);
          g_string_append_printf (path, ".\"%s\"", (char *) l->data);
          diff = node_diff (json_object_get_member (x, l->data), json_object_get_member (y, l->data), path);
          g_string_truncate (path, path_length);
        }
    }
  return diff;
}

static void
assert_same_tree (JsonNode *ours, JsonNode *theirs, const char *text, gsize length)
{
  g_autoptr(GString) path = g_string_new ("$");
  g_autofree char *diff = node_diff (ours, theirs, path);
  g_autofree char *printable = shown (text, length);

  if (diff != NULL)
    g_test_message ("text: %s", printable);
  g_assert_cmpstr (diff, ==, NULL);
}

static void
assert_no_error (MtJsonScan *scan)
{
  g_autofree char *error = mt_json_scan_error (scan);

  g_assert_cmpstr (error, ==, NULL);
}

/* Accepted as one tree by the tree builder, the walking API and skip;
 * returns the tree. */
static JsonNode *
parse_valid (const char *text, gsize length, guint max_depth)
{
  g_autofree char *copy = exact_copy (text, length);
  g_autofree char *printable = shown (text, length);
  g_autofree char *trimmed = g_strstrip (g_strndup (text, length));
  JsonNode *node = mt_json_parse_text (copy, length, max_depth);
  g_autoptr(JsonNode) walked = NULL;
  const char *raw = NULL;
  gsize raw_length = 0;
  MtJsonScan scan;

  if (node == NULL)
    g_test_message ("rejected: %s", printable);
  g_assert_nonnull (node);

  mt_json_scan_init (&scan, copy, length, max_depth);
  walked = mt_json_scan_node (&scan);
  g_assert_nonnull (walked);
  g_assert_true (mt_json_scan_end (&scan));
  assert_no_error (&scan);
  assert_same_tree (walked, node, text, length);

  /* Skipped, the value's own text comes back, white space around it aside. */
  mt_json_scan_init (&scan, copy, length, max_depth);
  g_assert_true (mt_json_scan_skip (&scan, &raw, &raw_length));
  g_assert_true (mt_json_scan_end (&scan));
  assert_no_error (&scan);
  g_assert_cmpmem (raw, raw_length, trimmed, strlen (trimmed));
  return node;
}

/* Refused by the tree builder, by the walking API and by skip, with an
 * error that points inside the text. */
static void
assert_rejected (const char *text, gsize length, guint max_depth)
{
  g_autofree char *copy = exact_copy (text, length);
  g_autofree char *printable = shown (text, length);
  g_autoptr(JsonNode) node = mt_json_parse_text (copy, length, max_depth);
  g_autoptr(JsonNode) walked = NULL;
  g_autofree char *walk_error = NULL;
  g_autofree char *skip_error = NULL;
  gboolean walked_ok, skipped_ok;
  MtJsonScan scan;

  if (node != NULL)
    g_test_message ("accepted: %s", printable);
  g_assert_null (node);

  mt_json_scan_init (&scan, copy, length, max_depth);
  walked = mt_json_scan_node (&scan);
  walked_ok = walked != NULL && mt_json_scan_end (&scan);
  walk_error = mt_json_scan_error (&scan);
  g_assert_false (walked_ok);
  g_assert_nonnull (walk_error);
  g_assert_cmpuint (scan.error_offset, <=, length);

  mt_json_scan_init (&scan, copy, length, max_depth);
  skipped_ok = mt_json_scan_skip (&scan, NULL, NULL) && mt_json_scan_end (&scan);
  skip_error = mt_json_scan_error (&scan);
  if (skipped_ok)
    g_test_message ("skipped as valid: %s", printable);
  g_assert_false (skipped_ok);
  g_assert_nonnull (skip_error);
}

static void
test_valid (void)
{
  static const char *const texts[] = {
    "{\"a\":{\"b\":{\"c\":[1,[2,[3,{}]]]}},\"d\":[],\"e\":{}}",
    "{}", "[]", "[{}]", "[[]]", "[[],{},[{}]]", "{\"\":\"\"}", "{\"a\":1,\"a\":[2]}",
    "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00e9 \\u4e2d \\u4E2D \\uffff\"",
    "\"\\ud83c\\udf5c \\uD83C\\uDF5C \\udbff\\udfff \\u2028\"",
    "\"\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x8d\x9c \xf4\x8f\xbf\xbf \x7f '\"",
    "{\"\xc3\xa9\":\"\xe4\xb8\xad\",\"\\u0069d\":\"\xf0\x9f\x8d\x9c\",\"k\\n\":\"\\ud83c\\udf5c\"}",
    "[0,-0,1e5,1E+5,1e-5,2E-3,-1.5e-3,1.0,-0.0,0.5,-12,0e0,123456789,123456789012345678]",
    "[1.7976931348623157e308,5e-324,0.1,3.141592653589793,-2.5E+10]",
    "[true,false,null]", "\"x\"", "42", "-1.25", "null", "true", "false", "\r\n7\r\n",
    (" \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ \t\r\n1 \t\r\n, \t\r\n\"b\" \t\r\n] \t\r\n, \t\r\n"
     "\"c\" \t\r\n: \t\r\n{ \t\r\n} \t\r\n} \t\r\n"),
  };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      gsize length = strlen (texts[i]);
      g_autoptr(JsonNode) ours = parse_valid (texts[i], length, MAX_DEPTH);
      g_autoptr(JsonNode) theirs = glib_parse (texts[i], length);

      g_assert_nonnull (theirs);
      assert_same_tree (ours, theirs, texts[i], length);
    }
}

#define TEXT(s) { s, sizeof (s) - 1 }

static void
test_invalid (void)
{
  static const struct { const char *text; gsize length; } texts[] = {
    TEXT ("{\"a\":1,}"), TEXT ("[1,]"), TEXT ("[1,2,]"), TEXT ("{,}"), TEXT ("[,]"), TEXT ("[,1]"),
    TEXT ("01"), TEXT ("[01]"), TEXT ("-01"), TEXT ("00"), TEXT ("-"), TEXT ("[-]"), TEXT ("1."),
    TEXT ("[1.]"), TEXT (".5"), TEXT ("1e"), TEXT ("1e+"), TEXT ("1.e5"), TEXT ("+1"), TEXT ("0x10"),
    TEXT ("{a:1}"), TEXT ("{\"a\":x}"), TEXT ("{'a':1}"), TEXT ("['a']"),
    TEXT ("// c\n1"), TEXT ("1 // c"), TEXT ("/* c */ 1"), TEXT ("[1 /* c */]"),
    TEXT ("\"a\nb\""), TEXT ("\"a\x01" "b\""), TEXT ("\"a\tb\""), TEXT ("\"a\0b\""), TEXT ("[\"\x1f\"]"),
    TEXT ("\"\\x\""), TEXT ("\"\\u12G4\""), TEXT ("\"\\u12\""), TEXT ("\"\\U0041\""), TEXT ("\"\\a\""),
    TEXT ("\"\\ud83c\\u\""), TEXT ("\"\\"), TEXT ("\"\\\""),
    TEXT ("\"\xff\""), TEXT ("\"\xc0\xaf\""), TEXT ("\"\xe0\x80\xaf\""), TEXT ("\"\xe4\xb8\""),
    TEXT ("\"\xf0\x9f\x8d\""), TEXT ("\"\xed\xa0\x80\""), TEXT ("\"\xf4\x90\x80\x80\""),
    TEXT ("\"\x80\""), TEXT ("{\"\xff\":1}"), TEXT ("\xff"),
    TEXT ("NaN"), TEXT ("[NaN]"), TEXT ("Infinity"), TEXT ("-Infinity"), TEXT ("[1,Infinity]"),
    TEXT ("tru"), TEXT ("nul"), TEXT ("fals"), TEXT ("[tru]"), TEXT ("True"), TEXT ("nulll"),
    TEXT ("truex"), TEXT ("1 2"), TEXT ("{} {}"), TEXT ("[1]]"), TEXT ("{\"a\":1}}"), TEXT ("[1] x"),
    TEXT (""), TEXT ("   "), TEXT (" \t\r\n"), TEXT ("\f1"), TEXT ("\"abc"), TEXT ("\"abc\\\""),
    TEXT ("{\"a\":1"), TEXT ("{\"a\":"), TEXT ("{\"a\""), TEXT ("{"), TEXT ("["), TEXT ("[1,2"), TEXT ("[1,"),
    TEXT ("{\"a\" 1}"), TEXT ("{\"a\":1 \"b\":2}"), TEXT ("[1 2]"), TEXT ("{\"a\":}"), TEXT ("{1:2}"),
    TEXT ("]"), TEXT ("}"), TEXT (":"), TEXT (","),
    TEXT ("{\"data\":[{\"id\":\"a\",\"n"), TEXT ("{\"data\":[{\"id\":\"a\",\"n\":1,\"skip\":{\"x\":[1,2,{\"y\":nu"),
  };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    assert_rejected (texts[i].text, texts[i].length, MAX_DEPTH);
}

static void
test_lone_surrogates (void)
{
  static const struct { const char *text; const char *string; } cases[] = {
    { "\"\\ud800\"", "\xef\xbf\xbd" }, { "\"\\udc00\"", "\xef\xbf\xbd" },
    { "\"a\\uDBFFb\"", "a\xef\xbf\xbd" "b" }, { "\"\\ud800\\u0041\"", "\xef\xbf\xbd" "A" },
    { "\"\\udc00\\ud800\"", "\xef\xbf\xbd\xef\xbf\xbd" }, { "\"\\udf5c\\ud83c\\udf5c\"", "\xef\xbf\xbd\xf0\x9f\x8d\x9c" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize length = strlen (cases[i].text);
      g_autoptr(JsonNode) node = parse_valid (cases[i].text, length, MAX_DEPTH);
      g_autoptr(GString) string = g_string_new ("left over");
      MtJsonScan scan;

      g_assert_cmpstr (json_node_get_string (node), ==, cases[i].string);
      mt_json_scan_init (&scan, cases[i].text, length, MAX_DEPTH);
      g_assert_true (mt_json_scan_string (&scan, string));
      g_assert_true (mt_json_scan_end (&scan));
      g_assert_cmpmem (string->str, string->len, cases[i].string, strlen (cases[i].string));
    }
}

static void
test_depth (void)
{
  static const char *const four_deep[] = {
    "[[[[1]]]]", "[[[[]]]]", "{\"a\":{\"a\":{\"a\":{\"a\":1}}}}", "{\"a\":{\"a\":{\"a\":{}}}}", "[{\"a\":[{}]}]",
  };
  static const char *const five_deep[] = {
    "[[[[[1]]]]]", "[[[[[]]]]]", "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}", "{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}",
    "[{\"a\":[{\"b\":[]}]}]",
  };
  g_autoptr(GString) unclosed = g_string_new (NULL);
  g_autoptr(GString) closed = g_string_new (NULL);
  MtJsonScan scan;

  for (guint i = 0; i < G_N_ELEMENTS (four_deep); i++)
    json_node_unref (parse_valid (four_deep[i], strlen (four_deep[i]), 4));
  for (guint i = 0; i < G_N_ELEMENTS (five_deep); i++)
    assert_rejected (five_deep[i], strlen (five_deep[i]), 4);

  /* The walking API refuses the level too many. */
  mt_json_scan_init (&scan, "[[[1]]]", 7, 2);
  g_assert_true (mt_json_scan_begin_array (&scan));
  g_assert_true (mt_json_scan_begin_array (&scan));
  g_assert_false (mt_json_scan_begin_array (&scan));
  g_assert_nonnull (scan.error);

  /* Far deeper than the C stack could recurse: refused, without a crash. */
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (unclosed, '[');
  g_string_append_printf (closed, "%s1", unclosed->str);
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (closed, ']');
  assert_rejected (unclosed->str, unclosed->len, 512);
  assert_rejected (closed->str, closed->len, 512);
}

static void
expect_member (MtJsonScan *scan, guint *count, GString *name, const char *expected)
{
  g_assert_cmpint (mt_json_scan_member (scan, count, name), ==, 1);
  g_assert_cmpstr (name->str, ==, expected);
}

static void
expect_string (MtJsonScan *scan, GString *value, const char *expected)
{
  g_assert_cmpint (mt_json_scan_peek (scan), ==, MT_JSON_SCAN_STRING);
  g_assert_true (mt_json_scan_string (scan, value));
  g_assert_cmpstr (value->str, ==, expected);
}

static void
test_walk (void)
{
  static const char doc[] =
    "{\"data\":[{\"id\":\"a\",\"n\":1,\"skip\":{\"x\":[1,2,{\"y\":null}]}},{\"\\u0069d\":\"b\\u0041\"}],"
    "\"meta\":{\"cursor\":\"c1\"}}";
  static const char skipped[] = "{\"x\":[1,2,{\"y\":null}]}";
  g_autoptr(GString) name = g_string_new (NULL);
  g_autoptr(GString) value = g_string_new (NULL);
  guint top = 0, data = 0, first = 0, second = 0, meta = 0;
  const char *raw = NULL;
  gsize raw_length = 0;
  double number = 0;
  gboolean is_integer = FALSE;
  gint64 integer = 0;
  MtJsonScan scan;

  mt_json_scan_init (&scan, doc, strlen (doc), 16);
  g_assert_cmpint (mt_json_scan_peek (&scan), ==, MT_JSON_SCAN_OBJECT);
  g_assert_true (mt_json_scan_begin_object (&scan));
  expect_member (&scan, &top, name, "data");
  g_assert_cmpint (mt_json_scan_peek (&scan), ==, MT_JSON_SCAN_ARRAY);
  g_assert_true (mt_json_scan_begin_array (&scan));

  /* The first item: a string, a number, and an object passed over whole. */
  g_assert_cmpint (mt_json_scan_element (&scan, &data), ==, 1);
  g_assert_cmpint (mt_json_scan_peek (&scan), ==, MT_JSON_SCAN_OBJECT);
  g_assert_true (mt_json_scan_begin_object (&scan));
  expect_member (&scan, &first, name, "id");
  expect_string (&scan, value, "a");
  expect_member (&scan, &first, name, "n");
  g_assert_cmpint (mt_json_scan_peek (&scan), ==, MT_JSON_SCAN_NUMBER);
  g_assert_true (mt_json_scan_number (&scan, &number, &is_integer, &integer));
  g_assert_true (is_integer);
  g_assert_cmpint (integer, ==, 1);
  g_assert_cmpfloat (number, ==, 1.0);
  expect_member (&scan, &first, name, "skip");
  g_assert_cmpint (mt_json_scan_peek (&scan), ==, MT_JSON_SCAN_OBJECT);
  g_assert_true (mt_json_scan_skip (&scan, &raw, &raw_length));
  g_assert_cmpmem (raw, raw_length, skipped, strlen (skipped));
  g_assert_true (raw == strstr (doc, skipped));
  g_assert_cmpint (mt_json_scan_member (&scan, &first, name), ==, 0);
  g_assert_cmpuint (first, ==, 3);

  /* The second: a member name and a value written with escapes. */
  g_assert_cmpint (mt_json_scan_element (&scan, &data), ==, 1);
  g_assert_true (mt_json_scan_begin_object (&scan));
  expect_member (&scan, &second, name, "id");
  expect_string (&scan, value, "bA");
  g_assert_cmpint (mt_json_scan_member (&scan, &second, name), ==, 0);
  g_assert_cmpint (mt_json_scan_element (&scan, &data), ==, 0);
  g_assert_cmpuint (data, ==, 2);

  expect_member (&scan, &top, name, "meta");
  g_assert_cmpint (mt_json_scan_peek (&scan), ==, MT_JSON_SCAN_OBJECT);
  g_assert_true (mt_json_scan_begin_object (&scan));
  expect_member (&scan, &meta, name, "cursor");
  expect_string (&scan, value, "c1");
  g_assert_cmpint (mt_json_scan_member (&scan, &meta, name), ==, 0);
  g_assert_cmpint (mt_json_scan_member (&scan, &top, name), ==, 0);
  g_assert_cmpuint (top, ==, 2);
  g_assert_true (mt_json_scan_end (&scan));
  assert_no_error (&scan);
}

static void
test_peek (void)
{
  static const char doc[] = "[null, false ,true,-1.5e3,\"s\\\"\" , {\"k\":[]},\n[{}], 0 ]";
  static const struct { MtJsonScanToken token; const char *raw; } values[] = {
    { MT_JSON_SCAN_NULL, "null" }, { MT_JSON_SCAN_FALSE, "false" }, { MT_JSON_SCAN_TRUE, "true" },
    { MT_JSON_SCAN_NUMBER, "-1.5e3" }, { MT_JSON_SCAN_STRING, "\"s\\\"\"" },
    { MT_JSON_SCAN_OBJECT, "{\"k\":[]}" }, { MT_JSON_SCAN_ARRAY, "[{}]" }, { MT_JSON_SCAN_NUMBER, "0" },
  };
  static const char *const not_values[] = { "x", "", "   ", "+1", "'a'", "NaN" };
  g_autoptr(GString) string = g_string_new (NULL);
  MtJsonScan scan;

  /* Pass 0 skips each value and checks its text; pass 1 reads each with its
   * own reader. Peeking twice shows that a peek consumes nothing. */
  for (guint pass = 0; pass < 2; pass++)
    {
      guint count = 0;

      mt_json_scan_init (&scan, doc, strlen (doc), 16);
      g_assert_true (mt_json_scan_begin_array (&scan));
      for (guint i = 0; i < G_N_ELEMENTS (values); i++)
        {
          MtJsonScanToken token = values[i].token;
          const char *raw = NULL;
          gsize raw_length = 0;
          double number = 0;

          g_assert_cmpint (mt_json_scan_element (&scan, &count), ==, 1);
          g_assert_cmpint (mt_json_scan_peek (&scan), ==, token);
          g_assert_cmpint (mt_json_scan_peek (&scan), ==, token);
          if (pass == 0)
            {
              g_assert_true (mt_json_scan_skip (&scan, &raw, &raw_length));
              g_assert_cmpmem (raw, raw_length, values[i].raw, strlen (values[i].raw));
            }
          else if (token == MT_JSON_SCAN_NULL || token == MT_JSON_SCAN_FALSE || token == MT_JSON_SCAN_TRUE)
            g_assert_true (mt_json_scan_literal (&scan));
          else if (token == MT_JSON_SCAN_NUMBER)
            {
              g_assert_true (mt_json_scan_number (&scan, &number, NULL, NULL));
              g_assert_cmpfloat (number, ==, g_ascii_strtod (values[i].raw, NULL));
            }
          else if (token == MT_JSON_SCAN_STRING)
            expect_string (&scan, string, "s\"");
          else
            g_assert_true (mt_json_scan_skip (&scan, NULL, NULL));
        }
      g_assert_cmpint (mt_json_scan_element (&scan, &count), ==, 0);
      g_assert_true (mt_json_scan_end (&scan));
      assert_no_error (&scan);
    }

  for (guint i = 0; i < G_N_ELEMENTS (not_values); i++)
    {
      mt_json_scan_init (&scan, not_values[i], strlen (not_values[i]), 16);
      g_assert_cmpint (mt_json_scan_peek (&scan), ==, MT_JSON_SCAN_ERROR_TOKEN);
    }
}

static void
test_misuse (void)
{
  static const char *const junk[] = { "{\"a\":1} x", "[1]]", "1 2", "{} {}", "null,", "\"a\"\"b\"" };
  g_autoptr(GString) string = g_string_new (NULL);
  MtJsonScan scan;

  /* Something after the top-level value. */
  for (guint i = 0; i < G_N_ELEMENTS (junk); i++)
    {
      mt_json_scan_init (&scan, junk[i], strlen (junk[i]), 16);
      g_assert_true (mt_json_scan_skip (&scan, NULL, NULL));
      g_assert_false (mt_json_scan_end (&scan));
      g_assert_nonnull (scan.error);
    }
  mt_json_scan_init (&scan, "[1] \t\r\n", 7, 16);
  g_assert_true (mt_json_scan_skip (&scan, NULL, NULL));
  g_assert_true (mt_json_scan_end (&scan));
  assert_no_error (&scan);

  /* Each reader refuses a value of another kind, and says so. */
  mt_json_scan_init (&scan, "42", 2, 16);
  g_assert_false (mt_json_scan_string (&scan, string));
  g_assert_nonnull (scan.error);
  mt_json_scan_init (&scan, "\"42\"", 4, 16);
  g_assert_false (mt_json_scan_number (&scan, NULL, NULL, NULL));
  g_assert_nonnull (scan.error);
  mt_json_scan_init (&scan, "{}", 2, 16);
  g_assert_false (mt_json_scan_begin_array (&scan));
  g_assert_nonnull (scan.error);
  mt_json_scan_init (&scan, "[]", 2, 16);
  g_assert_false (mt_json_scan_begin_object (&scan));
  g_assert_nonnull (scan.error);
  mt_json_scan_init (&scan, "1", 1, 16);
  g_assert_false (mt_json_scan_literal (&scan));
  g_assert_nonnull (scan.error);
}

/* As a tree and through mt_json_scan_number(). json-glib wraps integers
 * beyond 64 bits: these are checked against the documented types instead. */
static void
test_numbers (void)
{
  static const struct { const char *text; gboolean is_integer; gint64 integer; double value; } cases[] = {
    { "42", TRUE, 42, 42.0 }, { "-7", TRUE, -7, -7.0 }, { "0", TRUE, 0, 0.0 }, { "-0", TRUE, 0, 0.0 },
    { "3.25", FALSE, 0, 3.25 }, { "1e2", FALSE, 0, 100.0 }, { "-2.5E-1", FALSE, 0, -0.25 },
    { "1.0", FALSE, 0, 1.0 }, { "1E+5", FALSE, 0, 1e5 },
    { "123456789012345678", TRUE, 123456789012345678, 123456789012345678.0 },
    { "9223372036854775807", TRUE, G_MAXINT64, 9223372036854775807.0 },
    { "-9223372036854775808", TRUE, G_MININT64, -9223372036854775808.0 },
    { "9223372036854775808", FALSE, 0, 9223372036854775808.0 },
    { "-9223372036854775809", FALSE, 0, -9223372036854775808.0 },
    { "18446744073709551616", FALSE, 0, 18446744073709551616.0 },
    { "100000000000000000000", FALSE, 0, 1e20 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize length = strlen (cases[i].text);
      g_autoptr(JsonNode) node = parse_valid (cases[i].text, length, MAX_DEPTH);
      double value = -1;
      gboolean is_integer = !cases[i].is_integer;
      gint64 integer = -1;
      MtJsonScan scan;

      g_assert_cmpint (json_node_get_node_type (node), ==, JSON_NODE_VALUE);
      g_assert_cmpstr (g_type_name (json_node_get_value_type (node)), ==,
                       g_type_name (cases[i].is_integer ? G_TYPE_INT64 : G_TYPE_DOUBLE));
      if (cases[i].is_integer)
        g_assert_cmpint (json_node_get_int (node), ==, cases[i].integer);
      else
        g_assert_cmpfloat (json_node_get_double (node), ==, cases[i].value);

      mt_json_scan_init (&scan, cases[i].text, length, 16);
      g_assert_true (mt_json_scan_number (&scan, &value, &is_integer, &integer));
      g_assert_true (mt_json_scan_end (&scan));
      g_assert_cmpint (is_integer, ==, cases[i].is_integer);
      g_assert_cmpfloat (value, ==, cases[i].value);
      if (cases[i].is_integer)
        g_assert_cmpint (integer, ==, cases[i].integer);

      /* Every out-pointer is optional. */
      mt_json_scan_init (&scan, cases[i].text, length, 16);
      g_assert_true (mt_json_scan_number (&scan, NULL, NULL, NULL));
      g_assert_true (mt_json_scan_end (&scan));
    }
}

static gboolean
mentions_number (const char *message, guint64 number)
{
  for (const char *p = message; *p != '\0'; p++)
    if (g_ascii_isdigit (*p) && (p == message || !g_ascii_isdigit (p[-1]))
        && g_ascii_strtoull (p, NULL, 10) == number)
      return TRUE;
  return FALSE;
}

static void
test_errors (void)
{
  static const struct { const char *text; gsize offset; } cases[] = {
    { "[1,,2]", 3 }, { "{\"a\" 1}", 5 }, { "[1] x", 4 }, { "[true,\"a\x01\"]", 8 }, { "[\"ab\xff\"]", 4 },
  };
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *first = NULL;
  g_autofree char *again = NULL;
  guint count = 0;
  MtJsonScan scan;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) walked = NULL;
      g_autofree char *error = NULL;

      mt_json_scan_init (&scan, cases[i].text, strlen (cases[i].text), 16);
      walked = mt_json_scan_node (&scan);
      g_assert_false (walked != NULL && mt_json_scan_end (&scan));
      error = mt_json_scan_error (&scan);
      g_assert_nonnull (error);
      g_test_message ("%s", error);
      g_assert_cmpuint (scan.error_offset, ==, cases[i].offset);
      g_assert_true (mentions_number (error, cases[i].offset));
    }

  /* The first error stops the reader and stays the one reported. */
  mt_json_scan_init (&scan, "[1,,2]", 6, 16);
  g_assert_true (mt_json_scan_begin_array (&scan));
  for (guint i = 0; i < 3 && mt_json_scan_element (&scan, &count) == 1; i++)
    if (!mt_json_scan_skip (&scan, NULL, NULL))
      break;
  first = mt_json_scan_error (&scan);
  g_assert_nonnull (first);
  g_assert_cmpint (mt_json_scan_element (&scan, &count), ==, -1);
  g_assert_false (mt_json_scan_skip (&scan, NULL, NULL));
  g_assert_false (mt_json_scan_end (&scan));
  again = mt_json_scan_error (&scan);
  g_assert_cmpstr (first, ==, again);
  g_assert_true (mentions_number (again, 3));

  /* No error before or after a successful read. */
  mt_json_scan_init (&scan, "{\"a\":[1,2,3]}", 13, 16);
  assert_no_error (&scan);
  node = mt_json_scan_node (&scan);
  g_assert_nonnull (node);
  g_assert_true (mt_json_scan_end (&scan));
  assert_no_error (&scan);
}

/* Random JSON written out by hand for variety: escapes in every form, raw
 * UTF-8, white space wherever allowed, numbers of every shape. With
 * gen_repeats set, member names come from a small pool (so that they
 * repeat, in several spellings) and strings may hold U+0000. */
static gboolean gen_repeats;

static void
gen_space (GRand *rand, GString *out)
{
  while (g_rand_int_range (rand, 0, 4) == 0)
    g_string_append_c (out, " \t\r\n"[g_rand_int_range (rand, 0, 4)]);
}

static void
gen_string (GRand *rand, GString *out)
{
  static const char *const pieces[] = {
    "a", "Z", "0", " ", "'", "/", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041",
    "\\u00e9", "\\u4E2D", "\\ud83c\\udf5c", "\\uDBFF\\uDFFF", "\\u001f", "\\u2028", "\xc3\xa9", "\xe4\xb8\xad",
    "\xf0\x9f\x8d\x9c", "\x7f",
  };
  guint n = g_rand_int_range (rand, 0, 8);

  if (gen_repeats && g_rand_int_range (rand, 0, 40) == 0)
    {
      g_string_append (out, "\"x\\u0000y\"");
      return;
    }
  g_string_append_c (out, '"');
  for (guint i = 0; i < n; i++)
    {
      guint piece = g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces) + 1);
      guint unit = g_rand_int_range (rand, 1, 0x10000 - 0x800);   /* no NUL, no surrogate */

      if (piece < G_N_ELEMENTS (pieces))
        g_string_append (out, pieces[piece]);
      else
        g_string_append_printf (out, g_rand_boolean (rand) ? "\\u%04x" : "\\u%04X",
                                unit < 0xd800 ? unit : unit + 0x800);
    }
  g_string_append_c (out, '"');
}

static void
gen_number (GRand *rand, GString *out)
{
  static const char *const signs[] = { "", "+", "-" };
  /* Drawn one by one: the order in which arguments are evaluated is not. */
  guint32 high = g_rand_int (rand);
  guint64 big = ((guint64) high << 32) | g_rand_int (rand);
  guint kind = g_rand_int_range (rand, 0, 4);
  int whole = g_rand_boolean (rand) ? 0 : g_rand_int_range (rand, 1, 100000);
  int fraction_digits = g_rand_int_range (rand, 1, 7);
  int fraction = g_rand_int_range (rand, 0, 1000000);
  gboolean exponent = g_rand_boolean (rand);
  char e = g_rand_boolean (rand) ? 'e' : 'E';
  const char *sign = signs[g_rand_int_range (rand, 0, 3)];
  int power = g_rand_int_range (rand, 0, 100);

  if (g_rand_boolean (rand))
    g_string_append_c (out, '-');
  if (kind == 0)
    g_string_append_c (out, '0');
  else if (kind == 1)
    g_string_append_printf (out, "%d", g_rand_int_range (rand, 1, 1000000000));
  else if (kind == 2)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, big % G_GUINT64_CONSTANT (1000000000000000000));
  else
    {
      g_string_append_printf (out, "%d", whole);
      if (!exponent || g_rand_boolean (rand))
        g_string_append_printf (out, ".%0*d", fraction_digits, fraction);
      if (exponent)
        g_string_append_printf (out, "%c%s%d", e, sign, power);
    }
}

static void
gen_value (GRand *rand, GString *out, guint depth)
{
  static const char *const literals[] = { "null", "true", "false" };
  guint kind = g_rand_int_range (rand, 0, depth >= 6 ? 5 : 7);
  guint n = g_rand_int_range (rand, 0, 5);

  gen_space (rand, out);
  if (kind == 0)
    g_string_append (out, literals[g_rand_int_range (rand, 0, 3)]);
  else if (kind <= 2)
    gen_number (rand, out);
  else if (kind <= 4)
    gen_string (rand, out);
  else
    {
      g_string_append_c (out, kind == 5 ? '[' : '{');
      for (guint i = 0; i < n; i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          if (kind == 6 && gen_repeats && g_rand_int_range (rand, 0, 4) > 0)
            {
              static const char *const names[] = {
                "\"a\"", "\"b\"", "\"\\u0061\"", "\"role\"", "\"content\"", "\"\\u0000\"",
              };

              g_string_append (out, names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))]);
              g_string_append_c (out, ':');
            }
          else if (kind == 6)
            {
              gen_space (rand, out);
              gen_string (rand, out);
              gen_space (rand, out);
              g_string_append_c (out, ':');
            }
          gen_value (rand, out, depth + 1);
        }
      gen_space (rand, out);
      g_string_append_c (out, kind == 5 ? ']' : '}');
    }
  gen_space (rand, out);
}

/* Deletes, inserts or replaces one byte, most often one that means
 * something in JSON. */
static void
mutate (GRand *rand, GString *text)
{
  static const char bytes[] = "{}[]:,\"\\ \t\n0123456789-+.eEtrufalsnu/'x";
  char byte = g_rand_int_range (rand, 0, 8) == 0 ? (char) g_rand_int_range (rand, 0, 256)
                                                 : bytes[g_rand_int_range (rand, 0, sizeof bytes - 1)];
  gsize at = g_rand_int_range (rand, 0, text->len);
  guint how = g_rand_int_range (rand, 0, 3);

  if (how == 0)
    g_string_erase (text, at, 1);
  else if (how == 1)
    g_string_insert_c (text, g_rand_int_range (rand, 0, text->len + 1), byte);
  else
    text->str[at] = byte;
}

static int
hex4 (const char *p)
{
  int unit = 0;

  for (guint i = 0; i < 4; i++)
    {
      if (!g_ascii_isxdigit (p[i]))
        return -1;
      unit = unit * 16 + g_ascii_xdigit_value (p[i]);
    }
  return unit;
}

/* Valid JSON that json-glib 1.6 reads otherwise or refuses: a lone surrogate
 * escape (refused), \u0000 (the string is cut there), an integer beyond 64
 * bits (wrapped). Such texts are left out of the comparison. */
static gboolean
glib_differs (const GString *text)
{
  guint digits = 0;

  for (gsize i = 0; i < text->len; i++)
    {
      int unit, low = -1;

      digits = g_ascii_isdigit (text->str[i]) ? digits + 1 : 0;
      if (digits >= 19)
        return TRUE;
      if (text->str[i] != '\\' || i + 1 >= text->len)
        continue;
      i++;   /* the escaped character: an escaped backslash escapes nothing */
      if (text->str[i] != 'u' || i + 4 >= text->len || (unit = hex4 (text->str + i + 1)) < 0)
        continue;
      i += 4;
      if (i + 6 < text->len && text->str[i + 1] == '\\' && text->str[i + 2] == 'u')
        low = hex4 (text->str + i + 3);
      if (unit == 0 || (unit >= 0xdc00 && unit < 0xe000))
        return TRUE;
      if (unit >= 0xd800 && unit < 0xdc00)
        {
          if (low < 0xdc00 || low >= 0xe000)
            return TRUE;
          i += 6;
        }
    }
  return FALSE;
}

/* Compares with json-glib; returns whether our reader accepted @text. */
static gboolean
check_against_glib (const GString *text, gboolean generated)
{
  g_autofree char *copy = exact_copy (text->str, text->len);
  g_autofree char *printable = shown (text->str, text->len);
  g_autoptr(JsonNode) ours = mt_json_parse_text (copy, text->len, MAX_DEPTH);
  g_autoptr(JsonNode) theirs = NULL;
  MtJsonScan scan;

  if (generated && ours == NULL)
    g_test_message ("generated, but refused: %s", printable);
  g_assert_true (ours != NULL || !generated);

  /* Skipping checks exactly what building a tree checks. */
  mt_json_scan_init (&scan, copy, text->len, MAX_DEPTH);
  g_assert_cmpint (mt_json_scan_skip (&scan, NULL, NULL) && mt_json_scan_end (&scan), ==, ours != NULL);

  if (ours == NULL || glib_differs (text))
    return ours != NULL;
  /* What json-glib refuses, we refuse; what we accept, it reads alike.
   * (It is asked only then: json-glib 1.6 leaks on the texts it refuses.) */
  theirs = glib_parse (text->str, text->len);
  if (theirs == NULL)
    g_test_message ("accepted, but json-glib refuses: %s", printable);
  g_assert_nonnull (theirs);
  assert_same_tree (ours, theirs, text->str, text->len);
  return TRUE;
}

static void
test_fuzz (void)
{
  GRand *rand = g_rand_new_with_seed (2026);
  guint accepted = 0, refused = 0;

  for (guint i = 0; i < 2000; i++)
    {
      g_autoptr(GString) text = g_string_new (NULL);

      gen_value (rand, text, 0);
      check_against_glib (text, TRUE);
      for (guint j = 0; j < 8; j++)
        {
          g_autoptr(GString) mutated = g_string_new_len (text->str, text->len);

          mutate (rand, mutated);
          if (check_against_glib (mutated, FALSE))
            accepted++;
          else
            refused++;
        }
    }
  g_rand_free (rand);

  /* Both outcomes came up often: the comparison was not vacuous. */
  g_test_message ("mutated texts: %u accepted, %u refused", accepted, refused);
  g_assert_cmpuint (accepted, >, 1000);
  g_assert_cmpuint (refused, >, 1000);
}

static char *
written_from_tree (const char *text, gsize length, gboolean pretty)
{
  g_autoptr(JsonNode) node = mt_json_parse_text (text, length, MAX_DEPTH);
  GString *out = g_string_new (NULL);
  g_autoptr(MtJsonWriter) writer = mt_json_writer_new (out, pretty);

  g_assert_nonnull (node);
  /* Inside an object, as a trace's input is written. */
  mt_json_writer_begin_object (writer);
  mt_json_writer_member (writer, "input");
  mt_json_writer_node (writer, node);
  mt_json_writer_end_object (writer);
  return g_string_free (out, FALSE);
}

static char *
written_from_text (const char *text, gsize length, gboolean pretty)
{
  GString *out = g_string_new (NULL);
  g_autoptr(MtJsonWriter) writer = mt_json_writer_new (out, pretty);

  mt_json_writer_begin_object (writer);
  mt_json_writer_member (writer, "input");
  g_assert_true (mt_json_writer_text (writer, text, length));
  mt_json_writer_end_object (writer);
  return g_string_free (out, FALSE);
}

static void
assert_plain (const char *text, gboolean plain)
{
  g_autofree char *tree = NULL;
  g_autofree char *direct = NULL;

  g_assert_cmpint (mt_json_text_is_plain (text, strlen (text), MAX_DEPTH), ==, plain);
  if (!plain)
    return;
  tree = written_from_tree (text, strlen (text), TRUE);
  direct = written_from_text (text, strlen (text), TRUE);
  g_assert_cmpstr (direct, ==, tree);
}

static void
test_plain_cases (void)
{
  g_autoptr(GString) wide = g_string_new ("{");

  assert_plain ("{\"a\": {\"a\": 1}, \"b\": {\"a\": [1, 2.50, -0, -0.0, 1e400, 1E2]}}", TRUE);
  assert_plain ("[\"caf\\u00e9 \\ud83c\\udf5c\\n\", \"\\/\", \"\xc3\xa9\", true, false, null]", TRUE);
  assert_plain ("  \"just a string\"  ", TRUE);
  assert_plain ("12345678901234567890", TRUE);
  /* A repeated name, in any spelling: the tree keeps the first place and
   * the last value, which the text alone cannot give. */
  assert_plain ("{\"a\": 1, \"a\": 2}", FALSE);
  assert_plain ("{\"a\": 1, \"\\u0061\": 2}", FALSE);
  assert_plain ("[{\"x\": {\"y\": 1, \"y\": 1}}]", FALSE);
  /* U+0000 cuts a tree's string short, and the writer's alike; names
   * that become one in the tree are repeated. */
  assert_plain ("[\"a\\u0000b\", {\"c\\u0000\": 1}]", TRUE);
  assert_plain ("{\"a\\u0000x\": 1, \"a\": 2}", FALSE);
  /* Not JSON, or too deep: not plain either. */
  assert_plain ("{\"a\": }", FALSE);
  assert_plain ("[1] 2", FALSE);

  /* 64 members are compared; more are left to the tree. */
  for (guint i = 0; i < 64; i++)
    g_string_append_printf (wide, "%s\"m%u\": %u", i > 0 ? ", " : "", i, i);
  g_string_append_c (wide, '}');
  assert_plain (wide->str, TRUE);
  g_string_insert (wide, 1, "\"extra\": 0, ");
  assert_plain (wide->str, FALSE);
}

/* A plain text written from the text, pretty and compact, is byte for
 * byte what its tree gives; a text that is not plain is one where the two
 * differ (a repeated name). */
static void
test_plain_writes_as_tree (void)
{
  GRand *rand = g_rand_new_with_seed (20261124);
  guint plain = 0, other = 0;

  gen_repeats = TRUE;
  for (guint i = 0; i < 3000; i++)
    {
      g_autoptr(GString) text = g_string_new (NULL);

      gen_value (rand, text, 0);
      if (!mt_json_text_is_plain (text->str, text->len, MAX_DEPTH))
        {
          g_autofree char *tree = written_from_tree (text->str, text->len, TRUE);
          g_autofree char *direct = written_from_text (text->str, text->len, TRUE);

          /* Only where the two would differ. */
          g_assert_cmpstr (direct, !=, tree);
          other++;
          continue;
        }
      plain++;
      for (guint pretty = 0; pretty < 2; pretty++)
        {
          g_autofree char *tree = written_from_tree (text->str, text->len, pretty);
          g_autofree char *direct = written_from_text (text->str, text->len, pretty);

          g_assert_cmpstr (direct, ==, tree);
        }
      {
        g_autoptr(JsonNode) node = mt_json_parse_text (text->str, text->len, MAX_DEPTH);
        g_autofree char *tree = mt_json_node_to_compact (node);
        g_autofree char *direct = mt_json_text_to_compact (text->str, text->len);

        g_assert_cmpstr (direct, ==, tree);
      }
    }
  gen_repeats = FALSE;
  g_rand_free (rand);

  g_test_message ("%u plain texts, %u not", plain, other);
  g_assert_cmpuint (plain, >, 1000);
  g_assert_cmpuint (other, >, 100);
}

/* A special byte at every place of a string longer than one eight-byte
 * step, set against json-glib: the scanner's stretches of plain text must
 * stop exactly where they should. */
static void
test_every_offset (void)
{
  static const char *const specials[] = { "\\\"", "\\\\", "\\n", "\\u00e9", "\xc3\xa9", "\xe1\xbb\x87", "\"", "\x01", "\x7f", "\xff" };

  for (guint s = 0; s < G_N_ELEMENTS (specials); s++)
    for (guint at = 0; at <= 25; at++)
      {
        g_autoptr(GString) text = g_string_new ("\"");
        g_autoptr(GString) value = g_string_new (NULL);
        g_autoptr(JsonParser) parser = json_parser_new ();
        g_autoptr(GError) error = NULL;
        MtJsonScan scan;
        gboolean ok, expected;

        for (guint i = 0; i < at; i++)
          g_string_append_c (text, (char) ('a' + i % 26));
        g_string_append (text, specials[s]);
        g_string_append (text, "tail of the string\"");
        expected = json_parser_load_from_data (parser, text->str, (gssize) text->len, &error);
        /* json-glib takes a control character in a string; JSON does not. */
        if (strcmp (specials[s], "\x01") == 0)
          expected = FALSE;

        mt_json_scan_init (&scan, text->str, text->len, 64);
        ok = mt_json_scan_string (&scan, value) && mt_json_scan_end (&scan);
        g_assert_cmpint (ok, ==, expected);
        if (ok)
          g_assert_cmpstr (value->str, ==, json_node_get_string (json_parser_get_root (parser)));
        else if (strcmp (specials[s], "\"") != 0)
          /* Where it failed: at the byte that is not allowed. */
          g_assert_cmpuint (scan.error_offset, ==, 1 + at);
      }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/json-scan/valid", test_valid);
  g_test_add_func ("/json-scan/invalid", test_invalid);
  g_test_add_func ("/json-scan/lone-surrogates", test_lone_surrogates);
  g_test_add_func ("/json-scan/depth", test_depth);
  g_test_add_func ("/json-scan/walk", test_walk);
  g_test_add_func ("/json-scan/peek", test_peek);
  g_test_add_func ("/json-scan/misuse", test_misuse);
  g_test_add_func ("/json-scan/numbers", test_numbers);
  g_test_add_func ("/json-scan/errors", test_errors);
  g_test_add_func ("/json-scan/fuzz", test_fuzz);
  g_test_add_func ("/json-scan/plain-cases", test_plain_cases);
  g_test_add_func ("/json-scan/every-offset", test_every_offset);
  g_test_add_func ("/json-scan/plain-writes-as-tree", test_plain_writes_as_tree);

  return g_test_run ();
}
