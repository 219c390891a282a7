/* mt-batch.c — `mealtrace --batch`: the seed's batch mode, headless */

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mt-batch.h"
#include "mt-config.h"
#include "mt-demo.h"
#include "mt-exporter.h"
#include "mt-mapping-job.h"
#include "mt-time.h"

#define DEFAULT_DAYS 1
#define MAX_DAYS 3650
#define DEFAULT_OUTPUT_DIR "results"
/* A live progress line is redrawn at most this often. */
#define REDRAW_US (100 * G_TIME_SPAN_MILLISECOND)
/* Without a terminal, a progress line this often. */
#define HEARTBEAT_S 5

typedef struct {
  gboolean batch;
  int days;
  char *from;
  char *to;
  char *bucket;
  char *prefix;
  char *max_gap;
  char *timezone;
  char *langfuse_api;
  char *output_dir;
  char *json;
  char *csv;
  gboolean demo;
  gboolean quiet;
  gboolean version;
  char **rest;
} Options;

static void
options_clear (Options *o)
{
  g_free (o->from);
  g_free (o->to);
  g_free (o->bucket);
  g_free (o->prefix);
  g_free (o->max_gap);
  g_free (o->timezone);
  g_free (o->langfuse_api);
  g_free (o->output_dir);
  g_free (o->json);
  g_free (o->csv);
  g_strfreev (o->rest);
}

gboolean
mt_batch_wanted (int    argc,
                 char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--") == 0)
        break;
      if (strcmp (argv[i], "--batch") == 0 || strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0 ||
          strcmp (argv[i], "--version") == 0 || strcmp (argv[i], "--help-all") == 0)
        return TRUE;
    }
  return FALSE;
}

static void
print_error (const char *message)
{
  g_printerr ("mealtrace: %s\n", message);
}

static int
usage_error (const char *message)
{
  print_error (message);
  g_printerr ("%s\n", _("Run “mealtrace --help” for the options."));
  return MT_BATCH_EXIT_USAGE;
}

/* Options */

static GOptionContext *
option_context (Options *o)
{
  const GOptionEntry entries[] = {
    { "batch", 0, 0, G_OPTION_ARG_NONE, &o->batch,
      N_("Run headless: fetch, match, print the summary and export (this mode)"), NULL },
    { "days", 0, 0, G_OPTION_ARG_INT, &o->days, N_("The window: the past N days (default 1)"), N_("N") },
    { "from", 0, 0, G_OPTION_ARG_STRING, &o->from,
      N_("The window's start, ISO 8601 (without an offset: in the time zone)"), N_("TIME") },
    { "to", 0, 0, G_OPTION_ARG_STRING, &o->to, N_("The window's end, ISO 8601 (excluded)"), N_("TIME") },
    { "bucket", 0, 0, G_OPTION_ARG_STRING, &o->bucket, N_("The S3 bucket (MEALTRACE_S3_BUCKET)"), N_("NAME") },
    { "prefix", 0, 0, G_OPTION_ARG_STRING, &o->prefix,
      N_("The folder of users in the bucket (MEALTRACE_S3_PREFIX, default meal-images/)"), N_("PREFIX") },
    { "max-gap", 0, 0, G_OPTION_ARG_STRING, &o->max_gap,
      N_("The most seconds a photo may follow its trace (MEALTRACE_MAX_GAP_SECONDS)"), N_("SECONDS") },
    { "timezone", 0, 0, G_OPTION_ARG_STRING, &o->timezone,
      N_("Times shown and exported in ZONE: +07:00 or Asia/Ho_Chi_Minh (MEALTRACE_TIMEZONE)"), N_("ZONE") },
    { "langfuse-api", 0, 0, G_OPTION_ARG_STRING, &o->langfuse_api,
      N_("auto, v2 or v1 (MEALTRACE_LANGFUSE_API, default auto)"), N_("API") },
    { "output-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->output_dir,
      N_("Where exports go, in json/ and csv/ (default results)"), N_("DIR") },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &o->json, N_("The JSON export's file name"), N_("FILE") },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &o->csv, N_("The CSV export's file name"), N_("FILE") },
    { "demo", 0, 0, G_OPTION_ARG_NONE, &o->demo,
      N_("Use the built-in demo data set: no account, no network"), NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet, N_("No progress: the summary only"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &o->version, N_("Print the version and exit"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->rest, NULL, N_("[DAYS] [JSON_FILE]") },
    { NULL },
  };
  GOptionContext *context = g_option_context_new (NULL);

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
    _("Pairs meal photos in S3 with the Langfuse traces of the same user.\n"
      "\n"
      "  mealtrace                               the window\n"
      "  mealtrace --batch [DAYS] [JSON_FILE]    headless: the past DAYS days (default 1),\n"
      "                                          the JSON export named JSON_FILE"));
  g_option_context_set_description (context,
    _("Settings come from the options, then the environment, then a .env file in the\n"
      "working directory:\n"
      "  LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY   Langfuse keys (required)\n"
      "  LANGFUSE_BASE_URL (or LANGFUSE_HOST)       default https://cloud.langfuse.com\n"
      "  MEALTRACE_LANGFUSE_API                     auto, v2 or v1\n"
      "  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, or AWS_PROFILE\n"
      "  AWS_REGION, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL\n"
      "  MEALTRACE_S3_BUCKET (required), MEALTRACE_S3_PREFIX (default meal-images/)\n"
      "  MEALTRACE_TIMEZONE (default +07:00), MEALTRACE_MAX_GAP_SECONDS\n"
      "  MEALTRACE_URL_LIFETIME_SECONDS (presigned image URLs, default 3600)\n"
      "  MEALTRACE_MAX_IN_FLIGHT (requests at once, default 16)\n"
      "\n"
      "Batch mode prints the summary on standard output and progress on standard error,\n"
      "and writes results/json/enhanced_meal_mapping_results_YYYYMMDD_HHMMSS.json and\n"
      "results/csv/successful_pairs_dataframe_YYYYMMDD_HHMMSS.csv.\n"
      "\n"
      "Exit status: 0 done; 1 a fetch failed or the result is incomplete (the exports\n"
      "are written and say so); 2 a usage error; 3 settings missing or keys refused;\n"
      "130 interrupted.\n"
      "\n"
      "Examples:\n"
      "  mealtrace --batch --demo              try it with the built-in data set\n"
      "  mealtrace --batch 7 week.json         the past week, JSON export week.json\n"
      "  mealtrace --batch --from 2026-11-01 --to 2026-11-08 --timezone Asia/Ho_Chi_Minh"));
  return context;
}

/* The window: [now − days, now), or [from, to) read in @zone. */
static gboolean
window_of (Options   *o,
           int        days,
           GTimeZone *zone,
           gint64     now,
           gint64    *from,
           gint64    *to,
           GError   **error)
{
  g_autoptr(GError) local_error = NULL;

  if (o->from == NULL)
    {
      *to = now;
      *from = now - (gint64) days * 86400000;
      return TRUE;
    }
  if (!mt_time_parse_iso8601 (o->from, zone, from, &local_error))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--from: %s", local_error->message);
      return FALSE;
    }
  if (!mt_time_parse_iso8601 (o->to, zone, to, &local_error))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--to: %s", local_error->message);
      return FALSE;
    }
  if (*from >= *to)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("--from must come before --to."));
      return FALSE;
    }
  return TRUE;
}

/* Progress, on standard error */

typedef struct {
  MtMappingJob *job;
  gboolean tty;
  gboolean quiet;
  gboolean drawn;          /* a live line is on the terminal */
  gint64 last_draw;
  MtMappingPhase last_phase;
  guint heartbeat;
} Progress;

static char *
progress_text (MtMappingJob *job)
{
  GString *text = g_string_new (NULL);

  switch (mt_mapping_job_get_phase (job))
    {
    case MT_MAPPING_PHASE_TRACES:
      g_string_append (text, _("Reading traces"));
      break;
    case MT_MAPPING_PHASE_IMAGES:
      g_string_append (text, _("Reading images"));
      break;
    case MT_MAPPING_PHASE_MATCHING:
      g_string_append (text, _("Matching"));
      break;
    case MT_MAPPING_PHASE_DONE:
      g_string_append (text, _("Done"));
      break;
    case MT_MAPPING_PHASE_IDLE:
    default:
      g_string_append (text, _("Starting"));
      break;
    }
  g_string_append_printf (text, _(": %u traces, %u users, images of %u users (%u images), %u requests"),
                          mt_mapping_job_get_traces (job), mt_mapping_job_get_users (job),
                          mt_mapping_job_get_users_done (job), mt_mapping_job_get_images (job),
                          mt_mapping_job_get_requests (job));
  if (mt_mapping_job_get_retries (job) > 0)
    g_string_append_printf (text, _(", %u retried"), mt_mapping_job_get_retries (job));
  if (mt_mapping_job_get_rate_limited (job))
    g_string_append (text, _(", waiting for Langfuse’s rate limit"));
  return g_string_free (text, FALSE);
}

static void
progress_draw (Progress *progress,
               gboolean  force)
{
  g_autofree char *text = NULL;
  gint64 now = g_get_monotonic_time ();
  MtMappingPhase phase = mt_mapping_job_get_phase (progress->job);

  if (progress->quiet)
    return;
  if (progress->tty)
    {
      if (!force && now - progress->last_draw < REDRAW_US)
        return;
      text = progress_text (progress->job);
      /* One line, redrawn in place, cut to a terminal's width. */
      if (g_utf8_strlen (text, -1) > 78)
        *g_utf8_offset_to_pointer (text, 77) = '\0';
      g_printerr ("\r\033[K%s", text);
      progress->drawn = TRUE;
    }
  else
    {
      if (!force && phase == progress->last_phase)
        return;
      text = progress_text (progress->job);
      g_printerr ("%s\n", text);
    }
  progress->last_draw = now;
  progress->last_phase = phase;
}

static void
progress_clear (Progress *progress)
{
  if (progress->drawn)
    g_printerr ("\r\033[K");
  progress->drawn = FALSE;
  g_clear_handle_id (&progress->heartbeat, g_source_remove);
}

static void
on_job_notify (GObject    *job,
               GParamSpec *pspec,
               gpointer    data)
{
  progress_draw (data, FALSE);
}

static gboolean
on_heartbeat (gpointer data)
{
  progress_draw (data, TRUE);
  return G_SOURCE_CONTINUE;
}

/* The run */

typedef struct {
  GMainLoop *loop;
  GCancellable *cancellable;
  MtMatchResult *result;
  GError *error;
  gboolean interrupted;
  gboolean quiet;
} Batch;

static gboolean
on_signal (gpointer data)
{
  Batch *batch = data;

  if (!batch->interrupted && !batch->quiet)
    g_printerr ("\n%s\n", _("Stopping…"));
  batch->interrupted = TRUE;
  g_cancellable_cancel (batch->cancellable);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_late_signal (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
on_job_done (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  Batch *batch = data;

  batch->result = mt_mapping_job_run_finish (MT_MAPPING_JOB (source), result, &batch->error);
  g_main_loop_quit (batch->loop);
}

/* The summary, on standard output */

static const char rule60[] = "============================================================";
static const char rule80[] = "================================================================================";
static const char dash80[] = "--------------------------------------------------------------------------------";

static char *
duration_text (gint64 ms)
{
  gint64 seconds = (ms + 500) / 1000;

  if (seconds < 60)
    return g_strdup_printf ("%" G_GINT64_FORMAT "s", seconds);
  if (seconds < 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT "m %02" G_GINT64_FORMAT "s", seconds / 60, seconds % 60);
  return g_strdup_printf ("%" G_GINT64_FORMAT "h %02" G_GINT64_FORMAT "m", seconds / 3600, seconds / 60 % 60);
}

static void
print_users (MtMatchResult *result,
             GTimeZone     *zone,
             gboolean       matched)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (result)), count = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(MtUserResult) user = g_list_model_get_item (G_LIST_MODEL (result), i);

      count += (mt_user_result_get_status (user) == MT_USER_STATUS_MATCHED) == matched;
    }
  if (count == 0)
    return;

  g_print ("\n");
  if (matched)
    g_print (ngettext ("SUCCESSFUL MATCHES (%u user):\n", "SUCCESSFUL MATCHES (%u users):\n", count), count);
  else
    g_print (ngettext ("USERS WITHOUT MATCHES (%u user):\n", "USERS WITHOUT MATCHES (%u users):\n", count), count);
  g_print ("%s\n", dash80);
  if (matched)
    g_print ("%-40s | %-8s | %-8s | %-8s | %s %s\n", _("User ID"), _("Images"), _("Traces"), _("Pairs"),
             _("Latest Image"), mt_time_zone_get_name (zone));
  else
    g_print ("%-40s | %-8s | %-8s | %s\n", _("User ID"), _("Images"), _("Traces"), _("Missing"));
  g_print ("%s\n", dash80);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(MtUserResult) user = g_list_model_get_item (G_LIST_MODEL (result), i);
      MtUserStatus status = mt_user_result_get_status (user);

      if ((status == MT_USER_STATUS_MATCHED) != matched)
        continue;
      if (matched)
        {
          g_autofree char *latest = mt_time_format_display (mt_user_result_get_latest_image (user), zone);

          g_print ("%-40s | %-8u | %-8u | %-8u | %s\n", mt_user_result_get_user_id (user),
                   mt_user_result_get_n_images (user), mt_user_result_get_n_traces (user),
                   mt_user_result_get_n_pairs (user), latest);
        }
      else
        g_print ("%-40s | %-8u | %-8u | %s\n", mt_user_result_get_user_id (user), mt_user_result_get_n_images (user),
                 mt_user_result_get_n_traces (user),
                 status == MT_USER_STATUS_NO_IMAGES ? _("images")
                 : status == MT_USER_STATUS_NO_PAIRS ? _("pairs (images before any trace)")
                                                     : _("incomplete (could not be read)"));
    }
}

static void
print_summary (MtMatchResult *result,
               MtConfig      *config,
               MtMappingJob  *job)
{
  MtMatchSummary *summary = mt_match_result_get_summary (result);
  GTimeZone *zone = config->time_zone;
  g_autofree char *from = mt_time_format_display (mt_match_result_get_window_from (result), zone);
  g_autofree char *to = mt_time_format_display (mt_match_result_get_window_to (result), zone);
  g_autofree char *filter = mt_export_time_filter_label (mt_match_result_get_time_filter_days (result));
  guint n = g_list_model_get_n_items (G_LIST_MODEL (result)), users_with_images = 0;
  const char * const *errors = mt_match_result_get_errors (result);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(MtUserResult) user = g_list_model_get_item (G_LIST_MODEL (result), i);

      users_with_images += mt_user_result_get_n_images (user) > 0;
    }

  g_print ("MEAL IMAGES TO LANGFUSE TRACES MAPPING\n%s\n\n", rule60);
  g_print (_("Window: %s to %s (%s)\n"), from, to, mt_time_zone_get_name (zone));
  g_print (_("Langfuse: %s (%s API)%s\n"), config->langfuse_base_url, mt_match_result_get_langfuse_api (result),
           config->demo ? _(", the demo") : "");
  g_print (_("S3: s3://%s/%s (%s)\n\n"), config->bucket, config->prefix,
           g_strcmp0 (mt_match_result_get_s3_listing (result), "whole_prefix") == 0
           ? _("the whole prefix, page by page") : _("each user’s folder"));

  g_print ("%s\n", _("Step 1: Fetching Langfuse users with traces..."));
  g_print (_("Found %u unique users with traces\n"), mt_match_summary_get_total_users (summary));
  g_print (_("Total traces: %u (and %u without a user)\n\n"), mt_match_summary_get_total_traces (summary),
           mt_match_summary_get_traces_without_user (summary));
  g_print ("%s\n", _("Step 2: Fetching S3 meal images..."));
  g_print (_("Found %u images for %u of those users\n\n"), mt_match_summary_get_total_images (summary),
           users_with_images);
  g_print ("%s\n", _("Step 3: Matching users..."));
  g_print (_("%u requests (%u retried)\n\n"), mt_mapping_job_get_requests (job), mt_mapping_job_get_retries (job));

  g_print ("MATCHING RESULTS SUMMARY\n%s\n", rule80);
  g_print (_("Time Filter: %s (%s)\n"), filter, mt_time_zone_get_name (zone));
  g_print (_("Total Users: %u\n"), mt_match_summary_get_total_users (summary));
  g_print (_("Users with both images and traces: %u\n"), mt_match_summary_get_users_with_matches (summary));
  g_print (_("Users without matches: %u\n"), mt_match_summary_get_users_without_counterpart (summary));
  g_print (_("Total Images: %u\n"), mt_match_summary_get_total_images (summary));
  g_print (_("Total Traces: %u\n"), mt_match_summary_get_total_traces (summary));
  g_print (_("Total Matched Pairs: %u\n"), mt_match_summary_get_total_matched_pairs (summary));
  g_print (_("Match Rate: %u.%u%%\n"), mt_match_summary_get_match_rate_tenths (summary) / 10,
           mt_match_summary_get_match_rate_tenths (summary) % 10);
  g_print (_("Pair Match Efficiency: %u.%u%%\n"), mt_match_summary_get_pair_match_efficiency_tenths (summary) / 10,
           mt_match_summary_get_pair_match_efficiency_tenths (summary) % 10);
  g_print (_("Traces without user: %u\n"), mt_match_summary_get_traces_without_user (summary));
  if (mt_match_summary_get_total_matched_pairs (summary) > 0)
    {
      g_autofree char *min = duration_text (mt_match_summary_get_time_difference_min_ms (summary));
      g_autofree char *median = duration_text (mt_match_summary_get_time_difference_median_ms (summary));
      g_autofree char *mean = duration_text (mt_match_summary_get_time_difference_mean_ms (summary));
      g_autofree char *p90 = duration_text (mt_match_summary_get_time_difference_p90_ms (summary));
      g_autofree char *max = duration_text (mt_match_summary_get_time_difference_max_ms (summary));

      g_print (_("Trace to image: min %s, median %s, mean %s, p90 %s, max %s\n"), min, median, mean, p90, max);
      g_print (_("Matched cost: $%.4f\n"), mt_match_summary_get_matched_total_cost (summary));
    }

  print_users (result, zone, TRUE);
  print_users (result, zone, FALSE);

  if (errors[0] != NULL || !mt_match_result_is_complete (result))
    {
      const char * const *incomplete = mt_match_summary_get_incomplete_users (summary);

      g_print ("\n%s\n%s\n", _("INCOMPLETE: the exports say so."), dash80);
      for (guint i = 0; errors[i] != NULL; i++)
        g_print ("  %s\n", errors[i]);
      for (guint i = 0; incomplete != NULL && incomplete[i] != NULL; i++)
        g_print (_("  User %s could not be read completely.\n"), incomplete[i]);
    }
}

/* Exports */

static void
on_exported (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static gboolean
write_exports (MtMatchResult  *result,
               MtConfig       *config,
               Options        *o,
               gint64          now,
               GCancellable   *cancellable,
               GError        **error)
{
  g_autoptr(MtExporter) exporter = mt_exporter_new (config->time_zone);
  const char *output_dir = o->output_dir != NULL ? o->output_dir : DEFAULT_OUTPUT_DIR;
  const char *json_name = o->json != NULL ? o->json : (o->rest != NULL && o->rest[0] != NULL && o->rest[1] != NULL
                                                       ? o->rest[1] : NULL);
  g_autoptr(GFile) json = mt_export_batch_file (output_dir, MT_EXPORT_FORMAT_JSON, json_name, now,
                                                config->time_zone);
  g_autoptr(GFile) csv = mt_export_batch_file (output_dir, MT_EXPORT_FORMAT_CSV, o->csv, now, config->time_zone);
  g_autofree char *json_path = g_file_get_parse_name (json);
  g_autofree char *csv_path = g_file_get_parse_name (csv);

  GAsyncResult *json_done = NULL;
  g_autoptr(GError) json_error = NULL;
  gboolean json_ok, csv_ok;

  /* Both at once: the JSON in a worker thread, the CSV here. Each file is
   * whole or not there; a failure of either is the run's. */
  mt_exporter_set_export_time (exporter, now);
  mt_exporter_write_file_async (exporter, result, MT_EXPORT_FORMAT_JSON, json, cancellable, on_exported, &json_done);
  csv_ok = mt_exporter_write_file (exporter, result, MT_EXPORT_FORMAT_CSV, csv, cancellable, error);
  while (json_done == NULL)
    g_main_context_iteration (NULL, TRUE);
  json_ok = mt_exporter_write_file_finish (exporter, json_done, &json_error);
  g_object_unref (json_done);
  if (!json_ok)
    {
      /* Both failed: the CSV's reason is said here, the JSON's by the
       * caller. */
      if (!csv_ok && !g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
          !g_error_matches (json_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        print_error ((*error)->message);
      g_clear_error (error);
      g_propagate_error (error, g_steal_pointer (&json_error));
    }
  /* What was written, even when the other was not. */
  if (json_ok || csv_ok)
    g_print ("\n%s\n", _("Exports:"));
  if (json_ok)
    g_print ("  JSON: %s\n", json_path);
  if (csv_ok)
    g_print ("  CSV:  %s\n", csv_path);
  if (json_ok && csv_ok)
    return TRUE;
  /* Stopped while writing: say which file is there and which is not. */
  if (g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_error (error);
      if (json_ok)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                     _("Interrupted: the JSON export was written (%s); the CSV export was not."), json_path);
      else if (csv_ok)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                     _("Interrupted: the CSV export was written (%s); the JSON export was not."), csv_path);
      else
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Interrupted: nothing was written."));
    }
  return FALSE;
}

/* Validates what the options say; a usage error otherwise. */
static gboolean
check_options (Options  *o,
               int      *days,
               GError  **error)
{
  guint n_rest = o->rest != NULL ? g_strv_length (o->rest) : 0;

  *days = o->days;
  if (n_rest > 2)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _("“%s” is one argument too many."), o->rest[2]);
      return FALSE;
    }
  if (n_rest >= 1)
    {
      guint64 value;

      if (!g_ascii_string_to_unsigned (o->rest[0], 10, 1, MAX_DAYS, &value, NULL))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("DAYS is “%s”; it must be a number of days from 1 to %d."), o->rest[0], MAX_DAYS);
          return FALSE;
        }
      if (o->days != 0)
        {
          g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                               _("Give the number of days once: as DAYS or as --days."));
          return FALSE;
        }
      *days = (int) value;
    }
  if (n_rest == 2 && o->json != NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _("Name the JSON file once: as JSON_FILE or as --json."));
      return FALSE;
    }
  if (*days < 0 || *days > MAX_DAYS)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--days must be from 1 to %d."), MAX_DAYS);
      return FALSE;
    }
  if ((o->from == NULL) != (o->to == NULL))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _("A custom window needs both --from and --to."));
      return FALSE;
    }
  if (o->from != NULL && *days != 0)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _("Give the window as a number of days or as --from and --to, not both."));
      return FALSE;
    }
  if (o->from == NULL && *days == 0)
    *days = DEFAULT_DAYS;
  return TRUE;
}

static void
put_option (GHashTable *options,
            const char *name,
            const char *value)
{
  if (value != NULL)
    g_hash_table_insert (options, (gpointer) name, (gpointer) value);
}

int
mt_batch_run (int    argc,
              char **argv)
{
  Options o = { 0 };
  g_autoptr(GOptionContext) context = option_context (&o);
  g_auto(GStrv) args = g_strdupv (argv);
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) options = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(MtDemo) demo = NULL;
  g_autoptr(MtConfig) config = NULL;
  g_autoptr(MtMappingJob) job = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Batch batch = { loop, cancellable, NULL, NULL, FALSE, FALSE };
  Progress progress = { 0 };
  MtConfigSources sources = { options, NULL, NULL, NULL };
  gint64 now = mt_time_now_ms (), from = 0, to = 0;
  guint sigint, sigterm;
  int days = 0, status;

  if (!g_option_context_parse_strv (context, &args, &error))
    {
      status = usage_error (error->message);
      options_clear (&o);
      return status;
    }
  if (o.version)
    {
      g_print ("mealtrace %s\n", PACKAGE_VERSION);
      options_clear (&o);
      return MT_BATCH_EXIT_OK;
    }
  if (!check_options (&o, &days, &error))
    {
      status = usage_error (error->message);
      options_clear (&o);
      return status;
    }

  put_option (options, MT_CONFIG_BUCKET, o.bucket);
  put_option (options, MT_CONFIG_PREFIX, o.prefix);
  put_option (options, MT_CONFIG_MAX_GAP, o.max_gap);
  put_option (options, MT_CONFIG_TIMEZONE, o.timezone);
  put_option (options, MT_CONFIG_LANGFUSE_API, o.langfuse_api);

  if (o.demo)
    {
      demo = mt_demo_new (now);
      config = mt_demo_load_config (demo, &sources, &error);
    }
  else
    config = mt_config_load (&sources, &error);
  if (config == NULL)
    {
      print_error (error->message);
      options_clear (&o);
      return MT_BATCH_EXIT_CONFIG;
    }
  if (!window_of (&o, days, config->time_zone, now, &from, &to, &error))
    {
      status = usage_error (error->message);
      options_clear (&o);
      return status;
    }
  job = mt_mapping_job_new (config, &error);
  if (job == NULL)
    {
      print_error (error->message);
      options_clear (&o);
      return MT_BATCH_EXIT_CONFIG;
    }

  progress.job = job;
  progress.tty = isatty (STDERR_FILENO);
  progress.quiet = o.quiet;
  batch.quiet = o.quiet;
  g_signal_connect (job, "notify", G_CALLBACK (on_job_notify), &progress);
  if (!progress.tty && !o.quiet)
    progress.heartbeat = g_timeout_add_seconds (HEARTBEAT_S, on_heartbeat, &progress);
  sigint = g_unix_signal_add (SIGINT, on_signal, &batch);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, &batch);

  mt_mapping_job_run_async (job, from, to, o.from != NULL ? 0 : (guint) days, cancellable, on_job_done, &batch);
  g_main_loop_run (loop);
  progress_clear (&progress);
  g_signal_handlers_disconnect_by_func (job, on_job_notify, &progress);

  if (batch.result == NULL)
    {
      if (batch.interrupted || g_error_matches (batch.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          print_error (_("Interrupted: nothing was written."));
          status = MT_BATCH_EXIT_INTERRUPTED;
        }
      else
        {
          print_error (batch.error->message);
          status = mt_mapping_error_is_rejection (batch.error) ? MT_BATCH_EXIT_CONFIG : MT_BATCH_EXIT_INCOMPLETE;
        }
    }
  else
    {
      print_summary (batch.result, config, job);
      if (!write_exports (batch.result, config, &o, now, cancellable, &error))
        {
          print_error (error->message);
          status = batch.interrupted ? MT_BATCH_EXIT_INTERRUPTED : MT_BATCH_EXIT_INCOMPLETE;
        }
      else if (!mt_match_result_is_complete (batch.result))
        {
          const char * const *errors = mt_match_result_get_errors (batch.result);

          for (guint i = 0; errors[i] != NULL; i++)
            print_error (errors[i]);
          status = MT_BATCH_EXIT_INCOMPLETE;
        }
      else
        status = MT_BATCH_EXIT_OK;
    }

  /* The outcome is settled: a signal from now on changes nothing. Nor may
   * it end the process half-way through its cleanup, by the default action
   * that removing the last source for it would give back. */
  g_unix_signal_add (SIGINT, on_late_signal, NULL);
  g_unix_signal_add (SIGTERM, on_late_signal, NULL);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_clear_object (&batch.result);
  g_clear_error (&batch.error);
  options_clear (&o);
  /* Let the servers and clients close what they hold before exit. */
  g_clear_object (&job);
  g_clear_pointer (&demo, mt_demo_free);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return status;
}
