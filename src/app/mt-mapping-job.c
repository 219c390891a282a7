/* mt-mapping-job.c — a window's traces, their users' images, and the match */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mt-image.h"
#include "mt-mapping-job.h"
#include "mt-matcher.h"
#include "mt-sigv4.h"
#include "mt-time.h"
#include "mt-trace.h"

G_DEFINE_QUARK (mt-mapping-error-quark, mt_mapping_error)

/* Langfuse is asked this much at once at most, whatever S3 may take. */
#define MAX_LANGFUSE_IN_FLIGHT 8
/* A page of the whole prefix is worth reading on when it covers at least
 * this many of the users found so far: a user's own listing covers one. */
#define USERS_PER_PAGE_FOR_WHOLE 2

struct _MtMappingJob
{
  GObject parent_instance;

  MtConfig *config;
  MtLangfuseClient *langfuse;
  MtS3Client *s3;
  gboolean running;

  MtMappingPhase phase;
  guint users;
  guint users_done;
  guint traces;
  guint images;
};

G_DEFINE_FINAL_TYPE (MtMappingJob, mt_mapping_job, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PHASE,
  PROP_USERS,
  PROP_USERS_DONE,
  PROP_TRACES,
  PROP_IMAGES,
  PROP_REQUESTS,
  PROP_RETRIES,
  PROP_RATE_LIMITED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mt_mapping_job_finalize (GObject *object)
{
  MtMappingJob *self = MT_MAPPING_JOB (object);

  g_clear_object (&self->langfuse);
  g_clear_object (&self->s3);
  g_clear_pointer (&self->config, mt_config_unref);

  G_OBJECT_CLASS (mt_mapping_job_parent_class)->finalize (object);
}

static void
mt_mapping_job_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  MtMappingJob *self = MT_MAPPING_JOB (object);

  switch (prop_id)
    {
    case PROP_PHASE:
      g_value_set_uint (value, self->phase);
      break;
    case PROP_USERS:
      g_value_set_uint (value, self->users);
      break;
    case PROP_USERS_DONE:
      g_value_set_uint (value, self->users_done);
      break;
    case PROP_TRACES:
      g_value_set_uint (value, self->traces);
      break;
    case PROP_IMAGES:
      g_value_set_uint (value, self->images);
      break;
    case PROP_REQUESTS:
      g_value_set_uint (value, mt_mapping_job_get_requests (self));
      break;
    case PROP_RETRIES:
      g_value_set_uint (value, mt_mapping_job_get_retries (self));
      break;
    case PROP_RATE_LIMITED:
      g_value_set_boolean (value, mt_mapping_job_get_rate_limited (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_mapping_job_class_init (MtMappingJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = mt_mapping_job_finalize;
  object_class->get_property = mt_mapping_job_get_property;

  properties[PROP_PHASE] = g_param_spec_uint ("phase", NULL, NULL, 0, MT_MAPPING_PHASE_DONE, 0, ro);
  properties[PROP_USERS] = g_param_spec_uint ("users", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_USERS_DONE] = g_param_spec_uint ("users-done", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_TRACES] = g_param_spec_uint ("traces", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_IMAGES] = g_param_spec_uint ("images", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_REQUESTS] = g_param_spec_uint ("requests", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_RETRIES] = g_param_spec_uint ("retries", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_RATE_LIMITED] = g_param_spec_boolean ("rate-limited", NULL, NULL, FALSE, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_mapping_job_init (MtMappingJob *self)
{
}

/* The clients' counters are the job's. */
static void
forward_notify (GObject    *client,
                GParamSpec *pspec,
                gpointer    data)
{
  MtMappingJob *self = data;

  if (g_strcmp0 (pspec->name, "requests") == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REQUESTS]);
  else if (g_strcmp0 (pspec->name, "retries") == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRIES]);
  else if (g_strcmp0 (pspec->name, "rate-limited") == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RATE_LIMITED]);
  else if (g_strcmp0 (pspec->name, "traces") == 0)
    {
      self->traces = mt_langfuse_client_get_traces (MT_LANGFUSE_CLIENT (client));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRACES]);
    }
}

MtMappingJob *
mt_mapping_job_new (MtConfig  *config,
                    GError   **error)
{
  g_autoptr(MtMappingJob) self = g_object_new (MT_TYPE_MAPPING_JOB, NULL);

  g_return_val_if_fail (config != NULL, NULL);

  self->config = mt_config_ref (config);
  self->langfuse = mt_langfuse_client_new (config->langfuse_base_url, config->langfuse_public_key,
                                           config->langfuse_secret_key, error);
  if (self->langfuse == NULL)
    return NULL;
  self->s3 = mt_s3_client_new (config->aws_credentials, config->aws_region, config->aws_endpoint_url,
                               config->bucket, error);
  if (self->s3 == NULL)
    return NULL;
  mt_langfuse_client_set_max_in_flight (self->langfuse, MIN (config->max_in_flight, MAX_LANGFUSE_IN_FLIGHT));
  mt_s3_client_set_max_in_flight (self->s3, config->max_in_flight);
  g_signal_connect_object (self->langfuse, "notify", G_CALLBACK (forward_notify), self, 0);
  g_signal_connect_object (self->s3, "notify", G_CALLBACK (forward_notify), self, 0);
  return g_steal_pointer (&self);
}

void
mt_mapping_job_learn_from (MtMappingJob *self,
                           MtMappingJob *earlier)
{
  g_return_if_fail (MT_IS_MAPPING_JOB (self));
  g_return_if_fail (MT_IS_MAPPING_JOB (earlier));

  mt_langfuse_client_learn_from (self->langfuse, earlier->langfuse);
  mt_s3_client_learn_from (self->s3, earlier->s3);
}

MtConfig *
mt_mapping_job_get_config (MtMappingJob *self)
{
  g_return_val_if_fail (MT_IS_MAPPING_JOB (self), NULL);
  return self->config;
}

MtLangfuseClient *
mt_mapping_job_get_langfuse_client (MtMappingJob *self)
{
  g_return_val_if_fail (MT_IS_MAPPING_JOB (self), NULL);
  return self->langfuse;
}

MtS3Client *
mt_mapping_job_get_s3_client (MtMappingJob *self)
{
  g_return_val_if_fail (MT_IS_MAPPING_JOB (self), NULL);
  return self->s3;
}

MtMappingPhase
mt_mapping_job_get_phase (MtMappingJob *self)
{
  g_return_val_if_fail (MT_IS_MAPPING_JOB (self), MT_MAPPING_PHASE_IDLE);
  return self->phase;
}

guint
mt_mapping_job_get_users (MtMappingJob *self)
{
  g_return_val_if_fail (MT_IS_MAPPING_JOB (self), 0);
  return self->users;
}

guint
mt_mapping_job_get_users_done (MtMappingJob *self)
{
  g_return_val_if_fail (MT_IS_MAPPING_JOB (self), 0);
  return self->users_done;
}

guint
mt_mapping_job_get_traces (MtMappingJob *self)
{
  g_return_val_if_fail (MT_IS_MAPPING_JOB (self), 0);
  return self->traces;
}

guint
mt_mapping_job_get_images (MtMappingJob *self)
{
  g_return_val_if_fail (MT_IS_MAPPING_JOB (self), 0);
  return self->images;
}

guint
mt_mapping_job_get_requests (MtMappingJob *self)
{
  g_return_val_if_fail (MT_IS_MAPPING_JOB (self), 0);
  return mt_langfuse_client_get_requests (self->langfuse) + mt_s3_client_get_requests (self->s3);
}

guint
mt_mapping_job_get_retries (MtMappingJob *self)
{
  g_return_val_if_fail (MT_IS_MAPPING_JOB (self), 0);
  return mt_langfuse_client_get_retries (self->langfuse) + mt_s3_client_get_retries (self->s3);
}

gboolean
mt_mapping_job_get_rate_limited (MtMappingJob *self)
{
  g_return_val_if_fail (MT_IS_MAPPING_JOB (self), FALSE);
  return mt_langfuse_client_get_rate_limited (self->langfuse);
}

gboolean
mt_mapping_error_is_rejection (const GError *error)
{
  if (error == NULL)
    return FALSE;
  if (error->domain == MT_LANGFUSE_ERROR)
    return error->code == MT_LANGFUSE_ERROR_UNAUTHORIZED || error->code == MT_LANGFUSE_ERROR_FORBIDDEN;
  if (error->domain == MT_S3_ERROR)
    return error->code == MT_S3_ERROR_ACCESS_DENIED || error->code == MT_S3_ERROR_INVALID_ACCESS_KEY ||
           error->code == MT_S3_ERROR_SIGNATURE_MISMATCH || error->code == MT_S3_ERROR_EXPIRED_TOKEN ||
           error->code == MT_S3_ERROR_INVALID_TOKEN || error->code == MT_S3_ERROR_NO_SUCH_BUCKET ||
           error->code == MT_S3_ERROR_WRONG_REGION || error->code == MT_S3_ERROR_CLOCK_SKEW;
  return FALSE;
}

static void
set_phase (MtMappingJob   *self,
           MtMappingPhase  phase)
{
  if (self->phase == phase)
    return;
  self->phase = phase;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PHASE]);
}

/* A run */

typedef struct {
  char *id;
  char *folder;        /* "{prefix}{id}/" */
  GPtrArray *images;   /* MtImage */
  gboolean known;      /* Langfuse named the user */
  gboolean covered;    /* the whole-prefix walk has read all of the folder */
  gboolean listing;    /* the folder's own listing is out */
  gboolean listed;     /* the folder's own listing is in */
  gboolean incomplete;
} User;

typedef enum {
  MODE_UNDECIDED,  /* until the walk's first page (and some users) are in */
  MODE_WHOLE,      /* the walk reads on to the end */
  MODE_PER_USER,   /* each user's folder on its own */
} Mode;

typedef struct {
  MtMappingJob *job;
  gint64 from;
  gint64 to;
  guint days;
  GCancellable *cancellable;        /* ours: also stops on a refusal */
  GCancellable *caller_cancellable;
  gulong caller_handler;
  guint pending;                    /* operations out */
  GError *fatal;
  GPtrArray *errors;                /* messages of fetches that failed */

  GHashTable *users;                /* id → User */
  /* Of the known users, kept as they change (see tally): */
  guint settled;                    /* how many have their images known */
  guint unsettled;                  /* how many are listing or not settled */
  guint images;                     /* their images */
  Mode mode;
  gboolean walk_running;
  gboolean walk_complete;           /* it read the whole prefix */
  gboolean walk_failed;
  char *walk_token;                 /* where a paused walk goes on */
  char *walk_last_key;              /* the last key it has read */
  guint walk_pages;

  gboolean langfuse_done;
  GPtrArray *traces;                /* MtTrace, when Langfuse is done */
  MtLangfuseApi api;
  gulong user_found_handler;
  gulong pages_handler;
  gboolean stop_walk;               /* every user is settled */
  gboolean matching;
  gboolean returned;
} Run;

static void
user_free (gpointer data)
{
  User *user = data;

  g_free (user->id);
  g_free (user->folder);
  g_ptr_array_unref (user->images);
  g_free (user);
}

static void
run_free (gpointer data)
{
  Run *run = data;

  if (run->caller_cancellable != NULL)
    g_cancellable_disconnect (run->caller_cancellable, run->caller_handler);
  g_clear_signal_handler (&run->user_found_handler, run->job->langfuse);
  g_clear_signal_handler (&run->pages_handler, run->job->langfuse);
  g_clear_object (&run->caller_cancellable);
  g_clear_object (&run->cancellable);
  g_clear_error (&run->fatal);
  g_ptr_array_unref (run->errors);
  g_hash_table_unref (run->users);
  g_free (run->walk_token);
  g_free (run->walk_last_key);
  g_clear_pointer (&run->traces, g_ptr_array_unref);
  g_object_unref (run->job);
  g_free (run);
}

static void check_done (GTask *task);

/* The run gives its answer: nothing of it may act after. */
static void
run_end (Run *run)
{
  run->returned = TRUE;
  run->job->running = FALSE;
  g_clear_signal_handler (&run->user_found_handler, run->job->langfuse);
  g_clear_signal_handler (&run->pages_handler, run->job->langfuse);
}
static void start_walk (GTask *task);

static User *
ensure_user (Run        *run,
             const char *id)
{
  User *user = g_hash_table_lookup (run->users, id);

  if (user == NULL)
    {
      user = g_new0 (User, 1);
      user->id = g_strdup (id);
      user->folder = g_strconcat (run->job->config->prefix, id, "/", NULL);
      user->images = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (run->users, user->id, user);
    }
  return user;
}

/* Whether the walk, having read up to @last_key, has read all of @user's
 * folder: the folder sorts before the key and the key is not in it. */
static gboolean
walk_covers (const char *last_key,
             User       *user)
{
  return last_key != NULL && strcmp (user->folder, last_key) < 0 && !g_str_has_prefix (last_key, user->folder);
}

/* Users whose images are known: covered by the walk or listed. */
static gboolean
user_settled (User *user)
{
  return user->covered || user->listed || user->incomplete;
}

/* Adds (@sign 1) or takes away (-1) what @user counts for in the run's
 * tallies: around every change to a user, so no event walks them all. */
static void
tally (Run  *run,
       User *user,
       int   sign)
{
  gboolean settled = user_settled (user);

  if (!user->known)
    return;
  run->settled += sign * settled;
  run->unsettled += sign * (user->listing || !settled);
  run->images += sign * (int) user->images->len;
}

static void
count_users_done (Run *run)
{
  MtMappingJob *self = run->job;

  if (run->settled != self->users_done)
    {
      self->users_done = run->settled;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USERS_DONE]);
    }
  if (run->images != self->images)
    {
      self->images = run->images;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGES]);
    }
}

static void
fail_run (Run    *run,
          GError *error)
{
  if (run->fatal == NULL)
    {
      run->fatal = error;
      g_cancellable_cancel (run->cancellable);
    }
  else
    g_error_free (error);
}

/* A user's own listing */

typedef struct {
  GTask *task;
  char *id;
} UserListing;

static void
on_user_listed (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  UserListing *listing = data;
  Run *run = g_task_get_task_data (listing->task);
  User *user = g_hash_table_lookup (run->users, listing->id);
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GError) error = NULL;

  objects = mt_s3_client_list_objects_finish (MT_S3_CLIENT (source), result, &error);
  tally (run, user, -1);
  user->listing = FALSE;
  if (objects == NULL)
    {
      if (mt_mapping_error_is_rejection (error))
        fail_run (run, g_steal_pointer (&error));
      else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          /* The user's data is not all there: said, not dropped. */
          user->incomplete = TRUE;
          g_ptr_array_add (run->errors, g_strdup (error->message));
        }
    }
  else
    {
      /* The folder's own listing is the whole of it: what the walk may have
       * read of it (the folder across a page's end) is replaced. */
      g_ptr_array_set_size (user->images, 0);
      for (guint i = 0; i < objects->len; i++)
        {
          MtS3Object *object = g_ptr_array_index (objects, i);

          if (mt_image_key_is_image (object->key))
            g_ptr_array_add (user->images, mt_image_new (object->key, user->id, object->last_modified,
                                                         object->size, object->etag));
        }
      user->listed = TRUE;
    }
  tally (run, user, 1);
  count_users_done (run);
  run->pending--;
  check_done (listing->task);
  g_object_unref (listing->task);
  g_free (listing->id);
  g_free (listing);
}

static void
list_user (GTask *task,
           User  *user)
{
  Run *run = g_task_get_task_data (task);
  UserListing *listing = g_new0 (UserListing, 1);

  listing->task = g_object_ref (task);
  listing->id = g_strdup (user->id);
  tally (run, user, -1);
  user->listing = TRUE;
  tally (run, user, 1);
  run->pending++;
  mt_s3_client_list_objects_async (run->job->s3, user->folder, run->cancellable, on_user_listed, listing);
}

/* Whether @user needs its own listing: known, not covered by the walk
 * and not listed yet. */
static gboolean
needs_listing (User *user)
{
  return user->known && !user->covered && !user->listing && !user->listed && !user->incomplete;
}

/* Lists the users that need their own listing. */
static void
list_users (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  g_autoptr(GPtrArray) todo = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  if (run->mode != MODE_PER_USER || g_cancellable_is_cancelled (run->cancellable))
    return;
  g_hash_table_iter_init (&iter, run->users);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      User *user = value;

      if (needs_listing (user))
        g_ptr_array_add (todo, user);
    }
  for (guint i = 0; i < todo->len; i++)
    list_user (task, g_ptr_array_index (todo, i));
}

/* The choice between the walk and the users' own listings, made once the
 * walk's first page is in and Langfuse has named some users (or none).
 * Returns whether it is made. */
static gboolean
decide (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  GHashTableIter iter;
  gpointer value;
  guint covered = 0;

  if (run->mode != MODE_UNDECIDED || run->walk_pages == 0)
    return run->mode != MODE_UNDECIDED;
  if (run->walk_complete)
    {
      run->mode = MODE_WHOLE;
      return TRUE;
    }
  /* Langfuse's pages are weighed whole, once one has named a user: a
   * page of generations names none. */
  if (!run->langfuse_done && (mt_langfuse_client_get_pages (run->job->langfuse) == 0 || run->job->users == 0))
    return FALSE;

  /* How many of the users found so far the first page covers: a page of
   * the walk is worth as many of their own listings. */
  g_hash_table_iter_init (&iter, run->users);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    covered += ((User *) value)->known && ((User *) value)->covered;
  run->mode = covered >= USERS_PER_PAGE_FOR_WHOLE ? MODE_WHOLE : MODE_PER_USER;
  g_debug ("the first page of %s covers %u of the %u users found: %s", run->job->config->prefix, covered,
           run->job->users, run->mode == MODE_WHOLE ? "reading the whole prefix" : "listing each user");
  return TRUE;
}

/* After any news: the decision, and what it sets going. */
static void
advance (GTask *task)
{
  Run *run = g_task_get_task_data (task);

  if (g_cancellable_is_cancelled (run->cancellable) || !decide (task))
    return;
  if (run->mode == MODE_WHOLE && !run->walk_running && !run->walk_complete && !run->walk_failed &&
      run->walk_token != NULL)
    start_walk (task);
  list_users (task);
}

/* The whole-prefix walk */

static gboolean
on_walk_page (GPtrArray  *objects,
              const char *next_token,
              gpointer    data)
{
  GTask *task = data;
  Run *run = g_task_get_task_data (task);
  const char *prefix = run->job->config->prefix;
  GHashTableIter iter;
  gpointer value;

  for (guint i = 0; i < objects->len; i++)
    {
      MtS3Object *object = g_ptr_array_index (objects, i);
      g_autofree char *id = NULL;
      User *user;

      if (!mt_image_key_is_image (object->key) || (id = mt_image_user_id_from_key (object->key, prefix)) == NULL)
        continue;
      user = ensure_user (run, id);
      if (!user->listed && !user->listing)
        {
          g_ptr_array_add (user->images, mt_image_new (object->key, user->id, object->last_modified,
                                                       object->size, object->etag));
          run->images += user->known;
        }
    }
  if (objects->len > 0)
    {
      g_free (run->walk_last_key);
      run->walk_last_key = g_strdup (((MtS3Object *) g_ptr_array_index (objects, objects->len - 1))->key);
    }
  run->walk_pages++;
  g_free (run->walk_token);
  run->walk_token = g_strdup (next_token);
  if (next_token == NULL)
    run->walk_complete = TRUE;

  g_hash_table_iter_init (&iter, run->users);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      User *user = value;

      if (!user->covered && (run->walk_complete || walk_covers (run->walk_last_key, user)))
        {
          tally (run, user, -1);
          user->covered = TRUE;
          tally (run, user, 1);
        }
    }
  count_users_done (run);

  if (g_cancellable_is_cancelled (run->cancellable) || run->stop_walk)
    return FALSE;
  if (run->mode == MODE_UNDECIDED)
    decide (task);
  /* Walk on while it is the way chosen (undecided: pause, and resume when
   * the choice is made). */
  return run->mode == MODE_WHOLE;
}

static void
on_walk_done (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  g_autoptr(GTask) task = data;
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  run->walk_running = FALSE;
  if (!mt_s3_client_list_pages_finish (MT_S3_CLIENT (source), result, NULL, &error))
    {
      if (mt_mapping_error_is_rejection (error))
        fail_run (run, g_steal_pointer (&error));
      else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          /* What the walk has not read, each user's own listing may. */
          g_debug ("the walk of the whole prefix failed (%s); listing each user instead", error->message);
          run->walk_failed = TRUE;
          run->mode = MODE_PER_USER;
        }
    }
  run->pending--;
  advance (task);
  check_done (task);
}

static void
start_walk (GTask *task)
{
  Run *run = g_task_get_task_data (task);

  run->walk_running = TRUE;
  run->pending++;
  mt_s3_client_list_pages_async (run->job->s3, run->job->config->prefix, run->walk_token, on_walk_page,
                                 g_object_ref (task), g_object_unref, run->cancellable, on_walk_done,
                                 g_object_ref (task));
}

/* Langfuse */

static void
on_user_found (MtLangfuseClient *client,
               const char       *user_id,
               gpointer          data)
{
  GTask *task = data;
  Run *run = g_task_get_task_data (task);
  User *user = ensure_user (run, user_id);

  if (user->known)
    return;
  user->known = TRUE;
  if (run->walk_last_key != NULL && !user->covered && (run->walk_complete || walk_covers (run->walk_last_key, user)))
    user->covered = TRUE;
  tally (run, user, 1);
  run->job->users++;
  g_object_notify_by_pspec (G_OBJECT (run->job), properties[PROP_USERS]);
  count_users_done (run);
  /* Undecided, the choice waits for the end of the page (notify::pages).
   * Decided, the news is of this user alone: listing each user, it is
   * listed; the walk already reads on or is done. */
  if (run->mode == MODE_PER_USER && !g_cancellable_is_cancelled (run->cancellable) && needs_listing (user))
    list_user (task, user);
}

static void
on_traces (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  g_autoptr(GTask) task = data;
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  run->traces = mt_langfuse_client_fetch_traces_finish (MT_LANGFUSE_CLIENT (source), result, &run->api, &error);
  run->langfuse_done = TRUE;
  if (run->traces == NULL)
    {
      if (mt_mapping_error_is_rejection (error))
        fail_run (run, g_steal_pointer (&error));
      else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          /* Nothing to match, and said so; the listings have no users. */
          g_ptr_array_add (run->errors, g_strdup (error->message));
          g_cancellable_cancel (run->cancellable);
        }
      run->traces = g_ptr_array_new_with_free_func (g_object_unref);
    }
  else
    {
      /* Every user of a trace, whether announced or not. */
      for (guint i = 0; i < run->traces->len; i++)
        {
          const char *user_id = mt_trace_get_user_id (g_ptr_array_index (run->traces, i));

          if (user_id != NULL)
            on_user_found (MT_LANGFUSE_CLIENT (source), user_id, task);
        }
      set_phase (run->job, MT_MAPPING_PHASE_IMAGES);
    }
  run->pending--;
  advance (task);
  check_done (task);
}

/* Matching */

/* The images of a result are presigned in as many parts as there are
 * processors, each in a thread: signing is all computation, and the run's
 * answer waits for it. */
typedef struct {
  MtS3Client *s3;
  guint lifetime;
  gint64 time;
  GPtrArray *images;  /* MtImage, this part's */
  char **urls;        /* theirs, set in the thread */
} PresignPart;

typedef struct {
  GTask *task;            /* the run's */
  MtMatchResult *matched;
  guint parts_left;
} Presigning;

static void
presign_part_free (gpointer data)
{
  PresignPart *part = data;

  g_ptr_array_unref (part->images);
  g_strfreev (part->urls);
  g_object_unref (part->s3);
  g_free (part);
}

static void
presign_in_thread (GTask        *task,
                   gpointer      source,
                   gpointer      data,
                   GCancellable *cancellable)
{
  PresignPart *part = data;

  for (guint i = 0; i < part->images->len; i++)
    part->urls[i] = mt_s3_client_presign_get (part->s3, mt_image_get_key (g_ptr_array_index (part->images, i)),
                                              part->lifetime, part->time, NULL);
  mt_sigv4_thread_done ();
  g_task_return_boolean (task, TRUE);
}

static void
finish_matching (Presigning *presigning)
{
  g_autoptr(GTask) task = presigning->task;
  Run *run = g_task_get_task_data (task);
  MtMatchResult *matched = presigning->matched;

  g_free (presigning);
  set_phase (run->job, MT_MAPPING_PHASE_DONE);
  g_task_return_pointer (task, matched, g_object_unref);
}

static void
on_part_presigned (GObject      *source,
                   GAsyncResult *result,
                   gpointer      data)
{
  Presigning *presigning = data;
  PresignPart *part = g_task_get_task_data (G_TASK (result));

  /* URLs are set here, in the caller's thread, where they are watched. */
  for (guint i = 0; i < part->images->len; i++)
    mt_image_set_url (g_ptr_array_index (part->images, i), part->urls[i]);
  if (--presigning->parts_left == 0)
    finish_matching (presigning);
}

static void
presign_images (GTask         *task,
                MtMatchResult *matched)
{
  Run *run = g_task_get_task_data (task);
  MtMappingJob *self = run->job;
  guint n_users = g_list_model_get_n_items (G_LIST_MODEL (matched));
  guint n_parts = MAX (g_get_num_processors (), 1);
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func (g_object_unref);
  Presigning *presigning = g_new0 (Presigning, 1);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  presigning->task = g_object_ref (task);
  presigning->matched = matched;
  for (guint i = 0; i < n_users; i++)
    {
      g_autoptr(MtUserResult) user = g_list_model_get_item (G_LIST_MODEL (matched), i);
      GPtrArray *user_images = mt_user_result_get_images (user);

      for (guint j = 0; user_images != NULL && j < user_images->len; j++)
        g_ptr_array_add (images, g_object_ref (g_ptr_array_index (user_images, j)));
    }
  n_parts = MIN (n_parts, MAX (images->len / 256, 1));
  presigning->parts_left = n_parts;
  for (guint k = 0; k < n_parts; k++)
    {
      PresignPart *part = g_new0 (PresignPart, 1);
      guint first = images->len * k / n_parts, last = images->len * (k + 1) / n_parts;
      g_autoptr(GTask) thread = g_task_new (NULL, NULL, on_part_presigned, presigning);

      part->s3 = g_object_ref (self->s3);
      part->lifetime = self->config->url_lifetime;
      part->time = now;
      part->images = g_ptr_array_new_full (last - first, g_object_unref);
      for (guint i = first; i < last; i++)
        g_ptr_array_add (part->images, g_object_ref (g_ptr_array_index (images, i)));
      part->urls = g_new0 (char *, last - first + 1);
      g_task_set_task_data (thread, part, presign_part_free);
      g_task_run_in_thread (thread, presign_in_thread);
    }
}

static void
on_matched (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  g_autoptr(GTask) task = data;
  Run *run = g_task_get_task_data (task);
  MtMatchResult *matched = NULL;
  GError *error = NULL;

  matched = mt_matcher_run_finish (MT_MATCHER (source), result, &error);
  run->pending--;
  run_end (run);
  if (matched == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  mt_match_result_set_langfuse_api (matched, mt_langfuse_api_to_string (run->api));
  mt_match_result_set_s3_listing (matched, run->mode == MODE_WHOLE && run->walk_complete ? "whole_prefix"
                                                                                       : "per_user");
  for (guint i = 0; i < run->errors->len; i++)
    mt_match_result_add_error (matched, g_ptr_array_index (run->errors, i));
  presign_images (task, matched);
}

static void
start_matching (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  MtConfig *config = run->job->config;
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  g_autoptr(GHashTable) by_user = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                         (GDestroyNotify) g_ptr_array_unref);
  GHashTableIter iter;
  gpointer key, value;
  guint without_user = 0;

  run->matching = TRUE;
  set_phase (run->job, MT_MAPPING_PHASE_MATCHING);
  mt_matcher_set_window (matcher, run->from, run->to, run->days);
  mt_matcher_set_max_gap_ms (matcher, config->max_gap_ms);

  for (guint i = 0; i < run->traces->len; i++)
    {
      MtTrace *trace = g_ptr_array_index (run->traces, i);
      const char *user_id = mt_trace_get_user_id (trace);
      GPtrArray *traces;

      if (user_id == NULL)
        {
          without_user++;
          continue;
        }
      traces = g_hash_table_lookup (by_user, user_id);
      if (traces == NULL)
        {
          traces = g_ptr_array_new_with_free_func (g_object_unref);
          g_hash_table_insert (by_user, (gpointer) mt_trace_get_user_id (trace), traces);
        }
      g_ptr_array_add (traces, g_object_ref (trace));
    }
  mt_matcher_add_traces_without_user (matcher, without_user);

  g_hash_table_iter_init (&iter, by_user);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      User *user = g_hash_table_lookup (run->users, key);
      GPtrArray *images = NULL;

      if (user != NULL)
        {
          tally (run, user, -1);
          images = g_steal_pointer (&user->images);
          user->images = g_ptr_array_new_with_free_func (g_object_unref);
          tally (run, user, 1);
        }
      g_hash_table_iter_steal (&iter);
      mt_matcher_take_user (matcher, g_strdup (key), value, images);
      if (user != NULL && user->incomplete)
        mt_matcher_mark_incomplete (matcher, key);
    }

  run->pending++;
  mt_matcher_run_async (matcher, run->caller_cancellable, on_matched, g_object_ref (task));
}

/* Whether every user Langfuse named has its images settled. */
static gboolean
images_settled (Run *run)
{
  return run->unsettled == 0;
}

static void
check_done (GTask *task)
{
  Run *run = g_task_get_task_data (task);

  if (run->matching || run->returned)
    return;
  if (run->fatal != NULL || g_cancellable_is_cancelled (run->caller_cancellable))
    {
      if (run->pending > 0)
        return;
      run_end (run);
      if (run->fatal != NULL)
        g_task_return_error (task, g_steal_pointer (&run->fatal));
      else
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Operation was cancelled"));
      return;
    }
  if (!run->langfuse_done)
    return;
  /* Without traces (Langfuse failed, or the window is empty), no images
   * are needed. */
  if (run->traces->len > 0 && !images_settled (run))
    {
      /* Undecided with the walk paused, and Langfuse done: decide now. */
      advance (task);
      if (!images_settled (run))
        return;
    }
  /* Every user is settled: the walk need not read on. */
  run->stop_walk = TRUE;
  if (run->pending > 0)
    return;
  start_matching (task);
}

static void
on_caller_cancelled (GCancellable *cancellable,
                     gpointer      data)
{
  g_cancellable_cancel (data);
}

void
mt_mapping_job_run_async (MtMappingJob        *self,
                          gint64               from,
                          gint64               to,
                          guint                time_filter_days,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Run *run;

  g_return_if_fail (MT_IS_MAPPING_JOB (self));
  g_return_if_fail (!self->running);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mt_mapping_job_run_async);
  if (from >= to)
    {
      g_task_return_new_error (task, MT_MAPPING_ERROR, MT_MAPPING_ERROR_INVALID,
                               _("The time window is empty: its start is not before its end."));
      return;
    }

  run = g_new0 (Run, 1);
  run->job = g_object_ref (self);
  run->from = from;
  run->to = to;
  run->days = time_filter_days;
  run->cancellable = g_cancellable_new ();
  run->errors = g_ptr_array_new_with_free_func (g_free);
  run->users = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, user_free);
  run->caller_cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  run->caller_handler = g_cancellable_connect (run->caller_cancellable, G_CALLBACK (on_caller_cancelled),
                                               g_object_ref (run->cancellable), g_object_unref);
  g_task_set_task_data (task, run, run_free);

  self->running = TRUE;
  self->users = self->users_done = self->traces = self->images = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USERS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USERS_DONE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRACES]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGES]);
  set_phase (self, MT_MAPPING_PHASE_TRACES);

  /* Both services at once: Langfuse's traces, and the first page of the
   * whole prefix, which tells how to read the rest. */
  run->user_found_handler = g_signal_connect (self->langfuse, "user-found", G_CALLBACK (on_user_found), task);
  run->pages_handler = g_signal_connect_swapped (self->langfuse, "notify::pages", G_CALLBACK (advance), task);
  run->pending++;
  mt_langfuse_client_fetch_traces_async (self->langfuse, from, to, self->config->langfuse_api, run->cancellable,
                                         on_traces, g_object_ref (task));
  start_walk (task);
}

MtMatchResult *
mt_mapping_job_run_finish (MtMappingJob  *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  self->running = FALSE;
  return g_task_propagate_pointer (G_TASK (result), error);
}
