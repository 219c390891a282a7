/* test-langfuse-client.c — the Langfuse client against the in-process fake */

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

#include "mt-fake-langfuse.h"
#include "mt-langfuse-client.h"
#include "mt-trace.h"
#include "mt-test-scale.h"

#define PUBLIC_KEY "pk-lf-1234abcd-fake"
#define SECRET_KEY "sk-lf-9876zyxw-fake-secret"
/* 2026-10-01T00:00:00Z and thirty days on: a window in the past, so that
 * v1 reads it whole (what is younger than ten minutes is read apart). */
#define FROM G_GINT64_CONSTANT (1790812800000)
#define DAY G_GINT64_CONSTANT (86400000)
#define TO (FROM + 30 * DAY)

/* What the test itself knows of a trace it put in the fake. */
typedef struct {
  char *id;
  gint64 timestamp;
  char *name;
  char *user_id;
  char *session_id;
  char *input;
  char *output;
  char *model;
  char *prompt;
  double cost;
  double total_cost;
} Expected;

typedef struct {
  MtLoopbackLangfuse *fake;
  MtLangfuseClient *client;
  GHashTable *expected;  /* id → Expected, the traces of [FROM, TO) */
  GPtrArray *messages;   /* every error message a test saw */
  GArray *root_times;    /* of every root observation added */
  GArray *generation_times;
} Fixture;

static void
expected_free (gpointer data)
{
  Expected *e = data;

  g_free (e->id);
  g_free (e->name);
  g_free (e->user_id);
  g_free (e->session_id);
  g_free (e->input);
  g_free (e->output);
  g_free (e->model);
  g_free (e->prompt);
  g_free (e);
}

static MtLangfuseClient *
client_new (Fixture *f, const char *secret)
{
  g_autoptr(GError) error = NULL;
  MtLangfuseClient *client = mt_langfuse_client_new (mt_loopback_langfuse_get_base_url (f->fake),
                                                     PUBLIC_KEY, secret, &error);

  g_assert_no_error (error);
  /* Retries wait a millisecond, not seconds. */
  mt_langfuse_client_set_retry_delay_ms (client, 1);
  return client;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->fake = mt_loopback_langfuse_new (PUBLIC_KEY, SECRET_KEY);
  f->client = client_new (f, SECRET_KEY);
  f->expected = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, expected_free);
  f->messages = g_ptr_array_new_with_free_func (g_free);
  f->root_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  f->generation_times = g_array_new (FALSE, FALSE, sizeof (gint64));
}

/* No key, and nothing of the Authorization header, in any message. */
static void
assert_clean (const char *message)
{
  g_autofree char *pair = g_strconcat (PUBLIC_KEY, ":", SECRET_KEY, NULL);
  g_autofree char *basic = g_base64_encode ((const guchar *) pair, strlen (pair));

  g_assert_null (strstr (message, SECRET_KEY));
  g_assert_null (strstr (message, basic));
  g_assert_null (strstr (message, "Basic "));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < f->messages->len; i++)
    assert_clean (g_ptr_array_index (f->messages, i));
  g_ptr_array_unref (f->messages);
  g_clear_object (&f->client);
  /* Nothing may keep the fake alive: it would keep its sockets. */
  g_object_add_weak_pointer (G_OBJECT (f->fake), (gpointer *) &f->fake);
  g_object_unref (f->fake);
  g_assert_null (f->fake);
  g_hash_table_unref (f->expected);
  g_array_unref (f->root_times);
  g_array_unref (f->generation_times);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static GPtrArray *
fetch_full (Fixture *f, MtLangfuseClient *client, gint64 from, gint64 to, MtLangfuseApi api,
            GCancellable *cancellable, MtLangfuseApi *used, GError **error)
{
  GAsyncResult *result = NULL;
  GPtrArray *traces;

  mt_langfuse_client_fetch_traces_async (client, from, to, api, cancellable, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  traces = mt_langfuse_client_fetch_traces_finish (client, result, used, error);
  g_object_unref (result);
  if (error != NULL && *error != NULL)
    {
      g_test_message ("error: %s", (*error)->message);
      g_ptr_array_add (f->messages, g_strdup ((*error)->message));
    }
  return traces;
}

static GPtrArray *
fetch (Fixture *f, MtLangfuseApi api, MtLangfuseApi *used, GError **error)
{
  return fetch_full (f, f->client, FROM, TO, api, NULL, used, error);
}

/* The data set */

static JsonNode *
node_of (const char *text)
{
  JsonNode *node;

  if (text == NULL)
    return NULL;
  node = json_from_string (text, NULL);
  if (node == NULL)
    {
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (node, text);
    }
  return node;
}

/* A trace in the fake, and what the test expects of it when it falls in
 * [FROM, TO). Its generations start 100 ms apart after it. */
static Expected *
add_trace (Fixture *f, const char *id, gint64 timestamp, const char *user_id,
           const char *input, const char *output)
{
  Expected *e = g_new0 (Expected, 1);
  g_autofree char *session = g_strdup_printf ("session-%s", id);

  e->id = g_strdup (id);
  e->timestamp = timestamp;
  e->name = g_strdup ("meal-analysis");
  e->user_id = g_strdup (user_id);
  e->session_id = g_strdup (session);
  e->input = g_strdup (input);
  e->output = g_strdup (output);
  e->cost = NAN;
  e->total_cost = 0.0;
  mt_loopback_langfuse_add_trace (f->fake, id, timestamp, e->name, user_id, session, input, output);
  g_array_append_val (f->root_times, timestamp);
  if (timestamp >= FROM && timestamp < TO)
    g_hash_table_insert (f->expected, e->id, e);
  else
    {
      expected_free (e);
      e = NULL;
    }
  return e;
}

/* The @n-th generation of a trace; the first sets model, prompt and cost.
 * @prompt_name %NULL: the prompt is @system, the system message of the
 * input (none when %NULL too). */
static void
add_generation (Fixture *f, Expected *e, const char *trace_id, gint64 timestamp, guint n,
                const char *model, const char *prompt_name, int prompt_version,
                const char *system, double cost)
{
  g_autofree char *id = g_strdup_printf ("%s-g%u", trace_id, n);
  g_autofree char *parent = g_strconcat (trace_id, "-root", NULL);
  g_autofree char *input = NULL;
  gint64 start = timestamp + 100 * (n + 1);

  if (system != NULL)
    {
      g_autoptr(GString) escaped = g_string_new (NULL);

      for (const char *p = system; *p != '\0'; p++)
        {
          if (*p == '"' || *p == '\\')
            g_string_append_c (escaped, '\\');
          g_string_append_c (escaped, *p);
        }
      input = g_strdup_printf ("[{\"role\":\"system\",\"content\":\"%s\"},"
                               "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is on this plate?\"},"
                               "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/meal.jpg\"}}]}]",
                               escaped->str);
    }
  else
    input = g_strdup ("[{\"role\":\"user\",\"content\":\"What is on this plate?\"}]");

  mt_loopback_langfuse_add_observation (f->fake, trace_id, id, "GENERATION", start, parent,
                                    model, prompt_name, prompt_version, input, cost);
  g_array_append_val (f->generation_times, start);
  if (e == NULL)
    return;
  if (n == 0)
    {
      e->model = g_strdup (model);
      if (prompt_name != NULL)
        e->prompt = prompt_version >= 0 ? g_strdup_printf ("%s v%d", prompt_name, prompt_version)
                                        : g_strdup (prompt_name);
      else
        e->prompt = g_strdup (system);
      e->cost = cost;
    }
  if (!isnan (cost))
    e->total_cost += cost;
}

/* Another root of a trace, after its first. */
static void
add_late_root (Fixture *f, const char *trace_id, const char *id, gint64 start)
{
  mt_loopback_langfuse_add_observation (f->fake, trace_id, id, "EVENT", start, NULL, NULL, NULL, -1, "{}", NAN);
  g_array_append_val (f->root_times, start);
}

static guint
count_between (GArray *times, gint64 from, gint64 to)
{
  guint count = 0;

  for (guint i = 0; i < times->len; i++)
    count += g_array_index (times, gint64, i) >= from && g_array_index (times, gint64, i) < to;
  return count;
}

static guint
pages_of (guint items, guint limit)
{
  /* An empty walk is one request too. */
  return MAX ((items + limit - 1) / limit, 1);
}

/* The fewest requests the APIs allow for the window: every page of roots
 * (from an hour before) and of generations (to an hour after) once. */
static guint
fewest_requests (Fixture *f, MtLangfuseApi api)
{
  const gint64 hour = 3600000;

  if (api == MT_LANGFUSE_API_V2)
    return pages_of (count_between (f->root_times, FROM - hour, TO), 1000) +
           pages_of (count_between (f->generation_times, FROM, TO + hour), 1000);
  return pages_of (g_hash_table_size (f->expected), 100) +
         pages_of (count_between (f->generation_times, FROM, TO + hour), 100);
}

/* @count traces over [FROM, TO) with users, users missing, inputs JSON or
 * not, none to three generations, child spans and second roots; and a few
 * just outside the window. */
static void
populate (Fixture *f, guint count, guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  gint64 previous = FROM;

  for (guint i = 0; i < count; i++)
    {
      g_autofree char *id = g_strdup_printf ("t%06u", i);
      g_autofree char *user = g_strdup_printf ("user-%03u", g_rand_int_range (rand, 0, 60));
      g_autofree char *input = NULL;
      g_autofree char *output = NULL;
      g_autofree char *child = g_strdup_printf ("%s-span", id);
      g_autofree char *root = g_strdup_printf ("%s-root", id);
      /* Every 25th trace at the same instant as the one before. */
      gint64 timestamp = i % 25 == 24 ? previous : FROM + (gint64) (g_rand_double (rand) * (TO - FROM - 3000));
      guint generations = (guint) g_rand_int_range (rand, 0, 4);
      Expected *e;

      switch (i % 4)
        {
        case 0:
          input = g_strdup_printf ("{\"image\":\"meal-images/%s/%s.jpg\",\"note\":\"lunch \\\"bowl\\\" \xc3\xa9\"}", user, id);
          break;
        case 1:
          input = g_strdup_printf ("plain text, not JSON: {%u", i);
          break;
        case 2:
          input = g_strdup ("\"a JSON string\"");
          break;
        default:
          break;
        }
      if (i % 3 != 0)
        output = g_strdup_printf ("{\"calories\":%u,\"items\":[\"rice\",\"egg\"]}", 300 + i % 500);

      e = add_trace (f, id, timestamp, i % 7 == 3 ? NULL : user, input, output);
      /* A span, now and then with a cost of its own: not a generation's, so
       * in no total (Langfuse's own trace total would count it). */
      mt_loopback_langfuse_add_observation (f->fake, id, child, "SPAN", timestamp + 50, root, NULL, NULL, -1, NULL,
                                        i % 5 == 0 ? 0.5 : NAN);
      for (guint n = 0; n < generations; n++)
        {
          g_autofree char *system = g_strdup_printf ("You are a nutrition assistant #%u.", i % 9);
          double cost = (i + n) % 11 == 5 ? NAN : (double) g_rand_int_range (rand, 1, 100000) / 7e6;

          if ((i + n) % 2 == 0)
            add_generation (f, e, id, timestamp, n, "gpt-4o", "meal-analyzer", (int) (i % 5) + 1, NULL, cost);
          else
            add_generation (f, e, id, timestamp, n, "gpt-4o-mini", NULL, -1, (i % 6 == 1) ? NULL : system, cost);
        }
      /* Now and then a second root, later: the earliest is the trace's. */
      if (i % 13 == 0)
        {
          g_autofree char *second = g_strdup_printf ("%s-late-root", id);

          add_late_root (f, id, second, timestamp + 500);
        }
      previous = timestamp;
    }
}

/* Traces just outside the window, on both sides, and one on each edge. */
static void
populate_edges (Fixture *f)
{
  add_trace (f, "edge-before", FROM - 1, "user-edge", NULL, NULL);
  add_trace (f, "edge-from", FROM, "user-edge", NULL, NULL);
  add_trace (f, "edge-last", TO - 1, "user-edge", NULL, NULL);
  add_trace (f, "edge-to", TO, "user-edge", NULL, NULL);
  /* Before the window, with a second root inside it: not in the window. */
  add_trace (f, "edge-early-root", FROM - 200, "user-edge", NULL, NULL);
  add_late_root (f, "edge-early-root", "edge-early-root-late", FROM + 300);
}

static void
assert_same_double (double expected, double actual)
{
  if (isnan (expected))
    g_assert_true (isnan (actual));
  else
    g_assert_cmpfloat (expected, ==, actual);
}

static void
assert_same_json (const char *expected_text, JsonNode *actual)
{
  g_autoptr(JsonNode) expected = node_of (expected_text);

  if (expected == NULL)
    g_assert_null (actual);
  else
    {
      g_assert_nonnull (actual);
      g_assert_true (json_node_equal (expected, actual));
    }
}

/* Every trace of the window once, in (time, id) order, each as expected. */
static void
assert_traces (Fixture *f, GPtrArray *traces)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *url_prefix = g_strdup_printf ("%s/project/%s/traces/", mt_loopback_langfuse_get_base_url (f->fake),
                                                 mt_loopback_langfuse_get_project_id (f->fake));

  g_assert_nonnull (traces);
  g_assert_cmpuint (traces->len, ==, g_hash_table_size (f->expected));
  for (guint i = 0; i < traces->len; i++)
    {
      MtTrace *trace = g_ptr_array_index (traces, i);
      Expected *e = g_hash_table_lookup (f->expected, mt_trace_get_id (trace));
      g_autofree char *url = NULL;

      g_assert_nonnull (e);
      g_assert_true (g_hash_table_add (seen, (gpointer) mt_trace_get_id (trace)));
      if (i > 0)
        {
          MtTrace *before = g_ptr_array_index (traces, i - 1);

          g_assert_true (mt_trace_get_timestamp (before) < mt_trace_get_timestamp (trace) ||
                         (mt_trace_get_timestamp (before) == mt_trace_get_timestamp (trace) &&
                          strcmp (mt_trace_get_id (before), mt_trace_get_id (trace)) < 0));
        }
      g_assert_cmpint (mt_trace_get_timestamp (trace), ==, e->timestamp);
      g_assert_cmpstr (mt_trace_get_name (trace), ==, e->name);
      g_assert_cmpstr (mt_trace_get_user_id (trace), ==, e->user_id);
      g_assert_cmpstr (mt_trace_get_session_id (trace), ==, e->session_id);
      assert_same_json (e->input, mt_trace_get_input (trace));
      assert_same_json (e->output, mt_trace_get_output (trace));
      g_assert_cmpstr (mt_trace_get_model_name (trace), ==, e->model);
      g_assert_cmpstr (mt_trace_get_prompt (trace), ==, e->prompt);
      assert_same_double (e->cost, mt_trace_get_cost (trace));
      assert_same_double (e->total_cost, mt_trace_get_total_cost (trace));
      url = g_strconcat (url_prefix, e->id, NULL);
      g_assert_cmpstr (mt_trace_get_html_url (trace), ==, url);
    }
}

/* Field by field, the traces of two fetches. */
static void
assert_same_traces (GPtrArray *a, GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      MtTrace *x = g_ptr_array_index (a, i);
      MtTrace *y = g_ptr_array_index (b, i);

      g_assert_cmpstr (mt_trace_get_id (x), ==, mt_trace_get_id (y));
      g_assert_cmpint (mt_trace_get_timestamp (x), ==, mt_trace_get_timestamp (y));
      g_assert_cmpstr (mt_trace_get_name (x), ==, mt_trace_get_name (y));
      g_assert_cmpstr (mt_trace_get_user_id (x), ==, mt_trace_get_user_id (y));
      g_assert_cmpstr (mt_trace_get_session_id (x), ==, mt_trace_get_session_id (y));
      g_assert_true ((mt_trace_get_input (x) == NULL) == (mt_trace_get_input (y) == NULL));
      g_assert_true (mt_trace_get_input (x) == NULL || json_node_equal (mt_trace_get_input (x), mt_trace_get_input (y)));
      g_assert_true ((mt_trace_get_output (x) == NULL) == (mt_trace_get_output (y) == NULL));
      g_assert_true (mt_trace_get_output (x) == NULL || json_node_equal (mt_trace_get_output (x), mt_trace_get_output (y)));
      g_assert_cmpstr (mt_trace_get_model_name (x), ==, mt_trace_get_model_name (y));
      g_assert_cmpstr (mt_trace_get_prompt (x), ==, mt_trace_get_prompt (y));
      assert_same_double (mt_trace_get_cost (x), mt_trace_get_cost (y));
      assert_same_double (mt_trace_get_total_cost (x), mt_trace_get_total_cost (y));
      g_assert_cmpstr (mt_trace_get_html_url (x), ==, mt_trace_get_html_url (y));
    }
}

static guint
count_requests (MtLoopbackLangfuse *fake, const char *path)
{
  GPtrArray *log = mt_loopback_langfuse_get_log (fake);
  guint count = 0;

  for (guint i = 0; i < log->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (log, i), path) &&
        ((const char *) g_ptr_array_index (log, i))[strlen (path)] == '?')
      count++;
  return count;
}

/* Tests */

/* A request straight to the fake, without the client. */
static JsonNode *
raw_get (Fixture *f, const char *path_and_query, const char *secret, guint *status)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (mt_loopback_langfuse_get_base_url (f->fake), path_and_query, NULL);
  g_autoptr(SoupMessage) message = soup_message_new (SOUP_METHOD_GET, url);
  g_autofree char *pair = g_strconcat (PUBLIC_KEY, ":", secret, NULL);
  g_autofree char *encoded = g_base64_encode ((const guchar *) pair, strlen (pair));
  g_autofree char *authorization = g_strconcat ("Basic ", encoded, NULL);
  g_autoptr(GBytes) body = NULL;
  GAsyncResult *result = NULL;

  soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization", authorization);
  soup_session_send_and_read_async (session, message, G_PRIORITY_DEFAULT, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  body = soup_session_send_and_read_finish (session, result, NULL);
  g_object_unref (result);
  *status = soup_message_get_status (message);
  return body != NULL ? json_from_string (g_bytes_get_data (body, NULL), NULL) : NULL;
}

static JsonArray *
data_of (JsonNode *page)
{
  g_assert_nonnull (page);
  return json_object_get_array_member (json_node_get_object (page), "data");
}

static JsonObject *
meta_of (JsonNode *page)
{
  return json_object_get_object_member (json_node_get_object (page), "meta");
}

/* The fake itself keeps the API's rules, or the tests above would prove
 * nothing: limits, field groups, half-open windows, order, pagination,
 * authentication, and the two generations' shapes. */
static void
test_fake_follows_the_spec (Fixture *f, gconstpointer data)
{
  const char *refused[] = {
    "/api/public/traces?limit=101", "/api/public/observations?limit=101", "/api/public/traces?page=0",
    "/api/public/v2/observations?limit=1001", "/api/public/v2/observations?limit=0",
    "/api/public/v2/observations?fields=core,everything", "/api/public/v2/observations?parseIoAsJson=true",
    "/api/public/v2/observations?cursor=bm90IGEgY3Vyc29y", "/api/public/traces?fromTimestamp=yesterday",
  };
  g_autofree char *iso_from = NULL;
  g_autofree char *query = NULL;
  g_autoptr(JsonNode) page = NULL;
  JsonObject *first;
  guint status = 0;

  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *id = g_strdup_printf ("spec-%u", i);

      add_trace (f, id, FROM + i * 1000, "ana", i == 0 ? "not JSON" : "{\"a\":1}", NULL);
      if (i % 2 == 0)
        add_generation (f, g_hash_table_lookup (f->expected, id), id, FROM + i * 1000, 0, "gpt-4o", "p", 2, NULL, 0.5);
    }

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(JsonNode) answer = raw_get (f, refused[i], SECRET_KEY, &status);

      g_test_message ("%s: %u", refused[i], status);
      g_assert_cmpuint (status, ==, 400);
    }
  g_clear_pointer (&page, json_node_unref);
  page = raw_get (f, "/api/public/traces", "sk-lf-wrong", &status);
  g_assert_cmpuint (status, ==, 401);

  /* v1: half-open window [FROM + 1 s, FROM + 3 s), oldest first. */
  iso_from = g_strdup ("2026-10-01T00:00:01.000Z");
  query = g_strdup_printf ("/api/public/traces?fromTimestamp=%s&toTimestamp=2026-10-01T00:00:03Z&orderBy=timestamp.asc&limit=1",
                           iso_from);
  g_clear_pointer (&page, json_node_unref);
  page = raw_get (f, query, SECRET_KEY, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpuint (json_array_get_length (data_of (page)), ==, 1);
  first = json_array_get_object_element (data_of (page), 0);
  g_assert_cmpstr (json_object_get_string_member (first, "id"), ==, "spec-1");
  /* v1 sends input as JSON; text that is not JSON, as a string. */
  g_assert_cmpint (json_node_get_node_type (json_object_get_member (first, "input")), ==, JSON_NODE_OBJECT);
  g_assert_cmpint (json_object_get_int_member (meta_of (page), "totalItems"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (meta_of (page), "totalPages"), ==, 2);

  /* Text that is not JSON: a JSON string in v1. */
  g_clear_pointer (&page, json_node_unref);
  page = raw_get (f, "/api/public/traces?fromTimestamp=2026-10-01T00:00:00Z&toTimestamp=2026-10-01T00:00:00.001Z",
                  SECRET_KEY, &status);
  g_assert_cmpuint (json_array_get_length (data_of (page)), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (data_of (page), 0), "input"), ==,
                   "not JSON");

  /* v2's window is half-open too: [FROM + 1 s, FROM + 3 s). */
  g_clear_pointer (&page, json_node_unref);
  page = raw_get (f, "/api/public/v2/observations?isRootObservation=true&fromStartTime=2026-10-01T00:00:01Z"
                  "&toStartTime=2026-10-01T00:00:03Z", SECRET_KEY, &status);
  g_assert_cmpuint (json_array_get_length (data_of (page)), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (data_of (page), 0), "id"), ==,
                   "spec-2-root");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (data_of (page), 1), "id"), ==,
                   "spec-1-root");

  /* v2: newest first, a cursor while there is more, raw strings for io,
   * only the groups asked for. */
  g_clear_pointer (&page, json_node_unref);
  page = raw_get (f, "/api/public/v2/observations?isRootObservation=true&limit=3&fields=core,io", SECRET_KEY, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpuint (json_array_get_length (data_of (page)), ==, 3);
  first = json_array_get_object_element (data_of (page), 0);
  g_assert_cmpstr (json_object_get_string_member (first, "id"), ==, "spec-4-root");
  g_assert_cmpstr (json_object_get_string_member (first, "input"), ==, "{\"a\":1}");
  g_assert_false (json_object_has_member (first, "userId"));
  g_assert_nonnull (json_object_get_string_member (meta_of (page), "cursor"));
  {
    g_autofree char *next = g_strdup_printf ("/api/public/v2/observations?isRootObservation=true&limit=3&cursor=%s",
                                             json_object_get_string_member (meta_of (page), "cursor"));
    g_autoptr(JsonNode) rest = raw_get (f, next, SECRET_KEY, &status);

    g_assert_cmpuint (status, ==, 200);
    g_assert_cmpuint (json_array_get_length (data_of (rest)), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (data_of (rest), 0), "id"), ==,
                     "spec-1-root");
    /* Without fields: core and basic. */
    g_assert_true (json_object_has_member (json_array_get_object_element (data_of (rest), 0), "userId"));
    g_assert_false (json_object_has_member (json_array_get_object_element (data_of (rest), 0), "input"));
    g_assert_true (json_object_get_null_member (meta_of (rest), "cursor"));
  }

  /* Without v2, as self-hosted Langfuse v3: 404. */
  mt_loopback_langfuse_set_apis (f->fake, TRUE, FALSE);
  g_clear_pointer (&page, json_node_unref);
  page = raw_get (f, "/api/public/v2/observations", SECRET_KEY, &status);
  g_assert_cmpuint (status, ==, 404);
}

/* Each rule of SPEC §3 on a few hand-made traces, over v2. */
static void
test_v2_rebuilds_traces (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GError) error = NULL;
  MtLangfuseApi used = MT_LANGFUSE_API_AUTO;
  Expected *e;
  GPtrArray *log;

  /* Two generations: the first gives model, named prompt and cost; the
   * total is both. */
  e = add_trace (f, "two", FROM + 1000, "ana", "{\"image\":\"a.jpg\"}", "{\"kcal\":520}");
  add_generation (f, e, "two", FROM + 1000, 0, "gpt-4o", "meal-analyzer", 3, NULL, 0.25);
  add_generation (f, e, "two", FROM + 1000, 1, "gpt-4o-mini", "other", 1, NULL, 0.125);
  /* No prompt name: the system message of the input. */
  e = add_trace (f, "system", FROM + 2000, "ana", "not JSON at all", NULL);
  add_generation (f, e, "system", FROM + 2000, 0, "gpt-4o-mini", NULL, -1, "You count \"calories\".", 0.5);
  /* No generation: no model, prompt or cost; a total of 0. */
  add_trace (f, "none", FROM + 3000, "bao", NULL, "\"just a string\"");
  /* No user: returned, without one. */
  add_trace (f, "anonymous", FROM + 4000, NULL, "[1,2,3]", NULL);
  populate_edges (f);

  traces = fetch (f, MT_LANGFUSE_API_V2, &used, &error);
  g_assert_no_error (error);
  g_assert_cmpint (used, ==, MT_LANGFUSE_API_V2);
  assert_traces (f, traces);

  /* Spot checks of what assert_traces compares, spelled out. */
  g_assert_cmpstr (mt_trace_get_id (g_ptr_array_index (traces, 1)), ==, "two");
  g_assert_cmpstr (mt_trace_get_prompt (g_ptr_array_index (traces, 1)), ==, "meal-analyzer v3");
  g_assert_cmpfloat (mt_trace_get_total_cost (g_ptr_array_index (traces, 1)), ==, 0.375);
  g_assert_cmpstr (mt_trace_get_prompt (g_ptr_array_index (traces, 2)), ==, "You count \"calories\".");
  g_assert_cmpstr (json_node_get_string (mt_trace_get_input (g_ptr_array_index (traces, 2))), ==, "not JSON at all");
  g_assert_null (mt_trace_get_model_name (g_ptr_array_index (traces, 3)));
  g_assert_true (isnan (mt_trace_get_cost (g_ptr_array_index (traces, 3))));
  g_assert_cmpfloat (mt_trace_get_total_cost (g_ptr_array_index (traces, 3)), ==, 0.0);
  g_assert_null (mt_trace_get_user_id (g_ptr_array_index (traces, 4)));
  g_assert_cmpstr (mt_trace_get_id (g_ptr_array_index (traces, 0)), ==, "edge-from");
  g_assert_cmpstr (mt_trace_get_id (g_ptr_array_index (traces, traces->len - 1)), ==, "edge-last");

  /* Only the field groups the traces need, 1000 at a time, no v1. */
  log = mt_loopback_langfuse_get_log (f->fake);
  g_assert_cmpuint (log->len, ==, 2);
  for (guint i = 0; i < log->len; i++)
    {
      const char *request = g_ptr_array_index (log, i);

      g_assert_true (g_str_has_prefix (request, "/api/public/v2/observations?"));
      g_assert_nonnull (strstr (request, "limit=1000"));
      g_assert_null (strstr (request, "metadata"));
      g_assert_null (strstr (request, "metrics"));
      g_assert_true (strstr (request, "fields=core%2Cbasic%2Cio%2Ctrace_context") != NULL ||
                     strstr (request, "fields=core%2Cio%2Cmodel%2Cusage%2Cprompt") != NULL);
    }
  g_assert_cmpuint (mt_loopback_langfuse_get_repeated_pages (f->fake), ==, 0);
}

/* The same traces over v1. */
static void
test_v1_reads_traces (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GError) error = NULL;
  MtLangfuseApi used = MT_LANGFUSE_API_AUTO;
  GPtrArray *log;

  populate (f, 250, 7);
  populate_edges (f);

  traces = fetch (f, MT_LANGFUSE_API_V1, &used, &error);
  g_assert_no_error (error);
  g_assert_cmpint (used, ==, MT_LANGFUSE_API_V1);
  assert_traces (f, traces);

  log = mt_loopback_langfuse_get_log (f->fake);
  for (guint i = 0; i < log->len; i++)
    {
      const char *request = g_ptr_array_index (log, i);

      g_assert_false (g_str_has_prefix (request, "/api/public/v2/"));
      g_assert_nonnull (strstr (request, "limit=100"));
      if (g_str_has_prefix (request, "/api/public/traces?"))
        {
          g_assert_nonnull (strstr (request, "orderBy=timestamp.asc"));
          /* Only what the traces need: no metrics, scores or observations. */
          g_assert_true (g_str_has_suffix (request, "&fields=core%2Cio"));
        }
      else
        g_assert_nonnull (strstr (request, "type=GENERATION"));
    }
  /* 252 traces: three pages of traces, each asked once. */
  g_assert_cmpuint (count_requests (f->fake, "/api/public/traces"), ==, 3);
  g_assert_cmpuint (mt_loopback_langfuse_get_repeated_pages (f->fake), ==, 0);
}

/* 3,500 traces: over v1 pages and v2 cursors, none lost or repeated, and
 * the two generations agree field by field. */
static void
test_generations_agree (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) v1 = NULL;
  g_autoptr(GPtrArray) v2 = NULL;
  g_autoptr(GPtrArray) sliced = NULL;
  g_autoptr(GError) error = NULL;
  guint without_user = 0, generations_v1, generations_v2;

  populate (f, 3500, 42);
  populate_edges (f);

  mt_langfuse_client_set_slicing (f->client, FALSE);
  v2 = fetch (f, MT_LANGFUSE_API_V2, NULL, &error);
  g_assert_no_error (error);
  assert_traces (f, v2);
  /* One cursor walk each, every page and item once: the fewest there can be. */
  g_assert_cmpuint (mt_loopback_langfuse_get_repeated_pages (f->fake), ==, 0);
  g_assert_cmpuint (mt_loopback_langfuse_get_repeated_items (f->fake), ==, 0);
  generations_v2 = mt_loopback_langfuse_get_requests (f->fake);
  g_test_message ("v2: %u requests", generations_v2);
  g_assert_cmpuint (generations_v2, ==, fewest_requests (f, MT_LANGFUSE_API_V2));
  g_assert_cmpuint (mt_langfuse_client_get_requests (f->client), ==, generations_v2);

  mt_loopback_langfuse_reset_counters (f->fake);
  g_clear_object (&f->client);
  f->client = client_new (f, SECRET_KEY);
  v1 = fetch (f, MT_LANGFUSE_API_V1, NULL, &error);
  g_assert_no_error (error);
  assert_traces (f, v1);
  /* 3,502 traces are 36 pages of 100; the generations' pages besides. */
  g_assert_cmpuint (count_requests (f->fake, "/api/public/traces"), ==, 36);
  g_assert_cmpuint (mt_loopback_langfuse_get_repeated_pages (f->fake), ==, 0);
  generations_v1 = mt_loopback_langfuse_get_requests (f->fake);
  g_test_message ("v1: %u requests", generations_v1);
  g_assert_cmpuint (generations_v1, ==, fewest_requests (f, MT_LANGFUSE_API_V1));
  g_assert_cmpuint (mt_loopback_langfuse_get_repeated_items (f->fake), ==, 0);

  assert_same_traces (v1, v2);

  /* Sliced, the same again, with no page read twice; answers take a
   * while, as over a network, so that walks overlap (longer under a slower
   * runner, which reads each page more slowly). */
  mt_loopback_langfuse_reset_counters (f->fake);
  mt_loopback_langfuse_set_latency_ms (f->fake, 20 * mt_test_time_scale ());
  g_clear_object (&f->client);
  f->client = client_new (f, SECRET_KEY);
  sliced = fetch (f, MT_LANGFUSE_API_V2, NULL, &error);
  g_assert_no_error (error);
  assert_same_traces (v2, sliced);
  g_assert_cmpuint (mt_loopback_langfuse_get_repeated_pages (f->fake), ==, 0);
  g_assert_cmpuint (mt_loopback_langfuse_get_max_in_flight (f->fake), >, 2);
  /* Slices meet at an instant read by both, and nowhere else: a few items
   * read twice, and at most a partial page more per slice. */
  g_assert_cmpuint (mt_loopback_langfuse_get_repeated_items (f->fake), <=, 8);
  g_assert_cmpuint (mt_loopback_langfuse_get_requests (f->fake), <=, fewest_requests (f, MT_LANGFUSE_API_V2) + 8);
  g_test_message ("v2 sliced: %u requests, %u at once", mt_loopback_langfuse_get_requests (f->fake),
                  mt_loopback_langfuse_get_max_in_flight (f->fake));

  for (guint i = 0; i < v2->len; i++)
    without_user += mt_trace_get_user_id (g_ptr_array_index (v2, i)) == NULL;
  /* populate() leaves every 7th trace (from the 4th) without a user. */
  g_assert_cmpuint (without_user, ==, 500);
}

/* auto: v2 where there is v2, v1 where v2 answers 404; remembered. */
static void
test_auto_detection (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GError) error = NULL;
  MtLangfuseApi used = MT_LANGFUSE_API_AUTO;

  populate (f, 120, 3);

  /* Langfuse Cloud after 2026-11-16: v2 only. */
  mt_loopback_langfuse_set_apis (f->fake, FALSE, TRUE);
  first = fetch (f, MT_LANGFUSE_API_AUTO, &used, &error);
  g_assert_no_error (error);
  g_assert_cmpint (used, ==, MT_LANGFUSE_API_V2);
  g_assert_cmpint (mt_langfuse_client_get_detected_api (f->client), ==, MT_LANGFUSE_API_V2);
  assert_traces (f, first);
  g_assert_cmpuint (count_requests (f->fake, "/api/public/traces"), ==, 0);
  g_clear_pointer (&first, g_ptr_array_unref);

  /* Self-hosted Langfuse v3: v1 only. A new client asks again. */
  mt_loopback_langfuse_set_apis (f->fake, TRUE, FALSE);
  mt_loopback_langfuse_reset_counters (f->fake);
  g_clear_object (&f->client);
  f->client = client_new (f, SECRET_KEY);
  first = fetch (f, MT_LANGFUSE_API_AUTO, &used, &error);
  g_assert_no_error (error);
  g_assert_cmpint (used, ==, MT_LANGFUSE_API_V1);
  g_assert_cmpint (mt_langfuse_client_get_detected_api (f->client), ==, MT_LANGFUSE_API_V1);
  assert_traces (f, first);
  /* One request found v2 missing. */
  g_assert_cmpuint (count_requests (f->fake, "/api/public/v2/observations"), ==, 1);

  /* The same client remembers: no v2 request the second time. */
  mt_loopback_langfuse_reset_counters (f->fake);
  second = fetch (f, MT_LANGFUSE_API_AUTO, &used, &error);
  g_assert_no_error (error);
  g_assert_cmpint (used, ==, MT_LANGFUSE_API_V1);
  g_assert_cmpuint (count_requests (f->fake, "/api/public/v2/observations"), ==, 0);
  assert_same_traces (first, second);

  /* Asked for v2 where there is none: not found, and says what to set. */
  g_clear_pointer (&second, g_ptr_array_unref);
  second = fetch (f, MT_LANGFUSE_API_V2, NULL, &error);
  g_assert_null (second);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "MEALTRACE_LANGFUSE_API"));
  g_clear_error (&error);

  /* And v1 where it was retired. */
  mt_loopback_langfuse_set_apis (f->fake, FALSE, TRUE);
  second = fetch (f, MT_LANGFUSE_API_V1, NULL, &error);
  g_assert_null (second);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Neither: auto says that the address is wrong, not what to choose. */
  mt_loopback_langfuse_set_apis (f->fake, FALSE, FALSE);
  g_clear_object (&f->client);
  f->client = client_new (f, SECRET_KEY);
  second = fetch (f, MT_LANGFUSE_API_AUTO, NULL, &error);
  g_assert_null (second);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "neither"));
  g_assert_null (strstr (error->message, "MEALTRACE_LANGFUSE_API"));
}

/* A v1 server that does not take `fields`: asked once, then never again. */
static void
test_v1_without_fields (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *log;
  guint with_fields = 0;

  populate (f, 450, 11);
  mt_loopback_langfuse_set_v1_fields (f->fake, FALSE);
  /* One request at a time, so that the first answer comes before the rest. */
  mt_langfuse_client_set_max_in_flight (f->client, 1);
  traces = fetch (f, MT_LANGFUSE_API_V1, NULL, &error);
  g_assert_no_error (error);
  assert_traces (f, traces);

  log = mt_loopback_langfuse_get_log (f->fake);
  for (guint i = 0; i < log->len; i++)
    with_fields += strstr (g_ptr_array_index (log, i), "fields=") != NULL;
  g_assert_cmpuint (with_fields, ==, 1);
  g_assert_cmpuint (count_requests (f->fake, "/api/public/traces"), ==, 5 + 1);
}

/* The ids of the traces a fetch returned, for comparison. */
static void
assert_complete (Fixture *f, MtLangfuseApi api)
{
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GError) error = NULL;

  traces = fetch (f, api, NULL, &error);
  g_assert_no_error (error);
  assert_traces (f, traces);
}

/* Retry-After on a 429, with each kind of body: the client waits at least
 * that long, then succeeds. */
static void
test_retry_after (Fixture *f, gconstpointer data)
{
  const MtFakeLangfuseThrottle styles[] = {
    MT_FAKE_LANGFUSE_THROTTLE_JSON, MT_FAKE_LANGFUSE_THROTTLE_TEXT, MT_FAKE_LANGFUSE_THROTTLE_BODY_ONLY,
  };

  populate (f, 30, 5);
  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    {
      gint64 start;
      double waited;

      g_clear_object (&f->client);
      f->client = client_new (f, SECRET_KEY);
      mt_loopback_langfuse_reset_counters (f->fake);
      mt_fake_langfuse_set_throttle_style (f->fake, styles[i]);
      /* The first request meets a 429 that asks for a second. */
      mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_THROTTLED, 1, NULL);
      start = g_get_monotonic_time ();
      assert_complete (f, MT_LANGFUSE_API_V2);
      waited = (double) (g_get_monotonic_time () - start) / G_TIME_SPAN_MILLISECOND;
      g_test_message ("style %u: done after %.0f ms", i, waited);
      g_assert_cmpfloat (waited, >=, 1000.0);
      g_assert_cmpuint (mt_fake_langfuse_get_throttled (f->fake), ==, 1);
      g_assert_cmpuint (mt_langfuse_client_get_retries (f->client), ==, 1);
    }
}

static void
on_rate_limited (GObject *client, GParamSpec *pspec, gpointer data)
{
  if (mt_langfuse_client_get_rate_limited (MT_LANGFUSE_CLIENT (client)))
    (*(guint *) data)++;
}

/* A limit of N requests per window that every answer announces is never
 * exceeded, whatever form Reset takes, and the client says it waits. */
static void
test_rate_limit_announced (Fixture *f, gconstpointer data)
{
  const MtFakeLangfuseReset styles[] = {
    MT_FAKE_LANGFUSE_RESET_DATE, MT_FAKE_LANGFUSE_RESET_SECONDS, MT_FAKE_LANGFUSE_RESET_UNIX,
  };

  /* v1: 1,200 traces are 12 pages and their generations 18 more. */
  populate (f, 1200, 13);
  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    {
      guint waits = 0;

      g_clear_object (&f->client);
      f->client = client_new (f, SECRET_KEY);
      g_signal_connect (f->client, "notify::rate-limited", G_CALLBACK (on_rate_limited), &waits);
      mt_loopback_langfuse_reset_counters (f->fake);
      mt_fake_langfuse_set_reset_style (f->fake, styles[i]);
      mt_fake_langfuse_set_rate_limit (f->fake, 10, 1000, TRUE);
      assert_complete (f, MT_LANGFUSE_API_V1);
      g_test_message ("reset style %u: %u requests, %u waits, at most %u in a window", i,
                      mt_loopback_langfuse_get_requests (f->fake), waits,
                      mt_fake_langfuse_get_max_per_window (f->fake));
      g_assert_cmpuint (mt_fake_langfuse_get_throttled (f->fake), ==, 0);
      g_assert_cmpuint (mt_fake_langfuse_get_max_per_window (f->fake), <=, 10);
      g_assert_cmpuint (mt_loopback_langfuse_get_requests (f->fake), >, 20);
      g_assert_cmpuint (waits, >, 0);
      g_assert_false (mt_langfuse_client_get_rate_limited (f->client));
    }
}

/* The same over v2, whose walks split into slices only when the limit
 * leaves room for them: the limit is never exceeded either. */
static void
test_rate_limit_announced_v2 (Fixture *f, gconstpointer data)
{
  guint waits = 0;

  /* 6,000 traces are 6 pages of roots and 9 of generations, more than the
   * window allows at once. */
  populate (f, 6000, 43);
  g_signal_connect (f->client, "notify::rate-limited", G_CALLBACK (on_rate_limited), &waits);
  mt_fake_langfuse_set_rate_limit (f->fake, 4, 1000, TRUE);
  assert_complete (f, MT_LANGFUSE_API_V2);
  g_test_message ("%u requests, %u waits, at most %u in a window", mt_loopback_langfuse_get_requests (f->fake),
                  waits, mt_fake_langfuse_get_max_per_window (f->fake));
  g_assert_cmpuint (mt_fake_langfuse_get_throttled (f->fake), ==, 0);
  g_assert_cmpuint (mt_fake_langfuse_get_max_per_window (f->fake), <=, 4);
  g_assert_cmpuint (mt_loopback_langfuse_get_requests (f->fake), >, 8);
  g_assert_cmpuint (waits, >, 0);
}

/* Langfuse Cloud states its limit only in the 429 that ends a window: the
 * client learns the window from it and keeps below it from then on. */
static void
test_rate_limit_learnt (Fixture *f, gconstpointer data)
{
  populate (f, 1200, 17);
  mt_fake_langfuse_set_rate_limit (f->fake, 8, 1000, FALSE);
  assert_complete (f, MT_LANGFUSE_API_V1);
  g_test_message ("%u requests, %u throttled", mt_loopback_langfuse_get_requests (f->fake),
                  mt_fake_langfuse_get_throttled (f->fake));
  /* The first window's burst meets 429s (as many as were in flight at
   * most); after that, none. */
  g_assert_cmpuint (mt_fake_langfuse_get_throttled (f->fake), <=, 8);
  g_assert_cmpuint (mt_fake_langfuse_get_throttled_windows (f->fake), ==, 1);
  g_assert_cmpuint (mt_fake_langfuse_get_max_per_window (f->fake), <=, 8);
}

/* 500, 503, Cloudflare's 524 and a dropped connection: retried. */
static void
test_server_errors_retried (Fixture *f, gconstpointer data)
{
  populate (f, 1200, 19);
  mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_INTERNAL_ERROR, 1, NULL);
  mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_NONE, 1, NULL);
  mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_UNAVAILABLE, 1, NULL);
  mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_TIMEOUT, 1, NULL);
  mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_NONE, 1, NULL);
  mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_RESET, 1, NULL);
  assert_complete (f, MT_LANGFUSE_API_V2);
  /* Each failed request was asked again, once; libsoup itself resends a
   * request whose kept-alive connection dropped, so that one may not count
   * as the client's retry. */
  g_assert_cmpuint (mt_loopback_langfuse_get_requests (f->fake), ==, fewest_requests (f, MT_LANGFUSE_API_V2) + 4);
  g_assert_cmpuint (mt_langfuse_client_get_retries (f->client), >=, 3);

  g_clear_object (&f->client);
  f->client = client_new (f, SECRET_KEY);
  mt_loopback_langfuse_reset_counters (f->fake);
  mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_TIMEOUT, 2, "/api/public/observations");
  mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_RESET, 1, "/api/public/traces");
  assert_complete (f, MT_LANGFUSE_API_V1);
  g_assert_cmpuint (mt_loopback_langfuse_get_requests (f->fake), ==, fewest_requests (f, MT_LANGFUSE_API_V1) + 3);
  g_assert_cmpuint (mt_langfuse_client_get_retries (f->client), >=, 2);
}

/* A server that keeps failing: the server code once attempts run out, the
 * rate-limited code when it keeps refusing, and nothing half done. */
static void
test_gives_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GError) error = NULL;

  populate (f, 50, 23);
  mt_langfuse_client_set_max_attempts (f->client, 3);
  mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_INTERNAL_ERROR, 3, NULL);
  traces = fetch (f, MT_LANGFUSE_API_AUTO, NULL, &error);
  g_assert_null (traces);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_SERVER);
  g_assert_nonnull (strstr (error->message, "500"));
  g_clear_error (&error);

  /* Dropped connections (libsoup resends some itself). */
  mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_RESET, 10, NULL);
  traces = fetch (f, MT_LANGFUSE_API_AUTO, NULL, &error);
  g_assert_null (traces);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NETWORK);
  g_assert_nonnull (strstr (error->message, "network"));
  g_clear_error (&error);
  mt_fake_langfuse_clear_faults (f->fake);

  /* 429s with Retry-After: 1, three times: three seconds, then give up. */
  mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_THROTTLED, 3, NULL);
  traces = fetch (f, MT_LANGFUSE_API_AUTO, NULL, &error);
  g_assert_null (traces);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_RATE_LIMITED);
}

/* Answers that are not Langfuse's pages fail the fetch: no partial list
 * that looks complete. The message names the endpoint and the page. */
static void
test_malformed (Fixture *f, gconstpointer data)
{
  const struct {
    MtFakeLangfuseFault fault;
    const char *prefix;
    guint skip;
    MtLangfuseApi api;
    const char *said;
  } cases[] = {
    { MT_FAKE_LANGFUSE_FAULT_TRUNCATED, "/api/public/v2/", 0, MT_LANGFUSE_API_AUTO,
      "/api/public/v2/observations?isRootObservation=true, page 1" },
    { MT_FAKE_LANGFUSE_FAULT_WRONG_SHAPE, "/api/public/v2/", 1, MT_LANGFUSE_API_AUTO,
      "/api/public/v2/observations?type=GENERATION, page 1" },
    { MT_FAKE_LANGFUSE_FAULT_BAD_ITEM, "/api/public/traces", 2, MT_LANGFUSE_API_V1, "/api/public/traces, page " },
    { MT_FAKE_LANGFUSE_FAULT_TRUNCATED, "/api/public/observations", 1, MT_LANGFUSE_API_V1,
      "/api/public/observations?type=GENERATION, page " },
    /* A cursor that leads back to its own page: walked forever. */
    { MT_FAKE_LANGFUSE_FAULT_STUCK_CURSOR, "/api/public/v2/", 2, MT_LANGFUSE_API_V2, "a cursor that leads back" },
    /* A page count that promises a million requests for a few items. */
    { MT_FAKE_LANGFUSE_FAULT_BAD_COUNTS, "/api/public/traces", 0, MT_LANGFUSE_API_V1, "page counts that do not add up" },
  };

  populate (f, 1500, 29);
  /* One walk per query, so that the faults meet the pages meant. */
  mt_langfuse_client_set_slicing (f->client, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) traces = NULL;
      g_autoptr(GError) error = NULL;

      mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_NONE, cases[i].skip, cases[i].prefix);
      mt_fake_langfuse_add_fault (f->fake, cases[i].fault, 1, cases[i].prefix);
      traces = fetch (f, cases[i].api, NULL, &error);
      g_assert_null (traces);
      g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_MALFORMED);
      g_assert_nonnull (strstr (error->message, cases[i].said));
    }
}

/* Observations of no trace (traceId is null where the API allows it) are
 * left out, and the rest read as ever. */
static void
test_orphans (Fixture *f, gconstpointer data)
{
  populate (f, 300, 47);
  mt_loopback_langfuse_add_orphan (f->fake, "orphan-generation", "GENERATION", FROM + DAY);
  mt_loopback_langfuse_add_orphan (f->fake, "orphan-root", "SPAN", FROM + 2 * DAY);
  assert_complete (f, MT_LANGFUSE_API_V2);

  g_clear_object (&f->client);
  f->client = client_new (f, SECRET_KEY);
  assert_complete (f, MT_LANGFUSE_API_V1);
}

/* The ids of @traces, which must be unique. */
static GHashTable *
ids_of (GPtrArray *traces)
{
  GHashTable *ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < traces->len; i++)
    g_assert_true (g_hash_table_add (ids, g_strdup (mt_trace_get_id (g_ptr_array_index (traces, i)))));
  return ids;
}

/* v1 pages by number over a window that ends now, while traces arrive:
 * the recent part is read apart, and again until it holds still; nothing
 * that was there is lost. */
static void
test_v1_moving_window (Fixture *f, gconstpointer data)
{
  gint64 now = g_get_real_time () / 1000, from = now - 3600000;
  g_autoptr(GHashTable) expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) ids = NULL;
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GError) error = NULL;
  GHashTableIter iter;
  gpointer id;

  for (guint i = 0; i < 700; i++)
    {
      /* 450 settled, more than ten minutes old; 250 recent. */
      gint64 timestamp = i < 450 ? from + i * 5000 : now - 9 * 60000 + (i - 450) * 1000;
      char *trace_id = g_strdup_printf ("moving-%03u", i);

      mt_loopback_langfuse_add_trace (f->fake, trace_id, timestamp, "meal-analysis", "user-moving", NULL, NULL, NULL);
      g_hash_table_add (expected, trace_id);
    }
  /* The first four requests for traces each find one more, two minutes
   * old: the recent walk's pages disagree with its first. */
  mt_fake_langfuse_add_growth (f->fake, "/api/public/traces", 4, now - 2 * 60000);

  traces = fetch_full (f, f->client, from, now, MT_LANGFUSE_API_V1, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mt_fake_langfuse_get_grown (f->fake), ==, 4);
  for (guint i = 0; i < 4; i++)
    g_hash_table_add (expected, g_strdup_printf ("grown-%u", i));
  ids = ids_of (traces);
  g_assert_cmpuint (g_hash_table_size (ids), ==, g_hash_table_size (expected));
  g_hash_table_iter_init (&iter, expected);
  while (g_hash_table_iter_next (&iter, &id, NULL))
    g_assert_true (g_hash_table_contains (ids, id));
  /* Settled: 5 pages; recent: 3 pages, then 3 again; no generations. */
  g_test_message ("%u requests for traces", count_requests (f->fake, "/api/public/traces"));
  g_assert_cmpuint (count_requests (f->fake, "/api/public/traces"), ==, 5 + 3 + 3);

  /* Arriving without end: given up on, said plainly, nothing returned. */
  g_clear_pointer (&traces, g_ptr_array_unref);
  mt_fake_langfuse_add_growth (f->fake, "/api/public/traces", 10000, now - 2 * 60000);
  traces = fetch_full (f, f->client, from, now, MT_LANGFUSE_API_V1, NULL, NULL, &error);
  g_assert_null (traces);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "kept changing"));
}

/* A 429 that asks for an hour: the fetch says so at once, and so does the
 * next one, without asking the server again. */
static void
test_long_wait (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  populate (f, 20, 53);
  mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_THROTTLED_LONG, 1, NULL);
  traces = fetch (f, MT_LANGFUSE_API_AUTO, NULL, &error);
  g_assert_null (traces);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_RATE_LIMITED);
  g_assert_nonnull (strstr (error->message, "60 minutes"));
  /* Not the hour: well within a minute even under the sanitizers. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 60 * G_TIME_SPAN_SECOND);
  g_assert_cmpuint (mt_loopback_langfuse_get_requests (f->fake), ==, 1);
  g_clear_error (&error);

  traces = fetch (f, MT_LANGFUSE_API_AUTO, NULL, &error);
  g_assert_null (traces);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_RATE_LIMITED);
  g_assert_cmpuint (mt_loopback_langfuse_get_requests (f->fake), ==, 1);
}

/* A budget of two requests an hour, announced in successful answers: a
 * fetch that needs a third says so at once rather than wait in silence;
 * one that needs no more than two is served. */
static void
test_long_budget (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  add_trace (f, "only", FROM + 1000, "ana", NULL, NULL);
  mt_fake_langfuse_set_rate_limit (f->fake, 2, 3600 * 1000, TRUE);
  assert_complete (f, MT_LANGFUSE_API_AUTO);

  /* A new window of two, then a fetch of three pages and more. */
  populate (f, 1100, 59);
  mt_fake_langfuse_set_rate_limit (f->fake, 2, 3600 * 1000, TRUE);
  g_clear_object (&f->client);
  f->client = client_new (f, SECRET_KEY);
  start = g_get_monotonic_time ();
  traces = fetch (f, MT_LANGFUSE_API_AUTO, NULL, &error);
  g_assert_null (traces);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_RATE_LIMITED);
  /* An hour, and the second or so Reset's rounding adds. */
  g_assert_true (strstr (error->message, "60 minutes") != NULL || strstr (error->message, "61 minutes") != NULL);
  /* Not the hour: well within a minute even under the sanitizers. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 60 * G_TIME_SPAN_SECOND);
  g_assert_cmpuint (mt_fake_langfuse_get_throttled (f->fake), ==, 0);
}

/* A window that is empty or outside any calendar is refused. */
static void
test_invalid_window (Fixture *f, gconstpointer data)
{
  const gint64 windows[][2] = { { TO, FROM }, { FROM, FROM }, { -1000, FROM }, { FROM, G_MAXINT64 } };

  for (guint i = 0; i < G_N_ELEMENTS (windows); i++)
    {
      g_autoptr(GPtrArray) traces = NULL;
      g_autoptr(GError) error = NULL;

      traces = fetch_full (f, f->client, windows[i][0], windows[i][1], MT_LANGFUSE_API_AUTO, NULL, NULL, &error);
      g_assert_null (traces);
      g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_INVALID);
    }
  g_assert_cmpuint (mt_loopback_langfuse_get_requests (f->fake), ==, 0);
}

/* Wrong keys: the unauthorized code, naming the settings, not the key. */
static void
test_wrong_keys (Fixture *f, gconstpointer data)
{
  g_autoptr(MtLangfuseClient) client = client_new (f, "sk-lf-wrong");
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GError) error = NULL;

  populate (f, 10, 31);
  traces = fetch_full (f, client, FROM, TO, MT_LANGFUSE_API_AUTO, NULL, NULL, &error);
  g_assert_null (traces);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (error->message, "LANGFUSE_PUBLIC_KEY"));
  g_assert_nonnull (strstr (error->message, "LANGFUSE_SECRET_KEY"));
  g_assert_null (strstr (error->message, "sk-lf-wrong"));
  /* A 401 is an answer: not retried, and auto did not decide on it. */
  g_assert_cmpuint (mt_loopback_langfuse_get_requests (f->fake), ==, 1);
  g_assert_cmpint (mt_langfuse_client_get_detected_api (client), ==, MT_LANGFUSE_API_AUTO);
}

/* A server that echoes the request's credentials in its message: they do
 * not reach the error. */
static void
test_secret_never_shown (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GError) error = NULL;

  populate (f, 10, 37);
  mt_fake_langfuse_add_fault (f->fake, MT_FAKE_LANGFUSE_FAULT_ECHO, 1, NULL);
  traces = fetch (f, MT_LANGFUSE_API_V2, NULL, &error);
  g_assert_null (traces);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_FAILED);
  /* What the server said is kept, short of the keys. */
  g_assert_nonnull (strstr (error->message, "Project not allowed"));
  assert_clean (error->message);
}

typedef struct {
  GCancellable *cancellable;
  MtLoopbackLangfuse *fake;
  gint64 cancelled_at;
  guint sent_then;
} Cancel;

static void
on_pages (GObject *client, GParamSpec *pspec, gpointer data)
{
  Cancel *cancel = data;

  if (mt_langfuse_client_get_pages (MT_LANGFUSE_CLIENT (client)) == 2)
    {
      cancel->cancelled_at = g_get_monotonic_time ();
      /* Requests already handed to libsoup may reach the server after
       * this; none may be sent after it. */
      cancel->sent_then = mt_langfuse_client_get_requests (MT_LANGFUSE_CLIENT (client));
      g_cancellable_cancel (cancel->cancellable);
    }
}

/* Cancelled mid-walk, over either generation (v2 walking in slices):
 * cancelled at once, and nothing left running. */
static void
test_cancel (Fixture *f, gconstpointer data)
{
  MtLangfuseApi api = GPOINTER_TO_INT (data);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GError) error = NULL;
  Cancel cancel = { cancellable, f->fake, 0, 0 };
  guint scale = mt_test_time_scale ();
  gint64 done, later;

  populate (f, 3000, 41);
  /* Answers take long: a request that went on would be seen. */
  mt_loopback_langfuse_set_latency_ms (f->fake, 400 * scale);
  g_signal_connect (f->client, "notify::pages", G_CALLBACK (on_pages), &cancel);
  traces = fetch_full (f, f->client, FROM, TO, api, cancellable, NULL, &error);
  done = g_get_monotonic_time ();
  g_assert_null (traces);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (cancel.cancelled_at, >, 0);
  /* Before the answers on the wire (400 ms) could have come. */
  g_assert_cmpint (done - cancel.cancelled_at, <, 350 * scale * G_TIME_SPAN_MILLISECOND);
  g_clear_error (&error);

  /* Nothing goes on: no request is sent after, and the server sees no
   * more than was sent before. */
  later = g_get_monotonic_time () + 600 * scale * G_TIME_SPAN_MILLISECOND;
  while (g_get_monotonic_time () < later)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (mt_langfuse_client_get_requests (f->client), ==, cancel.sent_then);
  g_assert_cmpuint (mt_loopback_langfuse_get_requests (f->fake), <=, cancel.sent_then);
  g_assert_cmpuint (mt_langfuse_client_get_pages (f->client), ==, 2);

  /* Cancelled before it starts. */
  g_signal_handlers_disconnect_by_func (f->client, on_pages, &cancel);
  traces = fetch_full (f, f->client, FROM, TO, api, cancellable, NULL, &error);
  g_assert_null (traces);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
on_user_found (MtLangfuseClient *client, const char *user_id, gpointer data)
{
  g_assert_true (g_hash_table_add (data, g_strdup (user_id)));
}

/* Progress: pages and items as they come, each user once. */
static void
test_progress (Fixture *f, gconstpointer data)
{
  g_autoptr(GHashTable) users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) expected_users = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer value;

  populate (f, 1500, 43);
  g_signal_connect (f->client, "user-found", G_CALLBACK (on_user_found), users);
  assert_complete (f, MT_LANGFUSE_API_V2);

  g_hash_table_iter_init (&iter, f->expected);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Expected *) value)->user_id != NULL)
      g_hash_table_add (expected_users, ((Expected *) value)->user_id);
  g_assert_cmpuint (g_hash_table_size (users), ==, g_hash_table_size (expected_users));
  g_hash_table_iter_init (&iter, expected_users);
  while (g_hash_table_iter_next (&iter, &value, NULL))
    g_assert_true (g_hash_table_contains (users, value));
  g_assert_cmpuint (mt_langfuse_client_get_pages (f->client), ==, mt_loopback_langfuse_get_requests (f->fake));
  /* Every root (and late root) and every generation was read once at least. */
  g_assert_cmpuint (mt_langfuse_client_get_items (f->client), >=, 1500);
}

static void
test_invalid_url (void)
{
  const char *urls[] = { "ftp://cloud.langfuse.com", "cloud.langfuse.com", "https://", "https://x/?a=b", "",
                         "https://" PUBLIC_KEY ":" SECRET_KEY "@cloud.langfuse.com" };

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MtLangfuseClient) client = mt_langfuse_client_new (urls[i], PUBLIC_KEY, SECRET_KEY, &error);

      g_assert_null (client);
      g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "LANGFUSE_BASE_URL"));
      assert_clean (error->message);
    }
}

static void
test_settings (void)
{
  const char *full[] = { "LANGFUSE_PUBLIC_KEY=pk", "LANGFUSE_SECRET_KEY= sk \n", "LANGFUSE_HOST=https://host.example",
                         "LANGFUSE_BASE_URL=https://base.example", "MEALTRACE_LANGFUSE_API=v1", NULL };
  const char *host[] = { "LANGFUSE_PUBLIC_KEY=pk", "LANGFUSE_SECRET_KEY=sk", "LANGFUSE_HOST=https://host.example",
                         "LANGFUSE_BASE_URL=", NULL };
  const char *bare[] = { "LANGFUSE_PUBLIC_KEY=pk", "LANGFUSE_SECRET_KEY=sk", NULL };
  const char *no_secret[] = { "LANGFUSE_PUBLIC_KEY=pk", "LANGFUSE_SECRET_KEY=  ", NULL };
  const char *no_public[] = { "LANGFUSE_SECRET_KEY=sk", NULL };
  const char *bad_api[] = { "LANGFUSE_PUBLIC_KEY=pk", "LANGFUSE_SECRET_KEY=sk", "MEALTRACE_LANGFUSE_API=v3", NULL };
  g_autoptr(MtLangfuseSettings) settings = NULL;
  g_autoptr(GError) error = NULL;

  settings = mt_langfuse_settings_load (full, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (settings->base_url, ==, "https://base.example");
  g_assert_cmpstr (settings->base_url_source, ==, "LANGFUSE_BASE_URL");
  g_assert_cmpstr (settings->public_key, ==, "pk");
  g_assert_cmpstr (settings->secret_key, ==, "sk");
  g_assert_cmpint (settings->api, ==, MT_LANGFUSE_API_V1);
  g_clear_pointer (&settings, mt_langfuse_settings_free);

  settings = mt_langfuse_settings_load (host, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (settings->base_url, ==, "https://host.example");
  g_assert_cmpstr (settings->base_url_source, ==, "LANGFUSE_HOST");
  g_assert_cmpint (settings->api, ==, MT_LANGFUSE_API_AUTO);
  g_clear_pointer (&settings, mt_langfuse_settings_free);

  settings = mt_langfuse_settings_load (bare, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (settings->base_url, ==, "https://cloud.langfuse.com");
  g_assert_cmpstr (settings->base_url_source, ==, "default");
  g_clear_pointer (&settings, mt_langfuse_settings_free);

  settings = mt_langfuse_settings_load (no_secret, &error);
  g_assert_null (settings);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NOT_CONFIGURED);
  g_assert_nonnull (strstr (error->message, "LANGFUSE_SECRET_KEY"));
  g_clear_error (&error);

  settings = mt_langfuse_settings_load (no_public, &error);
  g_assert_null (settings);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NOT_CONFIGURED);
  g_assert_nonnull (strstr (error->message, "LANGFUSE_PUBLIC_KEY"));
  g_clear_error (&error);

  settings = mt_langfuse_settings_load (bad_api, &error);
  g_assert_null (settings);
  g_assert_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "MEALTRACE_LANGFUSE_API"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/langfuse/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("fake-follows-the-spec", test_fake_follows_the_spec);
  ADD ("v2-rebuilds-traces", test_v2_rebuilds_traces);
  ADD ("v1-reads-traces", test_v1_reads_traces);
  ADD ("generations-agree", test_generations_agree);
  ADD ("auto-detection", test_auto_detection);
  ADD ("v1-without-fields", test_v1_without_fields);
  ADD ("retry-after", test_retry_after);
  ADD ("rate-limit-announced", test_rate_limit_announced);
  ADD ("rate-limit-announced-v2", test_rate_limit_announced_v2);
  ADD ("rate-limit-learnt", test_rate_limit_learnt);
  ADD ("server-errors-retried", test_server_errors_retried);
  ADD ("gives-up", test_gives_up);
  ADD ("malformed", test_malformed);
  ADD ("orphans", test_orphans);
  ADD ("v1-moving-window", test_v1_moving_window);
  ADD ("long-wait", test_long_wait);
  ADD ("long-budget", test_long_budget);
  ADD ("invalid-window", test_invalid_window);
  ADD ("wrong-keys", test_wrong_keys);
  ADD ("secret-never-shown", test_secret_never_shown);
  g_test_add ("/langfuse/cancel/v1", Fixture, GINT_TO_POINTER (MT_LANGFUSE_API_V1), fixture_set_up, test_cancel,
              fixture_tear_down);
  g_test_add ("/langfuse/cancel/v2", Fixture, GINT_TO_POINTER (MT_LANGFUSE_API_V2), fixture_set_up, test_cancel,
              fixture_tear_down);
  ADD ("progress", test_progress);
#undef ADD
  g_test_add_func ("/langfuse/invalid-url", test_invalid_url);
  g_test_add_func ("/langfuse/settings", test_settings);

  return g_test_run ();
}
