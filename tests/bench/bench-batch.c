/* bench-batch.c — `mealtrace --batch` over a month of data
 *
 * The batch binary, a process of its own, against loopback Langfuse and S3
 * servers in this process answering after 20 ms: a 30-day window, 2,000
 * users, 50,000 traces (66,667 generations) and 15,000 photos. Prints the
 * wall time of the run, the requests each service received, the most each
 * had on the wire at once, and the critical-path floor: the requests that
 * must follow one another, times the latency. Run twice, over Langfuse's
 * v2 and v1 APIs.
 *
 * The floor of each service is the longest chain of requests that wait
 * for one another, given how the job reads it:
 *  - Langfuse v2 (cursors): the first page of the traces' walk, then the
 *    generations' walk in four time slices, each a chain of its own pages,
 *    plus one step for the slices' first pages;
 *  - Langfuse v1 (numbered pages): the first page of each walk, then the
 *    rest eight at a time;
 *  - S3: the whole prefix, one page of 1,000 keys after another.
 * The services are read at once, so the floor is the longer of the two.
 *
 * The servers and the binary share this machine's cores: the CPU time of
 * each is printed apart, and so is the CPU floor, the least wall time
 * their CPU time allows on this machine's cores (both CPU times over the
 * number of cores). The wall time is set against the larger floor too.
 */

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <sys/resource.h>
#include <time.h>

#include "mt-loopback-langfuse.h"
#include "mt-loopback-s3.h"

#define USERS 2000
#define TRACES 50000
#define IMAGES 15000
#define LATENCY_MS 20
#define PUBLIC_KEY "pk-lf-bench"
#define SECRET_KEY "sk-lf-bench"
#define KEY_ID "AKIABENCHBENCHBENCH0"
#define AWS_SECRET "bench-aws-secret-0123456789abcdefghijk"
#define BUCKET "meals"
/* 2026-10-01T00:00:00Z and thirty days on. */
#define FROM G_GINT64_CONSTANT (1790812800000)
#define TO (FROM + 30 * G_GINT64_CONSTANT (86400000))
#define FROM_TEXT "2026-10-01T00:00:00Z"
#define TO_TEXT "2026-10-31T00:00:00Z"

typedef struct {
  MtLoopbackLangfuse *langfuse;
  MtLoopbackS3 *s3;
  guint generations;
  char *dir;
} Bench;

static double
cpu_ms (clockid_t clock)
{
  struct timespec now;

  clock_gettime (clock, &now);
  return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

static double
children_cpu_ms (void)
{
  struct rusage usage;

  getrusage (RUSAGE_CHILDREN, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

/* The child's own peak, read from /proc while it runs: getrusage() would
 * count the copy of this large process the child was before its exec. */
typedef struct {
  char *status_path;
  guint64 peak_kb;
} PeakWatch;

static gboolean
read_peak (gpointer data)
{
  PeakWatch *watch = data;
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents (watch->status_path, &status, NULL, NULL))
    return G_SOURCE_CONTINUE;
  line = strstr (status, "VmHWM:");
  if (line != NULL)
    watch->peak_kb = MAX (watch->peak_kb, g_ascii_strtoull (line + strlen ("VmHWM:"), NULL, 10));
  return G_SOURCE_CONTINUE;
}

/* A month of meal photos analysed: one trace per photo sent, its input the
 * photo's key and a note, its output the analysis; one or two generations,
 * a span for the upload. Three traces in ten get their photo 1 to 10
 * minutes later; users who photograph without asking the model add the
 * rest of the photos. */
static void
populate (Bench *b)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (2026);
  guint images = 0;

  for (guint i = 0; i < TRACES; i++)
    {
      g_autofree char *id = g_strdup_printf ("trace-%06u", i);
      g_autofree char *root = g_strdup_printf ("trace-%06u-root", i);
      g_autofree char *span = g_strdup_printf ("trace-%06u-upload", i);
      g_autofree char *user = g_strdup_printf ("user-%04u", g_rand_int_range (rand, 0, USERS));
      gint64 timestamp = FROM + (gint64) (g_rand_double (rand) * (TO - FROM - 3600000));
      g_autofree char *key = g_strdup_printf ("meal-images/%s/%" G_GINT64_FORMAT ".jpg", user, timestamp);
      g_autofree char *input = g_strdup_printf ("{\"image\":\"%s\",\"note\":\"lunch at the canteen, rice and grilled fish\"}",
                                                key);
      g_autofree char *output = g_strdup_printf ("{\"dishes\":[\"rice\",\"grilled fish\",\"greens\"],"
                                                 "\"calories\":%u,\"protein_g\":%u}",
                                                 400 + i % 500, 20 + i % 30);
      guint count = 1 + (i % 3 == 0);

      mt_loopback_langfuse_add_trace (b->langfuse, id, timestamp, "meal-analysis", user, NULL, input, output);
      mt_loopback_langfuse_add_observation (b->langfuse, id, span, "SPAN", timestamp + 20, root, NULL, NULL, -1, NULL,
                                            NAN);
      for (guint n = 0; n < count; n++)
        {
          g_autofree char *generation = g_strdup_printf ("trace-%06u-g%u", i, n);

          mt_loopback_langfuse_add_observation (b->langfuse, id, generation, "GENERATION", timestamp + 100 + 2000 * n,
                                                root, "gpt-4o", "meal-analyzer", 3,
                                                "[{\"role\":\"system\",\"content\":\"You are a nutrition assistant.\"},"
                                                "{\"role\":\"user\",\"content\":\"What is on this plate?\"}]",
                                                0.0025 + (i % 7) * 0.0001);
          b->generations++;
        }
      if (i % 10 < 3 && images < IMAGES)
        {
          mt_loopback_s3_put (b->s3, BUCKET, key, timestamp + g_rand_int_range (rand, 60000, 600000), NULL,
                              g_rand_int_range (rand, 80000, 400000));
          images++;
        }
    }
  while (images < IMAGES)
    {
      g_autofree char *key = g_strdup_printf ("meal-images/user-%04u/extra-%05u.jpg",
                                              g_rand_int_range (rand, 0, USERS), images);

      mt_loopback_s3_put (b->s3, BUCKET, key, FROM + (gint64) (g_rand_double (rand) * (TO - FROM)), NULL, 120000);
      images++;
    }
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static void
run (Bench *b, const char *api)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) err = NULL;
  g_autofree char *output = g_build_filename (b->dir, api, NULL);
  const char *argv[] = {
    g_getenv ("MEALTRACE_BINARY"), "--batch", "--quiet", "--from", FROM_TEXT, "--to", TO_TEXT,
    "--langfuse-api", api, "--output-dir", output, NULL,
  };
  GAsyncResult *result = NULL;
  guint langfuse_steps, s3_steps, generation_pages, steps;
  double wall, servers_cpu, child_cpu, cpu_floor;
  PeakWatch peak = { NULL, 0 };
  guint peak_source;
  gint64 start;

  g_subprocess_launcher_setenv (launcher, "LANGFUSE_BASE_URL", mt_loopback_langfuse_get_base_url (b->langfuse), TRUE);
  g_subprocess_launcher_setenv (launcher, "LANGFUSE_PUBLIC_KEY", PUBLIC_KEY, TRUE);
  g_subprocess_launcher_setenv (launcher, "LANGFUSE_SECRET_KEY", SECRET_KEY, TRUE);
  g_subprocess_launcher_setenv (launcher, "AWS_ENDPOINT_URL_S3", mt_loopback_s3_get_endpoint (b->s3), TRUE);
  g_subprocess_launcher_setenv (launcher, "AWS_ACCESS_KEY_ID", KEY_ID, TRUE);
  g_subprocess_launcher_setenv (launcher, "AWS_SECRET_ACCESS_KEY", AWS_SECRET, TRUE);
  g_subprocess_launcher_setenv (launcher, "AWS_REGION", "us-east-1", TRUE);
  g_subprocess_launcher_setenv (launcher, "MEALTRACE_S3_BUCKET", BUCKET, TRUE);
  g_subprocess_launcher_setenv (launcher, "HOME", b->dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "no_proxy", "127.0.0.1", TRUE);
  g_subprocess_launcher_set_cwd (launcher, b->dir);

  mt_loopback_langfuse_reset_counters (b->langfuse);
  mt_loopback_s3_reset_counters (b->s3);
  servers_cpu = cpu_ms (CLOCK_PROCESS_CPUTIME_ID);
  child_cpu = children_cpu_ms ();
  start = g_get_monotonic_time ();
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  peak.status_path = g_strdup_printf ("/proc/%s/status", g_subprocess_get_identifier (process));
  peak_source = g_timeout_add (5, read_peak, &peak);
  /* Its stderr is read as it comes, and it has exited when it closes. */
  g_subprocess_communicate_async (process, NULL, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_subprocess_communicate_finish (process, result, NULL, &err, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  g_subprocess_wait_async (process, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_clear_object (&result);
  wall = (g_get_monotonic_time () - start) / 1000.0;
  g_source_remove (peak_source);
  g_free (peak.status_path);
  servers_cpu = cpu_ms (CLOCK_PROCESS_CPUTIME_ID) - servers_cpu;
  child_cpu = children_cpu_ms () - child_cpu;

  if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0)
    g_error ("mealtrace --batch over %s failed (status %d): %.*s", api, g_subprocess_get_status (process),
             (int) g_bytes_get_size (err), (const char *) g_bytes_get_data (err, NULL));

  if (g_str_equal (api, "v2"))
    {
      generation_pages = (b->generations + 999) / 1000;
      langfuse_steps = 2 + (generation_pages + 3) / 4;
    }
  else
    langfuse_steps = 1 + ((TRACES + 99) / 100 + (b->generations + 99) / 100 - 2 + 7) / 8;
  s3_steps = (IMAGES + 999) / 1000;
  steps = MAX (langfuse_steps, s3_steps);

  g_print ("%s_wall: %.0f ms\n", api, wall);
  g_print ("%s_floor: %u ms\n", api, steps * LATENCY_MS);
  g_print ("%s_wall_over_floor: %.2f ratio\n", api, wall / (steps * LATENCY_MS));
  g_print ("%s_langfuse_requests: %u count\n", api, mt_loopback_langfuse_get_requests (b->langfuse));
  g_print ("%s_langfuse_max_in_flight: %u count\n", api, mt_loopback_langfuse_get_max_in_flight (b->langfuse));
  g_print ("%s_langfuse_floor_steps: %u count\n", api, langfuse_steps);
  g_print ("%s_s3_requests: %u count\n", api, mt_loopback_s3_get_requests (b->s3));
  g_print ("%s_s3_max_in_flight: %u count\n", api, mt_loopback_s3_get_max_in_flight (b->s3));
  g_print ("%s_s3_floor_steps: %u count\n", api, s3_steps);
  g_print ("%s_mealtrace_cpu: %.0f ms\n", api, child_cpu);
  g_print ("%s_servers_cpu: %.0f ms\n", api, servers_cpu);
  g_print ("%s_mealtrace_peak_rss: %.0f MB\n", api, peak.peak_kb / 1024.0);
  cpu_floor = (child_cpu + servers_cpu) / g_get_num_processors ();
  g_print ("%s_cpu_floor: %.0f ms\n", api, cpu_floor);
  g_print ("%s_wall_over_larger_floor: %.2f ratio\n", api, wall / MAX (cpu_floor, (double) steps * LATENCY_MS));
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

int
main (int argc, char *argv[])
{
  Bench b = { 0 };
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  if (g_getenv ("MEALTRACE_BINARY") == NULL)
    g_error ("MEALTRACE_BINARY names the mealtrace binary to run");
  b.langfuse = mt_loopback_langfuse_new (PUBLIC_KEY, SECRET_KEY);
  b.s3 = mt_loopback_s3_new ("us-east-1", KEY_ID, AWS_SECRET, NULL);
  mt_loopback_s3_add_bucket (b.s3, BUCKET);
  b.dir = g_dir_make_tmp ("mealtrace-bench-XXXXXX", &error);
  g_assert_no_error (error);
  populate (&b);
  mt_loopback_langfuse_set_latency_ms (b.langfuse, LATENCY_MS);
  mt_loopback_s3_set_latency_ms (b.s3, LATENCY_MS);

  g_print ("setup: %.0f ms\n", (g_get_monotonic_time () - start) / 1000.0);
  g_print ("latency: %u ms\n", LATENCY_MS);
  g_print ("users: %u count\n", USERS);
  g_print ("traces: %u count\n", TRACES);
  g_print ("generations: %u count\n", b.generations);
  g_print ("images: %u count\n", IMAGES);

  run (&b, "v2");
  run (&b, "v1");

  g_object_unref (b.langfuse);
  g_object_unref (b.s3);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  remove_tree (b.dir);
  g_free (b.dir);
  return 0;
}
