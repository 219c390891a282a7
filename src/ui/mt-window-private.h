/* mt-window-private.h — the window's insides, for its tests */
#pragma once

#include "mt-gap-histogram.h"
#include "mt-exporter.h"
#include "mt-mapping-job.h"
#include "mt-preview-cache.h"
#include "mt-user-detail.h"
#include "mt-window.h"

G_BEGIN_DECLS

struct _MtWindow
{
  GtkApplicationWindow parent_instance;

  /* From the template. */
  GtkDropDown *time_filter;
  GtkMenuButton *range_button;
  GtkPopover *range_popover;
  GtkEntry *range_from;
  GtkEntry *range_to;
  GtkCalendar *range_calendar;
  GtkLabel *range_error;
  GtkButton *range_apply;
  GtkEntry *range_target;       /* the field the calendar fills next */
  GtkStack *run_button_stack;
  GtkStack *stack;
  GtkLabel *welcome_message;
  GtkLabel *loading_title;
  GtkProgressBar *progress_bar;
  GtkLabel *loading_details;
  GtkLabel *error_title;
  GtkLabel *error_message;
  GtkLabel *incomplete_banner;
  GtkFlowBox *summary_strip;
  MtGapHistogram *gap_histogram;  /* in the strip, rebuilt with it */
  GtkSearchEntry *search_entry;
  GtkDropDown *status_filter;
  GtkColumnView *user_view;
  GtkBox *detail_box;
  GtkMenuButton *export_button;
  GtkRevealer *toast_revealer;
  GtkLabel *toast_label;

  MtPreviewCache *preview_cache;
  MtUserDetail *detail;
  guint toast_timeout;

  /* Export: the save dialog while it is open, then the writing. */
  GtkFileChooserNative *export_dialog;
  MtExportFormat export_format;
  gint64 export_time;           /* the export's own time, in its file */
  GCancellable *export_cancellable;
  GFile *export_target;         /* being written */
  GFile *last_export;           /* the last file written, for its tests */

  GSettings *settings;
  MtConfig *config;
  gboolean demo;
  MtMappingJob *job;
  GCancellable *cancellable;
  MtMatchResult *result;
  char *page_before_run;
  gboolean refresh_when_stopped;

  /* The user list: the result's users, filtered, sorted, selected. */
  GtkFilter *search_filter;
  GtkFilter *status_filter_rule;
  GtkFilterListModel *filtered;
  GtkSortListModel *sorted;
  GtkSingleSelection *selection;
};

/* The last run's result, %NULL before one ends. */
MtMatchResult *mt_window_get_result (MtWindow *self);
/* The name of the visible page: welcome, ready, loading, error, results. */
const char    *mt_window_get_page   (MtWindow *self);

/* Shows @result as if a run read it, with @config's zone (%NULL: the
 * default); previews then have no client. For benchmarks and tests. */
void           mt_window_show_result (MtWindow      *self,
                                      MtMatchResult *result,
                                      MtConfig      *config);
/* Opens the save dialog of @format's export (as "Export JSON…" does). */
void           mt_window_export     (MtWindow       *self,
                                     MtExportFormat  format);
void           mt_window_show_toast (MtWindow       *self,
                                     const char     *text);

G_END_DECLS
