/* bench-matcher.c — the matcher on a month of a busy app
 *
 * 50,000 users, 1,000,000 traces and 300,000 images, in random order within
 * each user. Prints the matcher's wall time, the time to merely sort the
 * same timestamps per user (the floor: no matcher can avoid it), their
 * ratio and the peak RSS. Targets: ratio ≤ 3, peak RSS ≤ 600 MB.
 */

#include <stdlib.h>
#include <sys/resource.h>

#include "mt-core.h"
#include "mt-sort-private.h"

#define N_USERS 50000
#define N_TRACES 1000000
#define N_IMAGES 300000
#define ROUNDS 3
#define MONTH_MS (G_GINT64_CONSTANT (30) * 86400000)

typedef struct {
  char *user_id;
  GPtrArray *traces;
  GPtrArray *images;
} User;

#define INT64_LESS(a, b) (*(a) < *(b))
MT_DEFINE_SORT (sort_int64, gint64, INT64_LESS)

static int
compare_int64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static char *
uuid (GRand *rand)
{
  return g_strdup_printf ("%08x-%04x-%04x-%04x-%04x%08x",
                          g_rand_int (rand), g_rand_int (rand) & 0xffff, g_rand_int (rand) & 0xffff,
                          g_rand_int (rand) & 0xffff, g_rand_int (rand) & 0xffff, g_rand_int (rand));
}

/* Spreads @total over the users: most get a few, some many. */
static guint *
distribute (GRand *rand, guint total)
{
  guint *counts = g_new0 (guint, N_USERS);

  for (guint i = 0; i < total; i++)
    {
      /* Squaring a uniform draw skews activity towards low user numbers. */
      double u = g_rand_double (rand);

      counts[(guint) (u * u * N_USERS)]++;
    }
  return counts;
}

static long
peak_rss_kb (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

int
main (int argc, char *argv[])
{
  GRand *rand = g_rand_new_with_seed (2025);
  gint64 start = G_GINT64_CONSTANT (1735689600000);
  g_autofree guint *trace_counts = distribute (rand, N_TRACES);
  g_autofree guint *image_counts = distribute (rand, N_IMAGES);
  g_autoptr(GPtrArray) users = g_ptr_array_new ();
  g_autoptr(GPtrArray) trace_times = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) image_times = g_ptr_array_new_with_free_func (g_free);
  g_autofree gint64 *scratch = g_new (gint64, N_TRACES);
  double best_match = G_MAXDOUBLE, best_floor = G_MAXDOUBLE, best_qsort = G_MAXDOUBLE;
  guint max_traces = 0, max_images = 0, pairs = 0;
  long rss_data;
  double ratio;
  gboolean met;

  for (guint u = 0; u < N_USERS; u++)
    {
      User *user = g_new0 (User, 1);
      gint64 *tt = g_new (gint64, trace_counts[u] + 1);
      gint64 *it = g_new (gint64, image_counts[u] + 1);

      user->user_id = uuid (rand);
      user->traces = g_ptr_array_new_full (trace_counts[u], g_object_unref);
      user->images = g_ptr_array_new_full (image_counts[u], g_object_unref);
      for (guint k = 0; k < trace_counts[u]; k++)
        {
          g_autofree char *id = uuid (rand);
          gint64 time = start + (gint64) (g_rand_double (rand) * MONTH_MS);
          MtTrace *t = mt_trace_new (id, user->user_id, time);

          mt_trace_set_total_cost (t, g_rand_double_range (rand, 0.0001, 0.05));
          g_ptr_array_add (user->traces, t);
          tt[k] = time;
        }
      for (guint k = 0; k < image_counts[u]; k++)
        {
          g_autofree char *name = uuid (rand);
          g_autofree char *key = g_strdup_printf ("meal-images/%s/%s.jpg", user->user_id, name);
          gint64 time = start + (gint64) (g_rand_double (rand) * MONTH_MS);

          g_ptr_array_add (user->images, mt_image_new (key, user->user_id, time, 250000, NULL));
          it[k] = time;
        }
      max_traces = MAX (max_traces, trace_counts[u]);
      max_images = MAX (max_images, image_counts[u]);
      g_ptr_array_add (users, user);
      g_ptr_array_add (trace_times, tt);
      g_ptr_array_add (image_times, it);
    }
  rss_data = peak_rss_kb ();

  for (guint round = 0; round < ROUNDS; round++)
    {
      g_autoptr(MtMatcher) matcher = mt_matcher_new ();
      g_autoptr(MtMatchResult) result = NULL;
      g_autoptr(GPtrArray) copies = g_ptr_array_new_with_free_func (g_free);
      gint64 t0, t1;

      /* The matcher: handing it every user's objects, matching, summary. */
      t0 = g_get_monotonic_time ();
      for (guint u = 0; u < N_USERS; u++)
        {
          User *user = g_ptr_array_index (users, u);

          mt_matcher_add_user (matcher, user->user_id,
                               (MtTrace **) user->traces->pdata, user->traces->len,
                               (MtImage **) user->images->pdata, user->images->len);
        }
      result = mt_matcher_run (matcher);
      t1 = g_get_monotonic_time ();
      best_match = MIN (best_match, (t1 - t0) / 1e6);
      pairs = mt_match_summary_get_total_matched_pairs (mt_match_result_get_summary (result));
      g_assert_cmpuint (mt_match_summary_get_total_traces (mt_match_result_get_summary (result)), ==, N_TRACES);
      g_assert_cmpuint (mt_match_summary_get_total_images (mt_match_result_get_summary (result)), ==, N_IMAGES);

      /* The floor: the same timestamps, user by user, sorted and nothing
       * more, by the same sort on bare integers. Copies are made untimed. */
      for (guint u = 0; u < N_USERS; u++)
        {
          g_ptr_array_add (copies, g_memdup2 (g_ptr_array_index (trace_times, u), trace_counts[u] * sizeof (gint64)));
          g_ptr_array_add (copies, g_memdup2 (g_ptr_array_index (image_times, u), image_counts[u] * sizeof (gint64)));
        }
      t0 = g_get_monotonic_time ();
      for (guint u = 0; u < N_USERS; u++)
        {
          sort_int64 (g_ptr_array_index (copies, 2 * u), trace_counts[u], scratch);
          sort_int64 (g_ptr_array_index (copies, 2 * u + 1), image_counts[u], scratch);
        }
      t1 = g_get_monotonic_time ();
      best_floor = MIN (best_floor, (t1 - t0) / 1e6);

      /* For reference, the C library's qsort on the same data. */
      for (guint u = 0; u < N_USERS; u++)
        {
          memcpy (g_ptr_array_index (copies, 2 * u), g_ptr_array_index (trace_times, u), trace_counts[u] * sizeof (gint64));
          memcpy (g_ptr_array_index (copies, 2 * u + 1), g_ptr_array_index (image_times, u), image_counts[u] * sizeof (gint64));
        }
      t0 = g_get_monotonic_time ();
      for (guint u = 0; u < N_USERS; u++)
        {
          qsort (g_ptr_array_index (copies, 2 * u), trace_counts[u], sizeof (gint64), compare_int64);
          qsort (g_ptr_array_index (copies, 2 * u + 1), image_counts[u], sizeof (gint64), compare_int64);
        }
      t1 = g_get_monotonic_time ();
      best_qsort = MIN (best_qsort, (t1 - t0) / 1e6);
    }

  ratio = best_match / best_floor;
  met = ratio <= 3.0 && peak_rss_kb () <= 600 * 1024;

  g_print ("users: %u count\n", N_USERS);
  g_print ("traces: %u count\n", N_TRACES);
  g_print ("images: %u count\n", N_IMAGES);
  g_print ("largest_user: %u traces, %u images\n", max_traces, max_images);
  g_print ("pairs: %u count\n", pairs);
  g_print ("matcher_wall: %.1f ms\n", best_match * 1000);
  g_print ("sort_floor_wall: %.1f ms\n", best_floor * 1000);
  g_print ("qsort_wall: %.1f ms\n", best_qsort * 1000);
  g_print ("rss_data_set: %.1f MB\n", rss_data / 1024.0);
  g_print ("peak_rss: %.1f MB\n", peak_rss_kb () / 1024.0);
  g_print ("targets (ratio <= 3, peak RSS <= 600 MB): %s\n", met ? "met" : "NOT MET");
  g_print ("ratio_to_floor: %.2f x\n", ratio);

  for (guint u = 0; u < N_USERS; u++)
    {
      User *user = g_ptr_array_index (users, u);

      g_free (user->user_id);
      g_ptr_array_unref (user->traces);
      g_ptr_array_unref (user->images);
      g_free (user);
    }
  g_rand_free (rand);
  return met ? 0 : 1;
}
