/* test-model.c — the model's objects, properties and key helpers */

#include <math.h>

#include "mt-core.h"

static void
count_notify (GObject *object, GParamSpec *pspec, gpointer data)
{
  GHashTable *seen = data;

  g_hash_table_add (seen, g_strdup (pspec->name));
}

static void
test_trace_properties (void)
{
  g_autoptr(MtTrace) trace = mt_trace_new ("trace-1", "user-1", 1700000000123);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(JsonNode) input = json_from_string ("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", NULL);
  g_autoptr(JsonNode) output = json_from_string ("\"A bowl of pho\"", NULL);
  g_autofree char *id = NULL, *user = NULL, *model = NULL;
  g_autoptr(JsonNode) input_back = NULL;
  gint64 timestamp = 0;
  double cost = 0;

  g_assert_cmpstr (mt_trace_get_id (trace), ==, "trace-1");
  g_assert_cmpstr (mt_trace_get_user_id (trace), ==, "user-1");
  g_assert_cmpint (mt_trace_get_timestamp (trace), ==, 1700000000123);
  g_assert_true (isnan (mt_trace_get_cost (trace)));
  g_assert_true (isnan (mt_trace_get_total_cost (trace)));
  g_assert_null (mt_trace_get_input (trace));

  g_signal_connect (trace, "notify", G_CALLBACK (count_notify), seen);

  mt_trace_set_name (trace, "meal_analysis");
  mt_trace_set_session_id (trace, "session-9");
  mt_trace_set_model_name (trace, "gpt-4o-mini");
  mt_trace_set_prompt (trace, "You are a nutrition expert");
  mt_trace_set_html_url (trace, "https://cloud.langfuse.com/project/p/traces/trace-1");
  mt_trace_set_input (trace, input);
  mt_trace_set_output (trace, output);
  mt_trace_set_cost (trace, 0.0023);
  mt_trace_set_total_cost (trace, 0.0145);
  mt_trace_set_timestamp (trace, 1700000000999);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 10);

  /* Setting the same value again notifies nothing: explicit notify. */
  g_hash_table_remove_all (seen);
  mt_trace_set_name (trace, "meal_analysis");
  mt_trace_set_cost (trace, 0.0023);
  mt_trace_set_input (trace, input);
  mt_trace_set_timestamp (trace, 1700000000999);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 0);
  mt_trace_set_cost (trace, NAN);
  mt_trace_set_cost (trace, NAN);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 1);

  g_object_get (trace, "id", &id, "user-id", &user, "model-name", &model,
                "timestamp", &timestamp, "input", &input_back, "total-cost", &cost, NULL);
  g_assert_cmpstr (id, ==, "trace-1");
  g_assert_cmpstr (user, ==, "user-1");
  g_assert_cmpstr (model, ==, "gpt-4o-mini");
  g_assert_cmpint (timestamp, ==, 1700000000999);
  g_assert_cmpfloat (cost, ==, 0.0145);
  g_assert_true (json_node_equal (input_back, input));
  g_assert_cmpstr (json_node_get_string (mt_trace_get_output (trace)), ==, "A bowl of pho");

  /* Properties set through g_object_set reach the same fields. */
  g_object_set (trace, "prompt", "system", "user-id", NULL, NULL);
  g_assert_cmpstr (mt_trace_get_prompt (trace), ==, "system");
  g_assert_null (mt_trace_get_user_id (trace));
}

static void
test_image_properties (void)
{
  g_autoptr(MtImage) image = mt_image_new ("meal-images/user-1/2025/lunch.JPG", "user-1",
                                           1700000000000, 123456, "\"abc\"");
  g_autoptr(MtImage) flat = mt_image_new ("lunch.png", NULL, 0, 0, NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *name = NULL;
  gint64 size = 0;

  g_assert_cmpstr (mt_image_get_key (image), ==, "meal-images/user-1/2025/lunch.JPG");
  g_assert_cmpstr (mt_image_get_name (image), ==, "lunch.JPG");
  g_assert_cmpstr (mt_image_get_user_id (image), ==, "user-1");
  g_assert_cmpint (mt_image_get_last_modified (image), ==, 1700000000000);
  g_assert_cmpint (mt_image_get_size (image), ==, 123456);
  g_assert_cmpstr (mt_image_get_etag (image), ==, "\"abc\"");
  g_assert_null (mt_image_get_url (image));
  g_assert_cmpstr (mt_image_get_name (flat), ==, "lunch.png");

  g_signal_connect (image, "notify::url", G_CALLBACK (count_notify), seen);
  mt_image_set_url (image, "https://bucket.s3.amazonaws.com/x?X-Amz-Signature=1");
  mt_image_set_url (image, "https://bucket.s3.amazonaws.com/x?X-Amz-Signature=1");
  g_assert_cmpuint (g_hash_table_size (seen), ==, 1);

  g_object_get (image, "name", &name, "size", &size, NULL);
  g_assert_cmpstr (name, ==, "lunch.JPG");
  g_assert_cmpint (size, ==, 123456);
}

static void
test_image_keys (void)
{
  struct { const char *key; gboolean image; } kinds[] = {
    { "meal-images/u/a.jpg", TRUE }, { "meal-images/u/a.JPEG", TRUE },
    { "meal-images/u/a.png", TRUE }, { "meal-images/u/a.WebP", TRUE },
    { "meal-images/u/a.gif", TRUE }, { "meal-images/u/a.heic", TRUE },
    { "meal-images/u/a.HEIF", TRUE }, { "meal-images/u/a.jpg.txt", FALSE },
    { "meal-images/u/a.txt", FALSE }, { "meal-images/u/jpg", FALSE },
    { "meal-images/u.jpg/", FALSE }, { "meal-images/u.jpg/readme", FALSE },
    { "meal-images/u/", FALSE }, { "", FALSE }, { "meal-images/u/a.jpgx", FALSE },
  };
  struct { const char *key; const char *prefix; const char *user; } users[] = {
    { "meal-images/user-1/a.jpg", "meal-images/", "user-1" },
    { "meal-images/user 1/a b.jpg", "meal-images/", "user 1" },
    { "meal-images/ng\xc6\xb0\xe1\xbb\x9di/a.jpg", "meal-images/", "ng\xc6\xb0\xe1\xbb\x9di" },
    { "meal-images/user-1/2025/01/a.jpg", "meal-images/", "user-1" },
    { "user-1/a.jpg", "", "user-1" },
    { "user-1/a.jpg", NULL, "user-1" },
    { "meal-images/a.jpg", "meal-images/", NULL },
    { "meal-images//a.jpg", "meal-images/", NULL },
    { "meal-images/user-1/", "meal-images/", NULL },
    { "other/user-1/a.jpg", "meal-images/", NULL },
    { "meal-images", "meal-images/", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_test_message ("%s", kinds[i].key);
      g_assert_cmpint (mt_image_key_is_image (kinds[i].key), ==, kinds[i].image);
    }
  g_assert_false (mt_image_key_is_image (NULL));

  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autofree char *user = mt_image_user_id_from_key (users[i].key, users[i].prefix);

      g_assert_cmpstr (user, ==, users[i].user);
    }
}

static void
test_pair_and_user_result (void)
{
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  g_autoptr(MtTrace) trace = mt_trace_new ("t", "u", 1000);
  g_autoptr(MtImage) image = mt_image_new ("meal-images/u/a.jpg", "u", 301500, 1, NULL);
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(MtUserResult) user = NULL;
  MtPair *pair;
  MtUserStatus status;
  guint n_pairs = 0;
  gint64 latest = 0, diff_ms = 0;
  double diff_s = 0;
  g_autoptr(MtTrace) pair_trace = NULL;

  mt_matcher_add_traces (matcher, &trace, 1);
  mt_matcher_add_images (matcher, &image, 1);
  result = mt_matcher_run (matcher);

  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (result)) == MT_TYPE_USER_RESULT);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (result)), ==, 1);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (result), 1));
  user = g_list_model_get_item (G_LIST_MODEL (result), 0);
  g_assert_true (mt_match_result_lookup_user (result, "u") == user);
  g_assert_null (mt_match_result_lookup_user (result, "v"));

  g_object_get (user, "status", &status, "n-pairs", &n_pairs, "latest-image", &latest, NULL);
  g_assert_cmpint (status, ==, MT_USER_STATUS_MATCHED);
  g_assert_cmpuint (n_pairs, ==, 1);
  g_assert_cmpint (latest, ==, 301500);

  /* The lists are properties too, the same arrays the getters give. */
  {
    g_autoptr(GPtrArray) traces = NULL;
    g_autoptr(GPtrArray) images = NULL;
    g_autoptr(GPtrArray) pairs = NULL;
    g_autoptr(GPtrArray) unused = NULL;
    g_autoptr(GPtrArray) unmatched = NULL;

    g_object_get (user, "traces", &traces, "images", &images, "pairs", &pairs, "unused-traces", &unused,
                  "unmatched-images", &unmatched, NULL);
    g_assert_true (traces == mt_user_result_get_traces (user));
    g_assert_true (images == mt_user_result_get_images (user));
    g_assert_true (pairs == mt_user_result_get_pairs (user));
    g_assert_true (unused == mt_user_result_get_unused_traces (user));
    g_assert_true (unmatched == mt_user_result_get_unmatched_images (user));
    g_assert_cmpuint (traces->len, ==, 1);
    g_assert_cmpuint (pairs->len, ==, 1);
    g_assert_cmpuint (unused->len, ==, 0);
    g_assert_cmpuint (unmatched->len, ==, 0);
  }

  pair = g_ptr_array_index (mt_user_result_get_pairs (user), 0);
  g_object_get (pair, "trace", &pair_trace, "time-difference-ms", &diff_ms,
                "time-difference-seconds", &diff_s, NULL);
  g_assert_true (pair_trace == trace);
  g_assert_true (mt_pair_get_image (pair) == image);
  g_assert_cmpint (diff_ms, ==, 300500);
  g_assert_cmpfloat (diff_s, ==, 300.5);

  /* The status enum has nicks a view can show or filter on. */
  {
    g_autoptr(GEnumClass) klass = g_type_class_ref (MT_TYPE_USER_STATUS);

    g_assert_cmpstr (g_enum_get_value (klass, MT_USER_STATUS_NO_IMAGES)->value_nick, ==, "no-images");
    g_assert_cmpstr (g_enum_get_value (klass, MT_USER_STATUS_INCOMPLETE)->value_nick, ==, "incomplete");
  }
}

static void
test_result_provenance (void)
{
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) errors = NULL;
  gboolean complete = FALSE;

  mt_matcher_set_window (matcher, 1000, 2000, 7);
  mt_matcher_set_max_gap_ms (matcher, 60000);
  result = mt_matcher_run (matcher);

  g_assert_cmpint (mt_match_result_get_window_from (result), ==, 1000);
  g_assert_cmpint (mt_match_result_get_window_to (result), ==, 2000);
  g_assert_cmpuint (mt_match_result_get_time_filter_days (result), ==, 7);
  g_assert_cmpint (mt_match_result_get_max_gap_ms (result), ==, 60000);
  g_assert_true (mt_match_result_is_complete (result));
  g_assert_null (mt_match_result_get_errors (result)[0]);

  g_signal_connect (result, "notify", G_CALLBACK (count_notify), seen);
  mt_match_result_set_langfuse_api (result, "v2");
  mt_match_result_set_s3_listing (result, "per_user");
  mt_match_result_add_error (result, "Langfuse: page 3 failed");
  g_assert_true (g_hash_table_contains (seen, "complete"));
  g_assert_true (g_hash_table_contains (seen, "errors"));
  g_assert_true (g_hash_table_contains (seen, "langfuse-api"));

  g_object_get (result, "errors", &errors, "complete", &complete, NULL);
  g_assert_cmpstrv (errors, ((const char *[]) { "Langfuse: page 3 failed", NULL }));
  g_assert_false (complete);
  g_assert_cmpstr (mt_match_result_get_langfuse_api (result), ==, "v2");
  g_assert_cmpstr (mt_match_result_get_s3_listing (result), ==, "per_user");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/model/trace", test_trace_properties);
  g_test_add_func ("/model/image", test_image_properties);
  g_test_add_func ("/model/image-keys", test_image_keys);
  g_test_add_func ("/model/pair-and-user", test_pair_and_user_result);
  g_test_add_func ("/model/result-provenance", test_result_provenance);

  return g_test_run ();
}
