/* mt-bench-run.c — running the batch binary, and what it cost */

#include "config.h"

#include <gio/gio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mt-bench-data.h"
#include "mt-bench-run.h"

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

/* A process's peak resident memory (VmHWM) in kB; 0 when it cannot be read. */
static guint64
peak_kb_of (const char *status_path)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents (status_path, &status, NULL, NULL) || (line = strstr (status, "VmHWM:")) == NULL)
    return 0;
  return g_ascii_strtoull (line + strlen ("VmHWM:"), NULL, 10);
}

static gboolean
read_peak (gpointer data)
{
  PeakWatch *watch = data;

  watch->peak_kb = MAX (watch->peak_kb, peak_kb_of (watch->status_path));
  return G_SOURCE_CONTINUE;
}

guint64
mt_bench_peak_rss_kb (void)
{
  return peak_kb_of ("/proc/self/status");
}

void
mt_bench_keep_result (GObject      *source,
                      GAsyncResult *result,
                      gpointer      data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

GAsyncResult *
mt_bench_wait (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

/* Runs the binary with @argv and @env (NAME=value pairs), from @dir. */
void
mt_bench_spawn (const char * const *argv,
                const char * const *env,
                const char         *dir,
                MtBenchRun         *out)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) text = NULL;
  g_autoptr(GBytes) err = NULL;
  g_autoptr(GRegex) retried = g_regex_new ("([0-9]+) requests \\(([0-9]+) retried\\)", 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  GAsyncResult *result = NULL;
  PeakWatch peak = { NULL, 0 };
  double child_cpu;
  guint peak_source;
  gint64 start;

  for (guint i = 0; env[i] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, env[i], env[i + 1], TRUE);
  g_subprocess_launcher_setenv (launcher, "HOME", dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_subprocess_launcher_setenv (launcher, "no_proxy", "127.0.0.1", TRUE);
  g_subprocess_launcher_set_cwd (launcher, dir);

  child_cpu = children_cpu_ms ();
  start = g_get_monotonic_time ();
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  peak.status_path = g_strdup_printf ("/proc/%s/status", g_subprocess_get_identifier (process));
  peak_source = g_timeout_add (5, read_peak, &peak);
  /* Its output is read as it comes, and it has exited when both close. */
  g_subprocess_communicate_async (process, NULL, NULL, mt_bench_keep_result, &result);
  g_subprocess_communicate_finish (process, mt_bench_wait (&result), &text, &err, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  g_subprocess_wait_async (process, NULL, mt_bench_keep_result, &result);
  mt_bench_wait (&result);
  g_clear_object (&result);
  out->wall = (g_get_monotonic_time () - start) / 1000.0;
  g_source_remove (peak_source);
  g_free (peak.status_path);
  out->cpu = children_cpu_ms () - child_cpu;
  out->peak_mb = peak.peak_kb / 1024.0;

  if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0)
    g_error ("mealtrace %s failed (status %d): %.*s", argv[1], g_subprocess_get_status (process),
             (int) g_bytes_get_size (err), (const char *) g_bytes_get_data (err, NULL));
  out->stdout_text = g_strndup (g_bytes_get_data (text, NULL), g_bytes_get_size (text));
  out->retries = 0;
  if (g_regex_match (retried, out->stdout_text, 0, &match))
    {
      g_autofree char *count = g_match_info_fetch (match, 2);

      out->retries = (guint) g_ascii_strtoull (count, NULL, 10);
    }
}

double
mt_bench_process_cpu_ms (void)
{
  return cpu_ms (CLOCK_PROCESS_CPUTIME_ID);
}

void
mt_bench_run_batch (MtLoopbackLangfuse *langfuse,
                    MtLoopbackS3       *s3,
                    const char         *api,
                    const char         *dir,
                    const char         *output_dir,
                    MtBenchRun         *out)
{
  const char *argv[] = {
    g_getenv ("MEALTRACE_BINARY"), "--batch", "--quiet", "--from", MT_BENCH_FROM_TEXT, "--to", MT_BENCH_TO_TEXT,
    "--langfuse-api", api, "--output-dir", output_dir, NULL,
  };
  const char *env[] = {
    "LANGFUSE_BASE_URL", mt_loopback_langfuse_get_base_url (langfuse),
    "LANGFUSE_PUBLIC_KEY", MT_BENCH_PUBLIC_KEY, "LANGFUSE_SECRET_KEY", MT_BENCH_SECRET_KEY,
    "AWS_ENDPOINT_URL_S3", mt_loopback_s3_get_endpoint (s3),
    "AWS_ACCESS_KEY_ID", MT_BENCH_KEY_ID, "AWS_SECRET_ACCESS_KEY", MT_BENCH_AWS_SECRET, "AWS_REGION", "us-east-1",
    "MEALTRACE_S3_BUCKET", MT_BENCH_BUCKET, NULL,
  };

  if (argv[0] == NULL)
    g_error ("MEALTRACE_BINARY names the mealtrace binary to run");
  mt_bench_spawn (argv, env, dir, out);
}
