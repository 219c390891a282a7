/* bench-langfuse.c — 50,000 traces over a 30-day window
 *
 * The Langfuse client against the in-process fake Langfuse answering after
 * 20 ms: over v2 (observations, cursors of 1000) and over v1 (traces and
 * generations, pages of 100), each with and without time slicing. Prints
 * the traces, requests, wall time, the most requests the fake saw at once,
 * the floor (the pages a walk must take one after the other, times the
 * latency) and the process's peak memory (the fake's data included).
 *
 * The fake runs in a thread of its own, as a server would on its own
 * machine, and the CPU time of each is printed apart: on a small machine
 * the two share the cores, and the fake's page making is in the wall time.
 *
 * v1 fetches every page after the first at once whatever the slicing
 * setting: its pages do not depend on each other. Slicing is for v2's
 * cursors, which do.
 */

#include <math.h>
#include <sys/resource.h>
#include <time.h>

#include "mt-loopback-langfuse.h"
#include "mt-langfuse-client.h"
#include "mt-trace.h"

#define TRACES 50000
#define USERS 2000
#define LATENCY_MS 20
/* 2026-10-01T00:00:00Z and thirty days on. */
#define FROM G_GINT64_CONSTANT (1790812800000)
#define TO (FROM + 30 * G_GINT64_CONSTANT (86400000))

/* The fake's thread: its own main context, and calls into it from the
 * benchmark's, one at a time. */
typedef struct {
  GMutex lock;
  GCond cond;
  GMainContext *context;
  GMainLoop *loop;
  MtLoopbackLangfuse *fake;
  guint generations;
  gboolean ready;
  double cpu_ms;    /* the fake thread's CPU time, when last read */
  double worst_ratio; /* the largest of the runs' ratios to their floors */
} Server;

typedef struct {
  Server *server;
  GSourceFunc func;
  gboolean done;
} Call;

static gboolean
run_call (gpointer data)
{
  Call *call = data;

  call->func (call->server);
  g_mutex_lock (&call->server->lock);
  call->done = TRUE;
  g_cond_broadcast (&call->server->cond);
  g_mutex_unlock (&call->server->lock);
  return G_SOURCE_REMOVE;
}

/* Runs @func (given the server) in the fake's thread and waits for it. */
static void
in_fake (Server *server, GSourceFunc func)
{
  Call call = { server, func, FALSE };

  g_main_context_invoke (server->context, run_call, &call);
  g_mutex_lock (&server->lock);
  while (!call.done)
    g_cond_wait (&server->cond, &server->lock);
  g_mutex_unlock (&server->lock);
}

static void populate (Server *server);

static gpointer
serve (gpointer data)
{
  Server *server = data;

  g_main_context_push_thread_default (server->context);
  server->fake = mt_loopback_langfuse_new ("pk-lf-bench", "sk-lf-bench");
  populate (server);
  mt_loopback_langfuse_set_latency_ms (server->fake, LATENCY_MS);

  g_mutex_lock (&server->lock);
  server->ready = TRUE;
  g_cond_broadcast (&server->cond);
  g_mutex_unlock (&server->lock);

  g_main_loop_run (server->loop);
  g_clear_object (&server->fake);
  while (g_main_context_iteration (server->context, FALSE))
    ;
  g_main_context_pop_thread_default (server->context);
  return NULL;
}

static double
cpu_ms (clockid_t clock)
{
  struct timespec now;

  clock_gettime (clock, &now);
  return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

static gboolean
read_cpu (gpointer data)
{
  ((Server *) data)->cpu_ms = cpu_ms (CLOCK_THREAD_CPUTIME_ID);
  return G_SOURCE_REMOVE;
}

static gboolean
reset_counters (gpointer data)
{
  mt_loopback_langfuse_reset_counters (((Server *) data)->fake);
  return read_cpu (data);
}

static gboolean
stop (gpointer data)
{
  g_main_loop_quit (((Server *) data)->loop);
  return G_SOURCE_REMOVE;
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static double
peak_rss_mb (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

static void
run (Server *server, const char *base_url, MtLangfuseApi api, gboolean slicing)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtLangfuseClient) client = mt_langfuse_client_new (base_url, "pk-lf-bench", "sk-lf-bench", &error);
  guint roots = TRACES, generations = server->generations;
  g_autoptr(GPtrArray) traces = NULL;
  GAsyncResult *result = NULL;
  const char *name = api == MT_LANGFUSE_API_V2 ? (slicing ? "v2_sliced" : "v2_one_walk")
                                               : (slicing ? "v1_sliced" : "v1_one_walk");
  guint steps;
  gint64 start;
  double wall, process_cpu, fake_cpu;

  g_assert_no_error (error);
  mt_langfuse_client_set_slicing (client, slicing);
  in_fake (server, reset_counters);
  fake_cpu = server->cpu_ms;
  process_cpu = cpu_ms (CLOCK_PROCESS_CPUTIME_ID);

  start = g_get_monotonic_time ();
  mt_langfuse_client_fetch_traces_async (client, FROM, TO, api, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  traces = mt_langfuse_client_fetch_traces_finish (client, result, NULL, &error);
  wall = (g_get_monotonic_time () - start) / 1000.0;
  in_fake (server, read_cpu);
  fake_cpu = server->cpu_ms - fake_cpu;
  process_cpu = cpu_ms (CLOCK_PROCESS_CPUTIME_ID) - process_cpu;
  g_object_unref (result);
  if (traces == NULL)
    g_error ("%s: %s", name, error->message);
  g_assert_cmpuint (traces->len, ==, TRACES);
  /* The fake is idle between runs: its counters can be read. */
  g_assert_cmpuint (mt_loopback_langfuse_get_repeated_pages (server->fake), ==, 0);

  /* v2: the roots' walk, then (after its first page) the generations'; one
   * page after another unless sliced. v1: the first page, then the rest
   * at once, 8 at a time. */
  if (api == MT_LANGFUSE_API_V2)
    steps = slicing ? 2 + ((generations + 999) / 1000 + 3) / 4 : 1 + (generations + 999) / 1000;
  else
    steps = 1 + ((roots + 99) / 100 + (generations + 99) / 100 - 2 + 7) / 8;

  g_print ("%s_traces: %u count\n", name, traces->len);
  g_print ("%s_requests: %u count\n", name, mt_langfuse_client_get_requests (client));
  g_print ("%s_max_in_flight_seen: %u count\n", name, mt_loopback_langfuse_get_max_in_flight (server->fake));
  g_print ("%s_wall: %.0f ms\n", name, wall);
  g_print ("%s_floor: %.0f ms\n", name, steps * (double) LATENCY_MS);
  g_print ("%s_client_cpu: %.0f ms\n", name, process_cpu - fake_cpu);
  g_print ("%s_fake_cpu: %.0f ms\n", name, fake_cpu);
  g_print ("%s_peak_rss: %.0f MB\n", name, peak_rss_mb ());
  g_print ("%s_ratio_to_floor: %.2f x\n", name, wall / (steps * (double) LATENCY_MS));
  server->worst_ratio = MAX (server->worst_ratio, wall / (steps * (double) LATENCY_MS));
}

/* A month of meal photos analysed: one trace each, its input the photo
 * and a note, its output the analysis; one or two generations (the second
 * a follow-up), a span for the upload. */
static void
populate (Server *server)
{
  MtLoopbackLangfuse *fake = server->fake;
  g_autoptr(GRand) rand = g_rand_new_with_seed (2026);

  for (guint i = 0; i < TRACES; i++)
    {
      g_autofree char *id = g_strdup_printf ("trace-%06u", i);
      g_autofree char *root = g_strdup_printf ("trace-%06u-root", i);
      g_autofree char *span = g_strdup_printf ("trace-%06u-upload", i);
      g_autofree char *user = g_strdup_printf ("user-%04u", g_rand_int_range (rand, 0, USERS));
      gint64 timestamp = FROM + (gint64) (g_rand_double (rand) * (TO - FROM - 60000));
      g_autofree char *input = g_strdup_printf ("{\"image\":\"meal-images/%s/%" G_GINT64_FORMAT ".jpg\","
                                                "\"note\":\"lunch at the canteen, rice and grilled fish\"}",
                                                user, timestamp);
      g_autofree char *output = g_strdup_printf ("{\"dishes\":[\"rice\",\"grilled fish\",\"greens\"],"
                                                 "\"calories\":%u,\"protein_g\":%u}",
                                                 400 + i % 500, 20 + i % 30);
      guint count = 1 + (i % 3 == 0);

      mt_loopback_langfuse_add_trace (fake, id, timestamp, "meal-analysis", user, NULL, input, output);
      mt_loopback_langfuse_add_observation (fake, id, span, "SPAN", timestamp + 20, root, NULL, NULL, -1, NULL, NAN);
      for (guint n = 0; n < count; n++)
        {
          g_autofree char *generation = g_strdup_printf ("trace-%06u-g%u", i, n);

          mt_loopback_langfuse_add_observation (fake, id, generation, "GENERATION", timestamp + 100 + 2000 * n, root,
                                            "gpt-4o", "meal-analyzer", 3,
                                            "[{\"role\":\"system\",\"content\":\"You are a nutrition assistant.\"},"
                                            "{\"role\":\"user\",\"content\":\"What is on this plate?\"}]",
                                            0.0025 + (i % 7) * 0.0001);
          server->generations++;
        }
    }
}

int
main (int argc, char *argv[])
{
  Server server = { 0 };
  g_autofree char *base_url = NULL;
  GThread *thread;
  gint64 start = g_get_monotonic_time ();

  g_mutex_init (&server.lock);
  g_cond_init (&server.cond);
  server.context = g_main_context_new ();
  server.loop = g_main_loop_new (server.context, FALSE);
  thread = g_thread_new ("fake-langfuse", serve, &server);
  g_mutex_lock (&server.lock);
  while (!server.ready)
    g_cond_wait (&server.cond, &server.lock);
  g_mutex_unlock (&server.lock);
  base_url = g_strdup (mt_loopback_langfuse_get_base_url (server.fake));

  g_print ("setup: %.0f ms\n", (g_get_monotonic_time () - start) / 1000.0);
  g_print ("setup_peak_rss: %.0f MB\n", peak_rss_mb ());
  g_print ("latency: %u ms\n", LATENCY_MS);
  g_print ("traces: %u count\n", TRACES);
  g_print ("generations: %u count\n", server.generations);

  run (&server, base_url, MT_LANGFUSE_API_V2, FALSE);
  run (&server, base_url, MT_LANGFUSE_API_V2, TRUE);
  run (&server, base_url, MT_LANGFUSE_API_V1, FALSE);
  run (&server, base_url, MT_LANGFUSE_API_V1, TRUE);

  g_print ("ratio_to_floor: %.2f x\n", server.worst_ratio);

  in_fake (&server, stop);
  g_thread_join (thread);
  g_main_loop_unref (server.loop);
  g_main_context_unref (server.context);
  g_mutex_clear (&server.lock);
  g_cond_clear (&server.cond);
  return 0;
}
