/* mt-mapping-job.h — a window's traces, their users' images, and the match
 *
 * What the command line and the window both run: every trace of the window
 * from Langfuse, the images of the users who have traces from S3, the
 * matcher, and the result with its provenance. S3 starts at once, beside
 * Langfuse: the whole prefix is read page by page while it covers several
 * of the users found so far per page, and otherwise each user's folder is
 * listed as soon as Langfuse names the user. A user whose images could not
 * all be read is marked incomplete, never dropped.
 */
#pragma once

#include <gio/gio.h>

#include "mt-config.h"
#include "mt-langfuse-client.h"
#include "mt-match-result.h"
#include "mt-s3-client.h"

G_BEGIN_DECLS

#define MT_MAPPING_ERROR (mt_mapping_error_quark ())

typedef enum {
  MT_MAPPING_ERROR_INVALID, /* a window that cannot be read */
} MtMappingError;

GQuark mt_mapping_error_quark (void);

typedef enum {
  MT_MAPPING_PHASE_IDLE,
  MT_MAPPING_PHASE_TRACES,   /* reading Langfuse (and already S3) */
  MT_MAPPING_PHASE_IMAGES,   /* the traces are in; the last listings */
  MT_MAPPING_PHASE_MATCHING,
  MT_MAPPING_PHASE_DONE,
} MtMappingPhase;

#define MT_TYPE_MAPPING_JOB (mt_mapping_job_get_type ())

G_DECLARE_FINAL_TYPE (MtMappingJob, mt_mapping_job, MT, MAPPING_JOB, GObject)

/* Fails when the configuration cannot make clients (it was checked when
 * loaded, so this is rare). */
MtMappingJob   *mt_mapping_job_new              (MtConfig            *config,
                                                 GError             **error);

/* Takes over what @earlier's clients learnt of the same servers (the
 * Langfuse generation, the rate limit, the bucket's region): a refresh in
 * the same session starts where the last one ended. */
void            mt_mapping_job_learn_from       (MtMappingJob        *self,
                                                 MtMappingJob        *earlier);

MtConfig       *mt_mapping_job_get_config       (MtMappingJob        *self);
MtLangfuseClient *mt_mapping_job_get_langfuse_client (MtMappingJob   *self);
MtS3Client     *mt_mapping_job_get_s3_client    (MtMappingJob        *self);

/* Progress, as properties (notified as they change): the phase; users
 * found with traces, and those whose images are known; traces and images
 * read so far; requests and retries to both services; whether Langfuse's
 * rate limit is being waited for. */
MtMappingPhase  mt_mapping_job_get_phase        (MtMappingJob        *self);
guint           mt_mapping_job_get_users        (MtMappingJob        *self);
guint           mt_mapping_job_get_users_done   (MtMappingJob        *self);
guint           mt_mapping_job_get_traces       (MtMappingJob        *self);
guint           mt_mapping_job_get_images       (MtMappingJob        *self);
guint           mt_mapping_job_get_requests     (MtMappingJob        *self);
guint           mt_mapping_job_get_retries      (MtMappingJob        *self);
gboolean        mt_mapping_job_get_rate_limited (MtMappingJob        *self);

/* Runs the job over [@from, @to) (milliseconds since the epoch);
 * @time_filter_days is recorded (0 for a custom range). The result comes
 * even when some fetch failed (it is then incomplete and says why); an
 * error only when nothing could be read because the keys or the bucket
 * were refused (MT_LANGFUSE_ERROR_UNAUTHORIZED / _FORBIDDEN, MT_S3_ERROR_*
 * for keys, tokens, the bucket, its region and the clock), or when
 * cancelled. */
void            mt_mapping_job_run_async        (MtMappingJob        *self,
                                                 gint64               from,
                                                 gint64               to,
                                                 guint                time_filter_days,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
MtMatchResult  *mt_mapping_job_run_finish       (MtMappingJob        *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);

/* Whether an error of a run means the settings were refused (wrong keys,
 * no such bucket…) rather than a service failing. */
gboolean        mt_mapping_error_is_rejection   (const GError        *error);

G_END_DECLS
