/* test-s3-client.c — the S3 client against the in-process fake S3 */

#include <libsoup/soup.h>

#include "mt-fake-s3.h"
#include "mt-s3-client.h"

#define KEY_ID "AKIAFAKEFAKEFAKE1234"
#define SECRET "fakeSECRETfakeSECRETfakeSECRET0123456789"
#define TOKEN "FQoGZXIvYXdzFAKETOKENfaketoken+/="
#define BUCKET "meals"

typedef struct {
  MtLoopbackS3 *fake;
  MtAwsCredentials *credentials;
  MtS3Client *client;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->fake = mt_loopback_s3_new ("ap-southeast-1", KEY_ID, SECRET, TOKEN);
  mt_loopback_s3_add_bucket (f->fake, BUCKET);
  f->credentials = mt_aws_credentials_new (KEY_ID, SECRET, TOKEN, "the test");
  f->client = mt_s3_client_new (f->credentials, "ap-southeast-1", mt_loopback_s3_get_endpoint (f->fake),
                                BUCKET, &error);
  g_assert_no_error (error);
  /* Retries wait a millisecond, not seconds. */
  mt_s3_client_set_retry_delay_ms (f->client, 1);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->client);
  /* Nothing may keep the fake alive: it would keep its sockets. */
  g_object_add_weak_pointer (G_OBJECT (f->fake), (gpointer *) &f->fake);
  g_object_unref (f->fake);
  g_assert_null (f->fake);
  mt_aws_credentials_unref (f->credentials);
  /* Let libsoup finish closing connections before the next test. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static GPtrArray *
list (MtS3Client *client, const char *prefix, GCancellable *cancellable, GError **error)
{
  GAsyncResult *result = NULL;
  GPtrArray *objects;

  mt_s3_client_list_objects_async (client, prefix, cancellable, on_done, &result);
  objects = mt_s3_client_list_objects_finish (client, wait_for (&result), error);
  g_object_unref (result);
  return objects;
}

static GBytes *
get (MtS3Client *client, const char *key, gsize max, GError **error)
{
  GAsyncResult *result = NULL;
  GBytes *bytes;

  mt_s3_client_get_object_async (client, key, max, NULL, on_done, &result);
  bytes = mt_s3_client_get_object_finish (client, wait_for (&result), error);
  g_object_unref (result);
  return bytes;
}

/* No secret, token or signature may ever be in a message a person sees. */
static void
assert_clean (const GError *error)
{
  const char *secrets[] = { SECRET, TOKEN };

  g_assert_nonnull (error);
  g_test_message ("error: %s", error->message);
  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      g_autofree char *escaped = g_uri_escape_string (secrets[i], NULL, FALSE);

      g_assert_null (strstr (error->message, secrets[i]));
      g_assert_null (strstr (error->message, escaped));
    }
  g_assert_null (strstr (error->message, "Signature="));
  g_assert_null (strstr (error->message, "X-Amz-Signature"));
  g_assert_null (strstr (error->message, "AWS4-HMAC-SHA256"));
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
put_many (Fixture *f, const char *prefix, guint count)
{
  for (guint i = 0; i < count; i++)
    {
      g_autofree char *key = g_strdup_printf ("%s%05u.jpg", prefix, i);

      mt_loopback_s3_put (f->fake, BUCKET, key, 1738300000000 + i * 1000, NULL, 100 + i);
    }
}

static void
test_pagination (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  /* 2,500 objects of one user among others': three pages of up to 1000. */
  put_many (f, "meal-images/user-1/", 2500);
  put_many (f, "meal-images/user-0/", 10);
  put_many (f, "meal-images/user-10/", 10);
  objects = list (f->client, "meal-images/user-1/", NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (objects->len, ==, 2500);
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), ==, 3);
  g_assert_cmpuint (mt_s3_client_get_requests (f->client), ==, 3);
  for (guint i = 0; i < objects->len; i++)
    {
      MtS3Object *object = g_ptr_array_index (objects, i);
      g_autofree char *expected = g_strdup_printf ("meal-images/user-1/%05u.jpg", i);

      /* In order, each once, with its time, size and tag. */
      g_assert_cmpstr (object->key, ==, expected);
      g_assert_false (g_hash_table_contains (seen, object->key));
      g_hash_table_add (seen, object->key);
      g_assert_cmpint (object->last_modified, ==, 1738300000000 + i * 1000);
      g_assert_cmpint (object->size, ==, 100 + i);
      g_assert_true (g_str_has_prefix (object->etag, "\""));
    }
}

static void
test_empty_prefix (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GError) error = NULL;

  put_many (f, "meal-images/user-1/", 3);
  objects = list (f->client, "meal-images/nobody/", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (objects->len, ==, 0);
}

/* A server that only notes each request line and answers NoSuchKey: what
 * the client puts on the wire, before any HTTP library reads it (libsoup's
 * server removes dot segments from paths, S3 does not). It reads in a
 * thread of its own, while the client writes from the main loop. */
typedef struct {
  GMutex lock;
  GPtrArray *lines;
} RawRequests;

static gboolean
on_raw_request (GThreadedSocketService *service,
                GSocketConnection      *connection,
                GObject                *source,
                gpointer                data)
{
  static const char answer[] = "HTTP/1.1 404 Not Found\r\nContent-Type: application/xml\r\n"
                               "Content-Length: 63\r\nConnection: close\r\n\r\n"
                               "<Error><Code>NoSuchKey</Code><Message>none</Message></Error>\n\n\n";
  RawRequests *requests = data;
  g_autoptr(GDataInputStream) in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_autofree char *line = NULL;

  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (in), FALSE);
  line = g_data_input_stream_read_line (in, NULL, NULL, NULL);
  if (line != NULL)
    g_strchomp (line);
  g_mutex_lock (&requests->lock);
  g_ptr_array_add (requests->lines, g_steal_pointer (&line));
  g_mutex_unlock (&requests->lock);
  /* The headers, to the empty line. */
  while ((line = g_data_input_stream_read_line (in, NULL, NULL, NULL)) != NULL && line[0] != '\r' && line[0] != '\0')
    g_clear_pointer (&line, g_free);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)), answer,
                             sizeof answer - 1, NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return TRUE;
}

/* Keys with "." and ".." segments name objects of their own in S3: they
 * are listed as stored, and asked for exactly as they are, never
 * resolved. */
static void
test_dot_segments (Fixture *f, gconstpointer data)
{
  static const char *const keys[] = {
    "meal-images/u/./lunch.jpg", "meal-images/u/../up.jpg", "meal-images/u/a/./../b.jpg",
    "meal-images/u/..", "meal-images/u/.",
  };
  g_autoptr(GSocketService) service = g_threaded_socket_service_new (2);
  RawRequests requests = { .lines = g_ptr_array_new_with_free_func (g_free) };
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(MtS3Client) raw = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *endpoint = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    mt_loopback_s3_put (f->fake, BUCKET, keys[i], 1738300000000, NULL, 10);
  objects = list (f->client, "meal-images/u/", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (objects->len, ==, G_N_ELEMENTS (keys));
  for (guint i = 0; i < objects->len; i++)
    g_assert_true (g_strv_contains ((const char * const *) keys, ((MtS3Object *) g_ptr_array_index (objects, i))->key));

  g_socket_listener_add_address (G_SOCKET_LISTENER (service), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error (error);
  g_mutex_init (&requests.lock);
  g_signal_connect (service, "run", G_CALLBACK (on_raw_request), &requests);
  endpoint = g_strdup_printf ("http://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  raw = mt_s3_client_new (f->credentials, "ap-southeast-1", endpoint, BUCKET, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(GBytes) bytes = get (raw, keys[i], 1024, &error);
      g_autofree char *expected = g_strdup_printf ("GET /%s/%s HTTP/1.1", BUCKET, keys[i]);

      g_assert_null (bytes);
      g_assert_error (error, MT_S3_ERROR, MT_S3_ERROR_NO_SUCH_KEY);
      g_clear_error (&error);
      g_mutex_lock (&requests.lock);
      g_assert_cmpuint (requests.lines->len, ==, i + 1);
      g_assert_cmpstr (g_ptr_array_index (requests.lines, i), ==, expected);
      g_mutex_unlock (&requests.lock);
    }
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  g_ptr_array_unref (requests.lines);
  g_mutex_clear (&requests.lock);
}

static void
test_awkward_keys (Fixture *f, gconstpointer data)
{
  static const char *const keys[] = {
    "meal-images/u/with space.jpg", "meal-images/u/plus+sign.jpg", "meal-images/u/100%.jpg",
    "meal-images/u/%20literal%2F.jpg", "meal-images/u/tilde~.jpg", "meal-images/u//double//slash.jpg",
    "meal-images/u/c\xc6\xa1m t\xe1\xba\xa5m.JPG", "meal-images/u/\xf0\x9f\x8d\x9c.png",
    "meal-images/u/a=b&c?d#e.jpg", "meal-images/u/<xml>&'\".jpg", "meal-images/u/semi;colon:at@$,!*().webp",
    "meal-images/u/[brackets]{braces}.gif", "meal-images/u/tab\there.heic", "meal-images/u/ending-space .jpg",
    "meal-images/u/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/\xe9\xa3\x9f\xe4\xba\x8b.jpeg",
  };
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(GBytes) content = g_bytes_new (keys[i], strlen (keys[i]));

      mt_loopback_s3_put (f->fake, BUCKET, keys[i], 1738300000000, content, 0);
      g_ptr_array_add (sorted, (gpointer) keys[i]);
    }
  g_ptr_array_sort (sorted, compare_strings);

  /* Listed exactly as stored, in bytewise order … */
  objects = list (f->client, "meal-images/u/", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (objects->len, ==, G_N_ELEMENTS (keys));

  /* … and each fetched by its key gives its own bytes. */
  for (guint i = 0; i < objects->len; i++)
    {
      MtS3Object *object = g_ptr_array_index (objects, i);
      g_autoptr(GBytes) bytes = NULL;

      g_test_message ("key %s", object->key);
      bytes = get (f->client, object->key, 1024, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                       object->key, strlen (object->key));
    }
  {
    g_autoptr(GPtrArray) listed = g_ptr_array_new ();

    for (guint i = 0; i < objects->len; i++)
      g_ptr_array_add (listed, ((MtS3Object *) g_ptr_array_index (objects, i))->key);
    g_ptr_array_sort (listed, compare_strings);
    for (guint i = 0; i < listed->len; i++)
      g_assert_cmpstr (g_ptr_array_index (listed, i), ==, g_ptr_array_index (sorted, i));
  }
  for (guint i = 1; i < objects->len; i++)
    g_assert_cmpint (strcmp (((MtS3Object *) g_ptr_array_index (objects, i - 1))->key,
                             ((MtS3Object *) g_ptr_array_index (objects, i))->key), <, 0);
}

static void
test_region_redirect (Fixture *f, gconstpointer data)
{
  g_autoptr(MtS3Client) client = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GError) error = NULL;

  /* S3 answers a wrong region with 400 or with 301; both name the right one. */
  mt_loopback_s3_set_wrong_region_status (f->fake, GPOINTER_TO_UINT (data));
  put_many (f, "meal-images/user-1/", 1500);
  /* Signed for us-east-1; the bucket is in ap-southeast-1. */
  client = mt_s3_client_new (f->credentials, "us-east-1", mt_loopback_s3_get_endpoint (f->fake), BUCKET, &error);
  g_assert_no_error (error);
  first = list (client, "meal-images/user-1/", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (first->len, ==, 1500);
  g_assert_cmpstr (mt_s3_client_get_region (client), ==, "ap-southeast-1");
  /* One request went to the wrong region, then two pages. */
  g_assert_cmpuint (mt_s3_client_get_requests (client), ==, 3);

  /* The region is remembered: no redirect the second time. */
  second = list (client, "meal-images/user-1/", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mt_s3_client_get_requests (client), ==, 5);
}

static void
test_region_redirect_concurrent (Fixture *f, gconstpointer data)
{
  g_autoptr(MtS3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *results[4] = { NULL };

  /* Four listings in flight at once all meet the redirect, and all follow. */
  for (guint u = 0; u < G_N_ELEMENTS (results); u++)
    {
      g_autofree char *prefix = g_strdup_printf ("meal-images/user-%u/", u);

      put_many (f, prefix, 10);
    }
  client = mt_s3_client_new (f->credentials, "us-east-1", mt_loopback_s3_get_endpoint (f->fake), BUCKET, &error);
  g_assert_no_error (error);
  for (guint u = 0; u < G_N_ELEMENTS (results); u++)
    {
      g_autofree char *prefix = g_strdup_printf ("meal-images/user-%u/", u);

      mt_s3_client_list_objects_async (client, prefix, NULL, on_done, &results[u]);
    }
  for (guint u = 0; u < G_N_ELEMENTS (results); u++)
    {
      g_autoptr(GPtrArray) objects = mt_s3_client_list_objects_finish (client, wait_for (&results[u]), &error);

      g_assert_no_error (error);
      g_assert_cmpuint (objects->len, ==, 10);
      g_object_unref (results[u]);
    }
  g_assert_cmpstr (mt_s3_client_get_region (client), ==, "ap-southeast-1");
  g_assert_cmpuint (mt_s3_client_get_requests (client), ==, 8);
  g_assert_cmpuint (mt_s3_client_get_retries (client), ==, 0);
}

static void expect_error (MtS3Client *client, const char *prefix, GQuark domain, int code);

static void
test_redirect_not_followed (Fixture *f, gconstpointer data)
{
  put_many (f, "p/", 3);
  /* A redirect with a Location is not followed blindly: it would carry the
   * session token along, unsigned. */
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_REDIRECT, 1, NULL);
  expect_error (f->client, "p/", MT_S3_ERROR, MT_S3_ERROR_WRONG_REGION);
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), ==, 1);
}

static void
test_backoff (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  put_many (f, "p/", 3);
  mt_s3_client_set_retry_delay_ms (f->client, 40);
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_INTERNAL_ERROR, 3, NULL);
  start = g_get_monotonic_time ();
  objects = list (f->client, "p/", NULL, &error);
  g_assert_no_error (error);
  /* Three pauses, each at least half of 40, 80, 160 ms. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, (20 + 40 + 80) * 1000);
  g_assert_cmpuint (mt_s3_client_get_retries (f->client), ==, 3);
}

static void
test_retry_after (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  put_many (f, "p/", 3);
  /* 429 with Retry-After: 1 is waited out, however short the backoff. */
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_THROTTLED, 1, NULL);
  start = g_get_monotonic_time ();
  objects = list (f->client, "p/", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (objects->len, ==, 3);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC);
}

static void
expect_error (MtS3Client *client, const char *prefix, GQuark domain, int code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) objects = list (client, prefix, NULL, &error);

  g_assert_null (objects);
  g_assert_error (error, domain, code);
  assert_clean (error);
}

static MtS3Client *
client_with (Fixture *f, const char *key_id, const char *secret, const char *token, const char *bucket)
{
  g_autoptr(MtAwsCredentials) credentials = mt_aws_credentials_new (key_id, secret, token, "the test");
  g_autoptr(GError) error = NULL;
  MtS3Client *client = mt_s3_client_new (credentials, "ap-southeast-1", mt_loopback_s3_get_endpoint (f->fake),
                                         bucket, &error);

  g_assert_no_error (error);
  mt_s3_client_set_retry_delay_ms (client, 1);
  return client;
}

static void
test_error_codes (Fixture *f, gconstpointer data)
{
  put_many (f, "p/", 3);

  {
    g_autoptr(MtS3Client) c = client_with (f, "AKIAWRONGWRONGWRONG0", SECRET, TOKEN, BUCKET);

    expect_error (c, "p/", MT_S3_ERROR, MT_S3_ERROR_INVALID_ACCESS_KEY);
    g_assert_cmpuint (mt_s3_client_get_retries (c), ==, 0);
  }
  {
    g_autoptr(MtS3Client) c = client_with (f, KEY_ID, SECRET "x", TOKEN, BUCKET);

    expect_error (c, "p/", MT_S3_ERROR, MT_S3_ERROR_SIGNATURE_MISMATCH);
    g_assert_cmpuint (mt_s3_client_get_retries (c), ==, 0);
  }
  {
    g_autoptr(MtS3Client) c = client_with (f, KEY_ID, SECRET, "other-token", BUCKET);

    expect_error (c, "p/", MT_S3_ERROR, MT_S3_ERROR_INVALID_TOKEN);
    g_assert_cmpuint (mt_s3_client_get_retries (c), ==, 0);
  }
  {
    g_autoptr(MtS3Client) c = client_with (f, KEY_ID, SECRET, TOKEN, "no-such-bucket");

    expect_error (c, "p/", MT_S3_ERROR, MT_S3_ERROR_NO_SUCH_BUCKET);
    g_assert_cmpuint (mt_s3_client_get_retries (c), ==, 0);
  }
  /* A server that echoes what it got: nothing of it reaches the message. */
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_ECHO, 1, NULL);
  expect_error (f->client, "p/", MT_S3_ERROR, MT_S3_ERROR_FAILED);
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_EXPIRED_TOKEN, 1, NULL);
  expect_error (f->client, "p/", MT_S3_ERROR, MT_S3_ERROR_EXPIRED_TOKEN);
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_ACCESS_DENIED, 1, NULL);
  expect_error (f->client, "p/", MT_S3_ERROR, MT_S3_ERROR_ACCESS_DENIED);
  mt_loopback_s3_set_clock_offset (f->fake, 3600);
  expect_error (f->client, "p/", MT_S3_ERROR, MT_S3_ERROR_CLOCK_SKEW);
  mt_loopback_s3_set_clock_offset (f->fake, 0);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) bytes = get (f->client, "p/missing.jpg", 1024, &error);

    g_assert_null (bytes);
    g_assert_error (error, MT_S3_ERROR, MT_S3_ERROR_NO_SUCH_KEY);
  }
  /* None of these is worth a retry. */
  g_assert_cmpuint (mt_s3_client_get_retries (f->client), ==, 0);
}

static void
test_retries_then_success (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GError) error = NULL;

  put_many (f, "meal-images/user-1/", 1200);
  /* Four failures of four kinds, spread over the two pages. */
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_INTERNAL_ERROR, 1, NULL);
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_SLOW_DOWN, 1, NULL);
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_RESET, 1, NULL);
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_TRUNCATED, 1, NULL);
  objects = list (f->client, "meal-images/user-1/", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (objects->len, ==, 1200);
  /* Every fault was met: four failed answers and two good pages. libsoup
   * itself sends again when a kept-alive connection closes unanswered, so
   * the reset may not reach the client as a failure. */
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), ==, 6);
  g_assert_cmpuint (mt_s3_client_get_retries (f->client), >=, 3);
  g_assert_cmpuint (mt_s3_client_get_retries (f->client) + 2, ==, mt_s3_client_get_requests (f->client));
  for (guint i = 0; i < objects->len; i++)
    {
      g_autofree char *expected = g_strdup_printf ("meal-images/user-1/%05u.jpg", i);

      g_assert_cmpstr (((MtS3Object *) g_ptr_array_index (objects, i))->key, ==, expected);
    }
}

/* Several kept-alive connections that the server drops, one after the
 * other.  libsoup sends a request again on its own when a connection it
 * has used before fails ahead of the answer, and 3.2 mixes up its tries
 * when that happens twice in a row (a lost read, or a crash).  The client
 * lets libsoup do it once, on a new connection, and retries itself after
 * that: with four idle connections and three resets, the first attempt
 * meets a reset on a pooled connection and one on a new connection, the
 * second attempt a reset on a pooled one, then an answer on a new one. */
static void
test_resets_on_pooled_connections (Fixture *f, gconstpointer data)
{
  GAsyncResult *results[4] = { NULL };
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GError) error = NULL;
  guint before;

  for (guint u = 0; u < G_N_ELEMENTS (results); u++)
    {
      g_autofree char *prefix = g_strdup_printf ("meal-images/user-%u/", u);

      put_many (f, prefix, 1 + u);
    }
  /* Four listings at once, slow enough to overlap, leave four idle
   * connections in the pool. */
  mt_s3_client_set_max_in_flight (f->client, G_N_ELEMENTS (results));
  mt_loopback_s3_set_latency_ms (f->fake, 100);
  for (guint u = 0; u < G_N_ELEMENTS (results); u++)
    {
      g_autofree char *prefix = g_strdup_printf ("meal-images/user-%u/", u);

      mt_s3_client_list_objects_async (f->client, prefix, NULL, on_done, &results[u]);
    }
  for (guint u = 0; u < G_N_ELEMENTS (results); u++)
    {
      g_autoptr(GPtrArray) warm = mt_s3_client_list_objects_finish (f->client, wait_for (&results[u]), &error);

      g_assert_no_error (error);
      g_assert_cmpuint (warm->len, ==, 1 + u);
      g_object_unref (results[u]);
    }
  g_assert_cmpuint (mt_s3_client_get_retries (f->client), ==, 0);
  mt_loopback_s3_set_latency_ms (f->fake, 0);

  before = mt_loopback_s3_get_requests (f->fake);
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_RESET, 3, NULL);
  objects = list (f->client, "meal-images/user-3/", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (objects->len, ==, 4);
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake) - before, ==, 4);
  g_assert_cmpuint (mt_s3_client_get_retries (f->client), ==, 1);
}

/* A bucket that allows 20 requests a second, asked for 80 folders with 16
 * requests in flight: the client answers SlowDown with fewer requests at
 * once, and every listing comes back. */
static void
test_slow_down_adapts (Fixture *f, gconstpointer data)
{
  GAsyncResult *results[80] = { NULL };
  guint slowed, failed = 0;

  for (guint u = 0; u < G_N_ELEMENTS (results); u++)
    {
      g_autofree char *prefix = g_strdup_printf ("meal-images/user-%02u/", u);

      put_many (f, prefix, 1);
    }
  mt_s3_client_set_max_in_flight (f->client, 16);
  mt_s3_client_set_retry_delay_ms (f->client, 50);
  mt_loopback_s3_set_latency_ms (f->fake, 5);
  mt_fake_s3_set_rate_limit (f->fake, 20);
  for (guint u = 0; u < G_N_ELEMENTS (results); u++)
    {
      g_autofree char *prefix = g_strdup_printf ("meal-images/user-%02u/", u);

      mt_s3_client_list_objects_async (f->client, prefix, NULL, on_done, &results[u]);
    }
  for (guint u = 0; u < G_N_ELEMENTS (results); u++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) objects = mt_s3_client_list_objects_finish (f->client, wait_for (&results[u]), &error);

      if (error != NULL)
        g_test_message ("error: %s", error->message);
      failed += objects == NULL;
      g_object_unref (results[u]);
    }
  slowed = mt_fake_s3_get_slowed (f->fake);
  g_test_message ("%u SlowDown answers, %u retries, %u requests", slowed, mt_s3_client_get_retries (f->client),
                  mt_s3_client_get_requests (f->client));
  g_assert_cmpuint (failed, ==, 0);
  g_assert_cmpuint (slowed, >, 0);
  g_assert_cmpuint (mt_s3_client_get_requests (f->client), ==, G_N_ELEMENTS (results) + slowed);
}

static void
test_retries_exhausted (Fixture *f, gconstpointer data)
{
  /* SlowDown first halves the requests allowed in flight, 16 to 1, then
   * spaces the requests out, from the first retry's pause to eight times
   * it: each retry not held against the call, eight more before the
   * three. */
  struct { MtFakeS3Fault fault; int code; guint free_retries; } cases[] = {
    { MT_FAKE_S3_FAULT_INTERNAL_ERROR, MT_S3_ERROR_SERVER, 0 },
    { MT_FAKE_S3_FAULT_SLOW_DOWN, MT_S3_ERROR_SLOW_DOWN, 8 },
    { MT_FAKE_S3_FAULT_RESET, MT_S3_ERROR_NETWORK, 0 },
    { MT_FAKE_S3_FAULT_TRUNCATED, MT_S3_ERROR_MALFORMED, 0 },
  };

  put_many (f, "p/", 3);
  mt_s3_client_set_max_attempts (f->client, 3);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint retries = mt_s3_client_get_retries (f->client);

      /* A fault that never ends: three attempts, two retries, an error. */
      mt_fake_s3_add_fault (f->fake, cases[i].fault, 1000, NULL);
      expect_error (f->client, "p/", MT_S3_ERROR, cases[i].code);
      g_assert_cmpuint (mt_s3_client_get_retries (f->client) - retries, ==, 2 + cases[i].free_retries);
      mt_fake_s3_clear_faults (f->fake);
    }
  /* And once the fault is gone, all is well again. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) objects = list (f->client, "p/", NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (objects->len, ==, 3);
  }
}

static void
test_unreachable (Fixture *f, gconstpointer data)
{
  g_autoptr(MtS3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autofree char *endpoint = NULL;
  guint16 port;

  /* A port that was free a moment ago: nothing answers there. */
  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);
  endpoint = g_strdup_printf ("http://127.0.0.1:%u", port);
  client = mt_s3_client_new (f->credentials, "ap-southeast-1", endpoint, BUCKET, &error);
  mt_s3_client_set_retry_delay_ms (client, 1);
  mt_s3_client_set_max_attempts (client, 2);
  expect_error (client, "p/", MT_S3_ERROR, MT_S3_ERROR_NETWORK);
}

static gboolean
cancel_now (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

/* Cancels a little after the second request went out: while it is on the
 * wire, waiting for an answer. */
static void
cancel_when_requests (GObject *client, GParamSpec *pspec, gpointer data)
{
  if (mt_s3_client_get_requests (MT_S3_CLIENT (client)) == 2)
    g_timeout_add (100, cancel_now, data);
}

static void
test_cancel_mid_listing (Fixture *f, gconstpointer data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  put_many (f, "meal-images/user-1/", 5000);
  /* The second page's answer would take 30 s to come. */
  mt_fake_s3_set_stall_ms (f->fake, 30000);
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_NONE, 1, NULL);
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_STALL, 1, NULL);
  g_signal_connect (f->client, "notify::requests", G_CALLBACK (cancel_when_requests), cancellable);
  start = g_get_monotonic_time ();
  objects = list (f->client, "meal-images/user-1/", cancellable, &error);
  g_assert_null (objects);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (mt_s3_client_get_requests (f->client), ==, 2);
  /* Cancelled as the second page was asked for, without waiting for it. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
}

static void
test_cancel_while_waiting (Fixture *f, gconstpointer data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GAsyncResult *results[3] = { NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) first = NULL;

  mt_loopback_s3_put (f->fake, BUCKET, "k", 1738300000000, NULL, 10);
  mt_loopback_s3_set_latency_ms (f->fake, 100);
  mt_s3_client_set_max_in_flight (f->client, 1);

  /* One request in flight, one waiting for its place, one sleeping before
   * a retry: cancelling stops the last two at once. */
  mt_s3_client_get_object_async (f->client, "k", 100, NULL, on_done, &results[0]);
  mt_s3_client_get_object_async (f->client, "k", 100, cancellable, on_done, &results[1]);
  g_cancellable_cancel (cancellable);
  while (results[1] == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (results[0]);
  g_assert_null (mt_s3_client_get_object_finish (f->client, results[1], &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  first = mt_s3_client_get_object_finish (f->client, wait_for (&results[0]), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (first), ==, 10);

  /* Sleeping between attempts, at least 2.5 s: cancelling does not wait. */
  g_cancellable_reset (cancellable);
  mt_s3_client_set_retry_delay_ms (f->client, 5000);
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_INTERNAL_ERROR, 1, NULL);
  mt_s3_client_get_object_async (f->client, "k", 100, cancellable, on_done, &results[2]);
  while (mt_s3_client_get_retries (f->client) == 0)
    g_main_context_iteration (NULL, TRUE);
  {
    gint64 start = g_get_monotonic_time ();

    g_cancellable_cancel (cancellable);
    g_assert_null (mt_s3_client_get_object_finish (f->client, wait_for (&results[2]), &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  }

  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    g_object_unref (results[i]);
}

/* Many calls waiting with two cancellables: cancelling one ends its calls
 * at once, and only its calls; the others go on to the wire in turn. */
static void
test_cancel_many_waiting (Fixture *f, gconstpointer data)
{
  g_autoptr(GCancellable) first = g_cancellable_new ();
  g_autoptr(GCancellable) second = g_cancellable_new ();
  GAsyncResult *results[41] = { NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;

  mt_loopback_s3_put (f->fake, BUCKET, "k", 1738300000000, NULL, 10);
  mt_loopback_s3_set_latency_ms (f->fake, 100);
  mt_s3_client_set_max_in_flight (f->client, 1);

  /* results[0] takes the one place; the odd ones wait with the first
   * cancellable, the even ones with the second. */
  mt_s3_client_get_object_async (f->client, "k", 100, NULL, on_done, &results[0]);
  for (guint i = 1; i < G_N_ELEMENTS (results); i++)
    mt_s3_client_get_object_async (f->client, "k", 100, i % 2 == 1 ? first : second, on_done, &results[i]);
  g_cancellable_cancel (first);
  for (guint i = 1; i < G_N_ELEMENTS (results); i += 2)
    wait_for (&results[i]);
  /* Each cancelled call ended while the first was still on the wire. */
  g_assert_null (results[0]);
  for (guint i = 1; i < G_N_ELEMENTS (results); i++)
    {
      if (i % 2 == 0)
        {
          g_assert_null (results[i]);
          continue;
        }
      g_assert_null (mt_s3_client_get_object_finish (f->client, results[i], &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);
    }
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), <=, 1);

  /* The second cancellable's calls are still waiting: the first two of
   * them are answered, then the rest are cancelled at once. */
  body = mt_s3_client_get_object_finish (f->client, wait_for (&results[0]), &error);
  g_assert_no_error (error);
  g_clear_pointer (&body, g_bytes_unref);
  body = mt_s3_client_get_object_finish (f->client, wait_for (&results[2]), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (body), ==, 10);
  g_cancellable_cancel (second);
  for (guint i = 4; i < G_N_ELEMENTS (results); i += 2)
    {
      g_assert_null (mt_s3_client_get_object_finish (f->client, wait_for (&results[i]), &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);
    }
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), <=, 3);

  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    g_object_unref (results[i]);
}

static void
test_concurrency_limit (Fixture *f, gconstpointer data)
{
  GAsyncResult *results[40] = { NULL };

  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_autofree char *key = g_strdup_printf ("k%02u", i);

      mt_loopback_s3_put (f->fake, BUCKET, key, 1738300000000, NULL, 10);
    }
  /* Long enough that four requests overlap even on a busy machine under
   * the sanitizers. */
  mt_loopback_s3_set_latency_ms (f->fake, 200);
  mt_s3_client_set_max_in_flight (f->client, 4);
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_autofree char *key = g_strdup_printf ("k%02u", i);

      mt_s3_client_get_object_async (f->client, key, 100, NULL, on_done, &results[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = mt_s3_client_get_object_finish (f->client, wait_for (&results[i]), &error);

      g_assert_no_error (error);
      g_object_unref (results[i]);
    }
  /* The fake saw four at once at most, and did see four. */
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), ==, 40);
  g_assert_cmpuint (mt_loopback_s3_get_max_in_flight (f->fake), ==, 4);
}

static void
test_size_cap (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) small = NULL;
  g_autoptr(GBytes) large = NULL;
  g_autoptr(GBytes) huge = NULL;
  gint64 start;

  mt_loopback_s3_put (f->fake, BUCKET, "small.jpg", 1738300000000, NULL, 1000);
  mt_loopback_s3_put (f->fake, BUCKET, "large.jpg", 1738300000000, NULL, 2000);
  mt_loopback_s3_put (f->fake, BUCKET, "huge.jpg", 1738300000000, NULL, 10);

  small = get (f->client, "small.jpg", 1000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (small), ==, 1000);

  large = get (f->client, "large.jpg", 1000, &error);
  g_assert_null (large);
  g_assert_error (error, MT_S3_ERROR, MT_S3_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* With no length announced, the cap holds while reading. */
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_CHUNKED, 1, "large");
  large = get (f->client, "large.jpg", 1000, &error);
  g_assert_null (large);
  g_assert_error (error, MT_S3_ERROR, MT_S3_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* 4 GiB announced, then nothing: refused on the header alone, at once,
   * with nothing allocated for it (the body never comes). */
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_HUGE_OBJECT, 1, "huge");
  start = g_get_monotonic_time ();
  huge = get (f->client, "huge.jpg", 50 * 1024 * 1024, &error);
  g_assert_null (huge);
  g_assert_error (error, MT_S3_ERROR, MT_S3_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "4294967296"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

/* A plain GET, as a browser or spreadsheet would do with the URL. */
static GBytes *
fetch (SoupSession *session, const char *url, guint *status)
{
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  GBytes *body;

  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_done, &result);
  body = soup_session_send_and_read_finish (session, wait_for (&result), &error);
  g_object_unref (result);
  g_assert_no_error (error);
  *status = soup_message_get_status (msg);
  return body;
}

static void
test_presigned (Fixture *f, gconstpointer data)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(GBytes) content = g_bytes_new_static ("a photo of pho", 14);
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *expired = NULL;
  g_autofree char *bad = NULL;

  mt_loopback_s3_put (f->fake, BUCKET, "meal-images/u/ph\xe1\xbb\x9f + b\xc3\xb2.jpg", 1738300000000, content, 0);
  url = mt_s3_client_presign_get (f->client, "meal-images/u/ph\xe1\xbb\x9f + b\xc3\xb2.jpg", 3600, 0, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (url, mt_loopback_s3_get_endpoint (f->fake)));
  g_assert_nonnull (strstr (url, "X-Amz-Expires=3600"));
  g_assert_nonnull (strstr (url, "X-Amz-Security-Token="));

  /* Anyone with the URL may GET the object: no credentials needed. */
  {
    guint status = 0;
    g_autoptr(GBytes) body = fetch (session, url, &status);

    g_assert_cmpuint (status, ==, 200);
    g_assert_true (g_bytes_equal (body, content));
  }
  /* Signed two hours ago for one hour: refused. */
  expired = mt_s3_client_presign_get (f->client, "meal-images/u/ph\xe1\xbb\x9f + b\xc3\xb2.jpg", 3600,
                                      g_get_real_time () / G_USEC_PER_SEC - 7200, &error);
  {
    guint status = 0;
    g_autoptr(GBytes) body = fetch (session, expired, &status);

    g_assert_cmpuint (status, ==, 403);
    g_assert_nonnull (g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "expired"));
  }
  /* More than seven days is not a presigned URL. */
  bad = mt_s3_client_presign_get (f->client, "k", 8 * 24 * 3600, 0, &error);
  g_assert_null (bad);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_aws_addressing (void)
{
  g_autoptr(MtAwsCredentials) credentials = mt_aws_credentials_new ("AKIDEXAMPLE", SECRET, NULL, "the test");
  g_autoptr(GError) error = NULL;
  g_autoptr(MtS3Client) client = mt_s3_client_new (credentials, "ap-southeast-1", NULL, "meals", &error);
  g_autoptr(MtS3Client) dotted = mt_s3_client_new (credentials, "ap-southeast-1", NULL, "meals.example.com", &error);
  g_autofree char *url = mt_s3_client_presign_get (client, "meal-images/u 1/a+b.jpg", 60, 1440938160, &error);
  g_autofree char *dotted_url = mt_s3_client_presign_get (dotted, "k.jpg", 60, 1440938160, &error);

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (url, "https://meals.s3.ap-southeast-1.amazonaws.com/meal-images/u%201/a%2Bb.jpg?"
                                        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2F"
                                        "ap-southeast-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60"
                                        "&X-Amz-SignedHeaders=host&X-Amz-Signature="));
  g_assert_true (g_str_has_prefix (dotted_url, "https://s3.ap-southeast-1.amazonaws.com/meals.example.com/k.jpg?"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/s3/dot-segments", test_dot_segments);
  ADD ("/s3/slow-down-adapts", test_slow_down_adapts);
  ADD ("/s3/pagination", test_pagination);
  ADD ("/s3/empty-prefix", test_empty_prefix);
  ADD ("/s3/awkward-keys", test_awkward_keys);
  g_test_add ("/s3/region-redirect/400", Fixture, GUINT_TO_POINTER (400), fixture_set_up,
              test_region_redirect, fixture_tear_down);
  g_test_add ("/s3/region-redirect/301", Fixture, GUINT_TO_POINTER (301), fixture_set_up,
              test_region_redirect, fixture_tear_down);
  ADD ("/s3/region-redirect-concurrent", test_region_redirect_concurrent);
  ADD ("/s3/redirect-not-followed", test_redirect_not_followed);
  ADD ("/s3/error-codes", test_error_codes);
  ADD ("/s3/backoff", test_backoff);
  ADD ("/s3/retry-after", test_retry_after);
  ADD ("/s3/retries-then-success", test_retries_then_success);
  ADD ("/s3/resets-on-pooled-connections", test_resets_on_pooled_connections);
  ADD ("/s3/retries-exhausted", test_retries_exhausted);
  ADD ("/s3/unreachable", test_unreachable);
  ADD ("/s3/cancel-mid-listing", test_cancel_mid_listing);
  ADD ("/s3/cancel-while-waiting", test_cancel_while_waiting);
  ADD ("/s3/cancel-many-waiting", test_cancel_many_waiting);
  ADD ("/s3/concurrency-limit", test_concurrency_limit);
  ADD ("/s3/size-cap", test_size_cap);
  ADD ("/s3/presigned", test_presigned);
#undef ADD
  g_test_add_func ("/s3/aws-addressing", test_aws_addressing);

  return g_test_run ();
}
