/* bench-matcher.c — the matcher on a month of a busy app
 *
 * 50,000 users, 1,000,000 traces and 300,000 images, in random order within
 * each user. Prints the matcher's wall time, the time to merely sort the
 * same timestamps per user (the floor: no matcher can avoid it), their
 * ratio and the peak RSS. Targets: ratio ≤ 3, peak RSS ≤ 600 MB. The
 * matcher uses every processor, as the app does; its time on one thread
 * is printed beside it. The floor is one thread: it is the cost of the
 * sort itself, the part no matcher escapes.
 */

#include <stdlib.h>
#include <sys/resource.h>

#include "mt-core.h"
#include "mt-sort-private.h"

#define N_USERS 50000
#define N_TRACES 1000000
#define N_IMAGES 300000
#define ROUNDS 7
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

/* One matcher run over every user, with @threads threads (0: one per
 * processor); the wall time of handing over, matching and summarising. */
static double
time_matcher (GPtrArray *users,
              guint      threads,
              guint     *out_pairs)
{
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(GPtrArray) given = g_ptr_array_new ();
  MtMatchSummary *summary;
  gint64 t0, t1;

  /* Each run gets its own ids and arrays, as the fetch would hand them
   * over: the matcher sorts the arrays in place and keeps them. Untimed. */
  for (guint u = 0; u < users->len; u++)
    {
      User *user = g_ptr_array_index (users, u);

      g_ptr_array_add (given, g_strdup (user->user_id));
      g_ptr_array_add (given, g_ptr_array_copy (user->traces, (GCopyFunc) (void (*) (void)) g_object_ref, NULL));
      g_ptr_array_add (given, g_ptr_array_copy (user->images, (GCopyFunc) (void (*) (void)) g_object_ref, NULL));
    }
  mt_matcher_set_threads (matcher, threads);

  t0 = g_get_monotonic_time ();
  for (guint u = 0; u < users->len; u++)
    mt_matcher_take_user (matcher, g_ptr_array_index (given, 3 * u),
                          g_ptr_array_index (given, 3 * u + 1), g_ptr_array_index (given, 3 * u + 2));
  result = mt_matcher_run (matcher);
  t1 = g_get_monotonic_time ();

  summary = mt_match_result_get_summary (result);
  g_assert_cmpuint (mt_match_summary_get_total_traces (summary), ==, N_TRACES);
  g_assert_cmpuint (mt_match_summary_get_total_images (summary), ==, N_IMAGES);
  if (out_pairs != NULL)
    *out_pairs = mt_match_summary_get_total_matched_pairs (summary);
  return (t1 - t0) / 1e6;
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
  double best_match = G_MAXDOUBLE, best_single = G_MAXDOUBLE;
  double best_floor = G_MAXDOUBLE, best_qsort = G_MAXDOUBLE;
  guint max_traces = 0, max_images = 0, pairs = 0;
  long rss_data;
  double ratio;
  gboolean met;

  for (guint u = 0; u < N_USERS; u++)
    {
      User *user = g_new0 (User, 1);

      user->user_id = uuid (rand);
      user->traces = g_ptr_array_new_full (trace_counts[u], g_object_unref);
      user->images = g_ptr_array_new_full (image_counts[u], g_object_unref);
      g_ptr_array_add (users, user);
      g_ptr_array_add (trace_times, g_new (gint64, trace_counts[u] + 1));
      g_ptr_array_add (image_times, g_new (gint64, image_counts[u] + 1));
      max_traces = MAX (max_traces, trace_counts[u]);
      max_images = MAX (max_images, image_counts[u]);
    }

  /* Traces arrive page by page, every user mixed in: each user's traces
   * end up all over the heap, as they do when the job fetches them. */
  {
    g_autofree guint *owners = g_new (guint, N_TRACES);
    guint n = 0;

    for (guint u = 0; u < N_USERS; u++)
      for (guint k = 0; k < trace_counts[u]; k++)
        owners[n++] = u;
    for (guint i = N_TRACES - 1; i > 0; i--)
      {
        guint j = g_rand_int_range (rand, 0, i + 1), tmp = owners[i];

        owners[i] = owners[j];
        owners[j] = tmp;
      }
    for (guint i = 0; i < N_TRACES; i++)
      {
        User *user = g_ptr_array_index (users, owners[i]);
        g_autofree char *id = uuid (rand);
        gint64 time = start + (gint64) (g_rand_double (rand) * MONTH_MS);
        MtTrace *t = mt_trace_new (id, user->user_id, time);
        gint64 *tt = g_ptr_array_index (trace_times, owners[i]);

        mt_trace_set_total_cost (t, g_rand_double_range (rand, 0.0001, 0.05));
        tt[user->traces->len] = time;
        g_ptr_array_add (user->traces, t);
      }
  }

  /* Images are listed user by user. */
  for (guint u = 0; u < N_USERS; u++)
    {
      User *user = g_ptr_array_index (users, u);
      gint64 *it = g_ptr_array_index (image_times, u);

      for (guint k = 0; k < image_counts[u]; k++)
        {
          g_autofree char *name = uuid (rand);
          g_autofree char *key = g_strdup_printf ("meal-images/%s/%s.jpg", user->user_id, name);
          gint64 time = start + (gint64) (g_rand_double (rand) * MONTH_MS);

          g_ptr_array_add (user->images, mt_image_new (key, user->user_id, time, 250000, NULL));
          it[k] = time;
        }
    }
  rss_data = peak_rss_kb ();

  for (guint round = 0; round < ROUNDS; round++)
    {
      g_autoptr(GPtrArray) copies = g_ptr_array_new_with_free_func (g_free);
      gint64 t0, t1;

      best_match = MIN (best_match, time_matcher (users, 0, &pairs));
      best_single = MIN (best_single, time_matcher (users, 1, NULL));

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
  g_print ("processors: %u count\n", g_get_num_processors ());
  g_print ("matcher_wall: %.1f ms\n", best_match * 1000);
  g_print ("matcher_wall_one_thread: %.1f ms\n", best_single * 1000);
  g_print ("sort_floor_wall: %.1f ms\n", best_floor * 1000);
  g_print ("qsort_wall: %.1f ms\n", best_qsort * 1000);
  g_print ("ratio_one_thread_to_floor: %.2f x\n", best_single / best_floor);
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
