/* mt-gap-histogram.h — a small bar chart of trace→photo gaps */
#pragma once

#include <gtk/gtk.h>

#include "mt-match-summary.h"

G_BEGIN_DECLS

#define MT_TYPE_GAP_HISTOGRAM (mt_gap_histogram_get_type ())

G_DECLARE_FINAL_TYPE (MtGapHistogram, mt_gap_histogram, MT, GAP_HISTOGRAM, GtkDrawingArea)

GtkWidget *mt_gap_histogram_new         (void);
/* Shows @summary's gap histogram; %NULL shows nothing. */
void       mt_gap_histogram_set_summary (MtGapHistogram *self,
                                         MtMatchSummary *summary);
/* The bin under x (widget coordinates), or -1. */
int        mt_gap_histogram_bin_at      (MtGapHistogram *self,
                                         double          x);

G_END_DECLS
