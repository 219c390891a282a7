/* mt-matcher.c — pairs each image with the trace that produced it
 *
 * For one user: sort traces by (time, id) and images by (time, key). Walk the
 * images in order; before each image push every trace strictly older than
 * it onto a stack. The top of the stack is then the latest free eligible
 * trace (ties on time: the greater id, pushed last). A trace the image takes
 * is popped. With a maximum gap, a top that is too old means every trace
 * below it is too old as well, for this image and every later one.
 * Sorting dominates: O((T+I) log(T+I)) per user.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "mt-core-private.h"
#include "mt-matcher.h"
#include "mt-sort-private.h"
#include "mt-time.h"

typedef struct {
  char *user_id;
  GPtrArray *traces; /* MtTrace, owned */
  GPtrArray *images; /* MtImage, owned */
  gboolean incomplete;
} UserInput;

struct _MtMatcher
{
  GObject parent_instance;

  GHashTable *users; /* user id → UserInput */
  GArray *unassigned_times; /* gint64, traces without a user */
  guint traces_without_user;
  gint64 window_from;
  gint64 window_to;
  gint64 max_gap_ms;
  guint time_filter_days;
};

G_DEFINE_FINAL_TYPE (MtMatcher, mt_matcher, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MAX_GAP_MS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct {
  gint64 time;
  gpointer object;
} SortKey;

#define TRACE_LESS(a, b) \
  ((a)->time < (b)->time || \
   ((a)->time == (b)->time && strcmp (((MtTrace *) (a)->object)->id, ((MtTrace *) (b)->object)->id) < 0))
#define IMAGE_LESS(a, b) \
  ((a)->time < (b)->time || \
   ((a)->time == (b)->time && strcmp (((MtImage *) (a)->object)->key, ((MtImage *) (b)->object)->key) < 0))
#define INT64_LESS(a, b) (*(a) < *(b))

MT_DEFINE_SORT (sort_traces, SortKey, TRACE_LESS)
MT_DEFINE_SORT (sort_images, SortKey, IMAGE_LESS)
MT_DEFINE_SORT (sort_gaps, gint64, INT64_LESS)

static void
user_input_free (gpointer data)
{
  UserInput *input = data;

  g_free (input->user_id);
  g_ptr_array_unref (input->traces);
  g_ptr_array_unref (input->images);
  g_free (input);
}

static void
mt_matcher_finalize (GObject *object)
{
  MtMatcher *self = MT_MATCHER (object);

  g_hash_table_unref (self->users);
  g_array_unref (self->unassigned_times);

  G_OBJECT_CLASS (mt_matcher_parent_class)->finalize (object);
}

static void
mt_matcher_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  MtMatcher *self = MT_MATCHER (object);

  switch (prop_id)
    {
    case PROP_MAX_GAP_MS:
      g_value_set_int64 (value, self->max_gap_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_matcher_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  MtMatcher *self = MT_MATCHER (object);

  switch (prop_id)
    {
    case PROP_MAX_GAP_MS:
      mt_matcher_set_max_gap_ms (self, g_value_get_int64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_matcher_class_init (MtMatcherClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mt_matcher_finalize;
  object_class->get_property = mt_matcher_get_property;
  object_class->set_property = mt_matcher_set_property;

  properties[PROP_MAX_GAP_MS] =
    g_param_spec_int64 ("max-gap-ms", NULL, NULL, -1, G_MAXINT64, -1,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_matcher_init (MtMatcher *self)
{
  self->users = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, user_input_free);
  self->unassigned_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->window_from = MT_TIME_NONE;
  self->window_to = MT_TIME_NONE;
  self->max_gap_ms = -1;
}

MtMatcher *
mt_matcher_new (void)
{
  return g_object_new (MT_TYPE_MATCHER, NULL);
}

void
mt_matcher_set_window (MtMatcher *self,
                       gint64     from,
                       gint64     to,
                       guint      time_filter_days)
{
  g_return_if_fail (MT_IS_MATCHER (self));

  self->window_from = from;
  self->window_to = to;
  self->time_filter_days = time_filter_days;
}

void
mt_matcher_set_max_gap_ms (MtMatcher *self,
                           gint64     max_gap_ms)
{
  g_return_if_fail (MT_IS_MATCHER (self));

  max_gap_ms = MAX (max_gap_ms, -1);
  if (self->max_gap_ms == max_gap_ms)
    return;
  self->max_gap_ms = max_gap_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_GAP_MS]);
}

gint64
mt_matcher_get_max_gap_ms (MtMatcher *self)
{
  g_return_val_if_fail (MT_IS_MATCHER (self), -1);
  return self->max_gap_ms;
}

static UserInput *
lookup_user (MtMatcher  *self,
             const char *user_id)
{
  UserInput *input = g_hash_table_lookup (self->users, user_id);

  if (input == NULL)
    {
      input = g_new0 (UserInput, 1);
      input->user_id = g_strdup (user_id);
      input->traces = g_ptr_array_new_with_free_func (g_object_unref);
      input->images = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (self->users, input->user_id, input);
    }
  return input;
}

static inline gboolean
in_window (MtMatcher *self,
           gint64     time)
{
  return time != MT_TIME_NONE &&
         (self->window_from == MT_TIME_NONE || time >= self->window_from) &&
         (self->window_to == MT_TIME_NONE || time < self->window_to);
}

static inline gboolean
has_user (const char *user_id)
{
  return user_id != NULL && user_id[0] != '\0';
}

void
mt_matcher_add_traces (MtMatcher  *self,
                       MtTrace   **traces,
                       guint       n_traces)
{
  g_return_if_fail (MT_IS_MATCHER (self));
  g_return_if_fail (traces != NULL || n_traces == 0);

  for (guint i = 0; i < n_traces; i++)
    {
      MtTrace *trace = traces[i];

      g_return_if_fail (MT_IS_TRACE (trace));

      if (has_user (trace->user_id))
        g_ptr_array_add (lookup_user (self, trace->user_id)->traces, g_object_ref (trace));
      else
        g_array_append_val (self->unassigned_times, trace->timestamp);
    }
}

void
mt_matcher_add_images (MtMatcher  *self,
                       MtImage   **images,
                       guint       n_images)
{
  g_return_if_fail (MT_IS_MATCHER (self));
  g_return_if_fail (images != NULL || n_images == 0);

  for (guint i = 0; i < n_images; i++)
    {
      MtImage *image = images[i];

      g_return_if_fail (MT_IS_IMAGE (image));

      if (has_user (image->user_id))
        g_ptr_array_add (lookup_user (self, image->user_id)->images, g_object_ref (image));
    }
}

void
mt_matcher_add_user (MtMatcher   *self,
                     const char  *user_id,
                     MtTrace    **traces,
                     guint        n_traces,
                     MtImage    **images,
                     guint        n_images)
{
  UserInput *input;

  g_return_if_fail (MT_IS_MATCHER (self));
  g_return_if_fail (traces != NULL || n_traces == 0);
  g_return_if_fail (images != NULL || n_images == 0);

  if (!has_user (user_id))
    {
      mt_matcher_add_traces (self, traces, n_traces);
      return;
    }

  input = lookup_user (self, user_id);
  for (guint i = 0; i < n_traces; i++)
    g_ptr_array_add (input->traces, g_object_ref (traces[i]));
  for (guint i = 0; i < n_images; i++)
    g_ptr_array_add (input->images, g_object_ref (images[i]));
}

void
mt_matcher_add_traces_without_user (MtMatcher *self,
                                    guint      n_traces)
{
  g_return_if_fail (MT_IS_MATCHER (self));
  self->traces_without_user += n_traces;
}

void
mt_matcher_mark_incomplete (MtMatcher  *self,
                            const char *user_id)
{
  g_return_if_fail (MT_IS_MATCHER (self));
  g_return_if_fail (has_user (user_id));

  lookup_user (self, user_id)->incomplete = TRUE;
}

/* Scratch space reused from user to user, so a run allocates per user only
 * what it returns. */
static inline const char *
object_name (gpointer object,
             gboolean is_trace)
{
  return is_trace ? ((MtTrace *) object)->id : ((MtImage *) object)->key;
}

typedef struct {
  GArray *keys;    /* SortKey */
  GArray *scratch; /* SortKey */
  GArray *stack;   /* guint, indices of free eligible traces */
  GArray *taken;   /* guint8, per trace */
  GArray *gaps;    /* gint64, every pair of the run */
  double cost_sum;
  double cost_compensation;
} RunState;

/* Moves the objects of @input that lie in the window into a new array in
 * sorted order, dropping exact duplicates (same time and id or key). @input
 * is left empty; its references move to the result. */
static GPtrArray *
sort_in_window (MtMatcher *self,
                RunState  *state,
                GPtrArray *input,
                gboolean   is_trace)
{
  g_autofree gpointer *objects = NULL;
  GPtrArray *sorted;
  SortKey *keys;
  gsize len = 0;
  guint n = 0;

  objects = g_ptr_array_steal (input, &len);
  g_array_set_size (state->keys, len);
  g_array_set_size (state->scratch, len);
  keys = (SortKey *) (gpointer) state->keys->data;

  for (gsize i = 0; i < len; i++)
    {
      gint64 time = is_trace ? ((MtTrace *) objects[i])->timestamp
                             : ((MtImage *) objects[i])->last_modified;

      if (in_window (self, time))
        {
          keys[n].time = time;
          keys[n].object = objects[i];
          n++;
        }
      else
        g_object_unref (objects[i]);
    }

  if (is_trace)
    sort_traces (keys, n, (SortKey *) (gpointer) state->scratch->data);
  else
    sort_images (keys, n, (SortKey *) (gpointer) state->scratch->data);

  sorted = g_ptr_array_new_full (n, g_object_unref);
  for (guint i = 0; i < n; i++)
    {
      if (i > 0 && keys[i].time == keys[i - 1].time &&
          strcmp (object_name (keys[i].object, is_trace), object_name (keys[i - 1].object, is_trace)) == 0)
        {
          g_object_unref (keys[i].object);
          continue;
        }
      g_ptr_array_add (sorted, keys[i].object);
    }
  return sorted;
}

static MtUserResult *
match_user (MtMatcher *self,
            RunState  *state,
            UserInput *input)
{
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GPtrArray) images = NULL;
  GPtrArray *pairs, *unused, *unmatched;
  MtUserStatus status;
  guint *stack;
  guint8 *taken;
  guint sp = 0, next = 0;

  traces = sort_in_window (self, state, input->traces, TRUE);
  if (traces->len == 0)
    return NULL;
  images = sort_in_window (self, state, input->images, FALSE);

  pairs = g_ptr_array_new_full (MIN (traces->len, images->len), g_object_unref);
  unmatched = g_ptr_array_new ();

  g_array_set_size (state->stack, traces->len);
  g_array_set_size (state->taken, traces->len);
  stack = (guint *) (gpointer) state->stack->data;
  taken = (guint8 *) state->taken->data;
  memset (taken, 0, traces->len);

  for (guint i = 0; i < images->len && !input->incomplete; i++)
    {
      MtImage *image = g_ptr_array_index (images, i);
      MtTrace *trace;
      gint64 gap;

      while (next < traces->len &&
             ((MtTrace *) g_ptr_array_index (traces, next))->timestamp < image->last_modified)
        stack[sp++] = next++;

      if (sp == 0)
        {
          g_ptr_array_add (unmatched, image);
          continue;
        }
      trace = g_ptr_array_index (traces, stack[sp - 1]);
      if (self->max_gap_ms >= 0 && image->last_modified - trace->timestamp > self->max_gap_ms)
        {
          g_ptr_array_add (unmatched, image);
          continue;
        }

      taken[stack[--sp]] = TRUE;
      g_ptr_array_add (pairs, mt_pair_new_internal (trace, image));
      gap = image->last_modified - trace->timestamp;
      g_array_append_val (state->gaps, gap);

      if (!isnan (trace->total_cost))
        {
          /* Neumaier's summation keeps many small costs exact enough. */
          double t = state->cost_sum + trace->total_cost;

          if (fabs (state->cost_sum) >= fabs (trace->total_cost))
            state->cost_compensation += (state->cost_sum - t) + trace->total_cost;
          else
            state->cost_compensation += (trace->total_cost - t) + state->cost_sum;
          state->cost_sum = t;
        }
    }

  if (input->incomplete)
    g_ptr_array_extend (unmatched, images, NULL, NULL);

  unused = g_ptr_array_new_full (traces->len - pairs->len, NULL);
  for (guint i = 0; i < traces->len; i++)
    if (!taken[i])
      g_ptr_array_add (unused, g_ptr_array_index (traces, i));

  if (input->incomplete)
    status = MT_USER_STATUS_INCOMPLETE;
  else if (pairs->len > 0)
    status = MT_USER_STATUS_MATCHED;
  else if (images->len == 0)
    status = MT_USER_STATUS_NO_IMAGES;
  else
    status = MT_USER_STATUS_NO_PAIRS;

  return mt_user_result_new_internal (input->user_id, status,
                                      g_steal_pointer (&traces), g_steal_pointer (&images),
                                      pairs, unused, unmatched);
}

static guint
percent_tenths (guint64 part,
                guint64 whole)
{
  if (whole == 0)
    return 0;
  /* 1000 × part / whole, rounded half up, in integers. */
  return (guint) ((2000 * part + whole) / (2 * whole));
}

static void
summarise_gaps (MtMatchSummary *summary,
                RunState       *state)
{
  gint64 *gaps = (gint64 *) (gpointer) state->gaps->data;
  guint n = state->gaps->len;
  g_autofree gint64 *scratch = NULL;
  gint64 sum = 0;
  guint64 rank10;
  guint lo, rest;

  summary->has_time_stats = n > 0;
  if (n == 0)
    return;

  scratch = g_new (gint64, n);
  sort_gaps (gaps, n, scratch);
  for (guint i = 0; i < n; i++)
    sum += gaps[i];

  /* Gaps are positive, so adding half before dividing rounds half up. */
  summary->time_min_ms = gaps[0];
  summary->time_max_ms = gaps[n - 1];
  summary->time_mean_ms = (2 * sum + n) / (2 * (gint64) n);
  if (n % 2 == 1)
    summary->time_median_ms = gaps[n / 2];
  else
    summary->time_median_ms = (gaps[n / 2 - 1] + gaps[n / 2] + 1) / 2;

  /* p90 interpolates between ranks: rank = 0.9 × (n − 1), in tenths. */
  rank10 = 9 * (guint64) (n - 1);
  lo = (guint) (rank10 / 10);
  rest = (guint) (rank10 % 10);
  if (rest == 0)
    summary->time_p90_ms = gaps[lo];
  else
    summary->time_p90_ms = (gaps[lo] * 10 + rest * (gaps[lo + 1] - gaps[lo]) + 5) / 10;
}

static int
compare_user_inputs (gconstpointer a,
                     gconstpointer b)
{
  const UserInput *ua = *(const UserInput * const *) a;
  const UserInput *ub = *(const UserInput * const *) b;

  return strcmp (ua->user_id, ub->user_id);
}

MtMatchResult *
mt_matcher_run (MtMatcher *self)
{
  g_autoptr(GPtrArray) inputs = NULL;
  g_autoptr(GPtrArray) incomplete = NULL;
  g_autoptr(GHashTable) users = NULL;
  GPtrArray *results;
  MtMatchSummary *summary;
  RunState state = { 0 };
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (MT_IS_MATCHER (self), NULL);

  /* Take the input, so the matcher is empty and reusable whatever happens. */
  users = g_steal_pointer (&self->users);
  self->users = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, user_input_free);

  inputs = g_ptr_array_sized_new (g_hash_table_size (users));
  g_hash_table_iter_init (&iter, users);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (inputs, value);
  g_ptr_array_sort (inputs, compare_user_inputs);

  state.keys = g_array_new (FALSE, FALSE, sizeof (SortKey));
  state.scratch = g_array_new (FALSE, FALSE, sizeof (SortKey));
  state.stack = g_array_new (FALSE, FALSE, sizeof (guint));
  state.taken = g_array_new (FALSE, FALSE, sizeof (guint8));
  state.gaps = g_array_new (FALSE, FALSE, sizeof (gint64));

  summary = mt_match_summary_new_internal ();
  results = g_ptr_array_new_full (inputs->len, g_object_unref);
  incomplete = g_ptr_array_new_null_terminated (0, NULL, TRUE);

  for (guint i = 0; i < inputs->len; i++)
    {
      UserInput *input = g_ptr_array_index (inputs, i);
      MtUserResult *user = match_user (self, &state, input);

      if (user == NULL)
        continue;

      summary->total_users++;
      summary->total_traces += user->traces->len;
      summary->total_images += user->images->len;
      summary->total_matched_pairs += user->pairs->len;
      if (user->pairs->len > 0)
        summary->users_with_matches++;
      if (user->status == MT_USER_STATUS_INCOMPLETE)
        g_ptr_array_add (incomplete, g_strdup (user->user_id));
      g_ptr_array_add (results, user);
    }

  summary->traces_without_user = self->traces_without_user;
  for (guint i = 0; i < self->unassigned_times->len; i++)
    if (in_window (self, g_array_index (self->unassigned_times, gint64, i)))
      summary->traces_without_user++;
  summary->match_rate_tenths = percent_tenths (summary->users_with_matches, summary->total_users);
  summary->pair_match_efficiency_tenths = percent_tenths (summary->total_matched_pairs,
                                                         summary->total_images);
  summary->incomplete_users = (GStrv) g_ptr_array_steal (incomplete, NULL);
  if (summary->incomplete_users == NULL)
    summary->incomplete_users = g_new0 (char *, 1);
  summarise_gaps (summary, &state);
  summary->matched_total_cost = round ((state.cost_sum + state.cost_compensation) * 1e10) / 1e10;

  self->traces_without_user = 0;
  g_array_set_size (self->unassigned_times, 0);

  g_array_unref (state.keys);
  g_array_unref (state.scratch);
  g_array_unref (state.stack);
  g_array_unref (state.taken);
  g_array_unref (state.gaps);

  return mt_match_result_new_internal (results, summary,
                                       self->window_from, self->window_to,
                                       self->time_filter_days, self->max_gap_ms);
}

static void
run_in_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  if (g_task_return_error_if_cancelled (task))
    return;
  g_task_return_pointer (task, mt_matcher_run (source_object), g_object_unref);
}

void
mt_matcher_run_async (MtMatcher           *self,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MT_IS_MATCHER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mt_matcher_run_async);
  g_task_run_in_thread (task, run_in_thread);
}

MtMatchResult *
mt_matcher_run_finish (MtMatcher     *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (MT_IS_MATCHER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
