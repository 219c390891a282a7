/* mt-matcher.c — pairs each image with the trace that produced it
 *
 * For one user: sort traces by (time, id) and images by (time, key). Walk the
 * images in order; before each image push every trace strictly older than
 * it onto a stack. The top of the stack is then the latest free eligible
 * trace (ties on time: the greater id, pushed last). A trace the image takes
 * is popped. With a maximum gap, a top that is too old means every trace
 * below it is too old as well, for this image and every later one.
 *
 * Sorting dominates: O((T+I) log(T+I)) per user. A month of a busy app is a
 * million traces, so the sort works on packed integer keys (time offset and
 * position in one 64-bit word), the objects are read once, and the result
 * keeps the caller's arrays, sorted in place, instead of copying them.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "mt-core-private.h"
#include "mt-matcher.h"
#include "mt-sort-private.h"
#include "mt-time.h"

/* The most threads a run uses. */
#define MAX_WORKERS 8
/* A run's users are split into this many blocks per worker, taken by the
 * workers as they free up: one thread slowed by another program does not
 * hold the others back. */
#define BLOCKS_PER_WORKER 8
#define MAX_BLOCKS (MAX_WORKERS * BLOCKS_PER_WORKER)

typedef struct {
  char *user_id;
  guint64 prefix;    /* the id's first 8 bytes, big-endian, to sort by */
  GPtrArray *traces; /* MtTrace, owning */
  GPtrArray *images; /* MtImage, owning */
  guint n_objects;
  gboolean incomplete;
} UserInput;

struct _MtMatcher
{
  GObject parent_instance;

  GArray *inputs;           /* UserInput, in the order added */
  GHashTable *flat;         /* user id → 1 + index in inputs, for objects added one by one */
  GArray *unassigned_times; /* gint64: traces without a user */
  guint traces_without_user;
  gint64 window_from;
  gint64 window_to;
  gint64 max_gap_ms;
  guint time_filter_days;
  guint threads;
};

G_DEFINE_FINAL_TYPE (MtMatcher, mt_matcher, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MAX_GAP_MS,
  PROP_THREADS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct {
  gint64 time;
  guint index;
} WideKey;

/* An object among others of the same time, ordered by its id or key. */
typedef struct {
  const char *name;
  gpointer object;
  double cost;
} Tie;

typedef struct {
  guint64 prefix;
  UserInput *input;
  guint n_objects;
  gboolean incomplete;
} UserKey;

#define U64_LESS(a, b) (*(a) < *(b))
#define WIDE_LESS(a, b) ((a)->time < (b)->time || ((a)->time == (b)->time && (a)->index < (b)->index))
#define USER_LESS(a, b) \
  ((a)->prefix < (b)->prefix || \
   ((a)->prefix == (b)->prefix && strcmp ((a)->input->user_id, (b)->input->user_id) < 0))
#define INT64_LESS(a, b) (*(a) < *(b))
#define TIE_LESS(a, b) (strcmp ((a)->name, (b)->name) < 0)

MT_DEFINE_SORT (sort_u64, guint64, U64_LESS)
MT_DEFINE_SORT (sort_wide, WideKey, WIDE_LESS)
MT_DEFINE_SORT (sort_users, UserKey, USER_LESS)
MT_DEFINE_SORT (sort_gaps, gint64, INT64_LESS)
MT_DEFINE_SORT (sort_ties, Tie, TIE_LESS)

static guint64
id_prefix (const char *id)
{
  guint64 prefix = 0;
  guint i;

  for (i = 0; i < 8 && id[i] != '\0'; i++)
    prefix = (prefix << 8) | (guchar) id[i];
  return prefix << (8 * (8 - i));
}

static void
user_input_clear (gpointer data)
{
  UserInput *input = data;

  g_free (input->user_id);
  g_clear_pointer (&input->traces, g_ptr_array_unref);
  g_clear_pointer (&input->images, g_ptr_array_unref);
}

/* Takes @user_id, @traces and @images. */
static UserInput *
append_input (MtMatcher *self,
              char      *user_id,
              GPtrArray *traces,
              GPtrArray *images)
{
  UserInput input = { user_id, 0, traces, images, 0, FALSE };

  g_array_append_val (self->inputs, input);
  return &g_array_index (self->inputs, UserInput, self->inputs->len - 1);
}

static void
mt_matcher_finalize (GObject *object)
{
  MtMatcher *self = MT_MATCHER (object);

  g_array_unref (self->inputs);
  g_hash_table_unref (self->flat);
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
    case PROP_THREADS:
      g_value_set_uint (value, self->threads);
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
    case PROP_THREADS:
      mt_matcher_set_threads (self, g_value_get_uint (value));
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
  properties[PROP_THREADS] =
    g_param_spec_uint ("threads", NULL, NULL, 0, MAX_WORKERS, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
reset_input (MtMatcher *self)
{
  g_clear_pointer (&self->inputs, g_array_unref);
  g_clear_pointer (&self->flat, g_hash_table_unref);
  self->inputs = g_array_new (FALSE, FALSE, sizeof (UserInput));
  g_array_set_clear_func (self->inputs, user_input_clear);
  self->flat = g_hash_table_new (g_str_hash, g_str_equal);
  self->traces_without_user = 0;
  g_array_set_size (self->unassigned_times, 0);
}

static void
mt_matcher_init (MtMatcher *self)
{
  self->unassigned_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->window_from = MT_TIME_NONE;
  self->window_to = MT_TIME_NONE;
  self->max_gap_ms = -1;
  reset_input (self);
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

void
mt_matcher_set_threads (MtMatcher *self,
                        guint      threads)
{
  g_return_if_fail (MT_IS_MATCHER (self));

  threads = MIN (threads, MAX_WORKERS);
  if (self->threads == threads)
    return;
  self->threads = threads;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THREADS]);
}

guint
mt_matcher_get_threads (MtMatcher *self)
{
  g_return_val_if_fail (MT_IS_MATCHER (self), 0);
  return self->threads;
}

static inline gboolean
has_user (const char *user_id)
{
  return user_id != NULL && user_id[0] != '\0';
}

/* The entry that collects objects added one at a time for @user_id. */
static UserInput *
flat_input (MtMatcher  *self,
            const char *user_id)
{
  guint index = GPOINTER_TO_UINT (g_hash_table_lookup (self->flat, user_id));
  UserInput *input;

  if (index > 0)
    return &g_array_index (self->inputs, UserInput, index - 1);

  input = append_input (self, g_strdup (user_id),
                        g_ptr_array_new_with_free_func (g_object_unref),
                        g_ptr_array_new_with_free_func (g_object_unref));
  g_hash_table_insert (self->flat, input->user_id, GUINT_TO_POINTER (self->inputs->len));
  return input;
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
        g_ptr_array_add (flat_input (self, trace->user_id)->traces, g_object_ref (trace));
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
        g_ptr_array_add (flat_input (self, image->user_id)->images, g_object_ref (image));
    }
}

void
mt_matcher_take_user (MtMatcher *self,
                      char      *user_id,
                      GPtrArray *traces,
                      GPtrArray *images)
{
  g_return_if_fail (MT_IS_MATCHER (self));
  g_return_if_fail (user_id != NULL);

  /* Nothing is read here: a handover costs the same whatever the caches
   * hold; the run reads everything in one prefetched pass. */
  append_input (self, user_id,
                traces != NULL ? traces : g_ptr_array_new_with_free_func (g_object_unref),
                images != NULL ? images : g_ptr_array_new_with_free_func (g_object_unref));
}

void
mt_matcher_add_user (MtMatcher   *self,
                     const char  *user_id,
                     MtTrace    **traces,
                     guint        n_traces,
                     MtImage    **images,
                     guint        n_images)
{
  GPtrArray *t, *i;

  g_return_if_fail (MT_IS_MATCHER (self));
  g_return_if_fail (traces != NULL || n_traces == 0);
  g_return_if_fail (images != NULL || n_images == 0);

  if (!has_user (user_id))
    {
      mt_matcher_add_traces (self, traces, n_traces);
      return;
    }

  t = g_ptr_array_new_full (n_traces, g_object_unref);
  i = g_ptr_array_new_full (n_images, g_object_unref);
  for (guint k = 0; k < n_traces; k++)
    g_ptr_array_add (t, g_object_ref (traces[k]));
  for (guint k = 0; k < n_images; k++)
    g_ptr_array_add (i, g_object_ref (images[k]));
  mt_matcher_take_user (self, g_strdup (user_id), t, i);
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

  flat_input (self, user_id)->incomplete = TRUE;
}

/* Scratch space reused from user to user, so that a run allocates per user
 * only what it returns. */
typedef struct {
  gint64 *raw_times;    /* objects' times, in input order */
  guint *positions;     /* input position of each object in the window */
  guint64 *keys;        /* packed (time offset, window position) */
  guint64 *key_scratch;
  WideKey *wide;        /* the same when the times span too much to pack */
  WideKey *wide_scratch;
  Tie *ties;            /* a run of equal times, to order by name */
  Tie *tie_scratch;
  gpointer *objects;    /* the reordered array */
  double *raw_costs;    /* traces' total costs, in input order */
  gint64 *trace_times;  /* sorted */
  double *trace_costs;  /* sorted */
  gint64 *image_times;  /* sorted */
  guint *stack;         /* free eligible traces */
  gsize capacity;

  GArray *gaps;         /* gint64 per pair, in user order */
  GArray *costs;        /* double per pair: its trace's total cost */
} RunState;

static void
run_state_reserve (RunState *st,
                   gsize     n)
{
  if (n <= st->capacity)
    return;
  n = MAX (n, st->capacity * 2);
  st->raw_times = g_renew (gint64, st->raw_times, n);
  st->positions = g_renew (guint, st->positions, n);
  st->keys = g_renew (guint64, st->keys, n);
  st->key_scratch = g_renew (guint64, st->key_scratch, n);
  st->wide = g_renew (WideKey, st->wide, n);
  st->wide_scratch = g_renew (WideKey, st->wide_scratch, n);
  st->ties = g_renew (Tie, st->ties, n);
  st->tie_scratch = g_renew (Tie, st->tie_scratch, n);
  st->objects = g_renew (gpointer, st->objects, n);
  st->raw_costs = g_renew (double, st->raw_costs, n);
  st->trace_times = g_renew (gint64, st->trace_times, n);
  st->trace_costs = g_renew (double, st->trace_costs, n);
  st->image_times = g_renew (gint64, st->image_times, n);
  st->stack = g_renew (guint, st->stack, n);
  st->capacity = n;
}

static void
run_state_clear (RunState *st)
{
  g_free (st->raw_times);
  g_free (st->positions);
  g_free (st->keys);
  g_free (st->key_scratch);
  g_free (st->wide);
  g_free (st->wide_scratch);
  g_free (st->ties);
  g_free (st->tie_scratch);
  g_free (st->objects);
  g_free (st->raw_costs);
  g_free (st->trace_times);
  g_free (st->trace_costs);
  g_free (st->image_times);
  g_free (st->stack);
  g_clear_pointer (&st->gaps, g_array_unref);
  g_clear_pointer (&st->costs, g_array_unref);
}

/* Instants beyond ±2^61 ms (73 million years) are not times but garbage;
 * leaving them out keeps every difference and sum of gaps in range. */
#define TIME_LIMIT (G_GINT64_CONSTANT (1) << 61)

static inline gboolean
in_window (MtMatcher *self,
           gint64     time)
{
  return time > -TIME_LIMIT && time < TIME_LIMIT &&
         (self->window_from == MT_TIME_NONE || time >= self->window_from) &&
         (self->window_to == MT_TIME_NONE || time < self->window_to);
}

static inline const char *
object_name (gpointer object,
             gboolean is_trace)
{
  return is_trace ? ((MtTrace *) object)->id : ((MtImage *) object)->key;
}

/* How many objects ahead the first pass asks the memory for. */
#define PREFETCH_AHEAD 32

/* Sorts @array in place by (time, id or key), keeping only objects in the
 * window and dropping exact duplicates (same time and id or key, as from a
 * page fetched twice); the dropped are released through the array's free
 * function. The sorted times are left in @times and, for traces, the total
 * costs in @costs. */
static void
sort_objects (MtMatcher *self,
              RunState  *st,
              GPtrArray *array,
              gboolean   is_trace,
              gint64    *times,
              double    *costs)
{
  gpointer *in = array->pdata;
  guint n = array->len, kept = 0, front = 0, back = array->len;
  gint64 lo = G_MAXINT64, hi = G_MININT64;
  guint bits;

  if (n == 0)
    return;

  /* One pass over the objects: their times, and which are in the window.
   * The objects lie all over the heap; asking for them ahead of use lets
   * the memory serve many at once. */
  for (guint i = 0; i < n; i++)
    {
      gint64 time;

#ifdef __GNUC__
      if (i + PREFETCH_AHEAD < n)
        __builtin_prefetch (in[i + PREFETCH_AHEAD]);
#endif
      time = is_trace ? ((MtTrace *) in[i])->timestamp : ((MtImage *) in[i])->last_modified;
      if (!in_window (self, time))
        {
          st->objects[--back] = in[i];
          continue;
        }
      if (is_trace)
        st->raw_costs[kept] = ((MtTrace *) in[i])->total_cost;
      st->raw_times[kept] = time;
      st->positions[kept] = i;
      lo = MIN (lo, time);
      hi = MAX (hi, time);
      kept++;
    }

  if (kept == 0)
    {
      memcpy (in, st->objects + back, (n - back) * sizeof (gpointer));
      g_ptr_array_set_size (array, 0);
      return;
    }

  /* Sort by time. When the span and the count fit in 64 bits together, the
   * keys are plain integers and sort as fast as bare timestamps. */
  bits = g_bit_storage (kept);
  if (bits < 64 && ((guint64) hi - (guint64) lo) >> (64 - bits) == 0)
    {
      for (guint k = 0; k < kept; k++)
        st->keys[k] = ((guint64) (st->raw_times[k] - lo) << bits) | k;
      sort_u64 (st->keys, kept, st->key_scratch);
      for (guint k = 0; k < kept; k++)
        {
          guint64 key = st->keys[k];

          guint index = (guint) (key & ((G_GUINT64_CONSTANT (1) << bits) - 1));

          times[k] = lo + (gint64) (key >> bits);
          if (is_trace)
            costs[k] = st->raw_costs[index];
          st->keys[k] = st->positions[index];
        }
    }
  else
    {
      for (guint k = 0; k < kept; k++)
        st->wide[k] = (WideKey) { st->raw_times[k], k };
      sort_wide (st->wide, kept, st->wide_scratch);
      for (guint k = 0; k < kept; k++)
        {
          times[k] = st->wide[k].time;
          if (is_trace)
            costs[k] = st->raw_costs[st->wide[k].index];
          st->keys[k] = st->positions[st->wide[k].index];
        }
    }

  /* Equal times are ordered by id or key, bytewise, with a sort of their
   * own (many objects may share a millisecond); exact repeats go. */
  for (guint k = 0; k < kept; )
    {
      guint run = 1;

      while (k + run < kept && times[k + run] == times[k])
        run++;

      if (run == 1)
        {
          st->objects[front] = in[st->keys[k]];
          if (is_trace)
            costs[front] = costs[k];
          times[front++] = times[k];
          k++;
          continue;
        }

      for (guint j = 0; j < run; j++)
        {
          gpointer object = in[st->keys[k + j]];

          st->ties[j] = (Tie) { object_name (object, is_trace), object, is_trace ? costs[k + j] : 0.0 };
        }
      sort_ties (st->ties, run, st->tie_scratch);
      for (guint j = 0; j < run; j++)
        {
          if (j > 0 && strcmp (st->ties[j].name, st->ties[j - 1].name) == 0)
            {
              st->objects[--back] = st->ties[j].object;
              continue;
            }
          st->objects[front] = st->ties[j].object;
          if (is_trace)
            costs[front] = st->ties[j].cost;
          times[front++] = times[k];
        }
      k += run;
    }

  memcpy (in, st->objects, front * sizeof (gpointer));
  memcpy (in + front, st->objects + back, (n - back) * sizeof (gpointer));
  /* Releases the dropped objects, if the array owns its elements. */
  g_ptr_array_set_size (array, front);
}

static MtUserResult *
match_user (MtMatcher *self,
            RunState  *st,
            UserInput *input)
{
  GPtrArray *traces = input->traces, *images = input->images;
  gint32 *image_trace = NULL;
  MtUserStatus status;
  guint sp = 0, next = 0, n_pairs = 0;

  run_state_reserve (st, MAX (traces->len, images->len));
  sort_objects (self, st, traces, TRUE, st->trace_times, st->trace_costs);
  if (traces->len == 0)
    return NULL;
  sort_objects (self, st, images, FALSE, st->image_times, NULL);

  if (images->len > 0)
    image_trace = g_new (gint32, images->len);

  for (guint i = 0; i < images->len; i++)
    {
      gint64 time = st->image_times[i];
      guint t;

      image_trace[i] = -1;
      if (input->incomplete)
        continue;

      while (next < traces->len && st->trace_times[next] < time)
        st->stack[sp++] = next++;
      if (sp == 0)
        continue;
      t = st->stack[sp - 1];
      if (self->max_gap_ms >= 0 && time - st->trace_times[t] > self->max_gap_ms)
        continue;

      sp--;
      image_trace[i] = (gint32) t;
      n_pairs++;
      {
        gint64 gap = time - st->trace_times[t];

        g_array_append_val (st->gaps, gap);
        g_array_append_val (st->costs, st->trace_costs[t]);
      }
    }

  if (input->incomplete)
    status = MT_USER_STATUS_INCOMPLETE;
  else if (n_pairs > 0)
    status = MT_USER_STATUS_MATCHED;
  else if (images->len == 0)
    status = MT_USER_STATUS_NO_IMAGES;
  else
    status = MT_USER_STATUS_NO_PAIRS;

  input->traces = NULL;
  input->images = NULL;
  return mt_user_result_new_internal (g_steal_pointer (&input->user_id), status,
                                      traces, images, image_trace, n_pairs);
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

/* The k-th smallest of @a (which it reorders): afterwards nothing before
 * position k is greater and nothing after it is smaller. Expected O(n); a
 * run of bad pivots falls back to sorting. */
static gint64
select_nth (gint64 *a,
            gsize   n,
            gsize   k)
{
  gsize lo = 0, hi = n;
  guint budget = 2 * g_bit_storage (n) + 8;

  while (hi - lo > MT_SORT_RUN && budget-- > 0)
    {
      gint64 x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
      gint64 pivot = MAX (MIN (x, y), MIN (MAX (x, y), z));
      gsize lt = lo, i = lo, gt = hi;

      /* Three ways, so that many equal gaps cost nothing extra. */
      while (i < gt)
        {
          gint64 v = a[i];

          if (v < pivot)
            {
              a[i++] = a[lt];
              a[lt++] = v;
            }
          else if (v > pivot)
            {
              a[i] = a[--gt];
              a[gt] = v;
            }
          else
            i++;
        }
      if (k < lt)
        hi = lt;
      else if (k >= gt)
        lo = gt;
      else
        return pivot;
    }

  {
    g_autofree gint64 *scratch = g_new (gint64, hi - lo);

    sort_gaps (a + lo, hi - lo, scratch);
  }
  return a[k];
}

/* A run's per-pair values, in parts (one per block) that together are in
 * user order; read in place rather than gathered into one array. */
typedef struct {
  GArray *parts[MAX_BLOCKS];
  guint n_parts;
} Parts;

#define PARTS_FOREACH(p, type, value, body)                                 \
  for (guint part_ = 0; part_ < (p)->n_parts; part_++)                      \
    for (guint i_ = 0; i_ < (p)->parts[part_]->len; i_++)                   \
      {                                                                     \
        type value = g_array_index ((p)->parts[part_], type, i_);           \
        body                                                                \
      }

/* The values at @ranks of the non-negative @gaps, in two passes: a
 * histogram of the top 16 bits finds each rank's bucket, and only the few
 * values in that bucket are selected among. */
static void
order_statistics (const Parts *gaps,
                  gint64       max,
                  const gsize *ranks,
                  gint64      *values,
                  guint        n_ranks)
{
  g_autofree guint32 *counts = g_new0 (guint32, 1 << 16);
  g_autoptr(GArray) picked = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint shift = MAX (g_bit_storage ((guint64) max), 16) - 16;
  guint bucket = G_MAXUINT;
  gsize below = 0;

  PARTS_FOREACH (gaps, gint64, gap, counts[gap >> shift]++;)

  for (guint r = 0; r < n_ranks; r++)
    {
      guint b = 0;
      gsize seen = 0;

      /* The bucket holding this rank, and how many values lie below it. */
      while (seen + counts[b] <= ranks[r])
        seen += counts[b++];

      if (b != bucket)
        {
          bucket = b;
          below = seen;
          g_array_set_size (picked, 0);
          PARTS_FOREACH (gaps, gint64, gap,
                         if ((guint) (gap >> shift) == bucket)
                           g_array_append_val (picked, gap);)
        }
      values[r] = select_nth ((gint64 *) (gpointer) picked->data, picked->len, ranks[r] - below);
    }
}

static void
summarise_gaps (MtMatchSummary *summary,
                const Parts    *gaps)
{
  gsize n = 0;
  gsize ranks[4];
  gint64 values[4];
  gint64 min = G_MAXINT64, max = 0;
  guint64 quotient = 0, remainder = 0;
  guint64 rank10;
  gsize p90, rest;

  PARTS_FOREACH (gaps, gint64, gap,
                 min = MIN (min, gap);
                 max = MAX (max, gap);
                 summary->gap_histogram[mt_match_summary_gap_bin_of (gap)]++;
                 n++;)

  summary->has_time_stats = n > 0;
  if (n == 0)
    return;

  /* The median's two middle ranks (the same one when n is odd), and p90's
   * rank 0.9 × (n − 1), in tenths, with the next one to interpolate. */
  rank10 = 9 * (guint64) (n - 1);
  p90 = (gsize) (rank10 / 10);
  rest = (gsize) (rank10 % 10);
  ranks[0] = (n - 1) / 2;
  ranks[1] = n / 2;
  ranks[2] = p90;
  ranks[3] = MIN (p90 + 1, n - 1);
  order_statistics (gaps, max, ranks, values, 4);

  /* Gaps are positive and below 2^62, so each figure is computed without
   * overflow, and adding half before dividing rounds half up. */
  summary->time_min_ms = min;
  summary->time_max_ms = max;
  /* The mean as Σ⌊g/n⌋ plus the remainders' share: no sum can overflow. */
  PARTS_FOREACH (gaps, gint64, gap,
                 quotient += (guint64) gap / n;
                 remainder += (guint64) gap % n;)
  quotient += remainder / n;
  remainder %= n;
  summary->time_mean_ms = (gint64) (quotient + (2 * remainder + n) / (2 * (guint64) n));
  summary->time_median_ms = values[0] + (values[1] - values[0] + 1) / 2;
  {
    gint64 d = values[3] - values[2];

    summary->time_p90_ms = values[2] + (d / 10) * (gint64) rest + ((d % 10) * (gint64) rest + 5) / 10;
  }
}

/* Sums the pairs' costs in user order, so that the total never depends on
 * how the work was split; unknown costs count as nothing. Neumaier's
 * summation keeps many small costs exact, and the total is rounded to
 * 1e-10 USD. */
static double
sum_costs (const Parts *costs)
{
  double sum = 0.0, compensation = 0.0;

  PARTS_FOREACH (costs, double, cost,
                 if (!isnan (cost))
                   {
                     double t = sum + cost;

                     if (fabs (sum) >= fabs (cost))
                       compensation += (sum - t) + cost;
                     else
                       compensation += (cost - t) + sum;
                     sum = t;
                   })
  return round ((sum + compensation) * 1e10) / 1e10;
}

/* Runs @func on [0, @n) split into @n_workers ranges, one per thread. */
typedef void (*RangeFunc) (guint first, guint last, guint worker, gpointer data);

typedef struct {
  RangeFunc func;
  gpointer data;
  guint first, last, worker;
} Range;

static gpointer
run_range (gpointer data)
{
  Range *range = data;

  range->func (range->first, range->last, range->worker, range->data);
  return NULL;
}

static void
run_parallel (guint     n,
              guint     n_workers,
              RangeFunc func,
              gpointer  data)
{
  Range ranges[MAX_WORKERS];
  GThread *threads[MAX_WORKERS] = { NULL };

  for (guint w = 0; w < n_workers; w++)
    ranges[w] = (Range) { func, data, (guint) ((guint64) n * w / n_workers),
                          (guint) ((guint64) n * (w + 1) / n_workers), w };
  for (guint w = 1; w < n_workers; w++)
    threads[w] = g_thread_new ("mealtrace-match", run_range, &ranges[w]);
  run_range (&ranges[0]);
  for (guint w = 1; w < n_workers; w++)
    g_thread_join (threads[w]);
}

typedef struct {
  UserInput *inputs;
  UserKey *keys;
  guint64 objects[MAX_WORKERS];
} KeyJob;

/* Reads what sorting and splitting need, in the order the inputs were
 * added, asking for each entry's data well before it is used. */
static void
make_keys (guint    first,
           guint    last,
           guint    worker,
           gpointer data)
{
  KeyJob *job = data;
  UserInput *in = job->inputs;

  for (guint i = first; i < last; i++)
    {
#ifdef __GNUC__
      if (i + 16 < last)
        {
          __builtin_prefetch (in[i + 16].user_id);
          __builtin_prefetch (in[i + 16].traces);
          __builtin_prefetch (in[i + 16].images);
        }
#endif
      in[i].n_objects = in[i].traces->len + in[i].images->len;
      if (!has_user (in[i].user_id))
        {
          job->keys[i] = (UserKey) { 0, NULL, 0, FALSE };
          continue;
        }
      in[i].prefix = id_prefix (in[i].user_id);
      job->keys[i] = (UserKey) { in[i].prefix, &in[i], in[i].n_objects, in[i].incomplete };
      job->objects[worker] += in[i].n_objects;
    }
}

/* The inputs as keys sorted by user id, with the entries of one user merged. */
static GArray *
sorted_inputs (MtMatcher *self,
               guint      n_workers,
               guint64   *out_objects)
{
  GArray *inputs = self->inputs;
  GArray *keys = g_array_sized_new (FALSE, FALSE, sizeof (UserKey), inputs->len);
  g_autofree UserKey *scratch = g_new (UserKey, inputs->len + 1);
  KeyJob job = { (UserInput *) (gpointer) inputs->data, NULL, { 0 } };
  UserKey *k;
  guint n = 0, m = 0;

  g_array_set_size (keys, inputs->len);
  k = job.keys = (UserKey *) (gpointer) keys->data;
  run_parallel (inputs->len, inputs->len >= 4096 ? n_workers : 1, make_keys, &job);

  *out_objects = 0;
  for (guint w = 0; w < n_workers; w++)
    *out_objects += job.objects[w];

  for (guint i = 0; i < inputs->len; i++)
    {
      if (k[i].input != NULL)
        {
          k[m++] = k[i];
          continue;
        }
      /* Handed over without a user: their traces are only counted. */
      {
        UserInput *input = &job.inputs[i];

        for (guint j = 0; j < input->traces->len; j++)
          g_array_append_val (self->unassigned_times,
                              ((MtTrace *) g_ptr_array_index (input->traces, j))->timestamp);
      }
    }
  sort_users (k, m, scratch);

  for (guint i = 0; i < m; i++)
    {
      if (n > 0 && k[n - 1].prefix == k[i].prefix &&
          strcmp (k[n - 1].input->user_id, k[i].input->user_id) == 0)
        {
          UserInput *last = k[n - 1].input, *input = k[i].input;

          g_ptr_array_extend_and_steal (last->traces, g_steal_pointer (&input->traces));
          g_ptr_array_extend_and_steal (last->images, g_steal_pointer (&input->images));
          last->incomplete |= input->incomplete;
          last->n_objects += input->n_objects;
          k[n - 1].n_objects = last->n_objects;
          k[n - 1].incomplete = last->incomplete;
          continue;
        }
      k[n++] = k[i];
    }
  g_array_set_size (keys, n);
  return keys;
}

/* Users are matched on every core: the sorted users are cut into blocks
 * of contiguous users, which the workers take in turn; gathering the blocks
 * in order gives exactly what one thread would have produced. Below this
 * many objects one thread is faster. */
#define PARALLEL_MIN_OBJECTS 50000

/* A block of users and what it adds to the summary. */
typedef struct {
  guint first;
  guint last;
  GArray *gaps;           /* gint64 per pair */
  GArray *costs;          /* double per pair */
  guint users, users_with_matches, traces, images, pairs;
} Block;

typedef struct {
  MtMatcher *matcher;
  const UserKey *keys;
  MtUserResult **results; /* one slot per key; NULL for a user without traces */
  Block *blocks;
  guint n_blocks;
  gint next_block;        /* atomic */
} Work;

typedef struct {
  Work *work;
  RunState state;         /* scratch, reused from block to block */
} Worker;

/* A user's data is three hops away (entry, arrays, objects), each a likely
 * cache miss; asking for each hop a few users ahead keeps the memory busy
 * instead of the processor waiting. */
static inline void
prefetch_ahead (const UserKey *keys,
                guint          i,
                guint          last)
{
#ifdef __GNUC__
  if (i + 12 < last)
    __builtin_prefetch (keys[i + 12].input);
  if (i + 8 < last)
    {
      UserInput *input = keys[i + 8].input;

      __builtin_prefetch (input->traces);
      __builtin_prefetch (input->images);
    }
  if (i + 4 < last)
    {
      UserInput *input = keys[i + 4].input;

      __builtin_prefetch (input->traces->pdata);
      __builtin_prefetch (input->images->pdata);
    }
  if (i + 1 < last)
    {
      UserInput *input = keys[i + 1].input;

      for (guint j = 0; j < MIN (input->traces->len, PREFETCH_AHEAD); j++)
        __builtin_prefetch (input->traces->pdata[j]);
      for (guint j = 0; j < MIN (input->images->len, PREFETCH_AHEAD); j++)
        __builtin_prefetch (input->images->pdata[j]);
    }
#endif
}

static void
match_block (Worker *worker,
             Block  *block)
{
  Work *work = worker->work;

  block->gaps = g_array_new (FALSE, FALSE, sizeof (gint64));
  block->costs = g_array_new (FALSE, FALSE, sizeof (double));
  worker->state.gaps = block->gaps;
  worker->state.costs = block->costs;
  for (guint i = block->first; i < block->last; i++)
    {
      MtUserResult *user;

      prefetch_ahead (work->keys, i, block->last);
      user = match_user (work->matcher, &worker->state, work->keys[i].input);
      work->results[i] = user;
      if (user == NULL)
        continue;
      block->users++;
      block->traces += user->traces->len;
      block->images += user->images->len;
      block->pairs += user->n_pairs;
      block->users_with_matches += user->n_pairs > 0;
    }
  /* The block owns them. */
  worker->state.gaps = NULL;
  worker->state.costs = NULL;
}

static gpointer
match_blocks (gpointer data)
{
  Worker *worker = data;
  guint b;

  while ((b = (guint) g_atomic_int_add (&worker->work->next_block, 1)) < worker->work->n_blocks)
    match_block (worker, &worker->work->blocks[b]);
  return NULL;
}

MtMatchResult *
mt_matcher_run (MtMatcher *self)
{
  g_autoptr(GArray) keys = NULL;
  g_autoptr(GPtrArray) incomplete = NULL;
  Parts gaps, costs;
  g_autofree MtUserResult **slots = NULL;
  Block blocks[MAX_BLOCKS];
  Worker workers[MAX_WORKERS];
  GThread *threads[MAX_WORKERS] = { NULL };
  Work work;
  GPtrArray *results;
  MtMatchSummary *summary;
  guint64 objects, share, seen = 0;
  guint n_workers, n_blocks, next = 0;

  g_return_val_if_fail (MT_IS_MATCHER (self), NULL);

  n_workers = self->threads > 0 ? self->threads : CLAMP (g_get_num_processors (), 1, MAX_WORKERS);
  keys = sorted_inputs (self, n_workers, &objects);
  slots = g_new0 (MtUserResult *, keys->len + 1);
  if (objects < PARALLEL_MIN_OBJECTS)
    n_workers = 1;
  n_workers = MIN (n_workers, MAX (keys->len, 1));

  /* Blocks of about equal numbers of objects. */
  n_blocks = n_workers == 1 ? 1 : MIN (n_workers * BLOCKS_PER_WORKER, MAX (keys->len, 1));
  share = objects / n_blocks + 1;
  for (guint b = 0; b < n_blocks; b++)
    {
      memset (&blocks[b], 0, sizeof blocks[b]);
      blocks[b].first = blocks[b].last = next;
      while (blocks[b].last < keys->len && (b == n_blocks - 1 || seen < share * (b + 1)))
        seen += g_array_index (keys, UserKey, blocks[b].last++).n_objects;
      next = blocks[b].last;
    }
  work = (Work) { self, (const UserKey *) (gpointer) keys->data, slots, blocks, n_blocks, 0 };
  for (guint w = 0; w < n_workers; w++)
    {
      memset (&workers[w], 0, sizeof workers[w]);
      workers[w].work = &work;
    }
  for (guint w = 1; w < n_workers; w++)
    threads[w] = g_thread_new ("mealtrace-match", match_blocks, &workers[w]);
  match_blocks (&workers[0]);
  for (guint w = 1; w < n_workers; w++)
    g_thread_join (threads[w]);
  for (guint w = 0; w < n_workers; w++)
    run_state_clear (&workers[w].state);

  summary = mt_match_summary_new_internal ();
  for (guint b = 0; b < n_blocks; b++)
    {
      summary->total_users += blocks[b].users;
      summary->users_with_matches += blocks[b].users_with_matches;
      summary->total_traces += blocks[b].traces;
      summary->total_images += blocks[b].images;
      summary->total_matched_pairs += blocks[b].pairs;
      gaps.parts[b] = blocks[b].gaps;
      costs.parts[b] = blocks[b].costs;
    }
  gaps.n_parts = costs.n_parts = n_blocks;

  results = g_ptr_array_new_full (summary->total_users, g_object_unref);
  incomplete = g_ptr_array_new_null_terminated (0, NULL, TRUE);
  for (guint i = 0; i < keys->len; i++)
    {
      /* A user whose data could not be fetched is reported as such even
       * when what was fetched holds no trace. */
      if (slots[i] == NULL)
        {
          if (g_array_index (keys, UserKey, i).incomplete)
            g_ptr_array_add (incomplete, g_strdup (g_array_index (keys, UserKey, i).input->user_id));
          continue;
        }
      g_ptr_array_add (results, slots[i]);
      if (g_array_index (keys, UserKey, i).incomplete)
        g_ptr_array_add (incomplete, g_strdup (slots[i]->user_id));
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
  summarise_gaps (summary, &gaps);
  summary->matched_total_cost = sum_costs (&costs);
  for (guint b = 0; b < n_blocks; b++)
    {
      g_array_unref (blocks[b].gaps);
      g_array_unref (blocks[b].costs);
    }

  /* The run consumed the input: the matcher starts over empty. */
  reset_input (self);

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
