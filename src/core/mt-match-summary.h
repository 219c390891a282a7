/* mt-match-summary.h — the figures of a whole matching run (SPEC section 5) */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define MT_TYPE_MATCH_SUMMARY (mt_match_summary_get_type ())

G_DECLARE_FINAL_TYPE (MtMatchSummary, mt_match_summary, MT, MATCH_SUMMARY, GObject)

guint              mt_match_summary_get_total_users               (MtMatchSummary *self);
guint              mt_match_summary_get_users_with_matches        (MtMatchSummary *self);
guint              mt_match_summary_get_users_without_counterpart (MtMatchSummary *self);
guint              mt_match_summary_get_total_images              (MtMatchSummary *self);
guint              mt_match_summary_get_total_traces              (MtMatchSummary *self);
guint              mt_match_summary_get_total_matched_pairs       (MtMatchSummary *self);

/* Percentages rounded to one decimal (half away from zero, computed on the
 * exact counts); 0 when there is nothing to divide by. */
double             mt_match_summary_get_match_rate                (MtMatchSummary *self);
double             mt_match_summary_get_pair_match_efficiency     (MtMatchSummary *self);
/* The same, in tenths of a percent: 625 for 62.5 %. */
guint              mt_match_summary_get_match_rate_tenths         (MtMatchSummary *self);
guint              mt_match_summary_get_pair_match_efficiency_tenths (MtMatchSummary *self);

guint              mt_match_summary_get_traces_without_user       (MtMatchSummary *self);
/* Sorted bytewise; never %NULL. */
const char * const *mt_match_summary_get_incomplete_users         (MtMatchSummary *self);

/* Trace→image gaps over all pairs, in milliseconds: the median of an even
 * count is the mean of the middle two, p90 interpolates linearly between
 * ranks, and mean, median and p90 are rounded to the millisecond. All are
 * meaningless when there are no pairs. */
gboolean           mt_match_summary_has_time_differences          (MtMatchSummary *self);
gint64             mt_match_summary_get_time_difference_min_ms    (MtMatchSummary *self);
gint64             mt_match_summary_get_time_difference_median_ms (MtMatchSummary *self);
gint64             mt_match_summary_get_time_difference_mean_ms   (MtMatchSummary *self);
gint64             mt_match_summary_get_time_difference_p90_ms    (MtMatchSummary *self);
gint64             mt_match_summary_get_time_difference_max_ms    (MtMatchSummary *self);

/* How many pairs' gaps fall in each bin: bin i holds gaps below
 * mt_match_summary_gap_bin_limit_ms (i) and at or above the limit of bin
 * i − 1; the last bin has no upper limit. The limits grow roughly
 * geometrically, from ten seconds to a day, as gaps do. */
#define MT_GAP_HISTOGRAM_BINS 12
const guint       *mt_match_summary_get_gap_histogram             (MtMatchSummary *self);
/* G_MAXINT64 for the last bin. */
gint64             mt_match_summary_gap_bin_limit_ms              (guint           bin);

/* Sum of total_cost over the traces in pairs (unknown costs count as 0),
 * rounded to 1e-10 USD so that float noise does not reach the exports. */
double             mt_match_summary_get_matched_total_cost        (MtMatchSummary *self);

G_END_DECLS
