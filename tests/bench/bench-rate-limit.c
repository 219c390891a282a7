/* bench-rate-limit.c — a month of data through a Langfuse plan's rate limit
 *
 * `mealtrace --batch` over Langfuse's v1 (the most requests: 187 for the
 * medium data set) against a loopback Langfuse that keeps a limit of 30
 * requests a window as Langfuse Cloud does: stated only in the 429 that
 * ends a window, from which the client learns it. The plan's window is a
 * minute; here it lasts 6 s, the same limit ten times faster, so that the
 * run takes under a minute. The bucket is sparse, so that each user's
 * folder is listed (301 requests), and the loopback S3 answers SlowDown
 * beyond 50 requests a second.
 *
 * Targets: no 429 after the first window (the one the client learns the
 * limit from), at most 30 requests in any window, and a wall time of at
 * most 1.1 × (requests ÷ allowed rate). The last line is that ratio.
 */

#include <gio/gio.h>

#include "mt-bench-data.h"
#include "mt-bench-run.h"
#include "mt-test-files.h"
#include "mt-fake-langfuse.h"
#include "mt-fake-s3.h"

#define LATENCY_MS 20
#define LIMIT 30
#define WINDOW_MS 6000
#define S3_PER_SECOND 50

int
main (int argc, char *argv[])
{
  g_autoptr(MtLoopbackLangfuse) langfuse = mt_loopback_langfuse_new (MT_BENCH_PUBLIC_KEY, MT_BENCH_SECRET_KEY);
  g_autoptr(MtLoopbackS3) s3 = mt_loopback_s3_new ("us-east-1", MT_BENCH_KEY_ID, MT_BENCH_AWS_SECRET, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mealtrace-bench-XXXXXX", &error);
  g_autofree char *output = NULL;
  MtBenchData data;
  MtBenchRun r = { 0 };
  guint requests, throttled_windows, max_per_window;
  double allowed_ms, ratio;
  gboolean met;

  g_assert_no_error (error);
  output = g_build_filename (dir, "out", NULL);
  mt_bench_data_populate (MT_BENCH_MEDIUM, TRUE, langfuse, s3, &data);
  mt_loopback_langfuse_set_latency_ms (langfuse, LATENCY_MS);
  mt_loopback_s3_set_latency_ms (s3, LATENCY_MS);
  mt_fake_langfuse_set_rate_limit (langfuse, LIMIT, WINDOW_MS, FALSE);
  mt_fake_s3_set_rate_limit (s3, S3_PER_SECOND);

  mt_bench_run_batch (langfuse, s3, "v1", dir, output, &r);

  requests = mt_loopback_langfuse_get_requests (langfuse);
  throttled_windows = mt_fake_langfuse_get_throttled_windows (langfuse);
  max_per_window = mt_fake_langfuse_get_max_per_window (langfuse);
  /* Requests ÷ the allowed rate: the time the limit allows them in. */
  allowed_ms = (double) requests * WINDOW_MS / LIMIT;
  ratio = r.wall / allowed_ms;
  met = throttled_windows <= 1 && max_per_window <= LIMIT && ratio <= 1.1;

  g_print ("traces: %u count\n", data.traces);
  g_print ("limit: %u requests per %u ms window\n", LIMIT, WINDOW_MS);
  g_print ("latency: %u ms\n", LATENCY_MS);
  g_print ("wall: %.0f ms\n", r.wall);
  g_print ("mealtrace_cpu: %.0f ms\n", r.cpu);
  g_print ("langfuse_requests: %u count\n", requests);
  g_print ("langfuse_429s: %u count\n", mt_fake_langfuse_get_throttled (langfuse));
  g_print ("langfuse_windows_with_429s: %u count\n", throttled_windows);
  g_print ("langfuse_most_in_a_window: %u count\n", max_per_window);
  g_print ("s3_requests: %u count\n", mt_loopback_s3_get_requests (s3));
  g_print ("s3_slow_downs: %u count\n", mt_fake_s3_get_slowed (s3));
  g_print ("retries: %u count\n", r.retries);
  g_print ("allowed_time: %.0f ms\n", allowed_ms);
  g_print ("targets (429s only in the first window, <= %u a window, wall <= 1.1 x allowed time): %s\n", LIMIT,
           met ? "met" : "NOT MET");
  g_print ("ratio_to_floor: %.2f x\n", ratio);

  g_free (r.stdout_text);
  g_clear_object (&langfuse);
  g_clear_object (&s3);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  mt_test_remove_tree (dir);
  return 0;
}
