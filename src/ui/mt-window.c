/* mt-window.c — the main window: a period's users, their photos and traces */

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "mt-gap-histogram.h"
#include "mt-langfuse-client.h"
#include "mt-match-summary.h"
#include "mt-preferences-window.h"
#include "mt-s3-client.h"
#include "mt-time.h"
#include "mt-tooltip.h"
#include "mt-user-result.h"
#include "mt-window-private.h"

G_DEFINE_FINAL_TYPE (MtWindow, mt_window, GTK_TYPE_APPLICATION_WINDOW)

/* The time filter's entries, in the order of the template's list. */
static const guint filter_days[] = { 1, 7, 14, 30 };

MtWindow *
mt_window_new (MtApplication *application)
{
  return g_object_new (MT_TYPE_WINDOW, "application", application, NULL);
}

MtMatchResult *
mt_window_get_result (MtWindow *self)
{
  g_return_val_if_fail (MT_IS_WINDOW (self), NULL);
  return self->result;
}

const char *
mt_window_get_page (MtWindow *self)
{
  g_return_val_if_fail (MT_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}

/* The entry after them: a custom range of days. */
#define CUSTOM_RANGE G_N_ELEMENTS (filter_days)

/* 0 for a custom range. */
static guint
selected_days (MtWindow *self)
{
  guint index = gtk_drop_down_get_selected (self->time_filter);

  if (index == CUSTOM_RANGE)
    return 0;
  return index < G_N_ELEMENTS (filter_days) ? filter_days[index] : filter_days[0];
}

/* The custom range */

/* A day written YYYY-MM-DD, as a date that exists. */
static GDate *
parse_day (const char *text)
{
  int year, month, day, length = 0;

  if (text == NULL || sscanf (text, "%4d-%2d-%2d%n", &year, &month, &day, &length) != 3
      || text[length] != '\0' || !g_date_valid_dmy (day, month, year))
    return NULL;
  return g_date_new_dmy (day, month, year);
}

static gint64
day_start_ms (const GDate *date,
              GTimeZone   *zone)
{
  g_autoptr(GDateTime) start = g_date_time_new (zone, g_date_get_year (date), g_date_get_month (date),
                                                g_date_get_day (date), 0, 0, 0);

  return g_date_time_to_unix (start) * 1000;
}

/* [@from, @to) from the start of the first day to the end of the last, in
 * @zone; FALSE with a message saying what to type when the fields are not
 * a range. */
static gboolean
custom_range (MtWindow   *self,
              GTimeZone  *zone,
              gint64     *from,
              gint64     *to,
              char      **message)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  GDate *first = parse_day (gtk_editable_get_text (GTK_EDITABLE (self->range_from)));
  GDate *last = parse_day (gtk_editable_get_text (GTK_EDITABLE (self->range_to)));
  gboolean ok = FALSE;

  if (first == NULL)
    *message = g_strdup (_("Type the first day as YYYY-MM-DD, or pick it in the calendar."));
  else if (last == NULL)
    *message = g_strdup (_("Type the last day as YYYY-MM-DD, or pick it in the calendar."));
  else if (g_date_compare (first, last) > 0)
    *message = g_strdup (_("The last day comes before the first: swap them."));
  else
    {
      g_date_add_days (last, 1);
      *from = day_start_ms (first, zone != NULL ? zone : utc);
      *to = day_start_ms (last, zone != NULL ? zone : utc);
      ok = TRUE;
    }
  g_clear_pointer (&first, g_date_free);
  g_clear_pointer (&last, g_date_free);
  return ok;
}

static void
show_range_error (MtWindow   *self,
                  const char *message)
{
  gtk_label_set_text (self->range_error, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->range_error), message != NULL);
}

static void
update_range_label (MtWindow *self)
{
  g_autofree char *label = g_strdup_printf ("%s – %s", gtk_editable_get_text (GTK_EDITABLE (self->range_from)),
                                            gtk_editable_get_text (GTK_EDITABLE (self->range_to)));

  gtk_menu_button_set_label (self->range_button, label);
}

static void
on_range_day_selected (MtWindow *self)
{
  g_autoptr(GDateTime) date = gtk_calendar_get_date (self->range_calendar);
  g_autofree char *text = g_date_time_format (date, "%Y-%m-%d");
  GtkEntry *filled = self->range_target != NULL ? self->range_target : self->range_from;

  gtk_editable_set_text (GTK_EDITABLE (filled), text);
  /* A first click picks the first day, a second the last. */
  self->range_target = filled == self->range_from ? self->range_to : self->range_from;
}

static void
on_range_field_focused (GtkEventControllerFocus *controller,
                        MtWindow                *self)
{
  self->range_target = GTK_ENTRY (gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (controller)));
}

static void
watch_range_field (MtWindow *self,
                   GtkEntry *entry)
{
  GtkEventController *focus = gtk_event_controller_focus_new ();

  g_signal_connect (focus, "enter", G_CALLBACK (on_range_field_focused), self);
  gtk_widget_add_controller (GTK_WIDGET (entry), focus);
}

static void
update_export_actions (MtWindow *self)
{
  gboolean can = self->result != NULL && self->cancellable == NULL && self->export_dialog == NULL
                 && self->export_cancellable == NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export", can);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export-menu", can);
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_button), can);
}

/* Messages */

static gboolean
hide_toast (gpointer data)
{
  MtWindow *self = data;

  self->toast_timeout = 0;
  gtk_revealer_set_reveal_child (self->toast_revealer, FALSE);
  return G_SOURCE_REMOVE;
}

/* A short message at the bottom of the window, for a few seconds. */
void
mt_window_show_toast (MtWindow   *self,
                      const char *text)
{
  g_return_if_fail (MT_IS_WINDOW (self));

  gtk_label_set_text (self->toast_label, text);
  gtk_revealer_set_reveal_child (self->toast_revealer, TRUE);
  g_clear_handle_id (&self->toast_timeout, g_source_remove);
  self->toast_timeout = g_timeout_add_seconds (5, hide_toast, self);
}

static void
toast_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  mt_window_show_toast (MT_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

static void
set_running (MtWindow *self,
             gboolean  running)
{
  gtk_stack_set_visible_child_name (self->run_button_stack, running ? "stop" : "refresh");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.refresh", !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.stop", running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->time_filter), !running);
  update_export_actions (self);
}

/* Configuration */

static MtConfig *
load_config (MtWindow  *self,
             GError   **error)
{
  MtConfigSources sources = { NULL, NULL, NULL, self->settings };

  if (self->demo)
    return mt_demo_load_config (mt_application_get_demo (MT_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)))),
                                &sources, error);
  return mt_config_load (&sources, error);
}

static void
show_welcome (MtWindow     *self,
              const GError *error)
{
  gtk_label_set_text (self->welcome_message, error->message);
  gtk_stack_set_visible_child_name (self->stack, "welcome");
}

static void
show_error (MtWindow   *self,
            const char *title,
            const char *message)
{
  gtk_label_set_text (self->error_title, title);
  gtk_label_set_text (self->error_message, message);
  gtk_stack_set_visible_child_name (self->stack, "error");
}

/* Progress */

static void
update_progress (MtWindow *self)
{
  MtMappingJob *job = self->job;
  GString *details = g_string_new (NULL);
  guint users = mt_mapping_job_get_users (job);
  guint done = mt_mapping_job_get_users_done (job);

  switch (mt_mapping_job_get_phase (job))
    {
    case MT_MAPPING_PHASE_TRACES:
      gtk_label_set_text (self->loading_title, _("Reading Traces…"));
      gtk_progress_bar_pulse (self->progress_bar);
      break;
    case MT_MAPPING_PHASE_IMAGES:
      gtk_label_set_text (self->loading_title, _("Listing Photos…"));
      gtk_progress_bar_set_fraction (self->progress_bar, users > 0 ? (double) done / users : 0.0);
      break;
    case MT_MAPPING_PHASE_MATCHING:
    case MT_MAPPING_PHASE_DONE:
      gtk_label_set_text (self->loading_title, _("Pairing Photos with Traces…"));
      gtk_progress_bar_set_fraction (self->progress_bar, 1.0);
      break;
    case MT_MAPPING_PHASE_IDLE:
    default:
      gtk_label_set_text (self->loading_title, _("Starting…"));
      gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
      break;
    }

  g_string_append_printf (details, ngettext ("%u trace", "%u traces", mt_mapping_job_get_traces (job)),
                          mt_mapping_job_get_traces (job));
  g_string_append (details, " · ");
  g_string_append_printf (details, ngettext ("%u user", "%u users", users), users);
  g_string_append (details, " · ");
  g_string_append_printf (details, ngettext ("photos of %u user listed (%u photos)",
                                             "photos of %u users listed (%u photos)", done),
                          done, mt_mapping_job_get_images (job));
  g_string_append_c (details, '\n');
  g_string_append_printf (details, ngettext ("%u request", "%u requests", mt_mapping_job_get_requests (job)),
                          mt_mapping_job_get_requests (job));
  g_string_append (details, " · ");
  g_string_append_printf (details, ngettext ("%u retry", "%u retries", mt_mapping_job_get_retries (job)),
                          mt_mapping_job_get_retries (job));
  if (mt_mapping_job_get_rate_limited (job))
    {
      g_string_append_c (details, '\n');
      g_string_append (details, _("Waiting for Langfuse’s rate limit to allow more requests"));
    }
  gtk_label_set_text (self->loading_details, details->str);
  g_string_free (details, TRUE);
}

static void
on_job_notify (MtMappingJob *job,
               GParamSpec   *pspec,
               MtWindow     *self)
{
  update_progress (self);
}

/* Results */

static void
add_figure (MtWindow   *self,
            const char *value,
            const char *caption,
            const char *tooltip)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *value_label = gtk_label_new (value);
  GtkWidget *caption_label = gtk_label_new (caption);

  gtk_widget_add_css_class (box, "summary-figure");
  gtk_widget_add_css_class (value_label, "figure-value");
  gtk_widget_add_css_class (value_label, "numeric");
  gtk_widget_add_css_class (caption_label, "dim-label");
  gtk_widget_add_css_class (caption_label, "caption");
  gtk_label_set_xalign (GTK_LABEL (value_label), 0);
  gtk_label_set_xalign (GTK_LABEL (caption_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (caption_label), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (box), value_label);
  gtk_box_append (GTK_BOX (box), caption_label);
  if (tooltip != NULL)
    gtk_widget_set_tooltip_text (box, tooltip);
  gtk_flow_box_append (self->summary_strip, box);
}

static void
add_count (MtWindow   *self,
           guint       count,
           const char *caption)
{
  g_autofree char *value = g_strdup_printf ("%u", count);

  add_figure (self, value, caption, NULL);
}

/* The gaps' spread, as a card of the strip. */
static void
add_histogram (MtWindow       *self,
               MtMatchSummary *summary)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *histogram = mt_gap_histogram_new ();
  GtkWidget *caption = gtk_label_new (_("Gaps, 10 s to 1 day"));

  gtk_widget_add_css_class (box, "summary-figure");
  gtk_widget_add_css_class (caption, "dim-label");
  gtk_widget_add_css_class (caption, "caption");
  gtk_label_set_xalign (GTK_LABEL (caption), 0);
  mt_gap_histogram_set_summary (MT_GAP_HISTOGRAM (histogram), summary);
  gtk_box_append (GTK_BOX (box), histogram);
  gtk_box_append (GTK_BOX (box), caption);
  gtk_flow_box_append (self->summary_strip, box);
  self->gap_histogram = MT_GAP_HISTOGRAM (histogram);
}

static char *
format_seconds (gint64 ms)
{
  g_autoptr(GString) text = g_string_new (NULL);

  if (ms >= 3600000)
    g_string_append_printf (text, _("%.1f h"), ms / 3600000.0);
  else if (ms >= 60000)
    g_string_append_printf (text, _("%.1f min"), ms / 60000.0);
  else
    g_string_append_printf (text, _("%.1f s"), ms / 1000.0);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
show_summary (MtWindow *self)
{
  MtMatchSummary *summary = mt_match_result_get_summary (self->result);
  const char * const *incomplete = mt_match_summary_get_incomplete_users (summary);
  guint n_incomplete = incomplete != NULL ? g_strv_length ((char **) incomplete) : 0;
  g_autofree char *rate = g_strdup_printf ("%u.%u %%", mt_match_summary_get_match_rate_tenths (summary) / 10,
                                           mt_match_summary_get_match_rate_tenths (summary) % 10);
  g_autofree char *efficiency = g_strdup_printf ("%u.%u %%",
                                                 mt_match_summary_get_pair_match_efficiency_tenths (summary) / 10,
                                                 mt_match_summary_get_pair_match_efficiency_tenths (summary) % 10);
  g_autofree char *cost = g_strdup_printf ("$%.4f", mt_match_summary_get_matched_total_cost (summary));

  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self->summary_strip))) != NULL;)
    gtk_flow_box_remove (self->summary_strip, child);
  add_count (self, mt_match_summary_get_total_users (summary), _("Users"));
  add_count (self, mt_match_summary_get_users_with_matches (summary), _("With pairs"));
  add_count (self, mt_match_summary_get_users_without_counterpart (summary), _("Without pairs"));
  add_count (self, mt_match_summary_get_total_traces (summary), _("Traces"));
  add_count (self, mt_match_summary_get_total_images (summary), _("Photos"));
  add_count (self, mt_match_summary_get_total_matched_pairs (summary), _("Pairs"));
  add_figure (self, rate, _("Match rate"), _("Users with pairs, of all users with traces"));
  add_figure (self, efficiency, _("Pair efficiency"), _("Photos in pairs, of all photos"));
  add_count (self, mt_match_summary_get_traces_without_user (summary), _("Traces without user"));
  add_count (self, n_incomplete, _("Incomplete users"));
  if (mt_match_summary_has_time_differences (summary))
    {
      g_autofree char *median = format_seconds (mt_match_summary_get_time_difference_median_ms (summary));
      g_autofree char *min = format_seconds (mt_match_summary_get_time_difference_min_ms (summary));
      g_autofree char *mean = format_seconds (mt_match_summary_get_time_difference_mean_ms (summary));
      g_autofree char *p90 = format_seconds (mt_match_summary_get_time_difference_p90_ms (summary));
      g_autofree char *max = format_seconds (mt_match_summary_get_time_difference_max_ms (summary));
      g_autofree char *tooltip = g_strdup_printf (_("From trace to photo: shortest %s, mean %s, 90th percentile %s, "
                                                    "longest %s"), min, mean, p90, max);

      add_figure (self, median, _("Median gap"), tooltip);
    }
  else
    add_figure (self, "—", _("Median gap"), _("No pairs, so no gaps"));
  add_figure (self, cost, _("Cost of pairs"), _("The total cost of the traces in pairs"));
  add_histogram (self, summary);

  if (n_incomplete > 0 || !mt_match_result_is_complete (self->result))
    {
      g_autofree char *text = g_strdup_printf (ngettext ("Incomplete: the data of %u user could not all be read. "
                                                         "Their figures are partial; refresh to try again.",
                                                         "Incomplete: the data of %u users could not all be read. "
                                                         "Their figures are partial; refresh to try again.",
                                                         n_incomplete), n_incomplete);

      gtk_label_set_text (self->incomplete_banner, text);
      gtk_widget_set_visible (GTK_WIDGET (self->incomplete_banner), TRUE);
    }
  else
    gtk_widget_set_visible (GTK_WIDGET (self->incomplete_banner), FALSE);
}

static void
show_result (MtWindow      *self,
             MtMatchResult *result)
{
  g_set_object (&self->result, result);
  mt_user_detail_set_run (self->detail, self->config, self->job != NULL ? mt_mapping_job_get_s3_client (self->job)
                                                                        : NULL);
  /* The result is the list: nothing is copied, row by row, into another. */
  gtk_filter_list_model_set_model (self->filtered, G_LIST_MODEL (result));
  show_summary (self);
  update_export_actions (self);
  gtk_stack_set_visible_child_name (self->stack, "results");
}

void
mt_window_show_result (MtWindow      *self,
                       MtMatchResult *result,
                       MtConfig      *config)
{
  g_return_if_fail (MT_IS_WINDOW (self));
  g_return_if_fail (MT_IS_MATCH_RESULT (result));

  if (config != NULL)
    mt_config_ref (config);
  g_clear_pointer (&self->config, mt_config_unref);
  self->config = config;
  show_result (self, result);
}

/* Runs */

static void refresh (MtWindow *self);

static const char *
error_title_of (const GError *error)
{
  if (error->domain == MT_LANGFUSE_ERROR)
    return mt_mapping_error_is_rejection (error) ? _("Langfuse Refused the Keys") : _("Langfuse Could Not Be Read");
  if (error->domain == MT_S3_ERROR)
    return mt_mapping_error_is_rejection (error) ? _("S3 Refused the Request") : _("S3 Could Not Be Read");
  return _("The Period Could Not Be Read");
}

static void
on_run_done (GObject      *source,
             GAsyncResult *res,
             gpointer      data)
{
  g_autoptr(MtWindow) self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MtMatchResult) result = mt_mapping_job_run_finish (MT_MAPPING_JOB (source), res, &error);
  g_autofree char *page_before = g_steal_pointer (&self->page_before_run);

  g_clear_object (&self->cancellable);
  set_running (self, FALSE);
  if (self->refresh_when_stopped)
    {
      /* Stopped to read something else (the demo). */
      self->refresh_when_stopped = FALSE;
      refresh (self);
      return;
    }
  if (result != NULL && !mt_match_result_is_complete (result)
      && g_list_model_get_n_items (G_LIST_MODEL (result)) == 0
      && mt_match_summary_get_traces_without_user (mt_match_result_get_summary (result)) == 0)
    {
      /* Not a single trace could be read: nothing to show but why. */
      g_autofree char *errors = g_strjoinv ("\n", (char **) mt_match_result_get_errors (result));
      g_autofree char *message = g_strdup_printf ("%s\n\n%s", errors,
                                                  _("Check the network and the addresses in Preferences, "
                                                    "then retry."));

      show_error (self, _("Nothing Could Be Read"), message);
      return;
    }
  if (result != NULL)
    {
      show_result (self, result);
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Stopped: back to what was there. */
      gtk_stack_set_visible_child_name (self->stack, self->result != NULL ? "results"
                                                     : page_before != NULL && g_str_equal (page_before, "error")
                                                     ? "error" : "ready");
      return;
    }
  show_error (self, error_title_of (error), error->message);
}

static void
refresh (MtWindow *self)
{
  g_autoptr(MtMappingJob) job = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = mt_time_now_ms ();
  guint days = selected_days (self);
  gint64 from = now - (gint64) days * 86400000, to = now;

  if (self->cancellable != NULL)
    return;

  /* Settings may have changed since the last run. */
  g_clear_pointer (&self->config, mt_config_unref);
  self->config = load_config (self, &error);
  if (self->config == NULL)
    {
      if (g_error_matches (error, MT_CONFIG_ERROR, MT_CONFIG_ERROR_MISSING))
        show_welcome (self, error);
      else
        show_error (self, _("The Settings Are Not Usable"), error->message);
      return;
    }

  if (days == 0)
    {
      g_autofree char *message = NULL;

      /* Whole days in the zone times are shown in. */
      if (!custom_range (self, self->config->time_zone, &from, &to, &message))
        {
          show_range_error (self, message);
          gtk_menu_button_popup (self->range_button);
          return;
        }
    }

  job = mt_mapping_job_new (self->config, &error);
  if (self->job != NULL)
    {
      /* The same session: what the last run learnt of the servers holds. */
      if (job != NULL)
        mt_mapping_job_learn_from (job, self->job);
      g_signal_handlers_disconnect_by_func (self->job, on_job_notify, self);
    }
  g_set_object (&self->job, job);
  if (self->job == NULL)
    {
      show_error (self, _("The Settings Are Not Usable"), error->message);
      return;
    }
  g_signal_connect_object (self->job, "notify", G_CALLBACK (on_job_notify), self, 0);

  g_free (self->page_before_run);
  self->page_before_run = g_strdup (gtk_stack_get_visible_child_name (self->stack));
  self->cancellable = g_cancellable_new ();
  set_running (self, TRUE);
  update_progress (self);
  gtk_stack_set_visible_child_name (self->stack, "loading");
  mt_mapping_job_run_async (self->job, from, to, days, self->cancellable,
                            on_run_done, g_object_ref (self));
}

void
mt_window_start (MtWindow *self)
{
  g_return_if_fail (MT_IS_WINDOW (self));

  if (self->cancellable == NULL && self->result == NULL)
    refresh (self);
}

void
mt_window_open_demo (MtWindow *self)
{
  g_return_if_fail (MT_IS_WINDOW (self));

  if (self->demo)
    return;
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  self->demo = TRUE;
  gtk_window_set_title (GTK_WINDOW (self), _("Mealtrace — Demo"));
  g_clear_object (&self->result);
  mt_user_detail_set_run (self->detail, NULL, NULL);
  gtk_filter_list_model_set_model (self->filtered, NULL);
  update_export_actions (self);
  if (self->cancellable == NULL)
    refresh (self);
  else
    /* The stopped run ends first; the demo's starts after it. */
    self->refresh_when_stopped = TRUE;
}

/* Export */

static void
show_export_error (MtWindow     *self,
                   const GError *error)
{
  GtkWidget *dialog = gtk_message_dialog_new (GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                              GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s",
                                              _("The Export Was Not Written"));

  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", error->message);
  g_signal_connect (dialog, "response", G_CALLBACK (gtk_window_destroy), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_export_written (GObject      *source,
                   GAsyncResult *res,
                   gpointer      data)
{
  g_autoptr(MtWindow) self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = g_steal_pointer (&self->export_target);
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;

  g_clear_object (&self->export_cancellable);
  update_export_actions (self);
  if (!mt_exporter_write_file_finish (MT_EXPORTER (source), res, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_export_error (self, error);
      return;
    }
  g_set_object (&self->last_export, file);
  path = g_file_get_parse_name (self->last_export);
  if (self->result != NULL && !mt_match_result_is_complete (self->result))
    text = g_strdup_printf (_("Exported to %s. The result is incomplete: some users’ data could not all be "
                              "read, and the export says so."), path);
  else
    text = g_strdup_printf (_("Exported to %s"), path);
  mt_window_show_toast (self, text);
}

static void
write_export (MtWindow *self,
              GFile    *file)
{
  g_autoptr(MtExporter) exporter = mt_exporter_new (self->config != NULL ? self->config->time_zone : NULL);

  /* As batch mode writes it: the run's zone, the export's own time. */
  mt_exporter_set_export_time (exporter, self->export_time);
  g_set_object (&self->export_target, file);
  self->export_cancellable = g_cancellable_new ();
  update_export_actions (self);
  mt_exporter_write_file_async (exporter, self->result, self->export_format, file, self->export_cancellable,
                                on_export_written, g_object_ref (self));
}

static void
on_export_response (GtkNativeDialog *dialog,
                    int              response,
                    MtWindow        *self)
{
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_clear_object (&self->export_dialog);
  update_export_actions (self);
  if (file != NULL && self->result != NULL)
    write_export (self, file);
}

void
mt_window_export (MtWindow       *self,
                  MtExportFormat  format)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *name = NULL;

  g_return_if_fail (MT_IS_WINDOW (self));

  if (self->result == NULL || self->export_dialog != NULL || self->export_cancellable != NULL)
    return;
  self->export_format = format;
  self->export_time = mt_time_now_ms ();
  name = mt_export_file_name (format, self->export_time, self->config != NULL ? self->config->time_zone : NULL);
  self->export_dialog = gtk_file_chooser_native_new (format == MT_EXPORT_FORMAT_JSON ? _("Export JSON")
                                                                                      : _("Export CSV"),
                                                     GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                                     _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->export_dialog), TRUE);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->export_dialog), name);
  if (format == MT_EXPORT_FORMAT_JSON)
    {
      gtk_file_filter_set_name (filter, _("JSON files"));
      gtk_file_filter_add_mime_type (filter, "application/json");
      gtk_file_filter_add_suffix (filter, "json");
    }
  else
    {
      gtk_file_filter_set_name (filter, _("CSV files"));
      gtk_file_filter_add_mime_type (filter, "text/csv");
      gtk_file_filter_add_suffix (filter, "csv");
    }
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->export_dialog), filter);
  g_signal_connect (self->export_dialog, "response", G_CALLBACK (on_export_response), self);
  update_export_actions (self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->export_dialog));
}

static void
export_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  const char *format = g_variant_get_string (parameter, NULL);

  mt_window_export (MT_WINDOW (widget), g_str_equal (format, "csv") ? MT_EXPORT_FORMAT_CSV : MT_EXPORT_FORMAT_JSON);
}

static void
export_menu_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);

  if (self->result != NULL)
    gtk_menu_button_popup (self->export_button);
}

/* Preferences */

static void
preferences_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);
  GtkWidget *preferences = GTK_WIDGET (mt_preferences_window_new (GTK_WINDOW (self), self->settings));

  gtk_window_present (GTK_WINDOW (preferences));
}

/* Actions */

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  refresh (MT_WINDOW (widget));
}

static void
stop_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);

  if (self->result != NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "results");
      gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
    }
}

/* The user list */

static gboolean
status_matches (gpointer item,
                gpointer data)
{
  MtWindow *self = data;
  guint selected = gtk_drop_down_get_selected (self->status_filter);
  /* The template's order: all, matched, no images, no pairs, incomplete. */
  static const MtUserStatus statuses[] = {
    MT_USER_STATUS_MATCHED, MT_USER_STATUS_NO_IMAGES, MT_USER_STATUS_NO_PAIRS, MT_USER_STATUS_INCOMPLETE,
  };

  if (selected == 0 || selected > G_N_ELEMENTS (statuses))
    return TRUE;
  return mt_user_result_get_status (MT_USER_RESULT (item)) == statuses[selected - 1];
}

static void
on_status_filter_changed (MtWindow *self)
{
  gtk_filter_changed (self->status_filter_rule, GTK_FILTER_CHANGE_DIFFERENT);
}

static void
on_search_changed (MtWindow *self)
{
  gtk_string_filter_set_search (GTK_STRING_FILTER (self->search_filter),
                                gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
}

static const char *
status_text (MtUserStatus status)
{
  switch (status)
    {
    case MT_USER_STATUS_MATCHED:
      return _("Matched");
    case MT_USER_STATUS_NO_IMAGES:
      return _("No photos");
    case MT_USER_STATUS_NO_PAIRS:
      return _("No pairs");
    case MT_USER_STATUS_INCOMPLETE:
      return _("Incomplete");
    default:
      return "";
    }
}

typedef enum {
  COLUMN_USER,
  COLUMN_IMAGES,
  COLUMN_TRACES,
  COLUMN_PAIRS,
  COLUMN_LATEST,
  COLUMN_STATUS,
} Column;

static void
setup_cell (GtkSignalListItemFactory *factory,
            GtkListItem              *item,
            gpointer                  data)
{
  Column column = GPOINTER_TO_INT (data);
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), column == COLUMN_USER || column == COLUMN_STATUS
                                           || column == COLUMN_LATEST ? 0.0 : 1.0);
  if (column == COLUMN_USER)
    gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  else
    gtk_widget_add_css_class (label, "numeric");
  gtk_list_item_set_child (item, label);
}

static void
bind_cell (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  data)
{
  Column column = GPOINTER_TO_INT (data);
  MtWindow *self = g_object_get_data (G_OBJECT (factory), "window");
  MtUserResult *user = gtk_list_item_get_item (item);
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (item));
  g_autofree char *text = NULL;

  switch (column)
    {
    case COLUMN_USER:
      gtk_label_set_text (label, mt_user_result_get_user_id (user));
      mt_widget_set_tooltip (GTK_WIDGET (label), mt_user_result_get_user_id (user));
      return;
    case COLUMN_IMAGES:
      text = g_strdup_printf ("%u", mt_user_result_get_n_images (user));
      break;
    case COLUMN_TRACES:
      text = g_strdup_printf ("%u", mt_user_result_get_n_traces (user));
      break;
    case COLUMN_PAIRS:
      text = g_strdup_printf ("%u", mt_user_result_get_n_pairs (user));
      break;
    case COLUMN_LATEST:
      if (mt_user_result_get_latest_image (user) != MT_TIME_NONE && self->config != NULL)
        text = mt_time_format_display (mt_user_result_get_latest_image (user), self->config->time_zone);
      break;
    case COLUMN_STATUS:
      gtk_label_set_text (label, status_text (mt_user_result_get_status (user)));
      return;
    default:
      break;
    }
  gtk_label_set_text (label, text != NULL ? text : "—");
}

static int
compare_status (gconstpointer a,
                gconstpointer b,
                gpointer      data)
{
  MtUserStatus x = mt_user_result_get_status ((MtUserResult *) a);
  MtUserStatus y = mt_user_result_get_status ((MtUserResult *) b);

  return x < y ? -1 : x > y;
}

static void
add_column (MtWindow   *self,
            Column      column,
            const char *title,
            GtkSorter  *sorter,
            gboolean    expand)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkColumnViewColumn *view_column;

  g_object_set_data (G_OBJECT (factory), "window", self);
  g_signal_connect (factory, "setup", G_CALLBACK (setup_cell), GINT_TO_POINTER (column));
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cell), GINT_TO_POINTER (column));
  view_column = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_sorter (view_column, sorter);
  gtk_column_view_column_set_expand (view_column, expand);
  gtk_column_view_column_set_resizable (view_column, TRUE);
  gtk_column_view_append_column (self->user_view, view_column);
  g_object_unref (view_column);
  g_object_unref (sorter);
}

static GtkSorter *
numeric_sorter (const char *property)
{
  return GTK_SORTER (gtk_numeric_sorter_new (gtk_property_expression_new (MT_TYPE_USER_RESULT, NULL, property)));
}

static void
on_selection_changed (MtWindow *self)
{
  mt_user_detail_set_user (self->detail, gtk_single_selection_get_selected_item (self->selection));
}

static void
setup_user_list (MtWindow *self)
{
  GtkExpression *user_id = gtk_property_expression_new (MT_TYPE_USER_RESULT, NULL, "user-id");
  GtkEveryFilter *filter = gtk_every_filter_new ();

  self->search_filter = GTK_FILTER (gtk_string_filter_new (gtk_expression_ref (user_id)));
  gtk_string_filter_set_match_mode (GTK_STRING_FILTER (self->search_filter), GTK_STRING_FILTER_MATCH_MODE_SUBSTRING);
  gtk_string_filter_set_ignore_case (GTK_STRING_FILTER (self->search_filter), TRUE);
  self->status_filter_rule = GTK_FILTER (gtk_custom_filter_new (status_matches, self, NULL));
  gtk_multi_filter_append (GTK_MULTI_FILTER (filter), g_object_ref (self->search_filter));
  gtk_multi_filter_append (GTK_MULTI_FILTER (filter), g_object_ref (self->status_filter_rule));
  self->filtered = gtk_filter_list_model_new (NULL, GTK_FILTER (filter));

  add_column (self, COLUMN_USER, _("User"), GTK_SORTER (gtk_string_sorter_new (user_id)), TRUE);
  add_column (self, COLUMN_IMAGES, _("Photos"), numeric_sorter ("n-images"), FALSE);
  add_column (self, COLUMN_TRACES, _("Traces"), numeric_sorter ("n-traces"), FALSE);
  add_column (self, COLUMN_PAIRS, _("Pairs"), numeric_sorter ("n-pairs"), FALSE);
  add_column (self, COLUMN_LATEST, _("Latest Photo"), numeric_sorter ("latest-image"), FALSE);
  add_column (self, COLUMN_STATUS, _("Status"), GTK_SORTER (gtk_custom_sorter_new (compare_status, NULL, NULL)),
              FALSE);

  self->sorted = gtk_sort_list_model_new (G_LIST_MODEL (g_object_ref (self->filtered)),
                                          g_object_ref (gtk_column_view_get_sorter (self->user_view)));
  self->selection = gtk_single_selection_new (G_LIST_MODEL (g_object_ref (self->sorted)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_column_view_set_model (self->user_view, GTK_SELECTION_MODEL (self->selection));
  g_signal_connect_swapped (self->selection, "notify::selected-item", G_CALLBACK (on_selection_changed), self);

  g_signal_connect_swapped (self->search_entry, "search-changed", G_CALLBACK (on_search_changed), self);
  g_signal_connect_swapped (self->status_filter, "notify::selected", G_CALLBACK (on_status_filter_changed), self);
}

/* Window state */

static void
on_time_filter_changed (MtWindow *self)
{
  guint days = selected_days (self);

  g_settings_set_int (self->settings, "time-filter-days", (int) days);
  gtk_widget_set_visible (GTK_WIDGET (self->range_button), days == 0);
  if (days == 0 && gtk_widget_get_mapped (GTK_WIDGET (self)))
    gtk_menu_button_popup (self->range_button);
}

static void
apply_range_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  MtWindow *self = MT_WINDOW (widget);
  g_autofree char *message = NULL;
  gint64 from, to;

  /* The days are checked here; the zone they are read in, at refresh. */
  if (!custom_range (self, NULL, &from, &to, &message))
    {
      show_range_error (self, message);
      return;
    }
  show_range_error (self, NULL);
  g_settings_set_string (self->settings, "custom-range-from", gtk_editable_get_text (GTK_EDITABLE (self->range_from)));
  g_settings_set_string (self->settings, "custom-range-to", gtk_editable_get_text (GTK_EDITABLE (self->range_to)));
  update_range_label (self);
  gtk_popover_popdown (self->range_popover);
  refresh (self);
}

/* The last custom range, or the past week's days. */
static void
restore_range (MtWindow *self)
{
  g_autofree char *first = g_settings_get_string (self->settings, "custom-range-from");
  g_autofree char *last = g_settings_get_string (self->settings, "custom-range-to");
  g_autoptr(GDateTime) today = g_date_time_new_now_local ();
  g_autoptr(GDateTime) week_ago = g_date_time_add_days (today, -6);
  GDate *check_first = parse_day (first), *check_last = parse_day (last);

  if (check_first == NULL || check_last == NULL)
    {
      g_free (first);
      g_free (last);
      first = g_date_time_format (week_ago, "%Y-%m-%d");
      last = g_date_time_format (today, "%Y-%m-%d");
    }
  g_clear_pointer (&check_first, g_date_free);
  g_clear_pointer (&check_last, g_date_free);
  gtk_editable_set_text (GTK_EDITABLE (self->range_from), first);
  gtk_editable_set_text (GTK_EDITABLE (self->range_to), last);
  update_range_label (self);
}

static gboolean
mt_window_close_request (GtkWindow *window)
{
  MtWindow *self = MT_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->export_dialog != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->export_dialog));

  return GTK_WINDOW_CLASS (mt_window_parent_class)->close_request (window);
}

static void
mt_window_dispose (GObject *object)
{
  MtWindow *self = MT_WINDOW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->toast_timeout, g_source_remove);
  if (self->export_dialog != NULL)
    {
      g_signal_handlers_disconnect_by_func (self->export_dialog, on_export_response, self);
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->export_dialog));
      g_clear_object (&self->export_dialog);
    }
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_func (self->selection, on_selection_changed, self);
  g_clear_object (&self->selection);
  g_clear_object (&self->sorted);
  g_clear_object (&self->filtered);
  g_clear_object (&self->search_filter);
  g_clear_object (&self->status_filter_rule);

  G_OBJECT_CLASS (mt_window_parent_class)->dispose (object);
}

static void
mt_window_finalize (GObject *object)
{
  MtWindow *self = MT_WINDOW (object);

  g_clear_object (&self->job);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->export_cancellable);
  g_clear_object (&self->export_target);
  g_clear_object (&self->last_export);
  g_clear_object (&self->preview_cache);
  g_clear_object (&self->result);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->config, mt_config_unref);
  g_free (self->page_before_run);

  G_OBJECT_CLASS (mt_window_parent_class)->finalize (object);
}

static void
mt_window_class_init (MtWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = mt_window_dispose;
  object_class->finalize = mt_window_finalize;
  window_class->close_request = mt_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/mealtrace/Mealtrace/mt-window.ui");
  gtk_widget_class_bind_template_child (widget_class, MtWindow, time_filter);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, range_button);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, range_popover);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, range_from);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, range_to);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, range_calendar);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, range_error);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, range_apply);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, run_button_stack);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, welcome_message);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, loading_title);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, loading_details);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, error_title);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, error_message);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, incomplete_banner);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, summary_strip);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, status_filter);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, user_view);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, detail_box);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, export_button);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, toast_revealer);
  gtk_widget_class_bind_template_child (widget_class, MtWindow, toast_label);

  gtk_widget_class_install_action (widget_class, "win.refresh", NULL, refresh_action);
  gtk_widget_class_install_action (widget_class, "win.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "win.export", "s", export_action);
  gtk_widget_class_install_action (widget_class, "win.export-menu", NULL, export_menu_action);
  gtk_widget_class_install_action (widget_class, "win.preferences", NULL, preferences_action);
  gtk_widget_class_install_action (widget_class, "win.toast", "s", toast_action);
  gtk_widget_class_install_action (widget_class, "win.apply-range", NULL, apply_range_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "win.export-menu", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_comma, GDK_CONTROL_MASK, "win.preferences", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "win.refresh", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "win.refresh", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.stop", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "win.search", NULL);
}

static void
mt_window_init (MtWindow *self)
{
  int days;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (APPLICATION_ID);
  gtk_window_set_default_size (GTK_WINDOW (self), g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
  restore_range (self);
  watch_range_field (self, self->range_from);
  watch_range_field (self, self->range_to);
  g_signal_connect_swapped (self->range_calendar, "day-selected", G_CALLBACK (on_range_day_selected), self);
  gtk_popover_set_default_widget (self->range_popover, GTK_WIDGET (self->range_apply));
  days = g_settings_get_int (self->settings, "time-filter-days");
  for (guint i = 0; i < G_N_ELEMENTS (filter_days); i++)
    if ((int) filter_days[i] == days)
      gtk_drop_down_set_selected (self->time_filter, i);
  if (days == 0)
    gtk_drop_down_set_selected (self->time_filter, CUSTOM_RANGE);
  gtk_widget_set_visible (GTK_WIDGET (self->range_button), days == 0);
  g_signal_connect_swapped (self->time_filter, "notify::selected", G_CALLBACK (on_time_filter_changed), self);

  /* Previews of photos: 128 MiB of decoded pixels at most. */
  self->preview_cache = mt_preview_cache_new (128 * 1024 * 1024);
  self->detail = MT_USER_DETAIL (mt_user_detail_new (self->preview_cache));
  gtk_widget_set_vexpand (GTK_WIDGET (self->detail), TRUE);
  gtk_box_append (self->detail_box, GTK_WIDGET (self->detail));

  setup_user_list (self);
  set_running (self, FALSE);
  gtk_stack_set_visible_child_name (self->stack, "ready");
}
