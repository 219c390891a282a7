/* mt-match-summary.c — the figures of a whole matching run */

#include "config.h"

#include "mt-core-private.h"
#include "mt-match-summary.h"

G_DEFINE_FINAL_TYPE (MtMatchSummary, mt_match_summary, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_TOTAL_USERS,
  PROP_USERS_WITH_MATCHES,
  PROP_USERS_WITHOUT_COUNTERPART,
  PROP_TOTAL_IMAGES,
  PROP_TOTAL_TRACES,
  PROP_TOTAL_MATCHED_PAIRS,
  PROP_MATCH_RATE,
  PROP_PAIR_MATCH_EFFICIENCY,
  PROP_TRACES_WITHOUT_USER,
  PROP_INCOMPLETE_USERS,
  PROP_HAS_TIME_DIFFERENCES,
  PROP_TIME_DIFFERENCE_MIN,
  PROP_TIME_DIFFERENCE_MEDIAN,
  PROP_TIME_DIFFERENCE_MEAN,
  PROP_TIME_DIFFERENCE_P90,
  PROP_TIME_DIFFERENCE_MAX,
  PROP_MATCHED_TOTAL_COST,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mt_match_summary_finalize (GObject *object)
{
  MtMatchSummary *self = MT_MATCH_SUMMARY (object);

  g_strfreev (self->incomplete_users);

  G_OBJECT_CLASS (mt_match_summary_parent_class)->finalize (object);
}

static void
mt_match_summary_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  MtMatchSummary *self = MT_MATCH_SUMMARY (object);

  switch (prop_id)
    {
    case PROP_TOTAL_USERS:
      g_value_set_uint (value, self->total_users);
      break;
    case PROP_USERS_WITH_MATCHES:
      g_value_set_uint (value, self->users_with_matches);
      break;
    case PROP_USERS_WITHOUT_COUNTERPART:
      g_value_set_uint (value, mt_match_summary_get_users_without_counterpart (self));
      break;
    case PROP_TOTAL_IMAGES:
      g_value_set_uint (value, self->total_images);
      break;
    case PROP_TOTAL_TRACES:
      g_value_set_uint (value, self->total_traces);
      break;
    case PROP_TOTAL_MATCHED_PAIRS:
      g_value_set_uint (value, self->total_matched_pairs);
      break;
    case PROP_MATCH_RATE:
      g_value_set_double (value, mt_match_summary_get_match_rate (self));
      break;
    case PROP_PAIR_MATCH_EFFICIENCY:
      g_value_set_double (value, mt_match_summary_get_pair_match_efficiency (self));
      break;
    case PROP_TRACES_WITHOUT_USER:
      g_value_set_uint (value, self->traces_without_user);
      break;
    case PROP_INCOMPLETE_USERS:
      g_value_set_boxed (value, self->incomplete_users);
      break;
    case PROP_HAS_TIME_DIFFERENCES:
      g_value_set_boolean (value, self->has_time_stats);
      break;
    case PROP_TIME_DIFFERENCE_MIN:
      g_value_set_double (value, self->time_min_ms / 1000.0);
      break;
    case PROP_TIME_DIFFERENCE_MEDIAN:
      g_value_set_double (value, self->time_median_ms / 1000.0);
      break;
    case PROP_TIME_DIFFERENCE_MEAN:
      g_value_set_double (value, self->time_mean_ms / 1000.0);
      break;
    case PROP_TIME_DIFFERENCE_P90:
      g_value_set_double (value, self->time_p90_ms / 1000.0);
      break;
    case PROP_TIME_DIFFERENCE_MAX:
      g_value_set_double (value, self->time_max_ms / 1000.0);
      break;
    case PROP_MATCHED_TOTAL_COST:
      g_value_set_double (value, self->matched_total_cost);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
count_pspec (const char *name)
{
  return g_param_spec_uint (name, NULL, NULL, 0, G_MAXUINT, 0,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
}

static GParamSpec *
double_pspec (const char *name)
{
  return g_param_spec_double (name, NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0,
                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
}

static void
mt_match_summary_class_init (MtMatchSummaryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mt_match_summary_finalize;
  object_class->get_property = mt_match_summary_get_property;

  properties[PROP_TOTAL_USERS] = count_pspec ("total-users");
  properties[PROP_USERS_WITH_MATCHES] = count_pspec ("users-with-matches");
  properties[PROP_USERS_WITHOUT_COUNTERPART] = count_pspec ("users-without-counterpart");
  properties[PROP_TOTAL_IMAGES] = count_pspec ("total-images");
  properties[PROP_TOTAL_TRACES] = count_pspec ("total-traces");
  properties[PROP_TOTAL_MATCHED_PAIRS] = count_pspec ("total-matched-pairs");
  properties[PROP_MATCH_RATE] = double_pspec ("match-rate");
  properties[PROP_PAIR_MATCH_EFFICIENCY] = double_pspec ("pair-match-efficiency");
  properties[PROP_TRACES_WITHOUT_USER] = count_pspec ("traces-without-user");
  properties[PROP_INCOMPLETE_USERS] =
    g_param_spec_boxed ("incomplete-users", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_HAS_TIME_DIFFERENCES] =
    g_param_spec_boolean ("has-time-differences", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* The gaps in seconds, for display. */
  properties[PROP_TIME_DIFFERENCE_MIN] = double_pspec ("time-difference-min");
  properties[PROP_TIME_DIFFERENCE_MEDIAN] = double_pspec ("time-difference-median");
  properties[PROP_TIME_DIFFERENCE_MEAN] = double_pspec ("time-difference-mean");
  properties[PROP_TIME_DIFFERENCE_P90] = double_pspec ("time-difference-p90");
  properties[PROP_TIME_DIFFERENCE_MAX] = double_pspec ("time-difference-max");
  properties[PROP_MATCHED_TOTAL_COST] = double_pspec ("matched-total-cost");

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_match_summary_init (MtMatchSummary *self)
{
}

MtMatchSummary *
mt_match_summary_new_internal (void)
{
  return g_object_new (MT_TYPE_MATCH_SUMMARY, NULL);
}

guint
mt_match_summary_get_total_users (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0);
  return self->total_users;
}

guint
mt_match_summary_get_users_with_matches (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0);
  return self->users_with_matches;
}

guint
mt_match_summary_get_users_without_counterpart (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0);
  return self->total_users - self->users_with_matches;
}

guint
mt_match_summary_get_total_images (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0);
  return self->total_images;
}

guint
mt_match_summary_get_total_traces (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0);
  return self->total_traces;
}

guint
mt_match_summary_get_total_matched_pairs (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0);
  return self->total_matched_pairs;
}

guint
mt_match_summary_get_match_rate_tenths (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0);
  return self->match_rate_tenths;
}

guint
mt_match_summary_get_pair_match_efficiency_tenths (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0);
  return self->pair_match_efficiency_tenths;
}

double
mt_match_summary_get_match_rate (MtMatchSummary *self)
{
  return mt_match_summary_get_match_rate_tenths (self) / 10.0;
}

double
mt_match_summary_get_pair_match_efficiency (MtMatchSummary *self)
{
  return mt_match_summary_get_pair_match_efficiency_tenths (self) / 10.0;
}

guint
mt_match_summary_get_traces_without_user (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0);
  return self->traces_without_user;
}

const char * const *
mt_match_summary_get_incomplete_users (MtMatchSummary *self)
{
  static const char *const none[] = { NULL };

  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), none);
  return self->incomplete_users != NULL ? (const char * const *) self->incomplete_users : none;
}

gboolean
mt_match_summary_has_time_differences (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), FALSE);
  return self->has_time_stats;
}

gint64
mt_match_summary_get_time_difference_min_ms (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0);
  return self->time_min_ms;
}

gint64
mt_match_summary_get_time_difference_median_ms (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0);
  return self->time_median_ms;
}

gint64
mt_match_summary_get_time_difference_mean_ms (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0);
  return self->time_mean_ms;
}

gint64
mt_match_summary_get_time_difference_p90_ms (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0);
  return self->time_p90_ms;
}

gint64
mt_match_summary_get_time_difference_max_ms (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0);
  return self->time_max_ms;
}

double
mt_match_summary_get_matched_total_cost (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), 0.0);
  return self->matched_total_cost;
}

static const gint64 gap_bin_limits[MT_GAP_HISTOGRAM_BINS] = {
  10 * 1000, 30 * 1000, 60 * 1000, 2 * 60 * 1000, 5 * 60 * 1000, 10 * 60 * 1000,
  30 * 60 * 1000, 60 * 60 * 1000, 3 * 3600 * 1000, 6 * 3600 * 1000, 24 * 3600 * (gint64) 1000, G_MAXINT64,
};

const guint *
mt_match_summary_get_gap_histogram (MtMatchSummary *self)
{
  g_return_val_if_fail (MT_IS_MATCH_SUMMARY (self), NULL);
  return self->gap_histogram;
}

gint64
mt_match_summary_gap_bin_limit_ms (guint bin)
{
  g_return_val_if_fail (bin < MT_GAP_HISTOGRAM_BINS, G_MAXINT64);
  return gap_bin_limits[bin];
}

guint
mt_match_summary_gap_bin_of (gint64 gap_ms)
{
  guint bin = 0;

  while (gap_ms >= gap_bin_limits[bin])
    bin++;
  return bin;
}
