/* test-batch.c — the `mealtrace` binary in batch mode, end to end, against
 * loopback Langfuse and S3 servers in this process */

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "mt-loopback-langfuse.h"
#include "mt-fake-s3.h"
#include "mt-test-files.h"
#include "mt-test-scale.h"

#define PUBLIC_KEY "pk-lf-batch"
#define SECRET_KEY "sk-lf-batch-secret-value"
#define KEY_ID "AKIABATCHBATCHBATCH0"
#define AWS_SECRET "batch-aws-secret-0123456789abcdefghij"
#define BUCKET "meals"
/* 2026-10-01T00:00:00Z; the window is that day in +07:00. */
#define DAY0 G_GINT64_CONSTANT (1790812800000)
#define MINUTE G_GINT64_CONSTANT (60000)

typedef struct {
  MtLoopbackLangfuse *langfuse;
  MtLoopbackS3 *s3;
  char *dir;
} Fixture;

typedef struct {
  int status;
  char *out;
  char *err;
} Outcome;

static void
outcome_clear (Outcome *o)
{
  g_free (o->out);
  g_free (o->err);
}

static void
trace (Fixture *f, const char *id, const char *user, gint64 time, const char *input, const char *output)
{
  mt_loopback_langfuse_add_trace (f->langfuse, id, time, "meal-analysis", user, user != NULL ? "session-1" : NULL,
                                  input, output);
}

static void
generation (Fixture *f, const char *trace_id, const char *id, gint64 time, const char *model, const char *prompt,
            int version, const char *input, double cost)
{
  g_autofree char *root = g_strconcat (trace_id, "-root", NULL);

  mt_loopback_langfuse_add_observation (f->langfuse, trace_id, id, "GENERATION", time, root, model, prompt, version,
                                        input, cost);
}

static void
image (Fixture *f, const char *key, gint64 time)
{
  g_autoptr(GBytes) bytes = g_bytes_new_static ("\xff\xd8\xff\xe0 not really a photo", 24);

  mt_loopback_s3_put (f->s3, BUCKET, key, time, bytes, 0);
}

/* A day with every case: pairs, traces left over, a photo before any
 * trace, a user without photos, a photo of a user without traces, a trace
 * without user, traces outside the window, awkward text. */
static void
populate (Fixture *f)
{
  const gint64 t = DAY0 - 7 * 60 * MINUTE; /* 2026-10-01T00:00+07:00 */

  trace (f, "t-ana-1", "ana", t + 8 * 60 * MINUTE, "{\"image_key\":\"meal-images/ana/breakfast.jpg\",\"note\":\"phở, =SUM(A1)\"}",
         "{\"total_calories\":420}");
  generation (f, "t-ana-1", "g-ana-1", t + 8 * 60 * MINUTE + 400, "gpt-4o", "meal-analyzer", 3,
              "[{\"role\":\"user\",\"content\":\"What is this?\"}]", 0.00412);
  trace (f, "t-ana-2", "ana", t + 12 * 60 * MINUTE, "plain text, not JSON", "{\"total_calories\":610}");
  generation (f, "t-ana-2", "g-ana-2", t + 12 * 60 * MINUTE + 300, "gpt-4o-mini", NULL, -1,
              "[{\"role\":\"system\",\"content\":\"You are a nutrition assistant.\"},{\"role\":\"user\",\"content\":\"Lunch\"}]",
              0.000231);
  generation (f, "t-ana-2", "g-ana-2b", t + 12 * 60 * MINUTE + 4300, "gpt-4o-mini", NULL, -1, "[]", 0.0001);
  trace (f, "t-ana-3", "ana", t + 19 * 60 * MINUTE, NULL, NULL);
  image (f, "meal-images/ana/breakfast.jpg", t + 8 * 60 * MINUTE + 5 * MINUTE);
  image (f, "meal-images/ana/lunch with space.png", t + 12 * 60 * MINUTE + 12 * MINUTE);
  image (f, "meal-images/ana/notes.txt", t + 13 * 60 * MINUTE);

  trace (f, "t-bao-1", "bao", t + 9 * 60 * MINUTE, "{\"note\":\"no photo\"}", NULL);
  trace (f, "t-chi-1", "chi", t + 20 * 60 * MINUTE, "{}", "{}");
  image (f, "meal-images/chi/early.jpeg", t + 7 * 60 * MINUTE);
  image (f, "meal-images/dan/only-photos.jpg", t + 10 * 60 * MINUTE);
  trace (f, "t-anon-1", NULL, t + 11 * 60 * MINUTE, "{}", NULL);
  /* Outside [t, t + 1 day). */
  trace (f, "t-ana-before", "ana", t - 1, NULL, NULL);
  trace (f, "t-ana-after", "ana", t + 24 * 60 * MINUTE, NULL, NULL);
  image (f, "meal-images/ana/tomorrow.jpg", t + 24 * 60 * MINUTE + 1);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->langfuse = mt_loopback_langfuse_new (PUBLIC_KEY, SECRET_KEY);
  f->s3 = mt_loopback_s3_new ("us-east-1", KEY_ID, AWS_SECRET, NULL);
  mt_loopback_s3_add_bucket (f->s3, BUCKET);
  f->dir = g_dir_make_tmp ("mealtrace-batch-XXXXXX", &error);
  g_assert_no_error (error);
  populate (f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_object_unref (f->langfuse);
  g_object_unref (f->s3);
  mt_test_remove_tree (f->dir);
  g_free (f->dir);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* The environment of a run: the servers, the keys, and what the
 * sanitizers read; nothing of the test's own. */
static char **
environment (Fixture *f, gboolean configured, const char *langfuse_secret, const char *aws_secret)
{
  const char *passed[] = { "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "G_SLICE", "PATH", NULL };
  char **env = g_environ_setenv (NULL, "HOME", f->dir, TRUE);

  for (guint i = 0; passed[i] != NULL; i++)
    if (g_getenv (passed[i]) != NULL)
      env = g_environ_setenv (env, passed[i], g_getenv (passed[i]), TRUE);
  env = g_environ_setenv (env, "LC_ALL", "C.UTF-8", TRUE);
  env = g_environ_setenv (env, "no_proxy", "127.0.0.1", TRUE);
  if (!configured)
    return env;
  env = g_environ_setenv (env, "LANGFUSE_BASE_URL", mt_loopback_langfuse_get_base_url (f->langfuse), TRUE);
  env = g_environ_setenv (env, "LANGFUSE_PUBLIC_KEY", PUBLIC_KEY, TRUE);
  env = g_environ_setenv (env, "LANGFUSE_SECRET_KEY", langfuse_secret, TRUE);
  env = g_environ_setenv (env, "AWS_ENDPOINT_URL_S3", mt_loopback_s3_get_endpoint (f->s3), TRUE);
  env = g_environ_setenv (env, "AWS_ACCESS_KEY_ID", KEY_ID, TRUE);
  env = g_environ_setenv (env, "AWS_SECRET_ACCESS_KEY", aws_secret, TRUE);
  env = g_environ_setenv (env, "MEALTRACE_S3_BUCKET", BUCKET, TRUE);
  return env;
}

static void
on_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  *(gboolean *) data = TRUE;
}

/* Runs the binary with @args in the fixture's folder, serving the loopback
 * servers meanwhile; after @interrupt_ms (if not 0) it gets SIGINT. */
static Outcome
run (Fixture *f, char **env, const char * const *args, guint interrupt_ms)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  Outcome outcome = { 0 };
  gboolean exited = FALSE;
  gint64 start = g_get_monotonic_time ();
  gboolean sent = FALSE;

  g_ptr_array_add (argv, (gpointer) g_getenv ("MEALTRACE_BINARY"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_set_environ (launcher, env);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  /* Its output is read as it comes, so that a full pipe never stalls it. */
  {
    GInputStream *streams[2] = { g_subprocess_get_stdout_pipe (process), g_subprocess_get_stderr_pipe (process) };
    GByteArray *buffers[2] = { g_byte_array_new (), g_byte_array_new () };
    gboolean open[2] = { TRUE, TRUE };

    g_subprocess_wait_async (process, NULL, on_exited, &exited);
    while (!exited || open[0] || open[1])
      {
        for (guint k = 0; k < 2; k++)
          {
            guint8 chunk[4096];
            gssize n;

            if (!open[k])
              continue;
            n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (streams[k]), chunk, sizeof chunk,
                                                          NULL, NULL);
            if (n > 0)
              g_byte_array_append (buffers[k], chunk, (guint) n);
            else if (n == 0)
              open[k] = FALSE;
          }
        if (interrupt_ms > 0 && !sent && g_get_monotonic_time () - start > interrupt_ms * G_TIME_SPAN_MILLISECOND)
          {
            g_subprocess_send_signal (process, SIGINT);
            sent = TRUE;
            start = g_get_monotonic_time ();
          }
        g_main_context_iteration (NULL, FALSE);
        g_usleep (1000);
      }
    out = g_byte_array_free_to_bytes (buffers[0]);
    err = g_byte_array_free_to_bytes (buffers[1]);
  }
  if (sent)
    {
      /* Promptly: well before a second has passed. */
      g_test_message ("exited %.0f ms after SIGINT", (g_get_monotonic_time () - start) / 1000.0);
      g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_TIME_SPAN_SECOND * mt_test_time_scale ());
    }
  outcome.status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
  outcome.out = g_strndup (g_bytes_get_size (out) > 0 ? g_bytes_get_data (out, NULL) : "", g_bytes_get_size (out));
  outcome.err = g_strndup (g_bytes_get_size (err) > 0 ? g_bytes_get_data (err, NULL) : "", g_bytes_get_size (err));
  g_test_message ("exit %d\n--- stdout\n%s--- stderr\n%s", outcome.status, outcome.out, outcome.err);
  return outcome;
}

/* No key or secret anywhere in what the binary printed. */
static void
assert_clean (Outcome *o)
{
  const char *secrets[] = { SECRET_KEY, AWS_SECRET, "sk-lf-wrong", "wrong-aws-secret" };

  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      g_assert_null (strstr (o->out, secrets[i]));
      g_assert_null (strstr (o->err, secrets[i]));
    }
  g_assert_null (strstr (o->err, "Basic "));
}

static char *
read_file (Fixture *f, const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

static void
assert_golden (const char *actual, const char *golden_name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "golden", golden_name, NULL);
  /* The API generation used changes too. */
  g_autofree char *normal = mt_test_normalise_export (actual, "\"langfuse_api\": \"v[12]\"",
                                                      "\"langfuse_api\": \"API\"", NULL);
  g_autofree char *expected = NULL;
  g_autoptr(GError) error = NULL;

  if (g_getenv ("MEALTRACE_UPDATE_GOLDEN") != NULL)
    {
      g_file_set_contents (path, normal, -1, &error);
      g_assert_no_error (error);
    }
  g_file_get_contents (path, &expected, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (normal, ==, expected);
}

static const char *window_args[] = {
  "--batch", "--from", "2026-10-01", "--to", "2026-10-02", "--timezone", "+07:00", "--output-dir", "out",
};

static Outcome
run_window (Fixture *f, char **env, const char *api, const char *json, const char *csv)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (window_args); i++)
    g_ptr_array_add (args, (gpointer) window_args[i]);
  g_ptr_array_add (args, (gpointer) "--langfuse-api");
  g_ptr_array_add (args, (gpointer) api);
  g_ptr_array_add (args, (gpointer) "--json");
  g_ptr_array_add (args, (gpointer) json);
  g_ptr_array_add (args, (gpointer) "--csv");
  g_ptr_array_add (args, (gpointer) csv);
  g_ptr_array_add (args, NULL);
  return run (f, env, (const char * const *) args->pdata, 0);
}

/* Both API generations give the same exports, equal to the golden files. */
static void
test_golden (Fixture *f, gconstpointer data)
{
  const char *apis[] = { "v2", "v1" };

  for (guint i = 0; i < G_N_ELEMENTS (apis); i++)
    {
      g_auto(GStrv) env = environment (f, TRUE, SECRET_KEY, AWS_SECRET);
      g_autofree char *json_name = g_strdup_printf ("result-%s.json", apis[i]);
      g_autofree char *csv_name = g_strdup_printf ("pairs-%s.csv", apis[i]);
      g_autofree char *json_path = g_build_filename ("out", "json", json_name, NULL);
      g_autofree char *csv_path = g_build_filename ("out", "csv", csv_name, NULL);
      g_autofree char *json = NULL;
      g_autofree char *csv = NULL;
      g_autofree char *api_line = g_strdup_printf ("\"langfuse_api\": \"%s\"", apis[i]);
      Outcome o = run_window (f, env, apis[i], json_name, csv_name);

      g_assert_cmpint (o.status, ==, 0);
      g_assert_nonnull (strstr (o.out, "MATCHING RESULTS SUMMARY"));
      g_assert_nonnull (strstr (o.out, "Total Matched Pairs: 2\n"));
      g_assert_nonnull (strstr (o.out, "Match Rate: 33.3%\n"));
      assert_clean (&o);
      json = read_file (f, json_path);
      csv = read_file (f, csv_path);
      g_assert_nonnull (strstr (json, api_line));
      assert_golden (json, "batch.json");
      assert_golden (csv, "batch.csv");
      outcome_clear (&o);
    }
}

static void
test_usage_errors (Fixture *f, gconstpointer data)
{
  const char *cases[][6] = {
    { "--batch", "--days", "x", NULL },
    { "--batch", "7", "a.json", "extra", NULL },
    { "--batch", "--from", "2026-10-01", NULL },
    { "--batch", "--days", "3", "--from", "2026-10-01", NULL },
    { "--batch", "0", NULL },
    { "--batch", "--no-such-option", NULL },
  };
  g_auto(GStrv) env = environment (f, TRUE, SECRET_KEY, AWS_SECRET);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Outcome o = run (f, env, cases[i], 0);

      g_assert_cmpint (o.status, ==, 2);
      g_assert_nonnull (strstr (o.err, "mealtrace --help"));
      outcome_clear (&o);
    }
}

static void
test_help_and_version (Fixture *f, gconstpointer data)
{
  const char *help[] = { "--help", NULL };
  const char *version[] = { "--version", NULL };
  g_auto(GStrv) env = environment (f, FALSE, NULL, NULL);
  Outcome o = run (f, env, help, 0);

  g_assert_cmpint (o.status, ==, 0);
  /* It documents it all: options, settings, exit codes. */
  g_assert_nonnull (strstr (o.out, "--batch"));
  g_assert_nonnull (strstr (o.out, "--from"));
  g_assert_nonnull (strstr (o.out, "--langfuse-api"));
  g_assert_nonnull (strstr (o.out, "--demo"));
  g_assert_nonnull (strstr (o.out, "LANGFUSE_SECRET_KEY"));
  g_assert_nonnull (strstr (o.out, "MEALTRACE_S3_BUCKET"));
  g_assert_nonnull (strstr (o.out, "Exit status"));
  outcome_clear (&o);
  o = run (f, env, version, 0);
  g_assert_cmpint (o.status, ==, 0);
  g_assert_true (g_str_has_prefix (o.out, "mealtrace "));
  outcome_clear (&o);
}

/* Missing settings: all named at once, exit 3. Wrong keys: the service
 * named, exit 3. No secret printed. */
static void
test_configuration_errors (Fixture *f, gconstpointer data)
{
  const char *args[] = { "--batch", NULL };
  g_auto(GStrv) bare = environment (f, FALSE, NULL, NULL);
  g_auto(GStrv) wrong_langfuse = environment (f, TRUE, "sk-lf-wrong", AWS_SECRET);
  g_auto(GStrv) wrong_aws = environment (f, TRUE, SECRET_KEY, "wrong-aws-secret-0123456789abcdefgh");
  Outcome o = run (f, bare, args, 0);

  g_assert_cmpint (o.status, ==, 3);
  g_assert_nonnull (strstr (o.err, "LANGFUSE_PUBLIC_KEY"));
  g_assert_nonnull (strstr (o.err, "LANGFUSE_SECRET_KEY"));
  g_assert_nonnull (strstr (o.err, "MEALTRACE_S3_BUCKET"));
  g_assert_nonnull (strstr (o.err, "AWS_ACCESS_KEY_ID"));
  outcome_clear (&o);

  o = run (f, wrong_langfuse, args, 0);
  g_assert_cmpint (o.status, ==, 3);
  g_assert_nonnull (strstr (o.err, "Langfuse"));
  g_assert_nonnull (strstr (o.err, "LANGFUSE_SECRET_KEY"));
  assert_clean (&o);
  outcome_clear (&o);

  o = run (f, wrong_aws, args, 0);
  g_assert_cmpint (o.status, ==, 3);
  g_assert_nonnull (strstr (o.err, "S3"));
  assert_clean (&o);
  outcome_clear (&o);
}

/* A user whose listing fails after its retries: exit 1, and the exports
 * written, saying so. */
static void
test_incomplete (Fixture *f, gconstpointer data)
{
  g_auto(GStrv) env = environment (f, TRUE, SECRET_KEY, AWS_SECRET);
  g_autofree char *json = NULL;
  g_autofree char *csv_path = g_build_filename (f->dir, "out", "csv", "pairs.csv", NULL);
  Outcome o;

  /* The whole prefix fails (five attempts), then ana's own folder. */
  mt_fake_s3_add_fault (f->s3, MT_FAKE_S3_FAULT_INTERNAL_ERROR, 5, "meal-images/");
  mt_fake_s3_add_fault (f->s3, MT_FAKE_S3_FAULT_INTERNAL_ERROR, 100, "meal-images/ana/");
  o = run_window (f, env, "v2", "result.json", "pairs.csv");
  g_assert_cmpint (o.status, ==, 1);
  g_assert_nonnull (strstr (o.out, "INCOMPLETE"));
  g_assert_nonnull (strstr (o.err, "meal-images/ana/"));
  json = read_file (f, "out/json/result.json");
  g_assert_nonnull (strstr (json, "\"complete\": false"));
  g_assert_nonnull (strstr (json, "\"incomplete_users\": [\n      \"ana\"\n    ]"));
  g_assert_nonnull (strstr (json, "\"missing_type\": \"incomplete\""));
  g_assert_true (g_file_test (csv_path, G_FILE_TEST_EXISTS));
  assert_clean (&o);
  outcome_clear (&o);
}

static guint
count_files (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  guint count = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      count += g_file_test (child, G_FILE_TEST_IS_DIR) ? count_files (child) : 1;
    }
  return count;
}

/* SIGINT while it reads: it stops at once, writes nothing, leaks nothing
 * (the sanitizer build would say). */
static void
test_interrupted (Fixture *f, gconstpointer data)
{
  g_auto(GStrv) env = environment (f, TRUE, SECRET_KEY, AWS_SECRET);
  g_autofree char *out = g_build_filename (f->dir, "out", NULL);
  guint scale = mt_test_time_scale ();
  Outcome o;

  /* Under valgrind the binary takes seconds to start: SIGINT must come
   * after it listens for it, and still while it reads. */
  mt_loopback_langfuse_set_latency_ms (f->langfuse, 3000 * scale);
  mt_loopback_s3_set_latency_ms (f->s3, 3000 * scale);
  o = run (f, env, (const char *[]) { "--batch", "--from", "2026-10-01", "--to", "2026-10-02", "--output-dir", "out",
                                      NULL }, 700 * scale);
  g_assert_cmpint (o.status, ==, 130);
  g_assert_nonnull (strstr (o.err, "nothing was written"));
  g_assert_cmpuint (count_files (out), ==, 0);
  outcome_clear (&o);
}

/* The demo on a machine with no configuration and no display. */
static void
test_demo_headless (Fixture *f, gconstpointer data)
{
  const char *args[] = { "--batch", "--demo", "--quiet", "30", NULL };
  g_auto(GStrv) env = environment (f, FALSE, NULL, NULL);
  g_autofree char *json_dir = g_build_filename (f->dir, "results", "json", NULL);
  g_autofree char *csv_dir = g_build_filename (f->dir, "results", "csv", NULL);
  Outcome o;

  g_assert_null (g_environ_getenv (env, "DISPLAY"));
  g_assert_null (g_environ_getenv (env, "WAYLAND_DISPLAY"));
  o = run (f, env, args, 0);
  g_assert_cmpint (o.status, ==, 0);
  g_assert_nonnull (strstr (o.out, "MATCHING RESULTS SUMMARY"));
  g_assert_nonnull (strstr (o.out, "USERS WITHOUT MATCHES"));
  /* --quiet: nothing on standard error. */
  g_assert_cmpstr (o.err, ==, "");
  g_assert_cmpuint (count_files (json_dir), ==, 1);
  g_assert_cmpuint (count_files (csv_dir), ==, 1);
  outcome_clear (&o);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("MEALTRACE_BINARY") == NULL)
    {
      g_test_skip ("MEALTRACE_BINARY is not set");
      return 77;
    }

#define ADD(path, func) \
  g_test_add ("/batch/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("golden", test_golden);
  ADD ("usage-errors", test_usage_errors);
  ADD ("help-and-version", test_help_and_version);
  ADD ("configuration-errors", test_configuration_errors);
  ADD ("incomplete", test_incomplete);
  ADD ("interrupted", test_interrupted);
  ADD ("demo-headless", test_demo_headless);
#undef ADD

  return g_test_run ();
}
