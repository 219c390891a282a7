/* test-matcher.c — SPEC section 4, rule by rule, and against a reference */

#include <string.h>

#include "mt-core.h"

typedef struct { const char *id; gint64 time; } T;
typedef struct { const char *key; gint64 time; } I;

/* One user "u" with these traces and images, matched; NULL when the user
 * has no result. */
static MtMatchResult *
run_user (const T *traces, guint n_traces, const I *images, guint n_images, gint64 max_gap)
{
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  g_autoptr(GPtrArray) t = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) i = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint k = 0; k < n_traces; k++)
    g_ptr_array_add (t, mt_trace_new (traces[k].id, "u", traces[k].time));
  for (guint k = 0; k < n_images; k++)
    g_ptr_array_add (i, mt_image_new (images[k].key, "u", images[k].time, 1, NULL));

  mt_matcher_set_max_gap_ms (matcher, max_gap);
  mt_matcher_add_traces (matcher, (MtTrace **) t->pdata, t->len);
  mt_matcher_add_images (matcher, (MtImage **) i->pdata, i->len);
  return mt_matcher_run (matcher);
}

/* "pairs=a:t2,b:t1 unused=t3 unmatched=c status=matched" */
static char *
describe (MtUserResult *user)
{
  GString *s = g_string_new ("pairs=");
  GPtrArray *pairs = mt_user_result_get_pairs (user);
  GPtrArray *unused = mt_user_result_get_unused_traces (user);
  GPtrArray *unmatched = mt_user_result_get_unmatched_images (user);
  g_autoptr(GEnumClass) klass = g_type_class_ref (MT_TYPE_USER_STATUS);

  for (guint k = 0; k < pairs->len; k++)
    {
      MtPair *pair = g_ptr_array_index (pairs, k);

      g_string_append_printf (s, "%s%s:%s", k ? "," : "", mt_image_get_key (mt_pair_get_image (pair)),
                              mt_trace_get_id (mt_pair_get_trace (pair)));
    }
  g_string_append (s, " unused=");
  for (guint k = 0; k < unused->len; k++)
    g_string_append_printf (s, "%s%s", k ? "," : "", mt_trace_get_id (g_ptr_array_index (unused, k)));
  g_string_append (s, " unmatched=");
  for (guint k = 0; k < unmatched->len; k++)
    g_string_append_printf (s, "%s%s", k ? "," : "", mt_image_get_key (g_ptr_array_index (unmatched, k)));
  g_string_append_printf (s, " status=%s",
                          g_enum_get_value (klass, mt_user_result_get_status (user))->value_nick);
  return g_string_free (s, FALSE);
}

#define CHECK(traces, images, gap, expected)                                           \
  G_STMT_START {                                                                       \
    g_autoptr(MtMatchResult) r_ = run_user (traces, G_N_ELEMENTS (traces),             \
                                            images, G_N_ELEMENTS (images), gap);       \
    MtUserResult *u_ = mt_match_result_lookup_user (r_, "u");                          \
    g_autofree char *d_ = NULL;                                                        \
    g_assert_nonnull (u_);                                                             \
    d_ = describe (u_);                                                                \
    g_assert_cmpstr (d_, ==, expected);                                                \
  } G_STMT_END

static const I no_images[1];

static void
test_strictly_before (void)
{
  /* A trace at the image's own millisecond is not before it. */
  T traces[] = { { "t1", 1000 } };
  I same[] = { { "a", 1000 } };
  I later[] = { { "a", 1001 } };

  CHECK (traces, same, -1, "pairs= unused=t1 unmatched=a status=no-pairs");
  CHECK (traces, later, -1, "pairs=a:t1 unused= unmatched= status=matched");
}

static void
test_latest_preceding (void)
{
  /* The closest trace before the image, not the first, not one after. */
  T traces[] = { { "t1", 100 }, { "t2", 500 }, { "t3", 900 }, { "t4", 1200 } };
  I images[] = { { "a", 1000 } };

  CHECK (traces, images, -1, "pairs=a:t3 unused=t1,t2,t4 unmatched= status=matched");
}

static void
test_taken_traces (void)
{
  /* One trace, two images: the earlier image takes it, the later one falls
   * back to the next latest free trace, or to nothing. */
  T one[] = { { "t1", 100 } };
  T two[] = { { "t1", 100 }, { "t2", 200 } };
  I images[] = { { "a", 300 }, { "b", 400 } };

  CHECK (one, images, -1, "pairs=a:t1 unused= unmatched=b status=matched");
  CHECK (two, images, -1, "pairs=a:t2,b:t1 unused= unmatched= status=matched");
}

static void
test_images_in_time_order (void)
{
  /* Images are taken by time, not by key or input order: "z" is earlier. */
  T traces[] = { { "t1", 100 } };
  I images[] = { { "a", 400 }, { "z", 300 } };

  CHECK (traces, images, -1, "pairs=z:t1 unused= unmatched=a status=matched");
}

static void
test_tie_on_image_time (void)
{
  /* Equal image times: the smaller key, bytewise, goes first ("B" < "a"). */
  T traces[] = { { "t1", 100 } };
  I images[] = { { "a", 300 }, { "B", 300 } };
  I unicode[] = { { "\xc3\xa9", 300 }, { "z", 300 } };

  CHECK (traces, images, -1, "pairs=B:t1 unused= unmatched=a status=matched");
  CHECK (traces, unicode, -1, "pairs=z:t1 unused= unmatched=\xc3\xa9 status=matched");
}

static void
test_tie_on_trace_time (void)
{
  /* Equal trace times: the greater id, bytewise, is taken first. */
  T traces[] = { { "t-b", 100 }, { "t-c", 100 }, { "t-a", 100 } };
  I one[] = { { "a", 300 } };
  I two[] = { { "a", 300 }, { "b", 301 } };

  CHECK (traces, one, -1, "pairs=a:t-c unused=t-a,t-b unmatched= status=matched");
  CHECK (traces, two, -1, "pairs=a:t-c,b:t-b unused=t-a unmatched= status=matched");
}

static void
test_max_gap_boundary (void)
{
  T traces[] = { { "t1", 1000 } };
  I at[] = { { "a", 61000 } };
  I past[] = { { "a", 61001 } };

  /* A gap equal to the maximum is allowed; one millisecond more is not. */
  CHECK (traces, at, 60000, "pairs=a:t1 unused= unmatched= status=matched");
  CHECK (traces, past, 60000, "pairs= unused=t1 unmatched=a status=no-pairs");
  CHECK (traces, past, -1, "pairs=a:t1 unused= unmatched= status=matched");
}

static void
test_max_gap_never_skips_to_older (void)
{
  /* With the latest free trace too old, every older one is too old as well;
   * a later trace still serves a later image. */
  T traces[] = { { "t1", 0 }, { "t2", 10000 }, { "t3", 100000 } };
  I images[] = { { "a", 5000 }, { "b", 50000 }, { "c", 101000 } };

  CHECK (traces, images, 5000, "pairs=a:t1,c:t3 unused=t2 unmatched=b status=matched");
}

static void
test_no_images (void)
{
  T traces[] = { { "t1", 100 }, { "t2", 200 } };

  {
    g_autoptr(MtMatchResult) r = run_user (traces, G_N_ELEMENTS (traces), no_images, 0, -1);
    g_autofree char *d = describe (mt_match_result_lookup_user (r, "u"));

    g_assert_cmpstr (d, ==, "pairs= unused=t1,t2 unmatched= status=no-images");
  }
}

static void
test_no_traces (void)
{
  /* A user with images but no trace is not a user of the run at all. */
  I images[] = { { "a", 300 } };
  g_autoptr(MtMatchResult) r = run_user (NULL, 0, images, G_N_ELEMENTS (images), -1);
  MtMatchSummary *s = mt_match_result_get_summary (r);

  g_assert_null (mt_match_result_lookup_user (r, "u"));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (r)), ==, 0);
  g_assert_cmpuint (mt_match_summary_get_total_users (s), ==, 0);
  g_assert_cmpuint (mt_match_summary_get_total_images (s), ==, 0);
}

static void
test_images_before_all_traces (void)
{
  T traces[] = { { "t1", 1000 }, { "t2", 2000 } };
  I images[] = { { "a", 100 }, { "b", 999 }, { "c", 1000 } };

  CHECK (traces, images, -1, "pairs= unused=t1,t2 unmatched=a,b,c status=no-pairs");
}

static void
test_time_difference (void)
{
  T traces[] = { { "t1", 1000 } };
  I images[] = { { "a", 301001 } };
  g_autoptr(MtMatchResult) r = run_user (traces, 1, images, 1, -1);
  MtUserResult *u = mt_match_result_lookup_user (r, "u");
  MtPair *pair = g_ptr_array_index (mt_user_result_get_pairs (u), 0);

  g_assert_cmpint (mt_pair_get_time_difference_ms (pair), ==, 300001);
}

static void
test_window (void)
{
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  g_autoptr(MtMatchResult) r = NULL;
  MtTrace *traces[] = {
    mt_trace_new ("before", "u", 999), mt_trace_new ("first", "u", 1000),
    mt_trace_new ("last", "u", 1999), mt_trace_new ("at-end", "u", 2000),
    mt_trace_new ("anon-in", NULL, 1500), mt_trace_new ("anon-empty", "", 1500),
    mt_trace_new ("anon-out", NULL, 2500),
  };
  MtImage *images[] = {
    mt_image_new ("at-start", "u", 1000, 1, NULL), mt_image_new ("inside", "u", 1500, 1, NULL),
    mt_image_new ("at-end", "u", 2000, 1, NULL),
  };
  MtUserResult *u;
  g_autofree char *d = NULL;

  /* The window is [from, to): its start belongs to it, its end does not.
   * Setting it after adding changes nothing. */
  mt_matcher_add_traces (matcher, traces, G_N_ELEMENTS (traces));
  mt_matcher_add_images (matcher, images, G_N_ELEMENTS (images));
  mt_matcher_set_window (matcher, 1000, 2000, 0);
  r = mt_matcher_run (matcher);

  u = mt_match_result_lookup_user (r, "u");
  d = describe (u);
  g_assert_cmpstr (d, ==, "pairs=inside:first unused=last unmatched=at-start status=matched");
  g_assert_cmpuint (mt_match_summary_get_total_traces (mt_match_result_get_summary (r)), ==, 2);
  g_assert_cmpuint (mt_match_summary_get_total_images (mt_match_result_get_summary (r)), ==, 2);
  g_assert_cmpuint (mt_match_summary_get_traces_without_user (mt_match_result_get_summary (r)), ==, 2);

  for (guint k = 0; k < G_N_ELEMENTS (traces); k++)
    g_object_unref (traces[k]);
  for (guint k = 0; k < G_N_ELEMENTS (images); k++)
    g_object_unref (images[k]);
}

static void
test_incomplete (void)
{
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  g_autoptr(MtTrace) t = mt_trace_new ("t1", "u", 100);
  g_autoptr(MtImage) i = mt_image_new ("a", "u", 200, 1, NULL);
  g_autoptr(MtMatchResult) r = NULL;
  g_autofree char *d = NULL;
  MtMatchSummary *s;

  /* Missing images could change every pair, so an incomplete user gets
   * none, and is never reported as a user without images. */
  mt_matcher_add_user (matcher, "u", &t, 1, &i, 1);
  mt_matcher_mark_incomplete (matcher, "u");
  mt_matcher_mark_incomplete (matcher, "no-traces");
  r = mt_matcher_run (matcher);
  s = mt_match_result_get_summary (r);

  d = describe (mt_match_result_lookup_user (r, "u"));
  g_assert_cmpstr (d, ==, "pairs= unused=t1 unmatched=a status=incomplete");
  /* A user whose fetch failed is reported even with no trace fetched, but
   * is not counted as a user of the run. */
  g_assert_cmpstrv (mt_match_summary_get_incomplete_users (s), ((const char *[]) { "no-traces", "u", NULL }));
  g_assert_cmpuint (mt_match_summary_get_total_users (s), ==, 1);
  g_assert_cmpuint (mt_match_summary_get_users_with_matches (s), ==, 0);
  g_assert_cmpuint (mt_match_summary_get_total_matched_pairs (s), ==, 0);
  g_assert_false (mt_match_result_is_complete (r));
}

static void
test_duplicates_dropped (void)
{
  /* The same trace or object twice (say, a page fetched twice) counts once. */
  T traces[] = { { "t1", 100 }, { "t1", 100 }, { "t2", 150 } };
  I images[] = { { "a", 300 }, { "a", 300 }, { "b", 310 }, { "c", 320 } };

  CHECK (traces, images, -1, "pairs=a:t2,b:t1 unused= unmatched=c status=matched");
}

static void
test_users_sorted_and_reusable (void)
{
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  const char *ids[] = { "b", "\xc3\xa9", "A", "a", "B" };
  const char *sorted[] = { "A", "B", "a", "b", "\xc3\xa9" };
  g_autoptr(MtMatchResult) first = NULL;
  g_autoptr(MtMatchResult) second = NULL;

  for (guint k = 0; k < G_N_ELEMENTS (ids); k++)
    {
      g_autoptr(MtTrace) t = mt_trace_new ("t", ids[k], 100);

      mt_matcher_add_traces (matcher, &t, 1);
    }
  first = mt_matcher_run (matcher);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (first)), ==, 5);
  for (guint k = 0; k < G_N_ELEMENTS (sorted); k++)
    {
      g_autoptr(MtUserResult) u = g_list_model_get_item (G_LIST_MODEL (first), k);

      g_assert_cmpstr (mt_user_result_get_user_id (u), ==, sorted[k]);
    }

  /* A run consumes its input: the next run starts empty. */
  second = mt_matcher_run (matcher);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (second)), ==, 0);
}

static void
on_run_done (GObject *source, GAsyncResult *res, gpointer data)
{
  MtMatchResult **out = data;
  g_autoptr(GError) error = NULL;

  *out = mt_matcher_run_finish (MT_MATCHER (source), res, &error);
  g_assert_no_error (error);
}

static void
test_async (void)
{
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  g_autoptr(MtTrace) t = mt_trace_new ("t1", "u", 100);
  g_autoptr(MtImage) i = mt_image_new ("a", "u", 200, 1, NULL);
  MtMatchResult *result = NULL;

  mt_matcher_add_user (matcher, "u", &t, 1, &i, 1);
  mt_matcher_run_async (matcher, NULL, on_run_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (mt_match_summary_get_total_matched_pairs (mt_match_result_get_summary (result)), ==, 1);
  g_object_unref (result);
}

/* The reference: SPEC section 4 read literally, O(T × I), after the window
 * and the dropping of exact repeats, also done the plain way. */
typedef struct { char id[8]; gint64 time; gboolean taken; gboolean gone; } RefTrace;
typedef struct { char key[8]; gint64 time; int trace; gboolean gone; } RefImage;

static int
ref_image_cmp (gconstpointer a, gconstpointer b)
{
  const RefImage *x = a, *y = b;

  if (x->gone != y->gone)
    return x->gone ? 1 : -1;
  if (x->time != y->time)
    return x->time < y->time ? -1 : 1;
  return strcmp (x->key, y->key);
}

static void
reference_match (RefTrace *traces, guint nt, RefImage *images, guint ni,
                 gint64 from, gint64 to, gint64 gap)
{
  for (guint t = 0; t < nt; t++)
    {
      traces[t].gone = traces[t].time < from || traces[t].time >= to;
      for (guint u = 0; u < t && !traces[t].gone; u++)
        traces[t].gone = !traces[u].gone && traces[u].time == traces[t].time &&
                         strcmp (traces[u].id, traces[t].id) == 0;
    }
  for (guint i = 0; i < ni; i++)
    {
      images[i].trace = -1;
      images[i].gone = images[i].time < from || images[i].time >= to;
      for (guint u = 0; u < i && !images[i].gone; u++)
        images[i].gone = !images[u].gone && images[u].time == images[i].time &&
                         strcmp (images[u].key, images[i].key) == 0;
    }
  if (ni > 0)
    qsort (images, ni, sizeof *images, ref_image_cmp);

  for (guint i = 0; i < ni && !images[i].gone; i++)
    {
      int best = -1;

      for (guint t = 0; t < nt; t++)
        {
          if (traces[t].gone || traces[t].taken || !(traces[t].time < images[i].time))
            continue;
          if (gap >= 0 && images[i].time - traces[t].time > gap)
            continue;
          if (best < 0 || traces[t].time > traces[best].time ||
              (traces[t].time == traces[best].time && strcmp (traces[t].id, traces[best].id) > 0))
            best = (int) t;
        }
      images[i].trace = best;
      if (best >= 0)
        traces[best].taken = TRUE;
    }
}

/* Hands @objects over in up to three ways at random: given away as an
 * array, added as one user's objects, or added one by one. */
static void
hand_over (MtMatcher *matcher, GRand *rand, const char *user_id, GPtrArray *traces, GPtrArray *images)
{
  GPtrArray *parts[3][2];

  for (guint p = 0; p < 3; p++)
    for (guint kind = 0; kind < 2; kind++)
      parts[p][kind] = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint k = 0; k < traces->len; k++)
    g_ptr_array_add (parts[g_rand_int_range (rand, 0, 3)][0], g_object_ref (traces->pdata[k]));
  for (guint k = 0; k < images->len; k++)
    g_ptr_array_add (parts[g_rand_int_range (rand, 0, 3)][1], g_object_ref (images->pdata[k]));

  mt_matcher_take_user (matcher, g_strdup (user_id), parts[0][0], parts[0][1]);
  mt_matcher_add_user (matcher, user_id, (MtTrace **) parts[1][0]->pdata, parts[1][0]->len,
                       (MtImage **) parts[1][1]->pdata, parts[1][1]->len);
  mt_matcher_add_traces (matcher, (MtTrace **) parts[2][0]->pdata, parts[2][0]->len);
  mt_matcher_add_images (matcher, (MtImage **) parts[2][1]->pdata, parts[2][1]->len);
  for (guint p = 1; p < 3; p++)
    for (guint kind = 0; kind < 2; kind++)
      g_ptr_array_unref (parts[p][kind]);
}

static void
test_random_against_reference (gconstpointer data)
{
  guint round = GPOINTER_TO_UINT (data);
  guint32 seed = g_test_rand_int () + round * 7919;
  GRand *rand = g_rand_new_with_seed (seed);
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) counts = g_array_new (FALSE, FALSE, sizeof (guint));
  const guint n_users = 3000;
  gint64 gap, from = G_MININT64 + 1, to = G_MAXINT64;
  guint total_pairs = 0, checked_pairs = 0, users_with_traces = 0;

  g_test_message ("seed %u", seed);

  /* Small time ranges make equal times common, so every tie rule is hit;
   * odd rounds add a maximum gap, rounds 2 and 3 a window. */
  gap = round % 2 == 0 ? -1 : g_rand_int_range (rand, 1, 40);
  mt_matcher_set_max_gap_ms (matcher, gap);
  if (round >= 2)
    {
      from = g_rand_int_range (rand, 0, 40);
      to = from + g_rand_int_range (rand, 60, 200);
      mt_matcher_set_window (matcher, from, to, 0);
    }

  for (guint u = 0; u < n_users; u++)
    {
      g_autofree char *user_id = g_strdup_printf ("user-%05u", u);
      guint nt = g_rand_int_range (rand, 0, 25), ni = g_rand_int_range (rand, 0, 25);
      gint64 span = g_rand_int_range (rand, 1, 200);
      RefTrace *rt = g_new0 (RefTrace, nt + 1);
      RefImage *ri = g_new0 (RefImage, ni + 1);
      g_autoptr(GPtrArray) t = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(GPtrArray) i = g_ptr_array_new_with_free_func (g_object_unref);

      /* Ids and keys repeat, sometimes at the same time too: a repeat of
       * both is a page fetched twice, and counts once. */
      for (guint k = 0; k < nt; k++)
        {
          g_snprintf (rt[k].id, sizeof rt[k].id, "t%02u", g_rand_int_range (rand, 0, 30));
          rt[k].time = g_rand_int_range (rand, 0, span);
          g_ptr_array_add (t, mt_trace_new (rt[k].id, user_id, rt[k].time));
        }
      for (guint k = 0; k < ni; k++)
        {
          g_snprintf (ri[k].key, sizeof ri[k].key, "i%02u", g_rand_int_range (rand, 0, 30));
          ri[k].time = g_rand_int_range (rand, 0, span + 20);
          g_ptr_array_add (i, mt_image_new (ri[k].key, user_id, ri[k].time, 1, NULL));
        }
      hand_over (matcher, rand, user_id, t, i);

      reference_match (rt, nt, ri, ni, from, to, gap);
      g_ptr_array_add (users, rt);
      g_ptr_array_add (users, ri);
      g_array_append_val (counts, nt);
      g_array_append_val (counts, ni);
    }

  result = mt_matcher_run (matcher);

  for (guint u = 0; u < n_users; u++)
    {
      g_autofree char *user_id = g_strdup_printf ("user-%05u", u);
      MtUserResult *user = mt_match_result_lookup_user (result, user_id);
      RefTrace *rt = g_ptr_array_index (users, 2 * u);
      RefImage *ri = g_ptr_array_index (users, 2 * u + 1);
      guint nt = g_array_index (counts, guint, 2 * u), ni = g_array_index (counts, guint, 2 * u + 1);
      guint live_traces = 0, live_images = 0, unused = 0, unmatched = 0, p = 0;
      GPtrArray *pairs;

      for (guint k = 0; k < nt; k++)
        if (!rt[k].gone)
          {
            live_traces++;
            unused += !rt[k].taken;
          }
      for (guint k = 0; k < ni; k++)
        if (!ri[k].gone)
          {
            live_images++;
            unmatched += ri[k].trace < 0;
          }

      /* A user with no trace in the window is not in the result at all. */
      if (live_traces == 0)
        {
          g_assert_null (user);
          continue;
        }
      users_with_traces++;
      g_assert_nonnull (user);
      g_assert_cmpuint (mt_user_result_get_n_traces (user), ==, live_traces);
      g_assert_cmpuint (mt_user_result_get_n_images (user), ==, live_images);

      pairs = mt_user_result_get_pairs (user);
      for (guint k = 0; k < ni && !ri[k].gone; k++)
        {
          MtPair *pair;

          if (ri[k].trace < 0)
            continue;
          g_assert_cmpuint (p, <, pairs->len);
          pair = g_ptr_array_index (pairs, p++);
          g_assert_cmpstr (mt_image_get_key (mt_pair_get_image (pair)), ==, ri[k].key);
          g_assert_cmpint (mt_image_get_last_modified (mt_pair_get_image (pair)), ==, ri[k].time);
          g_assert_cmpstr (mt_trace_get_id (mt_pair_get_trace (pair)), ==, rt[ri[k].trace].id);
          g_assert_cmpint (mt_trace_get_timestamp (mt_pair_get_trace (pair)), ==, rt[ri[k].trace].time);
          checked_pairs++;
        }
      g_assert_cmpuint (p, ==, pairs->len);
      g_assert_cmpuint (mt_user_result_get_unmatched_images (user)->len, ==, unmatched);
      g_assert_cmpuint (mt_user_result_get_unused_traces (user)->len, ==, unused);
      total_pairs += pairs->len;
    }

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (result)), ==, users_with_traces);
  g_assert_cmpuint (mt_match_summary_get_total_matched_pairs (mt_match_result_get_summary (result)), ==, total_pairs);
  /* The narrowest case (a gap of 1 ms and a window) still pairs hundreds
   * of images; this guards against a run that compares nothing. */
  g_assert_cmpuint (checked_pairs, >, n_users / 10);
  g_test_message ("%u users, %u pairs checked, gap %" G_GINT64_FORMAT, users_with_traces, checked_pairs, gap);
  g_rand_free (rand);
}

static void
test_many_at_one_time (void)
{
  const guint n = 20000;
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  g_autoptr(MtMatchResult) r = NULL;
  GPtrArray *t = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *i = g_ptr_array_new_with_free_func (g_object_unref);
  MtUserResult *u;
  GPtrArray *pairs, *unused;

  /* Thousands of objects in one millisecond, in the worst order for an
   * insertion sort: ties are ordered by a sort of their own. */
  for (guint k = 0; k < n; k++)
    {
      g_autofree char *id = g_strdup_printf ("t%06u", n - k);
      g_autofree char *key = g_strdup_printf ("i%06u", n - k);

      g_ptr_array_add (t, mt_trace_new (id, "u", 1000));
      g_ptr_array_add (i, mt_image_new (key, "u", 2000, 1, NULL));
    }
  mt_matcher_take_user (matcher, g_strdup ("u"), t, i);
  r = mt_matcher_run (matcher);
  u = mt_match_result_lookup_user (r, "u");
  pairs = mt_user_result_get_pairs (u);
  unused = mt_user_result_get_unused_traces (u);

  /* The smallest key takes the greatest id, and so on down. */
  g_assert_cmpuint (pairs->len, ==, n);
  g_assert_cmpuint (unused->len, ==, 0);
  g_assert_cmpstr (mt_image_get_key (mt_pair_get_image (g_ptr_array_index (pairs, 0))), ==, "i000001");
  g_assert_cmpstr (mt_trace_get_id (mt_pair_get_trace (g_ptr_array_index (pairs, 0))), ==, "t020000");
  g_assert_cmpstr (mt_image_get_key (mt_pair_get_image (g_ptr_array_index (pairs, n - 1))), ==, "i020000");
  g_assert_cmpstr (mt_trace_get_id (mt_pair_get_trace (g_ptr_array_index (pairs, n - 1))), ==, "t000001");
  g_assert_cmpstr (mt_trace_get_id (g_ptr_array_index (mt_user_result_get_traces (u), 0)), ==, "t000001");
}

static void
test_extreme_times (void)
{
  const gint64 far = (G_GINT64_CONSTANT (1) << 61) - 1;
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  g_autoptr(MtMatchResult) r = NULL;
  MtTrace *traces[] = {
    mt_trace_new ("a", "u", -far), mt_trace_new ("b", "u", -far + 1), mt_trace_new ("c", "u", -far + 2),
    mt_trace_new ("beyond", "u", G_MININT64 + 1),
  };
  MtImage *images[] = {
    mt_image_new ("x", "u", far, 1, NULL), mt_image_new ("y", "u", far - 1, 1, NULL),
    mt_image_new ("z", "u", far - 3, 1, NULL), mt_image_new ("beyond", "u", G_MAXINT64, 1, NULL),
  };
  MtMatchSummary *s;
  const gint64 g = 2 * far;

  /* Garbage instants beyond ±2^61 ms take no part; the rest, however far
   * apart, give exact figures with no overflow (UBSan watches). */
  mt_matcher_add_traces (matcher, traces, G_N_ELEMENTS (traces));
  mt_matcher_add_images (matcher, images, G_N_ELEMENTS (images));
  r = mt_matcher_run (matcher);
  s = mt_match_result_get_summary (r);

  /* Images z, y, x take c, b, a: gaps 2far−5, 2far−2, 2far. */
  g_assert_cmpuint (mt_match_summary_get_total_traces (s), ==, 3);
  g_assert_cmpuint (mt_match_summary_get_total_images (s), ==, 3);
  g_assert_cmpuint (mt_match_summary_get_total_matched_pairs (s), ==, 3);
  g_assert_cmpint (mt_match_summary_get_time_difference_min_ms (s), ==, g - 5);
  g_assert_cmpint (mt_match_summary_get_time_difference_median_ms (s), ==, g - 2);
  g_assert_cmpint (mt_match_summary_get_time_difference_max_ms (s), ==, g);
  /* (3g − 7) / 3 = g − 2.33… → g − 2 */
  g_assert_cmpint (mt_match_summary_get_time_difference_mean_ms (s), ==, g - 2);
  /* rank 1.8: (g − 2) + 0.8 × 2 = g − 0.4 → g */
  g_assert_cmpint (mt_match_summary_get_time_difference_p90_ms (s), ==, g);

  for (guint k = 0; k < G_N_ELEMENTS (traces); k++)
    g_object_unref (traces[k]);
  for (guint k = 0; k < G_N_ELEMENTS (images); k++)
    g_object_unref (images[k]);
}

/* Everything a result says, as text, to compare two results whole. */
static char *
describe_result (MtMatchResult *r)
{
  MtMatchSummary *s = mt_match_result_get_summary (r);
  GString *out = g_string_new (NULL);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (r));

  for (guint k = 0; k < n; k++)
    {
      g_autoptr(MtUserResult) u = g_list_model_get_item (G_LIST_MODEL (r), k);
      g_autofree char *d = describe (u);

      g_string_append_printf (out, "%s: %s\n", mt_user_result_get_user_id (u), d);
    }
  g_string_append_printf (out, "%u %u %u %u %u %u %u %u %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                          " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %.17g\n",
                          mt_match_summary_get_total_users (s), mt_match_summary_get_users_with_matches (s),
                          mt_match_summary_get_total_images (s), mt_match_summary_get_total_traces (s),
                          mt_match_summary_get_total_matched_pairs (s), mt_match_summary_get_traces_without_user (s),
                          mt_match_summary_get_match_rate_tenths (s),
                          mt_match_summary_get_pair_match_efficiency_tenths (s),
                          mt_match_summary_get_time_difference_min_ms (s),
                          mt_match_summary_get_time_difference_median_ms (s),
                          mt_match_summary_get_time_difference_mean_ms (s),
                          mt_match_summary_get_time_difference_p90_ms (s),
                          mt_match_summary_get_time_difference_max_ms (s),
                          mt_match_summary_get_matched_total_cost (s));
  return g_string_free (out, FALSE);
}

static MtMatchResult *
run_generated (guint threads, guint32 seed)
{
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  GRand *rand = g_rand_new_with_seed (seed);

  /* Enough objects that a run splits its users among threads. */
  mt_matcher_set_threads (matcher, threads);
  for (guint u = 0; u < 4000; u++)
    {
      g_autofree char *user_id = g_strdup_printf ("u%05u", g_rand_int_range (rand, 0, 3500));
      GPtrArray *t = g_ptr_array_new_with_free_func (g_object_unref);
      GPtrArray *i = g_ptr_array_new_with_free_func (g_object_unref);
      guint nt = g_rand_int_range (rand, 0, 30), ni = g_rand_int_range (rand, 0, 12);

      for (guint k = 0; k < nt; k++)
        {
          g_autofree char *id = g_strdup_printf ("t%u-%u", u, k);
          MtTrace *trace = mt_trace_new (id, user_id, g_rand_int_range (rand, 0, 100000));

          mt_trace_set_total_cost (trace, g_rand_double_range (rand, 0, 0.01));
          g_ptr_array_add (t, trace);
        }
      for (guint k = 0; k < ni; k++)
        {
          g_autofree char *key = g_strdup_printf ("i%u-%u", u, k);

          g_ptr_array_add (i, mt_image_new (key, user_id, g_rand_int_range (rand, 0, 100000), 1, NULL));
        }
      /* Some users come in several handovers, to be merged. */
      mt_matcher_take_user (matcher, g_steal_pointer (&user_id), t, i);
    }
  g_rand_free (rand);
  return mt_matcher_run (matcher);
}

static void
test_threads_agree (void)
{
  guint32 seed = g_test_rand_int ();
  g_autoptr(MtMatchResult) one = run_generated (1, seed);
  g_autoptr(MtMatchResult) four = run_generated (4, seed);
  g_autoptr(MtMatchResult) all = run_generated (0, seed);
  g_autofree char *a = describe_result (one);
  g_autofree char *b = describe_result (four);
  g_autofree char *c = describe_result (all);

  /* Splitting the work changes nothing, down to the last bit of the cost. */
  g_assert_cmpuint (strlen (a), >, 10000);
  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (a, ==, c);
}

static void
test_take_user (void)
{
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  g_autoptr(MtMatchResult) r = NULL;
  GPtrArray *t = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *i = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *anon = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(MtTrace) flat = mt_trace_new ("t0", "u", 50);
  MtTrace *outside = mt_trace_new ("late", "u", 5000);
  MtUserResult *u;
  g_autofree char *d = NULL;

  /* Out of order, with one trace outside the window and one repeated. */
  g_ptr_array_add (t, mt_trace_new ("t2", "u", 300));
  g_ptr_array_add (t, mt_trace_new ("t1", "u", 100));
  g_ptr_array_add (t, outside);
  g_object_add_weak_pointer (G_OBJECT (outside), (gpointer *) &outside);
  g_ptr_array_add (t, mt_trace_new ("t1", "u", 100));
  g_ptr_array_add (i, mt_image_new ("b", "u", 350, 1, NULL));
  g_ptr_array_add (i, mt_image_new ("a", "u", 200, 1, NULL));
  g_ptr_array_add (anon, mt_trace_new ("x", NULL, 10));

  mt_matcher_set_window (matcher, 0, 1000, 0);
  mt_matcher_take_user (matcher, g_strdup ("u"), t, i);
  /* The same user again, one object at a time: merged into one. */
  mt_matcher_add_traces (matcher, &flat, 1);
  /* An empty id: counted as a trace without user. */
  mt_matcher_take_user (matcher, g_strdup (""), anon, NULL);
  r = mt_matcher_run (matcher);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (r)), ==, 1);
  u = mt_match_result_lookup_user (r, "u");
  d = describe (u);
  g_assert_cmpstr (d, ==, "pairs=a:t1,b:t2 unused=t0 unmatched= status=matched");
  /* The given array is the result's own, now sorted, and the dropped
   * objects were released. */
  g_assert_true (mt_user_result_get_traces (u) == t);
  g_assert_cmpuint (t->len, ==, 3);
  g_assert_null (outside);
  g_assert_cmpuint (mt_match_summary_get_traces_without_user (mt_match_result_get_summary (r)), ==, 1);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/matcher/strictly-before", test_strictly_before);
  g_test_add_func ("/matcher/latest-preceding", test_latest_preceding);
  g_test_add_func ("/matcher/taken-traces", test_taken_traces);
  g_test_add_func ("/matcher/images-in-time-order", test_images_in_time_order);
  g_test_add_func ("/matcher/tie-on-image-time", test_tie_on_image_time);
  g_test_add_func ("/matcher/tie-on-trace-time", test_tie_on_trace_time);
  g_test_add_func ("/matcher/max-gap-boundary", test_max_gap_boundary);
  g_test_add_func ("/matcher/max-gap-never-skips", test_max_gap_never_skips_to_older);
  g_test_add_func ("/matcher/no-images", test_no_images);
  g_test_add_func ("/matcher/no-traces", test_no_traces);
  g_test_add_func ("/matcher/images-before-all-traces", test_images_before_all_traces);
  g_test_add_func ("/matcher/time-difference", test_time_difference);
  g_test_add_func ("/matcher/window", test_window);
  g_test_add_func ("/matcher/incomplete", test_incomplete);
  g_test_add_func ("/matcher/duplicates", test_duplicates_dropped);
  g_test_add_func ("/matcher/users-sorted-and-reusable", test_users_sorted_and_reusable);
  g_test_add_func ("/matcher/async", test_async);
  g_test_add_func ("/matcher/take-user", test_take_user);
  g_test_add_func ("/matcher/many-at-one-time", test_many_at_one_time);
  g_test_add_func ("/matcher/extreme-times", test_extreme_times);
  g_test_add_func ("/matcher/threads-agree", test_threads_agree);
  for (guint k = 0; k < 4; k++)
    {
      g_autofree char *path = g_strdup_printf ("/matcher/random-vs-reference/%u", k);

      g_test_add_data_func (path, GUINT_TO_POINTER (k), test_random_against_reference);
    }

  return g_test_run ();
}
