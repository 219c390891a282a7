/* mt-exporter.c — JSON and CSV exports of a match result */

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <gio/gfiledescriptorbased.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "mt-core-enums.h"
#include "mt-core-private.h"
#include "mt-exporter.h"
#include "mt-json-scan.h"
#include "mt-json-writer.h"
#include "mt-time.h"

/* Output is drained to the stream in chunks of about this size. */
#define CHUNK_SIZE (256 * 1024)

struct _MtExporter
{
  GObject parent_instance;

  GTimeZone *time_zone;
  char *application_version;
  gint64 export_time;
};

G_DEFINE_FINAL_TYPE (MtExporter, mt_exporter, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_TIME_ZONE,
  PROP_EXPORT_TIME,
  PROP_APPLICATION_VERSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mt_exporter_finalize (GObject *object)
{
  MtExporter *self = MT_EXPORTER (object);

  g_clear_pointer (&self->time_zone, g_time_zone_unref);
  g_free (self->application_version);

  G_OBJECT_CLASS (mt_exporter_parent_class)->finalize (object);
}

static void
mt_exporter_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  MtExporter *self = MT_EXPORTER (object);

  switch (prop_id)
    {
    case PROP_TIME_ZONE:
      g_value_set_boxed (value, self->time_zone);
      break;
    case PROP_EXPORT_TIME:
      g_value_set_int64 (value, self->export_time);
      break;
    case PROP_APPLICATION_VERSION:
      g_value_set_string (value, self->application_version);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_exporter_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  MtExporter *self = MT_EXPORTER (object);

  switch (prop_id)
    {
    case PROP_TIME_ZONE:
      mt_exporter_set_time_zone (self, g_value_get_boxed (value));
      break;
    case PROP_EXPORT_TIME:
      mt_exporter_set_export_time (self, g_value_get_int64 (value));
      break;
    case PROP_APPLICATION_VERSION:
      mt_exporter_set_application_version (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_exporter_class_init (MtExporterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = mt_exporter_finalize;
  object_class->get_property = mt_exporter_get_property;
  object_class->set_property = mt_exporter_set_property;

  properties[PROP_TIME_ZONE] =
    g_param_spec_boxed ("time-zone", NULL, NULL, G_TYPE_TIME_ZONE, rw);
  properties[PROP_EXPORT_TIME] =
    g_param_spec_int64 ("export-time", NULL, NULL, G_MININT64, G_MAXINT64, MT_TIME_NONE, rw);
  properties[PROP_APPLICATION_VERSION] =
    g_param_spec_string ("application-version", NULL, NULL, PACKAGE_VERSION, rw);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_exporter_init (MtExporter *self)
{
  self->time_zone = mt_time_zone_new (MT_TIME_ZONE_DEFAULT, NULL);
  self->export_time = MT_TIME_NONE;
  self->application_version = g_strdup (PACKAGE_VERSION);
}

MtExporter *
mt_exporter_new (GTimeZone *time_zone)
{
  MtExporter *self = g_object_new (MT_TYPE_EXPORTER, NULL);

  if (time_zone != NULL)
    mt_exporter_set_time_zone (self, time_zone);
  return self;
}

GTimeZone *
mt_exporter_get_time_zone (MtExporter *self)
{
  g_return_val_if_fail (MT_IS_EXPORTER (self), NULL);
  return self->time_zone;
}

void
mt_exporter_set_time_zone (MtExporter *self,
                           GTimeZone  *time_zone)
{
  g_return_if_fail (MT_IS_EXPORTER (self));
  g_return_if_fail (time_zone != NULL);

  if (self->time_zone == time_zone)
    return;
  g_time_zone_unref (self->time_zone);
  self->time_zone = g_time_zone_ref (time_zone);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIME_ZONE]);
}

gint64
mt_exporter_get_export_time (MtExporter *self)
{
  g_return_val_if_fail (MT_IS_EXPORTER (self), MT_TIME_NONE);
  return self->export_time;
}

void
mt_exporter_set_export_time (MtExporter *self,
                             gint64      export_time)
{
  g_return_if_fail (MT_IS_EXPORTER (self));

  if (self->export_time == export_time)
    return;
  self->export_time = export_time;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EXPORT_TIME]);
}

const char *
mt_exporter_get_application_version (MtExporter *self)
{
  g_return_val_if_fail (MT_IS_EXPORTER (self), NULL);
  return self->application_version;
}

void
mt_exporter_set_application_version (MtExporter *self,
                                     const char *version)
{
  g_return_if_fail (MT_IS_EXPORTER (self));

  if (mt_set_string (&self->application_version, version != NULL ? version : PACKAGE_VERSION))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_APPLICATION_VERSION]);
}

char *
mt_export_time_filter_label (guint days)
{
  if (days == 0)
    return g_strdup ("Custom range");
  if (days == 1)
    return g_strdup ("Past 1 day");
  return g_strdup_printf ("Past %u days", days);
}

/* Writing: the output goes to a buffer that is drained to the stream
 * between records, so memory stays flat however large the result. */

typedef struct {
  MtExporter *exporter;
  GString *buffer;
  GOutputStream *stream;
  GCancellable *cancellable;
  GError **error;
  gboolean failed;
} Output;

static gboolean
output_drain (Output  *out,
              gboolean force)
{
  if (out->failed)
    return FALSE;
  if (!force && out->buffer->len < CHUNK_SIZE)
    return TRUE;
  if (!g_output_stream_write_all (out->stream, out->buffer->str, out->buffer->len,
                                  NULL, out->cancellable, out->error))
    {
      out->failed = TRUE;
      return FALSE;
    }
  g_string_truncate (out->buffer, 0);
  return TRUE;
}

static void
write_time (MtJsonWriter *w,
            Output       *out,
            gint64        time)
{
  if (time == MT_TIME_NONE)
    {
      mt_json_writer_null (w);
      return;
    }
  {
    /* On the stack: an export writes a few million of these. */
    char text[MT_TIME_ISO8601_BUF];

    mt_time_format_iso8601_buf (text, time, out->exporter->time_zone);
    mt_json_writer_string (w, text);
  }
}

static void
write_image (MtJsonWriter *w,
             Output       *out,
             MtImage      *image)
{
  mt_json_writer_begin_object (w);
  mt_json_writer_member (w, "key");
  mt_json_writer_string (w, image->key);
  mt_json_writer_member (w, "name");
  mt_json_writer_string (w, image->name);
  mt_json_writer_member (w, "user_id");
  mt_json_writer_string (w, image->user_id);
  mt_json_writer_member (w, "last_modified");
  write_time (w, out, image->last_modified);
  mt_json_writer_member (w, "size");
  mt_json_writer_int (w, image->size);
  mt_json_writer_member (w, "etag");
  mt_json_writer_string (w, image->etag);
  mt_json_writer_member (w, "url");
  mt_json_writer_string (w, image->url);
  mt_json_writer_end_object (w);
}

static void
write_json_value (MtJsonWriter      *w,
                  const MtJsonValue *value)
{
  if (value->text != NULL)
    mt_json_writer_text (w, value->text, value->length);
  else
    mt_json_writer_node (w, value->node);
}

static void
write_trace (MtJsonWriter *w,
             Output       *out,
             MtTrace      *trace)
{
  mt_json_writer_begin_object (w);
  mt_json_writer_member (w, "id");
  mt_json_writer_string (w, trace->id);
  mt_json_writer_member (w, "name");
  mt_json_writer_string (w, trace->name);
  mt_json_writer_member (w, "timestamp");
  write_time (w, out, trace->timestamp);
  mt_json_writer_member (w, "user_id");
  mt_json_writer_string (w, trace->user_id);
  mt_json_writer_member (w, "session_id");
  mt_json_writer_string (w, trace->session_id);
  mt_json_writer_member (w, "input");
  write_json_value (w, &trace->input);
  mt_json_writer_member (w, "output");
  write_json_value (w, &trace->output);
  mt_json_writer_member (w, "model_name");
  mt_json_writer_string (w, trace->model_name);
  mt_json_writer_member (w, "prompt");
  mt_json_writer_string (w, trace->prompt);
  mt_json_writer_member (w, "cost");
  mt_json_writer_double (w, trace->cost);
  mt_json_writer_member (w, "total_cost");
  mt_json_writer_double (w, trace->total_cost);
  mt_json_writer_member (w, "html_url");
  mt_json_writer_string (w, trace->html_url);
  mt_json_writer_end_object (w);
}

static void
write_list (MtJsonWriter *w,
            Output       *out,
            GPtrArray    *items,
            gboolean      traces)
{
  mt_json_writer_begin_array (w);
  for (guint i = 0; i < items->len; i++)
    {
      if (traces)
        write_trace (w, out, g_ptr_array_index (items, i));
      else
        write_image (w, out, g_ptr_array_index (items, i));
    }
  mt_json_writer_end_array (w);
}

/* The user's unused traces and unmatched images, straight from the match,
 * so that an export in a worker thread builds nothing a view may share. */
static void
write_leftovers (MtJsonWriter *w,
                 Output       *out,
                 MtUserResult *user)
{
  g_autofree guint8 *taken = g_new0 (guint8, user->traces->len);

  for (guint i = 0; i < user->images->len; i++)
    if (user->image_trace[i] >= 0)
      taken[user->image_trace[i]] = TRUE;

  mt_json_writer_member (w, "unused_traces");
  mt_json_writer_begin_array (w);
  for (guint t = 0; t < user->traces->len; t++)
    if (!taken[t])
      write_trace (w, out, g_ptr_array_index (user->traces, t));
  mt_json_writer_end_array (w);

  mt_json_writer_member (w, "unmatched_images");
  mt_json_writer_begin_array (w);
  for (guint i = 0; i < user->images->len; i++)
    if (user->image_trace[i] < 0)
      write_image (w, out, g_ptr_array_index (user->images, i));
  mt_json_writer_end_array (w);
}

static void
write_metadata (MtJsonWriter  *w,
                Output        *out,
                MtMatchResult *result)
{
  MtExporter *self = out->exporter;
  gint64 export_time = self->export_time != MT_TIME_NONE ? self->export_time : mt_time_now_ms ();
  g_autofree char *time_filter = NULL;
  const char * const *errors;
  gint64 max_gap;

  time_filter = mt_export_time_filter_label (mt_match_result_get_time_filter_days (result));

  mt_json_writer_member (w, "metadata");
  mt_json_writer_begin_object (w);
  mt_json_writer_member (w, "export_timestamp");
  write_time (w, out, export_time);
  mt_json_writer_member (w, "time_filter");
  mt_json_writer_string (w, time_filter);
  mt_json_writer_member (w, "application_version");
  mt_json_writer_string (w, self->application_version);
  mt_json_writer_member (w, "export_type");
  mt_json_writer_string (w, "enhanced_meal_mapping_results");
  mt_json_writer_member (w, "matching_algorithm");
  mt_json_writer_string (w, "minimal_duration_1to1");
  mt_json_writer_member (w, "window");
  mt_json_writer_begin_object (w);
  mt_json_writer_member (w, "from");
  write_time (w, out, mt_match_result_get_window_from (result));
  mt_json_writer_member (w, "to");
  write_time (w, out, mt_match_result_get_window_to (result));
  mt_json_writer_end_object (w);
  mt_json_writer_member (w, "timezone");
  mt_json_writer_string (w, mt_time_zone_get_name (self->time_zone));
  mt_json_writer_member (w, "max_gap_seconds");
  max_gap = mt_match_result_get_max_gap_ms (result);
  if (max_gap < 0)
    mt_json_writer_null (w);
  else
    mt_json_writer_seconds (w, max_gap);
  mt_json_writer_member (w, "langfuse_api");
  mt_json_writer_string (w, mt_match_result_get_langfuse_api (result));
  mt_json_writer_member (w, "s3_listing");
  mt_json_writer_string (w, mt_match_result_get_s3_listing (result));
  mt_json_writer_member (w, "complete");
  mt_json_writer_boolean (w, mt_match_result_is_complete (result));
  mt_json_writer_member (w, "errors");
  mt_json_writer_begin_array (w);
  errors = mt_match_result_get_errors (result);
  for (guint i = 0; errors[i] != NULL; i++)
    mt_json_writer_string (w, errors[i]);
  mt_json_writer_end_array (w);
  mt_json_writer_end_object (w);
}

static void
write_percent (MtJsonWriter *w,
               guint         tenths)
{
  char text[16];

  /* Always one decimal, as Python writes a float: 80.0, 62.5. */
  g_snprintf (text, sizeof text, "%u.%u", tenths / 10, tenths % 10);
  mt_json_writer_number (w, text);
}

static void
write_summary (MtJsonWriter   *w,
               Output         *out,
               MtMatchSummary *s)
{
  const char * const *incomplete = mt_match_summary_get_incomplete_users (s);

  mt_json_writer_member (w, "summary");
  mt_json_writer_begin_object (w);
  mt_json_writer_member (w, "total_users");
  mt_json_writer_int (w, s->total_users);
  mt_json_writer_member (w, "users_with_matches");
  mt_json_writer_int (w, s->users_with_matches);
  mt_json_writer_member (w, "users_without_counterpart");
  mt_json_writer_int (w, mt_match_summary_get_users_without_counterpart (s));
  mt_json_writer_member (w, "total_images");
  mt_json_writer_int (w, s->total_images);
  mt_json_writer_member (w, "total_traces");
  mt_json_writer_int (w, s->total_traces);
  mt_json_writer_member (w, "total_matched_pairs");
  mt_json_writer_int (w, s->total_matched_pairs);
  mt_json_writer_member (w, "match_rate");
  write_percent (w, s->match_rate_tenths);
  mt_json_writer_member (w, "pair_match_efficiency");
  write_percent (w, s->pair_match_efficiency_tenths);
  mt_json_writer_member (w, "traces_without_user");
  mt_json_writer_int (w, s->traces_without_user);
  mt_json_writer_member (w, "incomplete_users");
  mt_json_writer_begin_array (w);
  for (guint i = 0; incomplete[i] != NULL; i++)
    mt_json_writer_string (w, incomplete[i]);
  mt_json_writer_end_array (w);
  mt_json_writer_member (w, "time_difference_seconds");
  if (!s->has_time_stats)
    mt_json_writer_null (w);
  else
    {
      mt_json_writer_begin_object (w);
      mt_json_writer_member (w, "min");
      mt_json_writer_seconds (w, s->time_min_ms);
      mt_json_writer_member (w, "median");
      mt_json_writer_seconds (w, s->time_median_ms);
      mt_json_writer_member (w, "mean");
      mt_json_writer_seconds (w, s->time_mean_ms);
      mt_json_writer_member (w, "p90");
      mt_json_writer_seconds (w, s->time_p90_ms);
      mt_json_writer_member (w, "max");
      mt_json_writer_seconds (w, s->time_max_ms);
      mt_json_writer_end_object (w);
    }
  mt_json_writer_member (w, "matched_total_cost");
  mt_json_writer_double (w, s->matched_total_cost);
  mt_json_writer_end_object (w);
}

static const char *
missing_type (MtUserStatus status)
{
  switch (status)
    {
    case MT_USER_STATUS_NO_IMAGES:
      return "images";
    case MT_USER_STATUS_NO_PAIRS:
      return "pairs";
    case MT_USER_STATUS_INCOMPLETE:
      return "incomplete";
    case MT_USER_STATUS_MATCHED:
    default:
      g_return_val_if_reached (NULL);
    }
}

static gboolean
write_json (Output        *out,
            MtMatchResult *result)
{
  g_autoptr(MtJsonWriter) w = mt_json_writer_new (out->buffer, TRUE);
  guint n_users = g_list_model_get_n_items (G_LIST_MODEL (result));

  mt_json_writer_begin_object (w);
  write_metadata (w, out, result);
  write_summary (w, out, mt_match_result_get_summary (result));

  mt_json_writer_member (w, "successful_matches");
  mt_json_writer_begin_array (w);
  for (guint i = 0; i < n_users; i++)
    {
      g_autoptr(MtUserResult) user = g_list_model_get_item (G_LIST_MODEL (result), i);

      if (user->status != MT_USER_STATUS_MATCHED)
        continue;

      mt_json_writer_begin_object (w);
      mt_json_writer_member (w, "user_id");
      mt_json_writer_string (w, user->user_id);
      mt_json_writer_member (w, "matched_pairs_count");
      mt_json_writer_int (w, user->n_pairs);
      mt_json_writer_member (w, "image_count");
      mt_json_writer_int (w, user->images->len);
      mt_json_writer_member (w, "trace_count");
      mt_json_writer_int (w, user->traces->len);
      mt_json_writer_member (w, "matched_pairs");
      mt_json_writer_begin_array (w);
      for (guint j = 0; j < user->images->len; j++)
        {
          MtImage *image = g_ptr_array_index (user->images, j);
          MtTrace *trace;

          if (user->image_trace[j] < 0)
            continue;
          trace = g_ptr_array_index (user->traces, user->image_trace[j]);

          mt_json_writer_begin_object (w);
          mt_json_writer_member (w, "image");
          write_image (w, out, image);
          mt_json_writer_member (w, "trace");
          write_trace (w, out, trace);
          mt_json_writer_member (w, "trace_timestamp");
          write_time (w, out, trace->timestamp);
          mt_json_writer_member (w, "image_timestamp");
          write_time (w, out, image->last_modified);
          mt_json_writer_member (w, "time_difference_seconds");
          mt_json_writer_seconds (w, image->last_modified - trace->timestamp);
          mt_json_writer_end_object (w);
        }
      mt_json_writer_end_array (w);
      write_leftovers (w, out, user);
      mt_json_writer_end_object (w);

      if (!output_drain (out, FALSE) ||
          g_cancellable_set_error_if_cancelled (out->cancellable, out->error))
        return FALSE;
    }
  mt_json_writer_end_array (w);

  mt_json_writer_member (w, "users_without_counterpart");
  mt_json_writer_begin_array (w);
  for (guint i = 0; i < n_users; i++)
    {
      g_autoptr(MtUserResult) user = g_list_model_get_item (G_LIST_MODEL (result), i);

      if (user->status == MT_USER_STATUS_MATCHED)
        continue;

      mt_json_writer_begin_object (w);
      mt_json_writer_member (w, "user_id");
      mt_json_writer_string (w, user->user_id);
      mt_json_writer_member (w, "trace_count");
      mt_json_writer_int (w, user->traces->len);
      mt_json_writer_member (w, "image_count");
      mt_json_writer_int (w, user->images->len);
      mt_json_writer_member (w, "traces");
      write_list (w, out, user->traces, TRUE);
      mt_json_writer_member (w, "images");
      write_list (w, out, user->images, FALSE);
      mt_json_writer_member (w, "missing_type");
      mt_json_writer_string (w, missing_type (user->status));
      mt_json_writer_end_object (w);

      if (!output_drain (out, FALSE) ||
          g_cancellable_set_error_if_cancelled (out->cancellable, out->error))
        return FALSE;
    }
  mt_json_writer_end_array (w);
  mt_json_writer_end_object (w);
  g_string_append_c (out->buffer, '\n');

  return output_drain (out, TRUE);
}

/* CSV (RFC 4180): a field with a comma, quote or line break is quoted, with
 * quotes doubled; rows end in CRLF. */

static const char csv_header[] =
  "user_id,trace_id,trace_name,input,prompt,output,cost,model_name,total_cost,"
  "image_name,image_url,trace_timestamp,image_timestamp,session_id,image_key,"
  "time_difference_seconds\r\n";

static void
csv_append_quoted (GString    *row,
                   const char *text,
                   gsize       len)
{
  gboolean quote = FALSE;

  for (gsize i = 0; i < len && !quote; i++)
    quote = text[i] == ',' || text[i] == '"' || text[i] == '\n' || text[i] == '\r';

  if (!quote)
    {
      g_string_append_len (row, text, len);
      return;
    }

  g_string_append_c (row, '"');
  for (gsize i = 0; i < len; i++)
    {
      if (text[i] == '"')
        g_string_append_c (row, '"');
      g_string_append_c (row, text[i]);
    }
  g_string_append_c (row, '"');
}

/* A text cell. One that a spreadsheet would run as a formula gets a leading
 * apostrophe, which spreadsheets show as text. */
static void
csv_text (GString    *row,
          const char *text)
{
  g_autofree char *valid = NULL;
  g_autoptr(GString) guarded = NULL;
  gsize len;

  if (text == NULL)
    return;
  len = strlen (text);
  if (!g_utf8_validate_len (text, len, NULL))
    {
      valid = g_utf8_make_valid (text, len);
      text = valid;
      len = strlen (text);
    }
  if (len > 0 && strchr ("=+-@\t\r", text[0]) != NULL)
    {
      guarded = g_string_sized_new (len + 1);
      g_string_append_c (guarded, '\'');
      g_string_append_len (guarded, text, len);
      text = guarded->str;
      len = guarded->len;
    }
  csv_append_quoted (row, text, len);
}

/* A JSON value in a text cell: a string as itself, anything else compact. */
static void
csv_json (GString           *row,
          const MtJsonValue *value)
{
  JsonNode *node = value->node;
  g_autofree char *compact = NULL;

  if (value->text != NULL)
    {
      MtJsonScan scan;
      MtJsonScanToken token;

      mt_json_scan_init (&scan, value->text, value->length, G_MAXUINT);
      token = mt_json_scan_peek (&scan);
      if (token == MT_JSON_SCAN_STRING)
        {
          g_autoptr(GString) text = g_string_new (NULL);

          if (mt_json_scan_string (&scan, text))
            csv_text (row, text->str);
        }
      else if (token != MT_JSON_SCAN_NULL)
        {
          compact = mt_json_text_to_compact (value->text, value->length);
          csv_text (row, compact);
        }
      return;
    }
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      csv_text (row, json_node_get_string (node));
      return;
    }
  compact = mt_json_node_to_compact (node);
  csv_text (row, compact);
}

static void
csv_number (GString *row,
            double   value)
{
  if (isfinite (value))
    mt_format_double (row, value);
}

static void
csv_time (GString   *row,
          gint64     time,
          GTimeZone *zone)
{
  if (time != MT_TIME_NONE)
    mt_time_append_iso8601 (row, time, zone);
}

static gboolean
write_csv (Output        *out,
           MtMatchResult *result)
{
  GTimeZone *zone = out->exporter->time_zone;
  guint n_users = g_list_model_get_n_items (G_LIST_MODEL (result));
  GString *row = out->buffer;

  g_string_append (row, csv_header);

  for (guint i = 0; i < n_users; i++)
    {
      g_autoptr(MtUserResult) user = g_list_model_get_item (G_LIST_MODEL (result), i);

      for (guint j = 0; j < user->images->len; j++)
        {
          MtImage *image = g_ptr_array_index (user->images, j);
          MtTrace *t;

          if (user->image_trace[j] < 0)
            continue;
          t = g_ptr_array_index (user->traces, user->image_trace[j]);

          csv_text (row, user->user_id);
          g_string_append_c (row, ',');
          csv_text (row, t->id);
          g_string_append_c (row, ',');
          csv_text (row, t->name);
          g_string_append_c (row, ',');
          csv_json (row, &t->input);
          g_string_append_c (row, ',');
          csv_text (row, t->prompt);
          g_string_append_c (row, ',');
          csv_json (row, &t->output);
          g_string_append_c (row, ',');
          csv_number (row, t->cost);
          g_string_append_c (row, ',');
          csv_text (row, t->model_name);
          g_string_append_c (row, ',');
          csv_number (row, t->total_cost);
          g_string_append_c (row, ',');
          csv_text (row, image->name);
          g_string_append_c (row, ',');
          csv_text (row, image->url);
          g_string_append_c (row, ',');
          csv_time (row, t->timestamp, zone);
          g_string_append_c (row, ',');
          csv_time (row, image->last_modified, zone);
          g_string_append_c (row, ',');
          csv_text (row, t->session_id);
          g_string_append_c (row, ',');
          csv_text (row, image->key);
          g_string_append_c (row, ',');
          mt_format_seconds (row, image->last_modified - t->timestamp);
          g_string_append (row, "\r\n");
        }

      if (!output_drain (out, FALSE) ||
          g_cancellable_set_error_if_cancelled (out->cancellable, out->error))
        return FALSE;
    }

  return output_drain (out, TRUE);
}

gboolean
mt_exporter_write_to_stream (MtExporter     *self,
                             MtMatchResult  *result,
                             MtExportFormat  format,
                             GOutputStream  *stream,
                             GCancellable   *cancellable,
                             GError        **error)
{
  g_autoptr(GString) buffer = NULL;
  Output out;

  g_return_val_if_fail (MT_IS_EXPORTER (self), FALSE);
  g_return_val_if_fail (MT_IS_MATCH_RESULT (result), FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  buffer = g_string_sized_new (CHUNK_SIZE + CHUNK_SIZE / 4);
  out = (Output) { self, buffer, stream, cancellable, error, FALSE };

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (format == MT_EXPORT_FORMAT_JSON)
    return write_json (&out, result);
  return write_csv (&out, result);
}

/* Files */

static const char *
hint_for (const GError *error)
{
  if (error->domain != G_IO_ERROR)
    return _("Check the folder and try again.");

  switch (error->code)
    {
    case G_IO_ERROR_PERMISSION_DENIED:
    case G_IO_ERROR_READ_ONLY:
      return _("Choose a folder you can write to.");
    case G_IO_ERROR_NO_SPACE:
      return _("Free some disk space or choose another place.");
    case G_IO_ERROR_IS_DIRECTORY:
      return _("Choose a file name, not a folder.");
    case G_IO_ERROR_NOT_DIRECTORY:
    case G_IO_ERROR_NOT_FOUND:
      return _("Check that the folder exists.");
    case G_IO_ERROR_FILENAME_TOO_LONG:
    case G_IO_ERROR_INVALID_FILENAME:
      return _("Choose a shorter or simpler file name.");
    default:
      return _("Check that the disk has room and that the folder can be written, then try again.");
    }
}

/* Keeps the cause's domain and code so callers can act on them. */
static gboolean
file_error (GError **error,
            GFile   *file,
            GError  *cause)
{
  g_autofree char *name = NULL;

  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, cause);
      return FALSE;
    }
  name = g_file_get_parse_name (file);
  g_set_error (error, cause->domain, cause->code,
               _("Could not write the export to “%s”: %s. %s"),
               name, cause->message, hint_for (cause));
  g_error_free (cause);
  return FALSE;
}

static GFileOutputStream *
create_temporary (GFile         *file,
                  GFile        **out_temporary,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autoptr(GFile) parent = g_file_get_parent (file);
  g_autofree char *basename = g_file_get_basename (file);

  for (guint attempt = 0; ; attempt++)
    {
      g_autofree char *name = g_strdup_printf (".%s.%08x.part", basename, g_random_int ());
      g_autoptr(GFile) temporary = g_file_get_child (parent, name);
      g_autoptr(GError) local_error = NULL;
      GFileOutputStream *stream;

      stream = g_file_create (temporary, G_FILE_CREATE_NONE, cancellable, &local_error);
      if (stream != NULL)
        {
          *out_temporary = g_steal_pointer (&temporary);
          return stream;
        }
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS) || attempt >= 16)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
}

/* Makes the data durable before the rename makes it visible. */
static gboolean
sync_stream (GOutputStream  *stream,
             GError        **error)
{
  int fd;

  if (!G_IS_FILE_DESCRIPTOR_BASED (stream))
    return TRUE;
  fd = g_file_descriptor_based_get_fd (G_FILE_DESCRIPTOR_BASED (stream));
  if (fsync (fd) != 0 && errno != EINVAL && errno != EROFS)
    {
      int saved = errno;

      g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (saved), g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

gboolean
mt_exporter_write_file (MtExporter     *self,
                        MtMatchResult  *result,
                        MtExportFormat  format,
                        GFile          *file,
                        GCancellable   *cancellable,
                        GError        **error)
{
  g_autoptr(GFile) parent = NULL;
  g_autoptr(GFile) temporary = NULL;
  g_autoptr(GFileOutputStream) stream = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean ok;

  g_return_val_if_fail (MT_IS_EXPORTER (self), FALSE);
  g_return_val_if_fail (MT_IS_MATCH_RESULT (result), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  parent = g_file_get_parent (file);
  if (parent == NULL)
    {
      g_set_error_literal (&local_error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY,
                           g_strerror (EISDIR));
      return file_error (error, file, g_steal_pointer (&local_error));
    }

  if (!g_file_make_directory_with_parents (parent, cancellable, &local_error) &&
      !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    return file_error (error, file, g_steal_pointer (&local_error));
  g_clear_error (&local_error);

  stream = create_temporary (file, &temporary, cancellable, &local_error);
  if (stream == NULL)
    return file_error (error, file, g_steal_pointer (&local_error));

  ok = mt_exporter_write_to_stream (self, result, format, G_OUTPUT_STREAM (stream),
                                    cancellable, &local_error) &&
       g_output_stream_flush (G_OUTPUT_STREAM (stream), cancellable, &local_error) &&
       sync_stream (G_OUTPUT_STREAM (stream), &local_error) &&
       g_output_stream_close (G_OUTPUT_STREAM (stream), cancellable, &local_error) &&
       g_file_move (temporary, file,
                    G_FILE_COPY_OVERWRITE | G_FILE_COPY_NO_FALLBACK_FOR_MOVE,
                    cancellable, NULL, NULL, &local_error);

  if (!ok)
    {
      /* Nothing half-written may stay behind, whatever went wrong. */
      g_output_stream_close (G_OUTPUT_STREAM (stream), NULL, NULL);
      g_file_delete (temporary, NULL, NULL);
      return file_error (error, file, g_steal_pointer (&local_error));
    }
  return TRUE;
}

typedef struct {
  MtExporter *exporter; /* a snapshot of the caller's settings */
  MtMatchResult *result;
  GFile *file;
  MtExportFormat format;
} WriteData;

static void
write_data_free (gpointer data)
{
  WriteData *wd = data;

  g_object_unref (wd->exporter);
  g_object_unref (wd->result);
  g_object_unref (wd->file);
  g_free (wd);
}

static void
write_in_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  WriteData *wd = task_data;
  GError *error = NULL;

  if (mt_exporter_write_file (wd->exporter, wd->result, wd->format, wd->file, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
mt_exporter_write_file_async (MtExporter          *self,
                              MtMatchResult       *result,
                              MtExportFormat       format,
                              GFile               *file,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  WriteData *wd;

  g_return_if_fail (MT_IS_EXPORTER (self));
  g_return_if_fail (MT_IS_MATCH_RESULT (result));
  g_return_if_fail (G_IS_FILE (file));

  wd = g_new0 (WriteData, 1);
  wd->exporter = g_object_new (MT_TYPE_EXPORTER,
                               "time-zone", self->time_zone,
                               "export-time", self->export_time != MT_TIME_NONE
                                                ? self->export_time : mt_time_now_ms (),
                               "application-version", self->application_version,
                               NULL);
  wd->result = g_object_ref (result);
  wd->file = g_object_ref (file);
  wd->format = format;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mt_exporter_write_file_async);
  /* The answer is what the worker did: cancelled after the rename, the
   * file is in place, and said to be written. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, wd, write_data_free);
  g_task_run_in_thread (task, write_in_thread);
}

gboolean
mt_exporter_write_file_finish (MtExporter    *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (MT_IS_EXPORTER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

char *
mt_export_file_name (MtExportFormat  format,
                     gint64          time,
                     GTimeZone      *zone)
{
  g_autofree char *stamp = mt_time_format_compact (time, zone);

  if (format == MT_EXPORT_FORMAT_JSON)
    return g_strdup_printf ("enhanced_meal_mapping_results_%s.json", stamp);
  return g_strdup_printf ("successful_pairs_dataframe_%s.csv", stamp);
}

GFile *
mt_export_batch_file (const char     *output_dir,
                      MtExportFormat  format,
                      const char     *name,
                      gint64          time,
                      GTimeZone      *zone)
{
  g_autofree char *generated = NULL;
  g_autofree char *path = NULL;

  if (name != NULL && name[0] != '\0' && strchr (name, G_DIR_SEPARATOR) != NULL)
    return g_file_new_for_commandline_arg (name);

  if (name == NULL || name[0] == '\0')
    name = generated = mt_export_file_name (format, time, zone);
  path = g_build_filename (output_dir != NULL && output_dir[0] != '\0' ? output_dir : "results",
                           format == MT_EXPORT_FORMAT_JSON ? "json" : "csv",
                           name, NULL);
  return g_file_new_for_commandline_arg (path);
}
