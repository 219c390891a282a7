/* bench-export.c — matching and exporting a month of data
 *
 * The large data set (tests/bench/mt-bench-data.h: 2,000 users, 50,000
 * traces, 15,000 images) built as Mealtrace's own objects, as the fetch
 * hands them over; then timed: the matcher, and the JSON and CSV exports
 * written as the batch mode writes them (a temporary file, fsync, rename).
 * The floors: for the matcher, sorting the same timestamps user by user;
 * for each export, writing the same bytes the same way
 * (g_file_set_contents_full, consistent). Prints times, sizes, MB/s and
 * peak RSS; the last line is the larger of the exports' ratios to their
 * floors.
 */

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mt-bench-data.h"
#include "mt-bench-run.h"
#include "mt-test-files.h"
#include "mt-core.h"

#define ROUNDS 3

typedef struct {
  GHashTable *users;   /* id → User */
  GHashTable *traces;  /* id → MtTrace (borrowed) */
} Sink;

typedef struct {
  GPtrArray *traces;
  GPtrArray *images;
} User;

static void
user_free (gpointer data)
{
  User *user = data;

  g_ptr_array_unref (user->traces);
  g_ptr_array_unref (user->images);
  g_free (user);
}

static User *
user_for (Sink *sink, const char *id)
{
  User *user = g_hash_table_lookup (sink->users, id);

  if (user == NULL)
    {
      user = g_new0 (User, 1);
      user->traces = g_ptr_array_new_with_free_func (g_object_unref);
      user->images = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (sink->users, g_strdup (id), user);
    }
  return user;
}

static void
sink_trace (gpointer data, const char *id, gint64 timestamp, const char *name, const char *user_id,
            const char *input, const char *output)
{
  Sink *sink = data;
  MtTrace *trace = mt_trace_new (id, user_id, timestamp);

  mt_trace_set_name (trace, name);
  mt_trace_take_input_text (trace, g_strdup (input), strlen (input));
  mt_trace_take_output_text (trace, g_strdup (output), strlen (output));
  mt_trace_set_total_cost (trace, 0);
  g_ptr_array_add (user_for (sink, user_id)->traces, trace);
  g_hash_table_insert (sink->traces, (gpointer) mt_trace_get_id (trace), trace);
}

static void
sink_observation (gpointer data, const char *trace_id, const char *id, const char *type, gint64 start,
                  const char *parent_id, const char *model, const char *prompt_name, int prompt_version,
                  const char *input, double cost)
{
  Sink *sink = data;
  MtTrace *trace = g_hash_table_lookup (sink->traces, trace_id);

  if (trace == NULL || strcmp (type, "GENERATION") != 0)
    return;
  /* The first generation gives the model, the prompt and the cost. */
  if (mt_trace_get_model_name (trace) == NULL)
    {
      g_autofree char *prompt = g_strdup_printf ("%s v%d", prompt_name, prompt_version);

      mt_trace_set_model_name (trace, model);
      mt_trace_set_prompt (trace, prompt);
      mt_trace_set_cost (trace, cost);
    }
  mt_trace_set_total_cost (trace, mt_trace_get_total_cost (trace) + cost);
}

static void
sink_image (gpointer data, const char *key, gint64 last_modified, gsize size)
{
  Sink *sink = data;
  const char *user_start = key + strlen ("meal-images/");
  g_autofree char *user_id = g_strndup (user_start, strchr (user_start, '/') - user_start);

  g_ptr_array_add (user_for (sink, user_id)->images, mt_image_new (key, user_id, last_modified, (gint64) size, NULL));
}

static MtMatchResult *
match (Sink *sink, double *ms)
{
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  GHashTableIter iter;
  gpointer key, value;
  gint64 start;
  MtMatchResult *result;
  g_autoptr(GPtrArray) given = g_ptr_array_new ();

  mt_matcher_set_window (matcher, MT_BENCH_FROM, MT_BENCH_TO, 30);
  /* The arrays are handed over and kept: copies, made untimed. */
  g_hash_table_iter_init (&iter, sink->users);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      User *user = value;

      g_ptr_array_add (given, g_strdup (key));
      g_ptr_array_add (given, g_ptr_array_copy (user->traces, (GCopyFunc) (void (*) (void)) g_object_ref, NULL));
      g_ptr_array_add (given, g_ptr_array_copy (user->images, (GCopyFunc) (void (*) (void)) g_object_ref, NULL));
    }
  start = g_get_monotonic_time ();
  for (guint i = 0; i < given->len; i += 3)
    mt_matcher_take_user (matcher, given->pdata[i], given->pdata[i + 1], given->pdata[i + 2]);
  result = mt_matcher_run (matcher);
  *ms = (g_get_monotonic_time () - start) / 1000.0;
  return result;
}

static int
compare_int64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* The matcher's floor: each user's timestamps sorted, nothing more. */
static double
sort_floor (Sink *sink)
{
  g_autoptr(GPtrArray) copies = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) sizes = g_array_new (FALSE, FALSE, sizeof (guint));
  GHashTableIter iter;
  gpointer value;
  gint64 start;

  g_hash_table_iter_init (&iter, sink->users);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      User *user = value;
      guint n = user->traces->len + user->images->len;
      gint64 *times = g_new (gint64, MAX (n, 1));

      for (guint i = 0; i < user->traces->len; i++)
        times[i] = mt_trace_get_timestamp (g_ptr_array_index (user->traces, i));
      for (guint i = 0; i < user->images->len; i++)
        times[user->traces->len + i] = mt_image_get_last_modified (g_ptr_array_index (user->images, i));
      g_ptr_array_add (copies, times);
      g_array_append_val (sizes, n);
    }
  start = g_get_monotonic_time ();
  for (guint u = 0; u < copies->len; u++)
    qsort (copies->pdata[u], g_array_index (sizes, guint, u), sizeof (gint64), compare_int64);
  return (g_get_monotonic_time () - start) / 1000.0;
}

/* Writes one export ROUNDS times and its bytes as often; the best times. */
static double
export (MtMatchResult *result, MtExportFormat format, const char *dir)
{
  const char *label = format == MT_EXPORT_FORMAT_JSON ? "json" : "csv";
  g_autoptr(GTimeZone) zone = g_time_zone_new_offset (7 * 3600);
  g_autoptr(MtExporter) exporter = mt_exporter_new (zone);
  g_autofree char *path = g_build_filename (dir, label, NULL);
  g_autofree char *copy_path = g_strconcat (path, ".copy", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autofree char *bytes = NULL;
  gsize size = 0;
  double best = INFINITY, floor = INFINITY, mb;

  mt_exporter_set_export_time (exporter, MT_BENCH_TO);
  for (guint round = 0; round < ROUNDS; round++)
    {
      g_autoptr(GError) error = NULL;
      gint64 start = g_get_monotonic_time ();

      if (!mt_exporter_write_file (exporter, result, format, file, NULL, &error))
        g_error ("%s", error->message);
      best = MIN (best, (g_get_monotonic_time () - start) / 1000.0);
    }
  if (!g_file_get_contents (path, &bytes, &size, NULL))
    g_error ("the export %s cannot be read back", path);
  for (guint round = 0; round < ROUNDS; round++)
    {
      g_autoptr(GError) error = NULL;
      gint64 start = g_get_monotonic_time ();

      if (!g_file_set_contents_full (copy_path, bytes, size, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error))
        g_error ("%s", error->message);
      floor = MIN (floor, (g_get_monotonic_time () - start) / 1000.0);
    }
  mb = size / 1e6;
  g_print ("%s_size: %.1f MB\n", label, mb);
  g_print ("%s_write: %.0f ms\n", label, best);
  g_print ("%s_throughput: %.0f MB/s\n", label, mb / (best / 1000));
  g_print ("%s_floor_write_same_bytes: %.0f ms\n", label, floor);
  g_print ("%s_ratio_to_floor: %.2f x\n", label, best / floor);
  g_unlink (path);
  g_unlink (copy_path);
  return best / floor;
}

int
main (int argc, char *argv[])
{
  static const MtBenchSink sink_functions = { sink_trace, sink_observation, sink_image };
  Sink sink = {
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, user_free),
    g_hash_table_new (g_str_hash, g_str_equal),
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mealtrace-bench-XXXXXX", &error);
  MtBenchData data;
  double match_ms = INFINITY, floor_ms = INFINITY, json_ratio, csv_ratio;
  guint64 rss_data, rss_matched;
  MtMatchResult *result = NULL;

  g_assert_no_error (error);
  mt_bench_data_generate (MT_BENCH_LARGE, FALSE, &sink_functions, &sink, &data);
  g_hash_table_remove_all (sink.traces);
  rss_data = mt_bench_peak_rss_kb ();

  for (guint round = 0; round < ROUNDS; round++)
    {
      double ms;

      g_clear_object (&result);
      result = match (&sink, &ms);
      match_ms = MIN (match_ms, ms);
      floor_ms = MIN (floor_ms, sort_floor (&sink));
    }
  rss_matched = mt_bench_peak_rss_kb ();

  g_print ("users: %u count\n", data.users);
  g_print ("traces: %u count\n", data.traces);
  g_print ("images: %u count\n", data.images);
  g_print ("pairs: %u count\n", mt_match_summary_get_total_matched_pairs (mt_match_result_get_summary (result)));
  g_print ("rss_data_set: %.0f MB\n", rss_data / 1024.0);
  g_print ("match: %.1f ms\n", match_ms);
  g_print ("match_floor_sort: %.1f ms\n", floor_ms);
  g_print ("match_ratio_to_floor: %.2f x\n", match_ms / floor_ms);
  g_print ("rss_after_matching: %.0f MB\n", rss_matched / 1024.0);
  json_ratio = export (result, MT_EXPORT_FORMAT_JSON, dir);
  csv_ratio = export (result, MT_EXPORT_FORMAT_CSV, dir);
  g_print ("peak_rss: %.0f MB\n", mt_bench_peak_rss_kb () / 1024.0);
  g_print ("ratio_to_floor: %.2f x\n", MAX (json_ratio, csv_ratio));

  g_object_unref (result);
  g_hash_table_unref (sink.traces);
  g_hash_table_unref (sink.users);
  mt_test_remove_tree (dir);
  return 0;
}
