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

#define PUBLIC_KEY "pk-lf-bench"
#define SECRET_KEY "sk-lf-bench"
#define KEY_ID "AKIABENCHBENCHBENCH0"
#define AWS_SECRET "bench-aws-secret-0123456789abcdefghijk"
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
  const char *argv[] = {
    g_getenv ("MEALTRACE_BINARY"), "--batch", "--quiet", "--from", MT_BENCH_FROM_TEXT, "--to", MT_BENCH_TO_TEXT,
    "--langfuse-api", api, "--output-dir", output, NULL,
  };
  const char *env[] = {
    "LANGFUSE_BASE_URL", mt_loopback_langfuse_get_base_url (b->langfuse),
    "LANGFUSE_PUBLIC_KEY", PUBLIC_KEY, "LANGFUSE_SECRET_KEY", SECRET_KEY,
    "AWS_ENDPOINT_URL_S3", mt_loopback_s3_get_endpoint (b->s3),
    "AWS_ACCESS_KEY_ID", KEY_ID, "AWS_SECRET_ACCESS_KEY", AWS_SECRET, "AWS_REGION", "us-east-1",
    "MEALTRACE_S3_BUCKET", MT_BENCH_BUCKET, NULL,
  };
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
  mt_bench_spawn (argv, env, b->dir, &r);
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

  b->langfuse = mt_loopback_langfuse_new (PUBLIC_KEY, SECRET_KEY);
  b->s3 = mt_loopback_s3_new ("us-east-1", KEY_ID, AWS_SECRET, NULL);
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

  mt_bench_remove_tree (b.dir);
  g_free (b.dir);

  met = b.worst_ratio_20ms <= 1.5 && b.large_cpu_20ms <= 2000 && b.large_rss_20ms <= 300;
  g_print ("worst_ratio_to_requests_floor_at_20ms: %.2f x\n", b.worst_latency_ratio_20ms);
  g_print ("large_cpu_at_20ms: %.0f ms\n", b.large_cpu_20ms);
  g_print ("large_peak_rss_at_20ms: %.0f MB\n", b.large_rss_20ms);
  g_print ("targets (at 20 ms: wall <= 1.5 x floor; large: CPU <= 2 s, RSS <= 300 MB): %s\n",
           met ? "met" : "NOT MET");
  g_print ("ratio_to_floor: %.2f x\n", b.worst_ratio_20ms);
  return 0;
}
