/* test-export.c — the JSON and CSV exports, byte for byte, and safe files */

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#include <glib/gstdio.h>

#include "mt-core.h"
#include "mt-json-scan.h"

#define T0 G_GINT64_CONSTANT (1738281600000) /* 2025-01-31T00:00:00Z */
#define MINUTES(m) ((gint64) (m) * 60000)

static MtTrace *
trace (const char *id, const char *user, gint64 time)
{
  MtTrace *t = mt_trace_new (id, user, time);
  g_autofree char *url = g_strdup_printf ("https://cloud.langfuse.com/project/proj-1/traces/%s", id);

  mt_trace_set_name (t, "meal_analysis");
  mt_trace_set_html_url (t, url);
  return t;
}

static MtImage *
image (const char *key, const char *user, gint64 time)
{
  MtImage *i = mt_image_new (key, user, time, 204800, "\"9b2cf535f27731c974343645a3985328\"");
  g_autofree char *url = g_strdup_printf ("https://meals.s3.amazonaws.com/%s?X-Amz-Signature=0f0f", key);

  mt_image_set_url (i, url);
  return i;
}

/* Input and output as trees, or, with json_as_text, kept as the texts
 * (as a Langfuse page hands them over): the exports are the same. */
static gboolean json_as_text;

static void
set_json (MtTrace *t, const char *input, const char *output)
{
  g_autoptr(JsonNode) in = input ? json_from_string (input, NULL) : NULL;
  g_autoptr(JsonNode) out = output ? json_from_string (output, NULL) : NULL;

  if (json_as_text)
    {
      g_assert_true (mt_json_text_is_plain (input, strlen (input), 64));
      g_assert_true (mt_json_text_is_plain (output, strlen (output), 64));
      mt_trace_take_input_text (t, g_strdup (input), strlen (input));
      mt_trace_take_output_text (t, g_strdup (output), strlen (output));
      /* The tree, when asked for, is the text's. */
      g_assert_true (json_node_equal (mt_trace_get_input (t), in));
      g_assert_true (json_node_equal (mt_trace_get_output (t), out));
      return;
    }
  mt_trace_set_input (t, in);
  mt_trace_set_output (t, out);
}

/* Every case the exports know: matched users (one with every awkward
 * character), a user without images, one without eligible traces, an
 * incomplete one, and a trace without user. */
static MtMatchResult *
fixture (void)
{
  g_autoptr(MtMatcher) m = mt_matcher_new ();
  g_autoptr(GPtrArray) objects = g_ptr_array_new_with_free_func (g_object_unref);
  MtMatchResult *result;
  MtTrace *t;

  mt_matcher_set_window (m, T0 - MINUTES (7 * 24 * 60), T0 + MINUTES (24 * 60), 7);
  mt_matcher_set_max_gap_ms (m, MINUTES (60));

  /* user-a: two pairs, one unused trace, one image too late for any. */
  t = trace ("trace-a1", "user-a", T0 + MINUTES (9 * 60 + 25));
  mt_trace_set_session_id (t, "session-a");
  mt_trace_set_model_name (t, "gpt-4o-mini");
  mt_trace_set_prompt (t, "meal-analyzer v3");
  mt_trace_set_cost (t, 0.0023);
  mt_trace_set_total_cost (t, 0.0145);
  set_json (t, "{\"messages\":[{\"role\":\"system\",\"content\":\"You are a nutrition expert.\"},"
               "{\"role\":\"user\",\"content\":\"analyze this meal image\"}]}",
            "{\"dish\":\"ph\xe1\xbb\x9f b\xc3\xb2\",\"kcal\":450,\"protein_g\":30.5,\"vegan\":false}");
  g_ptr_array_add (objects, t);
  t = trace ("trace-a2", "user-a", T0 + MINUTES (12 * 60) + 250);
  mt_trace_set_model_name (t, "gpt-4o");
  mt_trace_set_cost (t, 1e-05);
  mt_trace_set_total_cost (t, 0.02);
  set_json (t, "\"what is on this plate?\"", "\"Grilled chicken with rice.\"");
  g_ptr_array_add (objects, t);
  g_ptr_array_add (objects, trace ("trace-a3", "user-a", T0 + MINUTES (18 * 60)));
  g_ptr_array_add (objects, image ("meal-images/user-a/breakfast.jpg", "user-a", T0 + MINUTES (9 * 60 + 30)));
  g_ptr_array_add (objects, image ("meal-images/user-a/lunch.png", "user-a", T0 + MINUTES (12 * 60 + 1) + 750));
  g_ptr_array_add (objects, image ("meal-images/user-a/snack.webp", "user-a", T0 + MINUTES (16 * 60)));

  /* user-b: one pair full of text a spreadsheet or a CSV reader trips on. */
  t = trace ("trace-b1", "user-b", T0 + MINUTES (8 * 60));
  mt_trace_set_name (t, "meal, \"special\"\nedition");
  mt_trace_set_session_id (t, "@session");
  mt_trace_set_model_name (t, "\tclaude");
  mt_trace_set_prompt (t, "=HYPERLINK(\"http://evil\")");
  mt_trace_set_cost (t, -0.5);
  set_json (t, "\"+1 bowl\"", "\"-5 kcal\\r\\nper serving\"");
  g_ptr_array_add (objects, t);
  g_ptr_array_add (objects, image ("meal-images/user-b/c\xc6\xa1m t\xe1\xba\xa5m, 1.JPG", "user-b",
                                   T0 + MINUTES (8 * 60 + 2)));

  /* user-c: traces, no images. */
  g_ptr_array_add (objects, trace ("trace-c1", "user-c", T0 + MINUTES (60)));
  /* user-d: an image before its only trace. */
  g_ptr_array_add (objects, trace ("trace-d1", "user-d", T0 + MINUTES (120)));
  g_ptr_array_add (objects, image ("meal-images/user-d/early.gif", "user-d", T0 + MINUTES (30)));
  /* user-e: the listing failed. */
  g_ptr_array_add (objects, trace ("trace-e1", "user-e", T0 + MINUTES (300)));
  g_ptr_array_add (objects, image ("meal-images/user-e/partial.heic", "user-e", T0 + MINUTES (301)));
  /* No user: counted, not matched. */
  g_ptr_array_add (objects, trace ("trace-anon", NULL, T0 + MINUTES (200)));

  for (guint i = 0; i < objects->len; i++)
    {
      gpointer object = g_ptr_array_index (objects, i);

      if (MT_IS_TRACE (object))
        mt_matcher_add_traces (m, (MtTrace **) &object, 1);
      else
        mt_matcher_add_images (m, (MtImage **) &object, 1);
    }
  mt_matcher_mark_incomplete (m, "user-e");

  result = mt_matcher_run (m);
  mt_match_result_set_langfuse_api (result, "v2");
  mt_match_result_set_s3_listing (result, "per_user");
  mt_match_result_add_error (result, "S3: listing meal-images/user-e/ failed after 5 attempts (503 Slow Down)");
  return result;
}

static MtExporter *
golden_exporter (const char *zone_spec)
{
  g_autoptr(GTimeZone) zone = mt_time_zone_new (zone_spec, NULL);
  MtExporter *exporter = mt_exporter_new (zone);

  mt_exporter_set_export_time (exporter, T0 + MINUTES (17 * 60 + 30) - MINUTES (7 * 60));
  mt_exporter_set_application_version (exporter, "golden");
  return exporter;
}

static GBytes *
export_bytes (MtExporter *exporter, MtMatchResult *result, MtExportFormat format)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;

  g_assert_true (mt_exporter_write_to_stream (exporter, result, format, out, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

static void
compare_golden (GBytes *actual, const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "golden", name, NULL);
  g_autofree char *expected = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;

  /* MT_UPDATE_GOLDEN=1 rewrites the golden files; review the diff. */
  if (g_getenv ("MT_UPDATE_GOLDEN") != NULL)
    {
      g_assert_true (g_file_set_contents (path, g_bytes_get_data (actual, NULL),
                                          g_bytes_get_size (actual), &error));
      g_assert_no_error (error);
    }

  g_assert_true (g_file_get_contents (path, &expected, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (actual, NULL), g_bytes_get_size (actual), expected, len);
}

static void
test_golden_json (gconstpointer as_text)
{
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(MtExporter) exporter = golden_exporter ("+07:00");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root, *summary, *metadata;

  json_as_text = GPOINTER_TO_INT (as_text);
  result = fixture ();
  json_as_text = FALSE;
  bytes = export_bytes (exporter, result, MT_EXPORT_FORMAT_JSON);

  compare_golden (bytes, "export.json");

  /* The bytes also parse, and say what the result says. */
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                             g_bytes_get_size (bytes), &error));
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  metadata = json_object_get_object_member (root, "metadata");
  summary = json_object_get_object_member (root, "summary");
  g_assert_false (json_object_get_boolean_member (metadata, "complete"));
  g_assert_cmpstr (json_object_get_string_member (metadata, "time_filter"), ==, "Past 7 days");
  g_assert_cmpint (json_object_get_int_member (summary, "total_users"), ==, 5);
  g_assert_cmpint (json_object_get_int_member (summary, "total_matched_pairs"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (summary, "traces_without_user"), ==, 1);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "successful_matches")), ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "users_without_counterpart")), ==, 3);
}

static void
test_golden_csv (gconstpointer as_text)
{
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(MtExporter) exporter = golden_exporter ("+07:00");
  g_autoptr(GBytes) bytes = NULL;

  json_as_text = GPOINTER_TO_INT (as_text);
  result = fixture ();
  json_as_text = FALSE;
  bytes = export_bytes (exporter, result, MT_EXPORT_FORMAT_CSV);
  compare_golden (bytes, "export.csv");
}

/* An RFC 4180 reader, to check that what we write reads back field by field. */
static GPtrArray *
parse_csv (const char *text)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  GPtrArray *row = g_ptr_array_new_with_free_func (g_free);
  GString *field = g_string_new (NULL);
  const char *p = text;

  while (*p != '\0')
    {
      if (*p == '"')
        {
          for (p++; !(*p == '"' && p[1] != '"'); p++)
            {
              g_assert_cmpint (*p, !=, '\0');
              if (*p == '"')
                p++;
              g_string_append_c (field, *p);
            }
          p++;
        }
      else
        {
          for (; *p != ',' && *p != '\r' && *p != '\0'; p++)
            {
              g_assert_cmpint (*p, !=, '"');
              g_assert_cmpint (*p, !=, '\n');
              g_string_append_c (field, *p);
            }
        }
      g_ptr_array_add (row, g_strdup (field->str));
      g_string_truncate (field, 0);
      if (*p == ',')
        p++;
      else
        {
          g_assert_cmpint (p[0], ==, '\r');
          g_assert_cmpint (p[1], ==, '\n');
          p += 2;
          g_ptr_array_add (rows, row);
          row = g_ptr_array_new_with_free_func (g_free);
        }
    }
  g_ptr_array_unref (row);
  g_string_free (field, TRUE);
  return rows;
}

#define CELL(rows, r, c) ((const char *) g_ptr_array_index ((GPtrArray *) g_ptr_array_index (rows, r), c))

static void
test_csv_cells (void)
{
  g_autoptr(MtMatchResult) result = fixture ();
  g_autoptr(MtExporter) exporter = golden_exporter ("+07:00");
  g_autoptr(GBytes) bytes = export_bytes (exporter, result, MT_EXPORT_FORMAT_CSV);
  g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_autoptr(GPtrArray) rows = parse_csv (text);
  guint b;

  g_assert_true (g_utf8_validate (text, -1, NULL));
  g_assert_cmpuint (rows->len, ==, 4);
  for (guint r = 0; r < rows->len; r++)
    g_assert_cmpuint (((GPtrArray *) g_ptr_array_index (rows, r))->len, ==, 16);
  g_assert_cmpstr (CELL (rows, 0, 0), ==, "user_id");
  g_assert_cmpstr (CELL (rows, 0, 15), ==, "time_difference_seconds");

  /* user-a: the object input written compact, the string output as text. */
  g_assert_cmpstr (CELL (rows, 1, 3), ==,
                   "{\"messages\":[{\"role\":\"system\",\"content\":\"You are a nutrition expert.\"},"
                   "{\"role\":\"user\",\"content\":\"analyze this meal image\"}]}");
  g_assert_cmpstr (CELL (rows, 1, 5), ==,
                   "{\"dish\":\"ph\xe1\xbb\x9f b\xc3\xb2\",\"kcal\":450,\"protein_g\":30.5,\"vegan\":false}");
  g_assert_cmpstr (CELL (rows, 1, 6), ==, "0.0023");
  g_assert_cmpstr (CELL (rows, 1, 11), ==, "2025-01-31T16:25:00+07:00");
  g_assert_cmpstr (CELL (rows, 1, 15), ==, "300");
  g_assert_cmpstr (CELL (rows, 2, 4), ==, "");
  g_assert_cmpstr (CELL (rows, 2, 5), ==, "Grilled chicken with rice.");
  g_assert_cmpstr (CELL (rows, 2, 6), ==, "1e-05");
  g_assert_cmpstr (CELL (rows, 2, 13), ==, "");
  g_assert_cmpstr (CELL (rows, 2, 15), ==, "60.5");

  /* user-b: quotes, commas and line breaks survive quoting; every text cell
   * that starts like a formula is defused; a negative cost is a number. */
  b = 3;
  g_assert_cmpstr (CELL (rows, b, 0), ==, "user-b");
  g_assert_cmpstr (CELL (rows, b, 2), ==, "meal, \"special\"\nedition");
  g_assert_cmpstr (CELL (rows, b, 3), ==, "'+1 bowl");
  g_assert_cmpstr (CELL (rows, b, 4), ==, "'=HYPERLINK(\"http://evil\")");
  g_assert_cmpstr (CELL (rows, b, 5), ==, "'-5 kcal\r\nper serving");
  g_assert_cmpstr (CELL (rows, b, 6), ==, "-0.5");
  g_assert_cmpstr (CELL (rows, b, 7), ==, "'\tclaude");
  g_assert_cmpstr (CELL (rows, b, 8), ==, "");
  g_assert_cmpstr (CELL (rows, b, 9), ==, "c\xc6\xa1m t\xe1\xba\xa5m, 1.JPG");
  g_assert_cmpstr (CELL (rows, b, 13), ==, "'@session");
  g_assert_cmpstr (CELL (rows, b, 14), ==, "meal-images/user-b/c\xc6\xa1m t\xe1\xba\xa5m, 1.JPG");
  g_assert_cmpstr (CELL (rows, b, 15), ==, "120");

  /* And the raw bytes quote exactly as RFC 4180 says. */
  g_assert_nonnull (strstr (text, ",\"meal, \"\"special\"\"\nedition\","));
  g_assert_nonnull (strstr (text, ",'+1 bowl,"));
}

static void
test_csv_guard_each_character (void)
{
  static const char *const risky[] = { "=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx" };
  static const char *const safe[] = { "1+1", "a=b", " =1", "'=1", "" };

  for (guint k = 0; k < G_N_ELEMENTS (risky) + G_N_ELEMENTS (safe); k++)
    {
      gboolean is_risky = k < G_N_ELEMENTS (risky);
      const char *value = is_risky ? risky[k] : safe[k - G_N_ELEMENTS (risky)];
      g_autoptr(MtMatcher) m = mt_matcher_new ();
      g_autoptr(MtTrace) t = mt_trace_new ("t", "u", T0);
      g_autoptr(MtImage) i = mt_image_new ("k", "u", T0 + 1000, 1, NULL);
      g_autoptr(MtMatchResult) r = NULL;
      g_autoptr(MtExporter) exporter = golden_exporter ("UTC");
      g_autoptr(GBytes) bytes = NULL;
      g_autofree char *text = NULL;
      g_autoptr(GPtrArray) rows = NULL;
      g_autofree char *expected = NULL;

      mt_trace_set_model_name (t, value);
      mt_matcher_add_user (m, "u", &t, 1, &i, 1);
      r = mt_matcher_run (m);
      bytes = export_bytes (exporter, r, MT_EXPORT_FORMAT_CSV);
      text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      rows = parse_csv (text);
      expected = is_risky ? g_strconcat ("'", value, NULL) : g_strdup (value);
      g_assert_cmpstr (CELL (rows, 1, 7), ==, expected);
    }
}

static void
test_csv_json_cells (void)
{
  struct { const char *json; const char *cell; } cases[] = {
    { "\"plain text\"", "plain text" },
    { "42", "42" },
    { "2.50", "2.5" },
    { "true", "true" },
    { "null", "" },
    { "[1, \"two\", {\"three\": 3}]", "[1,\"two\",{\"three\":3}]" },
    { "{\"a\": {\"b\": []}}", "{\"a\":{\"b\":[]}}" },
    { "-7", "'-7" },
    { "\"\"", "" },
  };

  for (guint n = 0; n < 2 * G_N_ELEMENTS (cases); n++)
    {
      guint k = n / 2;
      g_autoptr(MtMatcher) m = mt_matcher_new ();
      g_autoptr(MtTrace) t = mt_trace_new ("t", "u", T0);
      g_autoptr(MtImage) i = mt_image_new ("k", "u", T0 + 1000, 1, NULL);
      g_autoptr(MtMatchResult) r = NULL;
      g_autoptr(MtExporter) exporter = golden_exporter ("UTC");
      g_autoptr(GBytes) bytes = NULL;
      g_autofree char *text = NULL;
      g_autoptr(GPtrArray) rows = NULL;

      json_as_text = n % 2 == 1;
      set_json (t, cases[k].json, cases[k].json);
      json_as_text = FALSE;
      mt_matcher_add_user (m, "u", &t, 1, &i, 1);
      r = mt_matcher_run (m);
      bytes = export_bytes (exporter, r, MT_EXPORT_FORMAT_CSV);
      text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      rows = parse_csv (text);
      g_assert_cmpstr (CELL (rows, 1, 3), ==, cases[k].cell);
      g_assert_cmpstr (CELL (rows, 1, 5), ==, cases[k].cell);
    }
}

static void
test_time_zones (void)
{
  g_autoptr(MtMatchResult) result = fixture ();
  struct { const char *zone; const char *name; const char *trace_time; } cases[] = {
    { "+07:00", "+07:00", "\"timestamp\": \"2025-01-31T16:25:00+07:00\"" },
    { "Asia/Ho_Chi_Minh", "Asia/Ho_Chi_Minh", "\"timestamp\": \"2025-01-31T16:25:00+07:00\"" },
    { "UTC", "+00:00", "\"timestamp\": \"2025-01-31T09:25:00+00:00\"" },
    { "-05:30", "-05:30", "\"timestamp\": \"2025-01-31T03:55:00-05:30\"" },
    { "America/New_York", "America/New_York", "\"timestamp\": \"2025-01-31T04:25:00-05:00\"" },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(MtExporter) exporter = golden_exporter (cases[k].zone);
      g_autoptr(GBytes) json = export_bytes (exporter, result, MT_EXPORT_FORMAT_JSON);
      g_autoptr(GBytes) csv = export_bytes (exporter, result, MT_EXPORT_FORMAT_CSV);
      g_autofree char *json_text = g_strndup (g_bytes_get_data (json, NULL), g_bytes_get_size (json));
      g_autofree char *csv_text = g_strndup (g_bytes_get_data (csv, NULL), g_bytes_get_size (csv));
      g_autofree char *zone_line = g_strdup_printf ("\"timezone\": \"%s\"", cases[k].name);
      g_autofree char *csv_time = g_strndup (cases[k].trace_time + 14, 25);

      g_assert_nonnull (strstr (json_text, zone_line));
      g_assert_nonnull (strstr (json_text, cases[k].trace_time));
      g_assert_nonnull (strstr (csv_text, csv_time));
    }

  /* The milliseconds show only when they are not zero. */
  {
    g_autoptr(MtExporter) exporter = golden_exporter ("+07:00");
    g_autoptr(GBytes) json = export_bytes (exporter, result, MT_EXPORT_FORMAT_JSON);
    g_autofree char *text = g_strndup (g_bytes_get_data (json, NULL), g_bytes_get_size (json));

    g_assert_nonnull (strstr (text, "\"2025-01-31T19:00:00.250+07:00\""));
    g_assert_nonnull (strstr (text, "\"2025-01-31T19:01:00.750+07:00\""));
  }
}

static char *
read_file (GFile *file)
{
  g_autofree char *contents = NULL;

  if (!g_file_load_contents (file, NULL, &contents, NULL, NULL, NULL))
    return NULL;
  return g_steal_pointer (&contents);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The names in a folder, sorted, comma-separated. */
static char *
list_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (",", (char **) names->pdata);
}

static char *
make_tmpdir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("mealtrace-export-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const char *path)
{
  g_autofree char *quoted = g_shell_quote (path);
  g_autofree char *command = g_strdup_printf ("rm -rf %s", quoted);

  g_assert_true (g_spawn_command_line_sync (command, NULL, NULL, NULL, NULL));
}

static void
test_write_file (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "nested", "deeper", "out.json", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(MtMatchResult) result = fixture ();
  g_autoptr(MtExporter) exporter = golden_exporter ("+07:00");
  g_autoptr(GBytes) expected = export_bytes (exporter, result, MT_EXPORT_FORMAT_JSON);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *parent = g_path_get_dirname (path);
  g_autofree char *listing = NULL;

  /* Missing folders are made; the file holds exactly the export. */
  g_assert_true (g_file_set_contents (path, "", 0, NULL) == FALSE);
  g_assert_true (mt_exporter_write_file (exporter, result, MT_EXPORT_FORMAT_JSON, file, NULL, &error));
  g_assert_no_error (error);
  contents = read_file (file);
  g_assert_cmpmem (contents, strlen (contents), g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));

  /* Writing again replaces it, and leaves no temporary file. */
  g_clear_pointer (&contents, g_free);
  g_assert_true (mt_exporter_write_file (exporter, result, MT_EXPORT_FORMAT_CSV, file, NULL, &error));
  g_assert_no_error (error);
  contents = read_file (file);
  g_assert_true (g_str_has_prefix (contents, "user_id,trace_id"));
  listing = list_dir (parent);
  g_assert_cmpstr (listing, ==, "out.json");

  remove_tree (dir);
}

static void
on_written (GObject *source, GAsyncResult *res, gpointer data)
{
  gboolean *done = data;
  g_autoptr(GError) error = NULL;

  g_assert_true (mt_exporter_write_file_finish (MT_EXPORTER (source), res, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

static void
test_write_file_async (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "out.csv", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(MtMatchResult) result = fixture ();
  g_autoptr(MtExporter) exporter = golden_exporter ("+07:00");
  g_autoptr(GBytes) expected = export_bytes (exporter, result, MT_EXPORT_FORMAT_CSV);
  g_autofree char *contents = NULL;
  gboolean done = FALSE;

  mt_exporter_write_file_async (exporter, result, MT_EXPORT_FORMAT_CSV, file, NULL, on_written, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);

  contents = read_file (file);
  g_assert_cmpmem (contents, strlen (contents), g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
  remove_tree (dir);
}

/* A folder both the test and its subprocess can name: the subprocess is the
 * test's child, so the test's pid is its parent's. */
static char *
shared_dir (const char *name, gboolean in_subprocess)
{
  g_autofree char *base = g_strdup_printf ("mealtrace-%s-%d", name,
                                           (int) (in_subprocess ? getppid () : getpid ()));

  return g_build_filename (g_get_tmp_dir (), base, NULL);
}

static void
write_into_read_only_folder (void)
{
  g_autofree char *dir = shared_dir ("read-only", TRUE);
  g_autofree char *path = g_build_filename (dir, "out.json", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(MtMatchResult) result = fixture ();
  g_autoptr(MtExporter) exporter = golden_exporter ("+07:00");
  g_autoptr(GError) error = NULL;

  /* root writes anywhere; become nobody to meet a read-only folder. */
  if (geteuid () == 0)
    {
      g_assert_cmpint (setgid (65534), ==, 0);
      g_assert_cmpint (setuid (65534), ==, 0);
    }

  g_assert_false (mt_exporter_write_file (exporter, result, MT_EXPORT_FORMAT_JSON, file, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "Choose a folder you can write to"));
  g_printerr ("%s\n", error->message);
}

static void
test_read_only_folder (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *listing = NULL;

  if (g_test_subprocess ())
    {
      write_into_read_only_folder ();
      return;
    }

  dir = shared_dir ("read-only", FALSE);
  g_assert_cmpint (g_mkdir (dir, 0555), ==, 0);
  g_test_trap_subprocess ("/export/file/read-only-folder", 0, G_TEST_SUBPROCESS_INHERIT_STDOUT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*Could not write the export to*");

  /* Nothing was left behind. */
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "");
  g_assert_cmpint (chmod (dir, 0755), ==, 0);
  remove_tree (dir);
}

static void
write_until_the_disk_is_full (void)
{
  g_autofree char *dir = shared_dir ("disk-full", TRUE);
  g_autofree char *path = g_build_filename (dir, "out.json", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(MtMatchResult) result = fixture ();
  g_autoptr(MtExporter) exporter = golden_exporter ("+07:00");
  g_autoptr(GError) error = NULL;
  struct rlimit limit = { 4096, 4096 };

  /* A file size limit fails the write part way, as a full disk would. */
  signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);

  g_assert_false (mt_exporter_write_file (exporter, result, MT_EXPORT_FORMAT_JSON, file, NULL, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, path));
  g_printerr ("%s\n", error->message);
}

static void
test_failed_write_keeps_old_file (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *listing = NULL;

  if (g_test_subprocess ())
    {
      write_until_the_disk_is_full ();
      return;
    }

  dir = shared_dir ("disk-full", FALSE);
  path = g_build_filename (dir, "out.json", NULL);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, "the previous export\n", -1, NULL));
  g_test_trap_subprocess ("/export/file/failed-write-keeps-old-file", 0, G_TEST_SUBPROCESS_INHERIT_STDOUT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*Could not write the export to*");

  /* The old export is untouched and no partial file is left. */
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "the previous export\n");
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "out.json");
  remove_tree (dir);
}

/* Writes the fixture to @dir/@name, expecting a failure that names the
 * file and leaves nothing new in @dir; returns the error. */
static GError *
failed_write (const char   *dir,
              const char   *name,
              GCancellable *cancellable,
              const char   *listing_after)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(MtMatchResult) result = fixture ();
  g_autoptr(MtExporter) exporter = golden_exporter ("+07:00");
  g_autofree char *listing = NULL;
  GError *error = NULL;

  g_assert_false (mt_exporter_write_file (exporter, result, MT_EXPORT_FORMAT_CSV, file, cancellable, &error));
  g_assert_nonnull (error);
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_assert_nonnull (strstr (error->message, path));
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, listing_after);
  return error;
}

static void
test_target_is_a_folder (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "taken", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
  error = failed_write (dir, "taken", NULL, "taken");
  remove_tree (dir);
}

static void
test_cancelled_before (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  g_cancellable_cancel (cancellable);
  error = failed_write (dir, "out.json", cancellable, "");
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  remove_tree (dir);
}

/* A result big enough that writing it takes a while. */
static MtMatchResult *
big_result (void)
{
  g_autoptr(MtMatcher) m = mt_matcher_new ();
  g_autoptr(JsonNode) input = json_from_string (
    "{\"messages\":[{\"role\":\"system\",\"content\":\"You are a nutrition expert who "
    "estimates the calories, protein, fat and carbohydrates of a meal from one photo.\"},"
    "{\"role\":\"user\",\"content\":\"analyze this meal image\"}]}", NULL);

  for (guint u = 0; u < 4000; u++)
    {
      g_autofree char *user = g_strdup_printf ("user-%05u", u);

      for (guint k = 0; k < 5; k++)
        {
          g_autofree char *id = g_strdup_printf ("trace-%u-%u", u, k);
          g_autofree char *key = g_strdup_printf ("meal-images/%s/%u.jpg", user, k);
          g_autoptr(MtTrace) t = mt_trace_new (id, user, T0 + MINUTES (10 * k));
          g_autoptr(MtImage) i = mt_image_new (key, user, T0 + MINUTES (10 * k + 1), 1000, NULL);

          mt_trace_set_input (t, input);
          mt_matcher_add_user (m, user, &t, 1, &i, 1);
        }
    }
  return mt_matcher_run (m);
}

typedef struct {
  const char *dir;
  GCancellable *cancellable;
  gboolean saw_part;
  gboolean done;
  GError *error;
} CancelWatch;

/* Cancels as soon as the temporary file shows up in the folder. */
static gboolean
watch_for_part (gpointer data)
{
  CancelWatch *watch = data;
  g_autofree char *listing = list_dir (watch->dir);

  if (strstr (listing, ".part") != NULL)
    {
      watch->saw_part = TRUE;
      g_cancellable_cancel (watch->cancellable);
      return G_SOURCE_REMOVE;
    }
  return watch->done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static void
on_cancel_written (GObject *source, GAsyncResult *res, gpointer data)
{
  CancelWatch *watch = data;

  g_assert_false (mt_exporter_write_file_finish (MT_EXPORTER (source), res, &watch->error));
  watch->done = TRUE;
}

static void
test_cancelled_while_writing (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "out.json", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(MtMatchResult) result = big_result ();
  g_autoptr(MtExporter) exporter = golden_exporter ("+07:00");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *listing = NULL;
  CancelWatch watch = { dir, cancellable, FALSE, FALSE, NULL };
  guint source;

  /* Stop the export part way: the temporary file exists, then goes. */
  source = g_timeout_add (1, watch_for_part, &watch);
  mt_exporter_write_file_async (exporter, result, MT_EXPORT_FORMAT_JSON, file, cancellable,
                                on_cancel_written, &watch);
  while (!watch.done)
    g_main_context_iteration (NULL, TRUE);
  if (!watch.saw_part)
    g_source_remove (source);

  g_assert_true (watch.saw_part);
  g_assert_error (watch.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&watch.error);
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "");
  remove_tree (dir);
}

static void
test_file_names (void)
{
  g_autoptr(GTimeZone) zone = mt_time_zone_new ("+07:00", NULL);
  gint64 t = T0 + MINUTES (17 * 60 + 30) + 5000; /* 2025-02-01T00:30:05+07:00 */
  g_autofree char *json = mt_export_file_name (MT_EXPORT_FORMAT_JSON, t, zone);
  g_autofree char *csv = mt_export_file_name (MT_EXPORT_FORMAT_CSV, t, zone);
  struct { const char *dir; MtExportFormat format; const char *name; const char *path; } cases[] = {
    { NULL, MT_EXPORT_FORMAT_JSON, NULL, "results/json/enhanced_meal_mapping_results_20250201_003005.json" },
    { NULL, MT_EXPORT_FORMAT_CSV, NULL, "results/csv/successful_pairs_dataframe_20250201_003005.csv" },
    { "out", MT_EXPORT_FORMAT_JSON, NULL, "out/json/enhanced_meal_mapping_results_20250201_003005.json" },
    { NULL, MT_EXPORT_FORMAT_JSON, "my_results.json", "results/json/my_results.json" },
    { "out", MT_EXPORT_FORMAT_JSON, "sub/my.json", "sub/my.json" },
  };
  g_autofree char *cwd_path = g_get_current_dir ();
  g_autoptr(GFile) cwd = g_file_new_for_path (cwd_path);

  g_assert_cmpstr (json, ==, "enhanced_meal_mapping_results_20250201_003005.json");
  g_assert_cmpstr (csv, ==, "successful_pairs_dataframe_20250201_003005.csv");

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(GFile) file = mt_export_batch_file (cases[k].dir, cases[k].format, cases[k].name, t, zone);
      g_autofree char *relative = g_file_get_relative_path (cwd, file);

      g_assert_cmpstr (relative, ==, cases[k].path);
    }

  {
    g_autofree char *a = mt_export_time_filter_label (1);
    g_autofree char *b = mt_export_time_filter_label (30);
    g_autofree char *c = mt_export_time_filter_label (0);

    g_assert_cmpstr (a, ==, "Past 1 day");
    g_assert_cmpstr (b, ==, "Past 30 days");
    g_assert_cmpstr (c, ==, "Custom range");
  }
}

static void
test_defaults (void)
{
  g_autoptr(MtExporter) exporter = mt_exporter_new (NULL);
  g_autoptr(MtMatcher) m = mt_matcher_new ();
  g_autoptr(MtMatchResult) r = mt_matcher_run (m);
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *text = NULL;
  g_autofree char *version = g_strdup_printf ("\"application_version\": \"%s\"", PACKAGE_VERSION);
  g_autofree char *json_text = NULL;
  gint64 before = mt_time_now_ms () / 1000 * 1000;
  JsonObject *metadata;
  g_autoptr(JsonParser) parser = json_parser_new ();
  gint64 stamp = 0;

  /* The default zone is +07:00, the version Mealtrace's, the time now. */
  g_assert_cmpstr (mt_time_zone_get_name (mt_exporter_get_time_zone (exporter)), ==, "+07:00");
  bytes = export_bytes (exporter, r, MT_EXPORT_FORMAT_JSON);
  text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_nonnull (strstr (text, version));
  g_assert_true (json_parser_load_from_data (parser, text, -1, NULL));
  metadata = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "metadata");
  g_assert_true (mt_time_parse_iso8601 (json_object_get_string_member (metadata, "export_timestamp"),
                                        NULL, &stamp, NULL));
  g_assert_cmpint (stamp, >=, before);
  g_assert_cmpint (stamp, <=, mt_time_now_ms ());
  g_assert_true (json_object_get_boolean_member (metadata, "complete"));
  g_assert_true (json_object_get_null_member (metadata, "max_gap_seconds"));
  g_assert_true (json_object_get_null_member (json_object_get_object_member (
    json_node_get_object (json_parser_get_root (parser)), "summary"), "time_difference_seconds"));

  /* An empty result's CSV is its header row alone. */
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = export_bytes (exporter, r, MT_EXPORT_FORMAT_CSV);
  json_text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_cmpstr (json_text, ==,
                   "user_id,trace_id,trace_name,input,prompt,output,cost,model_name,total_cost,"
                   "image_name,image_url,trace_timestamp,image_timestamp,session_id,image_key,"
                   "time_difference_seconds\r\n");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/export/golden/json", GINT_TO_POINTER (FALSE), test_golden_json);
  g_test_add_data_func ("/export/golden/csv", GINT_TO_POINTER (FALSE), test_golden_csv);
  g_test_add_data_func ("/export/golden/json-from-text", GINT_TO_POINTER (TRUE), test_golden_json);
  g_test_add_data_func ("/export/golden/csv-from-text", GINT_TO_POINTER (TRUE), test_golden_csv);
  g_test_add_func ("/export/csv/cells", test_csv_cells);
  g_test_add_func ("/export/csv/formula-guard", test_csv_guard_each_character);
  g_test_add_func ("/export/csv/json-cells", test_csv_json_cells);
  g_test_add_func ("/export/time-zones", test_time_zones);
  g_test_add_func ("/export/defaults", test_defaults);
  g_test_add_func ("/export/file/write", test_write_file);
  g_test_add_func ("/export/file/async", test_write_file_async);
  g_test_add_func ("/export/file/read-only-folder", test_read_only_folder);
  g_test_add_func ("/export/file/failed-write-keeps-old-file", test_failed_write_keeps_old_file);
  g_test_add_func ("/export/file/target-is-a-folder", test_target_is_a_folder);
  g_test_add_func ("/export/file/cancelled-before", test_cancelled_before);
  g_test_add_func ("/export/file/cancelled-while-writing", test_cancelled_while_writing);
  g_test_add_func ("/export/file-names", test_file_names);

  return g_test_run ();
}
