/* mt-exporter.h — JSON and CSV exports of a match result (SPEC section 6)
 *
 * Every file is written to a temporary name beside the target and renamed
 * over it only when complete, so a failure never leaves a half-written
 * export. Both modes use the same writers: batch synchronously, the window
 * asynchronously.
 */
#pragma once

#include <gio/gio.h>

#include "mt-match-result.h"

G_BEGIN_DECLS

typedef enum {
  MT_EXPORT_FORMAT_JSON,
  MT_EXPORT_FORMAT_CSV,
} MtExportFormat;

#define MT_TYPE_EXPORTER (mt_exporter_get_type ())

G_DECLARE_FINAL_TYPE (MtExporter, mt_exporter, MT, EXPORTER, GObject)

/* Renders times in @time_zone (%NULL: the default, +07:00). */
MtExporter *mt_exporter_new                   (GTimeZone      *time_zone);

GTimeZone  *mt_exporter_get_time_zone         (MtExporter     *self);
void        mt_exporter_set_time_zone         (MtExporter     *self,
                                               GTimeZone      *time_zone);

/* The instant recorded as export_timestamp; MT_TIME_NONE (the default)
 * means the moment of each export. */
gint64      mt_exporter_get_export_time       (MtExporter     *self);
void        mt_exporter_set_export_time       (MtExporter     *self,
                                               gint64          export_time);

/* Recorded as application_version; the default is Mealtrace's own. */
const char *mt_exporter_get_application_version (MtExporter   *self);
void        mt_exporter_set_application_version (MtExporter   *self,
                                                 const char   *version);

/* Writes the export to a stream; the stream is not closed. */
gboolean    mt_exporter_write_to_stream       (MtExporter     *self,
                                               MtMatchResult  *result,
                                               MtExportFormat  format,
                                               GOutputStream  *stream,
                                               GCancellable   *cancellable,
                                               GError        **error);

/* Writes the export to @file through a temporary file and a rename, making
 * the parent folders first. On failure no file is left behind and @file
 * keeps what it had; the error (G_IO_ERROR) names the file and what to do. */
gboolean    mt_exporter_write_file            (MtExporter     *self,
                                               MtMatchResult  *result,
                                               MtExportFormat  format,
                                               GFile          *file,
                                               GCancellable   *cancellable,
                                               GError        **error);

/* The same in a worker thread. @result must not change until it finishes.
 * Cancelled once the file is in place, it answers that it was written. */
void        mt_exporter_write_file_async      (MtExporter         *self,
                                               MtMatchResult      *result,
                                               MtExportFormat      format,
                                               GFile              *file,
                                               GCancellable       *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer            user_data);
gboolean    mt_exporter_write_file_finish     (MtExporter     *self,
                                               GAsyncResult   *result,
                                               GError        **error);

/* `enhanced_meal_mapping_results_YYYYMMDD_HHMMSS.json` or
 * `successful_pairs_dataframe_YYYYMMDD_HHMMSS.csv`, for @time in @zone. */
char       *mt_export_file_name               (MtExportFormat  format,
                                               gint64          time,
                                               GTimeZone      *zone);

/* Where batch mode writes: `{output_dir}/json/…` or `{output_dir}/csv/…`.
 * A @name given by the user replaces the generated file name; when it has
 * a folder of its own it is used as it is. */
GFile      *mt_export_batch_file              (const char     *output_dir,
                                               MtExportFormat  format,
                                               const char     *name,
                                               gint64          time,
                                               GTimeZone      *zone);

/* "Past 1 day", "Past 7 days" or "Custom range" (exports are not translated). */
char       *mt_export_time_filter_label       (guint           days);

G_END_DECLS
