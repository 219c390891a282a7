/* test-mapping-job.c — the job against loopback Langfuse and S3 */

#include <glib/gstdio.h>
#include <string.h>

#include "mt-image.h"
#include "mt-fake-langfuse.h"
#include "mt-fake-s3.h"
#include "mt-mapping-job.h"
#include "mt-match-summary.h"
#include "mt-trace.h"
#include "mt-user-result.h"

#define PUBLIC_KEY "pk-lf-job"
#define SECRET_KEY "sk-lf-job-secret"
#define KEY_ID "AKIAJOBJOBJOBJOBJOB0"
#define AWS_SECRET "job-aws-secret-0123456789abcdefghij"
#define BUCKET "meals"
/* 2026-10-01T00:00:00Z, and a day. */
#define FROM G_GINT64_CONSTANT (1790812800000)
#define DAY G_GINT64_CONSTANT (86400000)
#define TO (FROM + DAY)

typedef struct {
  MtLoopbackLangfuse *langfuse;
  MtLoopbackS3 *s3;
  char *home;
  guint traces;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->langfuse = mt_loopback_langfuse_new (PUBLIC_KEY, SECRET_KEY);
  f->s3 = mt_loopback_s3_new ("us-east-1", KEY_ID, AWS_SECRET, NULL);
  mt_loopback_s3_add_bucket (f->s3, BUCKET);
  f->home = g_dir_make_tmp ("mealtrace-job-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_object_add_weak_pointer (G_OBJECT (f->langfuse), (gpointer *) &f->langfuse);
  g_object_add_weak_pointer (G_OBJECT (f->s3), (gpointer *) &f->s3);
  g_object_unref (f->langfuse);
  g_object_unref (f->s3);
  g_assert_null (f->langfuse);
  g_assert_null (f->s3);
  g_rmdir (f->home);
  g_free (f->home);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static MtMappingJob *
job_new (Fixture *f, const char *aws_secret, const char *extra)
{
  g_autofree char *home = g_strconcat ("HOME=", f->home, NULL);
  g_autofree char *langfuse = g_strconcat ("LANGFUSE_BASE_URL=", mt_loopback_langfuse_get_base_url (f->langfuse), NULL);
  g_autofree char *endpoint = g_strconcat ("AWS_ENDPOINT_URL_S3=", mt_loopback_s3_get_endpoint (f->s3), NULL);
  g_autofree char *secret = g_strconcat ("AWS_SECRET_ACCESS_KEY=", aws_secret, NULL);
  const char *environ[] = {
    home, langfuse, endpoint, secret, "LANGFUSE_PUBLIC_KEY=" PUBLIC_KEY, "LANGFUSE_SECRET_KEY=" SECRET_KEY,
    "AWS_ACCESS_KEY_ID=" KEY_ID, "MEALTRACE_S3_BUCKET=" BUCKET, "MEALTRACE_TIMEZONE=UTC",
    extra != NULL ? extra : "MEALTRACE_MAX_IN_FLIGHT=16", NULL,
  };
  g_autofree char *dotenv_path = g_build_filename (f->home, "no.env", NULL);
  g_autoptr(GFile) dotenv = g_file_new_for_path (dotenv_path);
  MtConfigSources sources = { NULL, environ, dotenv, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(MtConfig) config = mt_config_load (&sources, &error);
  MtMappingJob *job;

  g_assert_no_error (error);
  job = mt_mapping_job_new (config, &error);
  g_assert_no_error (error);
  mt_s3_client_set_retry_delay_ms (mt_mapping_job_get_s3_client (job), 1);
  mt_langfuse_client_set_retry_delay_ms (mt_mapping_job_get_langfuse_client (job), 1);
  return job;
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static MtMatchResult *
run (MtMappingJob *job, GCancellable *cancellable, GError **error)
{
  GAsyncResult *result = NULL;
  MtMatchResult *match;

  mt_mapping_job_run_async (job, FROM, TO, 1, cancellable, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  match = mt_mapping_job_run_finish (job, result, error);
  g_object_unref (result);
  if (error != NULL && *error != NULL)
    g_test_message ("error: %s", (*error)->message);
  return match;
}

static void
add_trace (Fixture *f, const char *user, gint64 time)
{
  g_autofree char *id = g_strdup_printf ("trace-%05u", f->traces++);

  mt_loopback_langfuse_add_trace (f->langfuse, id, time, "meal-analysis", user, NULL, "{\"image\":\"x\"}", NULL);
}

static void
add_image (Fixture *f, const char *user, gint64 time, const char *name)
{
  g_autofree char *key = g_strdup_printf ("meal-images/%s/%s", user, name);

  mt_loopback_s3_put (f->s3, BUCKET, key, time, NULL, 1000);
}

/* A small world: every case of SPEC §4 and §5. */
static void
populate_small (Fixture *f)
{
  /* ana: two traces, two images after them, one image before any trace. */
  add_trace (f, "ana", FROM + 1000);
  add_trace (f, "ana", FROM + 60000);
  add_image (f, "ana", FROM + 500, "early.jpg");
  add_image (f, "ana", FROM + 5000, "lunch.jpg");
  add_image (f, "ana", FROM + 90000, "dinner.png");
  mt_loopback_s3_put (f->s3, BUCKET, "meal-images/ana/notes.txt", FROM + 6000, NULL, 10);
  /* bao: traces, no images. */
  add_trace (f, "bao", FROM + 2000);
  /* chi: a trace, an image before it only. */
  add_trace (f, "chi", FROM + 70000);
  add_image (f, "chi", FROM + 10000, "breakfast.jpg");
  /* An image of a user without traces, and a trace without user. */
  add_image (f, "dan", FROM + 3000, "snack.jpg");
  add_trace (f, NULL, FROM + 4000);
}

static void
test_small_world (Fixture *f, gconstpointer data)
{
  g_autoptr(MtMappingJob) job = job_new (f, AWS_SECRET, NULL);
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(GError) error = NULL;
  MtMatchSummary *summary;
  MtUserResult *ana;
  GPtrArray *pairs;

  populate_small (f);
  result = run (job, NULL, &error);
  g_assert_no_error (error);
  summary = mt_match_result_get_summary (result);
  g_assert_cmpuint (mt_match_summary_get_total_users (summary), ==, 3);
  g_assert_cmpuint (mt_match_summary_get_total_traces (summary), ==, 4);
  g_assert_cmpuint (mt_match_summary_get_traces_without_user (summary), ==, 1);
  g_assert_cmpuint (mt_match_summary_get_total_images (summary), ==, 4);
  g_assert_cmpuint (mt_match_summary_get_total_matched_pairs (summary), ==, 2);
  g_assert_cmpuint (mt_match_summary_get_users_with_matches (summary), ==, 1);
  g_assert_true (mt_match_result_is_complete (result));
  g_assert_cmpstr (mt_match_result_get_langfuse_api (result), ==, "v2");
  /* Eight objects: one page of the whole prefix, nothing else. */
  g_assert_cmpstr (mt_match_result_get_s3_listing (result), ==, "whole_prefix");
  g_assert_cmpuint (mt_s3_client_get_requests (mt_mapping_job_get_s3_client (job)), ==, 1);

  ana = mt_match_result_lookup_user (result, "ana");
  g_assert_nonnull (ana);
  pairs = mt_user_result_get_pairs (ana);
  g_assert_cmpuint (pairs->len, ==, 2);
  /* Every image has a presigned URL for the exports. */
  for (guint i = 0; i < mt_user_result_get_images (ana)->len; i++)
    {
      MtImage *image = g_ptr_array_index (mt_user_result_get_images (ana), i);

      g_assert_nonnull (mt_image_get_url (image));
      g_assert_true (g_str_has_prefix (mt_image_get_url (image), mt_loopback_s3_get_endpoint (f->s3)));
      g_assert_nonnull (strstr (mt_image_get_url (image), "X-Amz-Expires=3600"));
    }
  g_assert_null (mt_match_result_lookup_user (result, "dan"));

  g_assert_cmpint (mt_mapping_job_get_phase (job), ==, MT_MAPPING_PHASE_DONE);
  g_assert_cmpuint (mt_mapping_job_get_users (job), ==, 3);
  g_assert_cmpuint (mt_mapping_job_get_users_done (job), ==, 3);
}

/* Users spread thin among many others: each is listed on its own, as soon
 * as Langfuse names it. */
static void
test_per_user (Fixture *f, gconstpointer data)
{
  g_autoptr(MtMappingJob) job = job_new (f, AWS_SECRET, NULL);
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 2500; i++)
    {
      g_autofree char *other = g_strdup_printf ("a-other-%04u", i);

      add_image (f, other, FROM + i, "photo.jpg");
    }
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *user = g_strdup_printf ("z-user-%u", i);

      add_trace (f, user, FROM + 1000 + i);
      add_image (f, user, FROM + 2000 + i, "meal.jpg");
    }

  result = run (job, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mt_match_result_get_s3_listing (result), ==, "per_user");
  g_assert_cmpuint (mt_match_summary_get_total_matched_pairs (mt_match_result_get_summary (result)), ==, 5);
  /* The progress figures, kept as the users changed, end with all of them. */
  g_assert_cmpuint (mt_mapping_job_get_users_done (job), ==, mt_mapping_job_get_users (job));
  g_assert_cmpuint (mt_mapping_job_get_images (job), ==,
                    mt_match_summary_get_total_images (mt_match_result_get_summary (result)));
  /* The first page of the prefix, then five listings: not three pages. */
  g_assert_cmpuint (mt_s3_client_get_requests (mt_mapping_job_get_s3_client (job)), ==, 1 + 5);
}

/* Many users, dense in the prefix: the whole prefix, page by page. */
static void
test_whole_prefix (Fixture *f, gconstpointer data)
{
  g_autoptr(MtMappingJob) job = job_new (f, AWS_SECRET, NULL);
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 600; i++)
    {
      g_autofree char *user = g_strdup_printf ("user-%04u", i);

      add_trace (f, user, FROM + 1000 + i);
      for (guint j = 0; j < 3; j++)
        {
          g_autofree char *name = g_strdup_printf ("meal-%u.jpg", j);

          add_image (f, user, FROM + 5000 + i * 10 + j, name);
        }
    }

  result = run (job, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mt_match_result_get_s3_listing (result), ==, "whole_prefix");
  g_assert_cmpuint (mt_match_summary_get_total_images (mt_match_result_get_summary (result)), ==, 1800);
  g_assert_cmpuint (mt_mapping_job_get_users_done (job), ==, mt_mapping_job_get_users (job));
  g_assert_cmpuint (mt_mapping_job_get_images (job), ==, 1800);
  /* Signed in parts, in threads: every image has its own URL. */
  {
    g_autoptr(GHashTable) urls = g_hash_table_new (g_str_hash, g_str_equal);
    guint images = 0;

    for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (result)); i++)
      {
        g_autoptr(MtUserResult) user = g_list_model_get_item (G_LIST_MODEL (result), i);
        GPtrArray *list = mt_user_result_get_images (user);

        for (guint j = 0; list != NULL && j < list->len; j++)
          {
            MtImage *image = g_ptr_array_index (list, j);
            g_autofree char *path = g_strconcat ("/", mt_image_get_key (image), "?", NULL);

            g_assert_nonnull (mt_image_get_url (image));
            g_assert_nonnull (strstr (mt_image_get_url (image), path));
            g_assert_nonnull (strstr (mt_image_get_url (image), "X-Amz-Signature="));
            g_assert_true (g_hash_table_add (urls, (gpointer) mt_image_get_url (image)));
            images++;
          }
      }
    g_assert_cmpuint (images, ==, 1800);
  }
  g_assert_cmpuint (mt_match_summary_get_total_matched_pairs (mt_match_result_get_summary (result)), ==, 600);
  /* 1,800 keys are two pages, against 600 listings. */
  g_assert_cmpuint (mt_s3_client_get_requests (mt_mapping_job_get_s3_client (job)), ==, 2);
  g_assert_true (mt_match_result_is_complete (result));
}

/* The same, over v1, whose first page of generations (naming no user)
 * comes before the first page of traces: the choice waits for a page that
 * names users, and is the whole prefix again. */
static void
test_whole_prefix_generations_first (Fixture *f, gconstpointer data)
{
  g_autoptr(MtMappingJob) job = job_new (f, AWS_SECRET, "MEALTRACE_LANGFUSE_API=v1");
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 600; i++)
    {
      g_autofree char *user = g_strdup_printf ("user-%04u", i);
      g_autofree char *trace = g_strdup_printf ("trace-%05u", f->traces);
      g_autofree char *root = g_strconcat (trace, "-root", NULL);
      g_autofree char *generation = g_strconcat (trace, "-g", NULL);

      add_trace (f, user, FROM + 1000 + i);
      mt_loopback_langfuse_add_observation (f->langfuse, trace, generation, "GENERATION", FROM + 1100 + i, root,
                                            "gpt-4o", NULL, -1, NULL, 0.001);
      add_image (f, user, FROM + 5000 + i, "meal.jpg");
      add_image (f, user, FROM + 6000 + i, "snack.jpg");
    }
  mt_fake_langfuse_set_stall_ms (f->langfuse, 300);
  mt_fake_langfuse_add_fault (f->langfuse, MT_FAKE_LANGFUSE_FAULT_STALL, 1, "/api/public/traces");

  result = run (job, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mt_match_result_get_s3_listing (result), ==, "whole_prefix");
  g_assert_cmpuint (mt_match_summary_get_total_matched_pairs (mt_match_result_get_summary (result)), ==, 600);
  g_assert_cmpuint (mt_s3_client_get_requests (mt_mapping_job_get_s3_client (job)), ==, 2);
}

/* A user whose folder cannot be listed is incomplete, with the reason,
 * and the rest is whole. */
static void
test_incomplete_user (Fixture *f, gconstpointer data)
{
  g_autoptr(MtMappingJob) job = job_new (f, AWS_SECRET, NULL);
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(GError) error = NULL;
  MtUserResult *broken;
  const char * const *errors;

  for (guint i = 0; i < 2500; i++)
    {
      g_autofree char *other = g_strdup_printf ("a-other-%04u", i);

      add_image (f, other, FROM + i, "photo.jpg");
    }
  add_trace (f, "z-fine", FROM + 1000);
  add_image (f, "z-fine", FROM + 2000, "meal.jpg");
  add_trace (f, "z-broken", FROM + 1000);
  add_image (f, "z-broken", FROM + 2000, "meal.jpg");
  mt_fake_s3_add_fault (f->s3, MT_FAKE_S3_FAULT_INTERNAL_ERROR, 100, "meal-images/z-broken/");

  result = run (job, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (mt_match_result_is_complete (result));
  broken = mt_match_result_lookup_user (result, "z-broken");
  g_assert_cmpint (mt_user_result_get_status (broken), ==, MT_USER_STATUS_INCOMPLETE);
  g_assert_cmpuint (mt_match_summary_get_total_matched_pairs (mt_match_result_get_summary (result)), ==, 1);
  errors = mt_match_result_get_errors (result);
  g_assert_nonnull (errors[0]);
  g_assert_nonnull (strstr (errors[0], "z-broken"));
  g_assert_null (errors[1]);
}

/* Wrong AWS keys: the run fails with the refusal, naming S3. */
static void
test_rejected (Fixture *f, gconstpointer data)
{
  g_autoptr(MtMappingJob) job = job_new (f, "not-the-secret-0123456789abcdefghijk", NULL);
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(GError) error = NULL;

  populate_small (f);
  result = run (job, NULL, &error);
  g_assert_null (result);
  g_assert_true (mt_mapping_error_is_rejection (error));
  g_assert_true (error->domain == MT_S3_ERROR);
  g_assert_null (strstr (error->message, "not-the-secret"));
}

/* Langfuse failing after its retries: a result that says so, empty. */
static void
test_langfuse_down (Fixture *f, gconstpointer data)
{
  g_autoptr(MtMappingJob) job = job_new (f, AWS_SECRET, NULL);
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(GError) error = NULL;

  populate_small (f);
  mt_langfuse_client_set_max_attempts (mt_mapping_job_get_langfuse_client (job), 2);
  mt_fake_langfuse_add_fault (f->langfuse, MT_FAKE_LANGFUSE_FAULT_INTERNAL_ERROR, 100, NULL);
  result = run (job, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (mt_match_result_is_complete (result));
  g_assert_nonnull (mt_match_result_get_errors (result)[0]);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (result)), ==, 0);
}

static void
on_users (GObject *job, GParamSpec *pspec, gpointer data)
{
  if (mt_mapping_job_get_users (MT_MAPPING_JOB (job)) >= 1)
    g_cancellable_cancel (data);
}

/* Cancelled as soon as a user is known: cancelled, promptly, nothing left. */
static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr(MtMappingJob) job = job_new (f, AWS_SECRET, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 3000; i++)
    {
      g_autofree char *user = g_strdup_printf ("user-%04u", i);

      add_trace (f, user, FROM + 1000 + i);
      add_image (f, user, FROM + 5000 + i, "meal.jpg");
    }
  mt_loopback_langfuse_set_latency_ms (f->langfuse, 100);
  mt_loopback_s3_set_latency_ms (f->s3, 100);
  g_signal_connect (job, "notify::users", G_CALLBACK (on_users), cancellable);
  result = run (job, cancellable, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (mt_mapping_job_get_users_done (job), <, 3000);
}

/* Requests a run sent to Langfuse's v2 observations. */
static guint
v2_requests (Fixture *f)
{
  GPtrArray *log = mt_loopback_langfuse_get_log (f->langfuse);
  guint count = 0;

  for (guint i = 0; i < log->len; i++)
    count += g_str_has_prefix (g_ptr_array_index (log, i), "/api/public/v2/");
  return count;
}

/* A refresh in the same session starts from what the last run learnt: a
 * self-hosted Langfuse without v2 is not asked for v2 again, and a bucket
 * in another region is not redirected again. A job that learnt nothing
 * asks and is redirected, as the first run was. */
static void
test_learnt_in_session (Fixture *f, gconstpointer data)
{
  g_autoptr(MtMappingJob) first = NULL;
  g_autoptr(MtMappingJob) unlearnt = NULL;
  g_autoptr(MtMappingJob) learnt = NULL;
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint unlearnt_s3;

  g_clear_object (&f->s3);
  f->s3 = mt_loopback_s3_new ("eu-west-1", KEY_ID, AWS_SECRET, NULL);
  mt_loopback_langfuse_set_apis (f->langfuse, TRUE, FALSE);
  populate_small (f);

  first = job_new (f, AWS_SECRET, NULL);
  result = run (first, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mt_match_result_get_langfuse_api (result), ==, "v1");
  g_assert_cmpuint (mt_match_summary_get_total_matched_pairs (mt_match_result_get_summary (result)), ==, 2);
  g_assert_cmpstr (mt_s3_client_get_region (mt_mapping_job_get_s3_client (first)), ==, "eu-west-1");
  g_assert_cmpuint (v2_requests (f), >, 0);
  g_clear_object (&result);

  mt_loopback_langfuse_reset_counters (f->langfuse);
  mt_loopback_s3_reset_counters (f->s3);
  unlearnt = job_new (f, AWS_SECRET, NULL);
  result = run (unlearnt, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (v2_requests (f), >, 0);
  unlearnt_s3 = mt_loopback_s3_get_requests (f->s3);
  g_clear_object (&result);

  mt_loopback_langfuse_reset_counters (f->langfuse);
  mt_loopback_s3_reset_counters (f->s3);
  learnt = job_new (f, AWS_SECRET, NULL);
  mt_mapping_job_learn_from (learnt, first);
  g_assert_cmpstr (mt_s3_client_get_region (mt_mapping_job_get_s3_client (learnt)), ==, "eu-west-1");
  result = run (learnt, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mt_match_result_get_langfuse_api (result), ==, "v1");
  g_assert_cmpuint (mt_match_summary_get_total_matched_pairs (mt_match_result_get_summary (result)), ==, 2);
  g_assert_cmpuint (v2_requests (f), ==, 0);
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->s3), <, unlearnt_s3);
  g_assert_cmpuint (mt_s3_client_get_retries (mt_mapping_job_get_s3_client (learnt)), ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/mapping-job/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("small-world", test_small_world);
  ADD ("per-user", test_per_user);
  ADD ("whole-prefix", test_whole_prefix);
  ADD ("whole-prefix-generations-first", test_whole_prefix_generations_first);
  ADD ("incomplete-user", test_incomplete_user);
  ADD ("rejected", test_rejected);
  ADD ("langfuse-down", test_langfuse_down);
  ADD ("cancel", test_cancel);
  ADD ("learnt-in-session", test_learnt_in_session);
#undef ADD

  return g_test_run ();
}
