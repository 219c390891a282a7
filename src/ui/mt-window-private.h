/* mt-window-private.h — the window's insides, for its tests */
#pragma once

#include "mt-mapping-job.h"
#include "mt-window.h"

G_BEGIN_DECLS

struct _MtWindow
{
  GtkApplicationWindow parent_instance;

  /* From the template. */
  GtkDropDown *time_filter;
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
  GtkSearchEntry *search_entry;
  GtkDropDown *status_filter;
  GtkColumnView *user_view;
  GtkBox *detail_box;
  GtkLabel *detail_placeholder;

  GSettings *settings;
  MtConfig *config;
  gboolean demo;
  MtMappingJob *job;
  GCancellable *cancellable;
  MtMatchResult *result;
  char *page_before_run;
  gboolean refresh_when_stopped;

  /* The user list: the result's users, filtered, sorted, selected. */
  GListStore *users;
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

G_END_DECLS
