/* test-summary.c — SPEC section 5, figure by figure */

#include <math.h>

#include "mt-core.h"

#define S(ms) ((gint64) (ms) * 1000)
#define BASE G_GINT64_CONSTANT (1738300000000)

/* Adds a user whose traces lie at @trace_times and images at @image_times
 * (seconds after BASE). Each trace's total cost is @cost. */
static void
add_user (MtMatcher *matcher, const char *user_id,
          const int *trace_times, guint nt, const int *image_times, guint ni, double cost)
{
  for (guint k = 0; k < nt; k++)
    {
      g_autofree char *id = g_strdup_printf ("%s-t%u", user_id, k);
      g_autoptr(MtTrace) t = mt_trace_new (id, user_id, BASE + S (trace_times[k]));

      mt_trace_set_total_cost (t, cost);
      mt_matcher_add_traces (matcher, &t, 1);
    }
  for (guint k = 0; k < ni; k++)
    {
      g_autofree char *key = g_strdup_printf ("meal-images/%s/%u.jpg", user_id, k);
      g_autoptr(MtImage) i = mt_image_new (key, user_id, BASE + S (image_times[k]), 1, NULL);

      mt_matcher_add_images (matcher, &i, 1);
    }
}

#define ADD(m, id, traces, images, cost) \
  add_user (m, id, traces, G_N_ELEMENTS (traces), images, G_N_ELEMENTS (images), cost)

static void
test_seed_numbers (void)
{
  /* The seed README's run: 8 users, 5 with matches, 15 images, 25 traces,
   * 12 pairs → 62.5 % and 80.0 %. The gaps of the 12 pairs are, sorted:
   * 60 120 180 240 300 300 360 420 600 900 1200 3600 s. */
  g_autoptr(MtMatcher) m = mt_matcher_new ();
  g_autoptr(MtMatchResult) r = NULL;
  MtMatchSummary *s;
  static const int u1_t[] = { 0, 10000, 20000, 30000, 40000 }, u1_i[] = { 60, 10300, 21200 };
  static const int u2_t[] = { 0, 10000, 20000, 90000 }, u2_i[] = { 120, 10300, 23600 };
  static const int u3_t[] = { 0, 10000, 90000 }, u3_i[] = { 180, 10900 };
  static const int u4_t[] = { 1000, 10000, 90000 }, u4_i[] = { 500, 1240, 10600 };
  static const int u5_t[] = { 0, 10000 }, u5_i[] = { 360, 10420 };
  static const int u6_t[] = { 5000, 6000 }, u6_i[] = { 100, 4000 };
  static const int u7_t[] = { 0, 1, 2 }, u8_t[] = { 0, 1, 2 };
  static const int none[] = { 0 };
  /* Every trace costs 0.1; 12 × 0.1 in floats is 1.2000000000000002. */
  const double cost = 0.1;

  ADD (m, "user-1", u1_t, u1_i, cost);
  ADD (m, "user-2", u2_t, u2_i, cost);
  ADD (m, "user-3", u3_t, u3_i, cost);
  ADD (m, "user-4", u4_t, u4_i, cost);
  ADD (m, "user-5", u5_t, u5_i, cost);
  ADD (m, "user-6", u6_t, u6_i, cost);
  add_user (m, "user-7", u7_t, 3, none, 0, cost);
  add_user (m, "user-8", u8_t, 3, none, 0, cost);
  r = mt_matcher_run (m);
  s = mt_match_result_get_summary (r);

  g_assert_cmpuint (mt_match_summary_get_total_users (s), ==, 8);
  g_assert_cmpuint (mt_match_summary_get_users_with_matches (s), ==, 5);
  g_assert_cmpuint (mt_match_summary_get_users_without_counterpart (s), ==, 3);
  g_assert_cmpuint (mt_match_summary_get_total_images (s), ==, 15);
  g_assert_cmpuint (mt_match_summary_get_total_traces (s), ==, 25);
  g_assert_cmpuint (mt_match_summary_get_total_matched_pairs (s), ==, 12);
  g_assert_cmpuint (mt_match_summary_get_match_rate_tenths (s), ==, 625);
  g_assert_cmpfloat (mt_match_summary_get_match_rate (s), ==, 62.5);
  g_assert_cmpuint (mt_match_summary_get_pair_match_efficiency_tenths (s), ==, 800);
  g_assert_cmpfloat (mt_match_summary_get_pair_match_efficiency (s), ==, 80.0);
  g_assert_cmpuint (mt_match_summary_get_traces_without_user (s), ==, 0);
  g_assert_null (mt_match_summary_get_incomplete_users (s)[0]);

  /* min 60, max 3600, median (300 + 360) / 2 = 330, mean 8280 / 12 = 690,
   * p90 at rank 0.9 × 11 = 9.9: 900 + 0.9 × (1200 − 900) = 1170. */
  g_assert_true (mt_match_summary_has_time_differences (s));
  g_assert_cmpint (mt_match_summary_get_time_difference_min_ms (s), ==, S (60));
  g_assert_cmpint (mt_match_summary_get_time_difference_max_ms (s), ==, S (3600));
  g_assert_cmpint (mt_match_summary_get_time_difference_median_ms (s), ==, S (330));
  g_assert_cmpint (mt_match_summary_get_time_difference_mean_ms (s), ==, S (690));
  g_assert_cmpint (mt_match_summary_get_time_difference_p90_ms (s), ==, S (1170));

  g_assert_cmpfloat (mt_match_summary_get_matched_total_cost (s), ==, 1.2);

  /* The histogram: 60 | 120 180 240 | 300 300 360 420 | 600 900 1200 | 3600,
   * a limit belonging to the bin above it. */
  {
    static const guint expected[MT_GAP_HISTOGRAM_BINS] = { 0, 0, 0, 1, 3, 4, 3, 0, 1, 0, 0, 0 };
    const guint *histogram = mt_match_summary_get_gap_histogram (s);

    for (guint b = 0; b < MT_GAP_HISTOGRAM_BINS; b++)
      g_assert_cmpuint (histogram[b], ==, expected[b]);
    g_assert_cmpint (mt_match_summary_gap_bin_limit_ms (3), ==, S (120));
    g_assert_cmpint (mt_match_summary_gap_bin_limit_ms (MT_GAP_HISTOGRAM_BINS - 1), ==, G_MAXINT64);
  }

  /* The properties a view binds to say the same. */
  {
    guint users = 0, without = 0;
    double rate = 0, median = 0;

    g_object_get (s, "total-users", &users, "users-without-counterpart", &without,
                  "match-rate", &rate, "time-difference-median", &median, NULL);
    g_assert_cmpuint (users, ==, 8);
    g_assert_cmpuint (without, ==, 3);
    g_assert_cmpfloat (rate, ==, 62.5);
    g_assert_cmpfloat (median, ==, 330.0);
  }
}

static void
test_zero (void)
{
  g_autoptr(MtMatcher) m = mt_matcher_new ();
  g_autoptr(MtMatchResult) empty = mt_matcher_run (m);
  g_autoptr(MtMatchResult) no_images = NULL;
  MtMatchSummary *s = mt_match_result_get_summary (empty);
  static const int t[] = { 0, 10 };
  static const int none[] = { 0 };

  g_assert_cmpuint (mt_match_summary_get_total_users (s), ==, 0);
  g_assert_cmpuint (mt_match_summary_get_users_without_counterpart (s), ==, 0);
  g_assert_cmpuint (mt_match_summary_get_match_rate_tenths (s), ==, 0);
  g_assert_cmpuint (mt_match_summary_get_pair_match_efficiency_tenths (s), ==, 0);
  g_assert_false (mt_match_summary_has_time_differences (s));
  g_assert_cmpfloat (mt_match_summary_get_matched_total_cost (s), ==, 0.0);
  g_assert_false (signbit (mt_match_summary_get_matched_total_cost (s)));

  /* Users but no images: no division by zero, and no pairs. */
  add_user (m, "a", t, 2, none, 0, 0.5);
  add_user (m, "b", t, 2, none, 0, 0.5);
  no_images = mt_matcher_run (m);
  s = mt_match_result_get_summary (no_images);
  g_assert_cmpuint (mt_match_summary_get_total_users (s), ==, 2);
  g_assert_cmpuint (mt_match_summary_get_users_without_counterpart (s), ==, 2);
  g_assert_cmpuint (mt_match_summary_get_total_traces (s), ==, 4);
  g_assert_cmpuint (mt_match_summary_get_match_rate_tenths (s), ==, 0);
  g_assert_cmpuint (mt_match_summary_get_pair_match_efficiency_tenths (s), ==, 0);
  g_assert_false (mt_match_summary_has_time_differences (s));
  g_assert_cmpfloat (mt_match_summary_get_matched_total_cost (s), ==, 0.0);
}

/* @matched of @users have one pair each; the rest have a lone trace. */
static MtMatchResult *
users_with (guint matched, guint users, guint extra_images)
{
  g_autoptr(MtMatcher) m = mt_matcher_new ();
  static const int t[] = { 0 };
  static const int i[] = { 10 };
  static const int before[] = { -10 };

  for (guint k = 0; k < users; k++)
    {
      g_autofree char *id = g_strdup_printf ("user-%03u", k);

      if (k < matched)
        add_user (m, id, t, 1, i, 1, NAN);
      else if (k < matched + extra_images)
        add_user (m, id, t, 1, before, 1, NAN);
      else
        add_user (m, id, t, 1, NULL, 0, NAN);
    }
  return mt_matcher_run (m);
}

static void
test_rounding (void)
{
  struct { guint matched, users, extra_images, rate, efficiency; } cases[] = {
    { 1, 3, 0, 333, 1000 },  /* 33.33… → 33.3 */
    { 2, 3, 1, 667, 667 },   /* 66.66… → 66.7 */
    { 1, 8, 0, 125, 1000 },  /* exactly 12.5 */
    { 1, 16, 15, 63, 63 },   /* 6.25 → 6.3: half away from zero, on exact counts */
    { 1, 6, 0, 167, 1000 },  /* 16.66… → 16.7 */
    { 3, 3, 0, 1000, 1000 }, /* 100.0 */
    { 0, 4, 4, 0, 0 },
    { 1, 2000, 0, 1, 1000 }, /* 0.05 → 0.1 */
    { 1, 2001, 0, 0, 1000 }, /* 0.04997… → 0.0 */
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(MtMatchResult) r = users_with (cases[k].matched, cases[k].users, cases[k].extra_images);
      MtMatchSummary *s = mt_match_result_get_summary (r);

      g_test_message ("%u of %u users", cases[k].matched, cases[k].users);
      g_assert_cmpuint (mt_match_summary_get_match_rate_tenths (s), ==, cases[k].rate);
      g_assert_cmpuint (mt_match_summary_get_pair_match_efficiency_tenths (s), ==, cases[k].efficiency);
    }
}

/* One user per gap, each with one trace and one image @gaps[k] ms later. */
static MtMatchSummary *
gaps_summary (const gint64 *gaps, guint n, MtMatchResult **out)
{
  g_autoptr(MtMatcher) m = mt_matcher_new ();

  for (guint k = 0; k < n; k++)
    {
      g_autofree char *id = g_strdup_printf ("u%03u", k);
      g_autoptr(MtTrace) t = mt_trace_new ("t", id, BASE);
      g_autoptr(MtImage) i = mt_image_new ("i", id, BASE + gaps[k], 1, NULL);

      mt_matcher_add_user (m, id, &t, 1, &i, 1);
    }
  *out = mt_matcher_run (m);
  return mt_match_result_get_summary (*out);
}

static void
test_gap_statistics (void)
{
  struct { gint64 gaps[5]; guint n; gint64 min, median, mean, p90, max; } cases[] = {
    /* One pair: every figure is its gap. */
    { { 4200 }, 1, 4200, 4200, 4200, 4200, 4200 },
    /* Two: median and mean halfway, p90 at 0.9 of the way. */
    { { 2000, 1000 }, 2, 1000, 1500, 1500, 1900, 2000 },
    /* Half milliseconds round up: 1.5 → 2, and p90 1.9 → 2. */
    { { 1, 2 }, 2, 1, 2, 2, 2, 2 },
    /* Mean 7/3 → 2; p90 at rank 1.8: 2 + 0.8 × 2 = 3.6 → 4. */
    { { 4, 1, 2 }, 3, 1, 2, 2, 4, 4 },
    /* Five: rank 3.6 → 40 + 0.6 × 60 = 76. */
    { { 10, 20, 30, 40, 100 }, 5, 10, 30, 40, 76, 100 },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(MtMatchResult) r = NULL;
      MtMatchSummary *s = gaps_summary (cases[k].gaps, cases[k].n, &r);

      g_assert_true (mt_match_summary_has_time_differences (s));
      g_assert_cmpint (mt_match_summary_get_time_difference_min_ms (s), ==, cases[k].min);
      g_assert_cmpint (mt_match_summary_get_time_difference_median_ms (s), ==, cases[k].median);
      g_assert_cmpint (mt_match_summary_get_time_difference_mean_ms (s), ==, cases[k].mean);
      g_assert_cmpint (mt_match_summary_get_time_difference_p90_ms (s), ==, cases[k].p90);
      g_assert_cmpint (mt_match_summary_get_time_difference_max_ms (s), ==, cases[k].max);
    }
}

static void
test_cost (void)
{
  g_autoptr(MtMatcher) m = mt_matcher_new ();
  g_autoptr(MtMatchResult) r = NULL;
  static const int t[] = { 0, 100 };
  static const int i[] = { 10 };
  MtMatchSummary *s;

  /* Only traces in pairs count; the unused one (at 100 s) does not. */
  add_user (m, "a", t, 2, i, 1, 0.0023);
  add_user (m, "b", t, 2, i, 1, 0.0145);
  /* An unknown cost counts as nothing. */
  add_user (m, "c", t, 2, i, 1, NAN);
  r = mt_matcher_run (m);
  s = mt_match_result_get_summary (r);

  g_assert_cmpuint (mt_match_summary_get_total_matched_pairs (s), ==, 3);
  g_assert_cmpfloat (mt_match_summary_get_matched_total_cost (s), ==, 0.0168);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/summary/seed-numbers", test_seed_numbers);
  g_test_add_func ("/summary/zero", test_zero);
  g_test_add_func ("/summary/rounding", test_rounding);
  g_test_add_func ("/summary/gap-statistics", test_gap_statistics);
  g_test_add_func ("/summary/cost", test_cost);

  return g_test_run ();
}
