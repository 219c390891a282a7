/* bench-batch.c — `mealtrace --batch` end to end, at three scales
 *
 * The batch binary, a process of its own, against the loopback Langfuse
 * and S3 servers in this process, over a 30-day window:
 *  - small: the demo (`--demo`, its own servers in its own process);
 *  - medium and large (tests/bench/mt-bench-data.h), each at 0, 20 and
 *    80 ms of latency, over Langfuse's v2 and v1, and with both S3 listing
 *    strategies: a dense bucket (Mealtrace reads the whole prefix) and a
 *    sparse one (an archive outside the window sorts first, and Mealtrace
 *    lists each user's folder).
 * Each run prints, as `RUN.METRIC: value unit`: the wall time, Mealtrace's
 * CPU time and peak RSS, the requests each service received and the most
 * it had on the wire at once, the retries, and the floor.
 *
 * The floor is the longest chain of requests that must wait for one
 * another, given the configured concurrency, times the latency:
 *  - Langfuse v2 (cursors): the first page of the traces' walk, then the
 *    generations' walk in four time slices, each a chain of its own pages,
 *    plus one step for the slices' first pages;
 *  - Langfuse v1 (numbered pages): the first page of each walk, then the
 *    rest eight at a time;
 *  - S3, whole prefix: one page of 1,000 keys after another; per user: the
 *    prefix's first page, then the users' folders 16 at a time (a folder
 *    of over 1,000 keys is a chain of pages).
 * The services are read at once, so the floor is the longer of the two.
 * The servers and the binary share this machine's cores: the CPU floor is
 * both CPU times over the number of cores, and each run is set against
 * the larger of the two floors (at 0 ms, the CPU floor is the floor).
 *
 * For comparison, the large set is also read the way the Python tool
 * Mealtrace replaces reads it (every request in sequence, one listing of
 * the whole prefix, a scan of the user's traces per image), in this
 * process, and set against Mealtrace's run over v1 at 20 ms; both must
 * find the same pairs.
 *
 * Targets, at 20 ms: wall ≤ 1.5 × floor; for the large set, Mealtrace's
 * CPU time ≤ 2 s and its peak RSS ≤ 300 MB. The last line is the largest
 * ratio to the (larger) floor among the runs at 20 ms; the largest ratio
 * to the requests' floor alone is printed before it.
 */

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mt-bench-data.h"
#include "mt-bench-run.h"
#include "mt-test-files.h"
#include "mt-core.h"
#include "mt-langfuse-client.h"
#include "mt-s3-client.h"

/* What the batch binary runs with (its defaults). */
#define LANGFUSE_IN_FLIGHT 8
#define S3_IN_FLIGHT 16

typedef struct {
  MtLoopbackLangfuse *langfuse;
  MtLoopbackS3 *s3;
  MtBenchData data;
  gboolean sparse;
  char *dir;
  double worst_ratio_20ms;          /* to the larger floor */
  double worst_latency_ratio_20ms;  /* to the requests' floor alone */
  double large_cpu_20ms;
  double large_rss_20ms;
  const char * const *only;  /* name prefixes of the runs wanted; NULL: all */
  double large_v1_20ms_wall;     /* Mealtrace's, to set the Python way against */
  double large_v2_20ms_wall;
  guint large_v1_20ms_pairs;
} Bench;

static gboolean
wanted (Bench      *b,
        const char *name)
{
  if (b->only == NULL)
    return TRUE;
  for (guint i = 0; b->only[i] != NULL; i++)
    if (g_str_has_prefix (name, b->only[i]) || g_str_has_prefix (b->only[i], name))
      return TRUE;
  return FALSE;
}


/* The steps of the longest chain of requests (see the top). */
static guint
floor_steps (Bench      *b,
             const char *api)
{
  guint langfuse_steps, s3_steps;
  guint objects = b->data.images + b->data.archive;

  if (g_str_equal (api, "v2"))
    langfuse_steps = 2 + ((b->data.generations + 999) / 1000 + 3) / 4;
  else
    langfuse_steps = 1 + ((b->data.traces + 99) / 100 + (b->data.generations + 99) / 100 - 2 + LANGFUSE_IN_FLIGHT - 1) /
                         LANGFUSE_IN_FLIGHT;
  if (!b->sparse)
    s3_steps = (objects + 999) / 1000;
  else
    s3_steps = 1 + (b->data.users + S3_IN_FLIGHT - 1) / S3_IN_FLIGHT + (b->data.largest_user + 999) / 1000 - 1;
  return MAX (langfuse_steps, s3_steps);
}

static void
run (Bench      *b,
     const char *api,
     guint       latency)
{
  g_autofree char *output = g_build_filename (b->dir, api, NULL);
  g_autofree char *name = g_strdup_printf ("%s.%s.%s.%ums", b->data.name, b->sparse ? "per_user" : "whole_prefix",
                                           api, latency);
  g_autofree char *json_dir = g_build_filename (output, "json", NULL);
  g_autofree char *listing = g_strdup_printf ("\"s3_listing\": \"%s\"", b->sparse ? "per_user" : "whole_prefix");
  MtBenchRun r = { 0 };
  double servers_cpu, cpu_floor, floor_ms, ratio;
  guint steps = floor_steps (b, api);

  mt_loopback_langfuse_set_latency_ms (b->langfuse, latency);
  mt_loopback_s3_set_latency_ms (b->s3, latency);
  mt_loopback_langfuse_reset_counters (b->langfuse);
  mt_loopback_s3_reset_counters (b->s3);
  servers_cpu = mt_bench_process_cpu_ms ();
  mt_bench_run_batch (b->langfuse, b->s3, api, b->dir, output, &r);
  servers_cpu = mt_bench_process_cpu_ms () - servers_cpu;

  cpu_floor = (r.cpu + servers_cpu) / g_get_num_processors ();
  floor_ms = (double) steps * latency;
  ratio = r.wall / MAX (cpu_floor, floor_ms);
  g_print ("%s.wall: %.0f ms\n", name, r.wall);
  g_print ("%s.mealtrace_cpu: %.0f ms\n", name, r.cpu);
  g_print ("%s.mealtrace_peak_rss: %.0f MB\n", name, r.peak_mb);
  g_print ("%s.langfuse_requests: %u count\n", name, mt_loopback_langfuse_get_requests (b->langfuse));
  g_print ("%s.langfuse_max_in_flight: %u count\n", name, mt_loopback_langfuse_get_max_in_flight (b->langfuse));
  g_print ("%s.s3_requests: %u count\n", name, mt_loopback_s3_get_requests (b->s3));
  g_print ("%s.s3_max_in_flight: %u count\n", name, mt_loopback_s3_get_max_in_flight (b->s3));
  g_print ("%s.retries: %u count\n", name, r.retries);
  g_print ("%s.servers_cpu: %.0f ms\n", name, servers_cpu);
  g_print ("%s.floor: %.0f ms\n", name, floor_ms);
  g_print ("%s.cpu_floor: %.0f ms\n", name, cpu_floor);
  g_print ("%s.ratio_to_floor: %.2f x\n", name, ratio);

  /* The listing the run took, from its export: the floor assumed it. */
  {
    g_autoptr(GDir) dir = g_dir_open (json_dir, 0, NULL);
    const char *file = dir != NULL ? g_dir_read_name (dir) : NULL;
    g_autofree char *path = file != NULL ? g_build_filename (json_dir, file, NULL) : NULL;
    g_autofree char *json = NULL;

    if (path == NULL || !g_file_get_contents (path, &json, NULL, NULL) || strstr (json, listing) == NULL)
      g_error ("%s: the export does not say %s", name, listing);
    g_unlink (path);
  }
  if (latency == 20 && !b->sparse && g_str_equal (api, "v2") && g_str_equal (b->data.name, "large"))
    b->large_v2_20ms_wall = r.wall;
  if (latency == 20 && !b->sparse && g_str_equal (api, "v1") && g_str_equal (b->data.name, "large"))
    {
      const char *pairs = strstr (r.stdout_text, "Total Matched Pairs: ");

      b->large_v1_20ms_wall = r.wall;
      b->large_v1_20ms_pairs = pairs != NULL ? (guint) g_ascii_strtoull (pairs + strlen ("Total Matched Pairs: "), NULL, 10)
                                             : 0;
    }
  if (latency == 20)
    {
      b->worst_ratio_20ms = MAX (b->worst_ratio_20ms, ratio);
      b->worst_latency_ratio_20ms = MAX (b->worst_latency_ratio_20ms, r.wall / floor_ms);
      if (g_str_equal (b->data.name, "large"))
        {
          b->large_cpu_20ms = MAX (b->large_cpu_20ms, r.cpu);
          b->large_rss_20ms = MAX (b->large_rss_20ms, r.peak_mb);
        }
    }
  g_free (r.stdout_text);
}

/* The Python tool's way, for comparison: every request in sequence (the
 * traces' pages, then the generations', then the bucket's), one listing
 * of the whole prefix, and for each image a scan of its user's traces. */
static guint
scan_match (GPtrArray *traces,
            GPtrArray *images)
{
  g_autofree gboolean *used = g_new0 (gboolean, MAX (traces->len, 1));
  guint pairs = 0;

  /* Images in time order; each takes the latest unused trace before it. */
  for (guint i = 0; i < images->len; i++)
    {
      gint64 image_time = ((MtS3Object *) g_ptr_array_index (images, i))->last_modified;
      gint best = -1;

      for (guint t = 0; t < traces->len; t++)
        {
          MtTrace *trace = g_ptr_array_index (traces, t);
          gint64 time = mt_trace_get_timestamp (trace);

          if (!used[t] && time < image_time &&
              (best < 0 || time > mt_trace_get_timestamp (g_ptr_array_index (traces, best))))
            best = (gint) t;
        }
      if (best >= 0)
        {
          used[best] = TRUE;
          pairs++;
        }
    }
  return pairs;
}

static int
compare_objects (gconstpointer a, gconstpointer b)
{
  const MtS3Object *x = *(MtS3Object * const *) a, *y = *(MtS3Object * const *) b;

  return (x->last_modified > y->last_modified) - (x->last_modified < y->last_modified);
}

static void
run_python_style (Bench *b)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtLangfuseClient) langfuse = mt_langfuse_client_new (mt_loopback_langfuse_get_base_url (b->langfuse),
                                                                 MT_BENCH_PUBLIC_KEY, MT_BENCH_SECRET_KEY, &error);
  g_autoptr(MtAwsCredentials) credentials = mt_aws_credentials_new (MT_BENCH_KEY_ID, MT_BENCH_AWS_SECRET, NULL, "bench");
  g_autoptr(MtS3Client) s3 = NULL;
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GHashTable) users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  GAsyncResult *result = NULL;
  GHashTableIter iter;
  gpointer key, value;
  guint pairs = 0;
  gint64 start;
  double wall, fetch_wall;

  g_assert_no_error (error);
  s3 = mt_s3_client_new (credentials, "us-east-1", mt_loopback_s3_get_endpoint (b->s3), MT_BENCH_BUCKET, &error);
  g_assert_no_error (error);
  mt_langfuse_client_set_max_in_flight (langfuse, 1);
  mt_langfuse_client_set_slicing (langfuse, FALSE);
  mt_s3_client_set_max_in_flight (s3, 1);
  mt_loopback_langfuse_set_latency_ms (b->langfuse, 20);
  mt_loopback_s3_set_latency_ms (b->s3, 20);
  mt_loopback_langfuse_reset_counters (b->langfuse);
  mt_loopback_s3_reset_counters (b->s3);

  start = g_get_monotonic_time ();
  mt_langfuse_client_fetch_traces_async (langfuse, MT_BENCH_FROM, MT_BENCH_TO, MT_LANGFUSE_API_V1, NULL,
                                         mt_bench_keep_result, &result);
  traces = mt_langfuse_client_fetch_traces_finish (langfuse, mt_bench_wait (&result), NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  mt_s3_client_list_objects_async (s3, "meal-images/", NULL, mt_bench_keep_result, &result);
  objects = mt_s3_client_list_objects_finish (s3, mt_bench_wait (&result), &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  fetch_wall = (g_get_monotonic_time () - start) / 1000.0;

  for (guint i = 0; i < traces->len; i++)
    {
      MtTrace *trace = g_ptr_array_index (traces, i);
      GPtrArray *list;

      if (mt_trace_get_user_id (trace) == NULL)
        continue;
      list = g_hash_table_lookup (users, mt_trace_get_user_id (trace));
      if (list == NULL)
        {
          list = g_ptr_array_new ();
          g_hash_table_insert (users, g_strdup (mt_trace_get_user_id (trace)), list);
        }
      g_ptr_array_add (list, trace);
    }
  g_hash_table_iter_init (&iter, users);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autofree char *folder = g_strdup_printf ("meal-images/%s/", (const char *) key);
      g_autoptr(GPtrArray) images = g_ptr_array_new ();

      /* The user's images, found by scanning the whole listing. */
      for (guint i = 0; i < objects->len; i++)
        {
          MtS3Object *object = g_ptr_array_index (objects, i);

          if (g_str_has_prefix (object->key, folder) && object->last_modified >= MT_BENCH_FROM &&
              object->last_modified < MT_BENCH_TO)
            g_ptr_array_add (images, object);
        }
      g_ptr_array_sort (images, compare_objects);
      pairs += scan_match (value, images);
    }
  wall = (g_get_monotonic_time () - start) / 1000.0;

  g_print ("large.python_style.v1.20ms.wall: %.0f ms\n", wall);
  g_print ("large.python_style.v1.20ms.fetch_wall: %.0f ms\n", fetch_wall);
  g_print ("large.python_style.v1.20ms.match_wall: %.0f ms\n", wall - fetch_wall);
  g_print ("large.python_style.v1.20ms.langfuse_requests: %u count\n", mt_loopback_langfuse_get_requests (b->langfuse));
  g_print ("large.python_style.v1.20ms.s3_requests: %u count\n", mt_loopback_s3_get_requests (b->s3));
  g_print ("large.python_style.v1.20ms.pairs: %u count\n", pairs);
  if (b->large_v1_20ms_wall > 0)
    {
      /* The same pairs, or the comparison means nothing. */
      if (pairs != b->large_v1_20ms_pairs)
        g_error ("the Python way found %u pairs, Mealtrace %u", pairs, b->large_v1_20ms_pairs);
      g_print ("large.python_style.v1.20ms.times_mealtrace: %.1f x\n", wall / b->large_v1_20ms_wall);
      if (b->large_v2_20ms_wall > 0)
        g_print ("large.python_style.v1.20ms.times_mealtrace_over_v2: %.1f x\n", wall / b->large_v2_20ms_wall);
    }
}

/* The demo: the binary's own servers, in its own process. */
static void
run_small (Bench *b)
{
  const char *argv[] = { g_getenv ("MEALTRACE_BINARY"), "--batch", "--demo", "--quiet", "--output-dir", "demo", NULL };
  const char *env[] = { NULL };
  MtBenchRun r = { 0 };

  mt_bench_spawn (argv, env, b->dir, &r);
  g_print ("small.demo.wall: %.0f ms\n", r.wall);
  g_print ("small.demo.mealtrace_cpu: %.0f ms\n", r.cpu);
  g_print ("small.demo.mealtrace_peak_rss: %.0f MB\n", r.peak_mb);
  g_print ("small.demo.retries: %u count\n", r.retries);
  g_free (r.stdout_text);
}

static const char *const scales_names[] = { [MT_BENCH_MEDIUM] = "medium", [MT_BENCH_LARGE] = "large" };

static void
run_scale (Bench        *b,
           MtBenchScale  scale,
           gboolean      sparse)
{
  static const guint latencies[] = { 0, 20, 80 };
  static const char *const apis[] = { "v2", "v1" };
  gint64 start = g_get_monotonic_time ();
  g_autofree char *world = g_strdup_printf ("%s.%s", scales_names[scale], sparse ? "per_user" : "whole_prefix");

  if (!wanted (b, world))
    return;

  b->langfuse = mt_loopback_langfuse_new (MT_BENCH_PUBLIC_KEY, MT_BENCH_SECRET_KEY);
  b->s3 = mt_loopback_s3_new ("us-east-1", MT_BENCH_KEY_ID, MT_BENCH_AWS_SECRET, NULL);
  b->sparse = sparse;
  mt_bench_data_populate (scale, sparse, b->langfuse, b->s3, &b->data);
  g_print ("%s.setup: %.0f ms\n", b->data.name, (g_get_monotonic_time () - start) / 1000.0);
  g_print ("%s.users: %u count\n", b->data.name, b->data.users);
  g_print ("%s.traces: %u count\n", b->data.name, b->data.traces);
  g_print ("%s.generations: %u count\n", b->data.name, b->data.generations);
  g_print ("%s.images: %u count\n", b->data.name, b->data.images);
  g_print ("%s.largest_user: %u objects\n", b->data.name, b->data.largest_user);
  if (sparse)
    g_print ("%s.archive_images: %u count\n", b->data.name, b->data.archive);

  for (guint l = 0; l < G_N_ELEMENTS (latencies); l++)
    for (guint a = 0; a < G_N_ELEMENTS (apis); a++)
      {
        g_autofree char *name = g_strdup_printf ("%s.%s.%ums", world, apis[a], latencies[l]);

        if (wanted (b, name))
          run (b, apis[a], latencies[l]);
      }
  if (scale == MT_BENCH_LARGE && !sparse && wanted (b, "large.python_style"))
    run_python_style (b);

  g_clear_object (&b->langfuse);
  g_clear_object (&b->s3);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

int
main (int argc, char *argv[])
{
  Bench b = { 0 };
  g_autoptr(GError) error = NULL;
  gboolean met;

  if (g_getenv ("MEALTRACE_BINARY") == NULL)
    g_error ("MEALTRACE_BINARY names the mealtrace binary to run");
  b.dir = g_dir_make_tmp ("mealtrace-bench-XXXXXX", &error);
  g_assert_no_error (error);

  /* Arguments pick runs by name prefix ("medium.per_user"); none: all. */
  b.only = argc > 1 ? (const char * const *) argv + 1 : NULL;
  if (wanted (&b, "small.demo"))
    run_small (&b);
  run_scale (&b, MT_BENCH_MEDIUM, FALSE);
  run_scale (&b, MT_BENCH_MEDIUM, TRUE);
  run_scale (&b, MT_BENCH_LARGE, FALSE);
  run_scale (&b, MT_BENCH_LARGE, TRUE);

  mt_test_remove_tree (b.dir);
  g_free (b.dir);

  met = b.worst_ratio_20ms <= 1.5 && b.large_cpu_20ms <= 2000 && b.large_rss_20ms <= 300;
  g_print ("worst_ratio_to_requests_floor_at_20ms: %.2f x\n", b.worst_latency_ratio_20ms);
  g_print ("large_cpu_at_20ms: %.0f ms\n", b.large_cpu_20ms);
  g_print ("large_peak_rss_at_20ms: %.0f MB\n", b.large_rss_20ms);
  g_print ("targets (at 20 ms wall <= 1.5 x floor, large CPU <= 2 s and RSS <= 300 MB): %s\n",
           met ? "met" : "NOT MET");
  g_print ("ratio_to_floor: %.2f x\n", b.worst_ratio_20ms);
  return 0;
}
