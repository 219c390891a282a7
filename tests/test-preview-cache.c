/* test-preview-cache.c — photo previews fetched from the in-process fake S3
 *
 * Textures are made without a display: the test needs none.
 */

#include <string.h>
#include <sys/resource.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <libsoup/soup.h>

#include "mt-fake-s3.h"
#include "mt-loopback-server.h"
#include "mt-preview-cache.h"
#include "mt-s3-client.h"

#define KEY_ID "AKIAFAKEFAKEFAKE1234"
#define SECRET "fakeSECRETfakeSECRETfakeSECRET0123456789"
#define TOKEN "FQoGZXIvYXdzFAKETOKENfaketoken+/="
#define BUCKET "meals"
#define REGION "eu-west-1"

/* 256 × 192 textures, 4 bytes a pixel. */
#define SMALL_BYTES (256 * 192 * 4)

typedef struct {
  MtLoopbackS3 *fake;
  MtAwsCredentials *credentials;
  MtS3Client *client;
  MtPreviewCache *cache;
} Fixture;

static MtS3Client *
new_client (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  MtS3Client *client;

  client = mt_s3_client_new (f->credentials, REGION, mt_loopback_s3_get_endpoint (f->fake), BUCKET, &error);
  g_assert_no_error (error);
  /* Retries wait a millisecond, not seconds. */
  mt_s3_client_set_retry_delay_ms (client, 1);
  return client;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->fake = mt_loopback_s3_new (REGION, KEY_ID, SECRET, TOKEN);
  mt_loopback_s3_add_bucket (f->fake, BUCKET);
  f->credentials = mt_aws_credentials_new (KEY_ID, SECRET, TOKEN, "the test");
  f->client = new_client (f);
  f->cache = mt_preview_cache_new (64 * 1024 * 1024);
  mt_preview_cache_set_client (f->cache, f->client);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  /* Nothing may keep the cache alive: no request is left waiting. */
  g_object_add_weak_pointer (G_OBJECT (f->cache), (gpointer *) &f->cache);
  g_object_unref (f->cache);
  g_assert_null (f->cache);
  g_clear_object (&f->client);
  /* Let the client's cancelled requests end before the fake goes. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_object_add_weak_pointer (G_OBJECT (f->fake), (gpointer *) &f->fake);
  g_object_unref (f->fake);
  g_assert_null (f->fake);
  mt_aws_credentials_unref (f->credentials);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Images */

/* @width × @height, the left half red, the right half blue. */
static GdkPixbuf *
two_colour_pixbuf (int width, int height, gboolean alpha)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, alpha, 8, width, height);
  int channels = gdk_pixbuf_get_n_channels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  guchar *pixels = gdk_pixbuf_get_pixels (pixbuf);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guchar *p = pixels + y * stride + x * channels;

        p[0] = x < width / 2 ? 220 : 20;
        p[1] = 20;
        p[2] = x < width / 2 ? 20 : 220;
        if (alpha)
          p[3] = 255;
      }
  return pixbuf;
}

static GBytes *
encode (GdkPixbuf *pixbuf, const char *type)
{
  g_autoptr(GError) error = NULL;
  char *buffer = NULL;
  gsize length = 0;

  if (strcmp (type, "jpeg") == 0)
    gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &length, type, &error, "quality", "90", NULL);
  else
    gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &length, type, &error, NULL);
  g_assert_no_error (error);
  return g_bytes_new_take (buffer, length);
}

static GBytes *
make_image (int width, int height, const char *type)
{
  g_autoptr(GdkPixbuf) pixbuf = two_colour_pixbuf (width, height, strcmp (type, "png") == 0);

  return encode (pixbuf, type);
}

/* The JPEG with an EXIF segment that sets its orientation (1 to 8). */
static GBytes *
with_orientation (GBytes *jpeg, guint8 orientation)
{
  const guint8 exif[] = {
    0xFF, 0xE1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0,
    'M', 'M', 0, 0x2A, 0, 0, 0, 8,   /* big-endian TIFF header, IFD at 8 */
    0, 1,                            /* one entry: */
    0x01, 0x12, 0, 3, 0, 0, 0, 1,    /* Orientation, SHORT, one */
    0, orientation, 0, 0,
    0, 0, 0, 0,                      /* no next IFD */
  };
  gsize length;
  const guint8 *data = g_bytes_get_data (jpeg, &length);
  GByteArray *array = g_byte_array_new ();

  g_byte_array_append (array, data, 2);
  g_byte_array_append (array, exif, sizeof exif);
  g_byte_array_append (array, data + 2, length - 2);
  return g_byte_array_free_to_bytes (array);
}

static GBytes *
head (GBytes *bytes, gsize length)
{
  return g_bytes_new_from_bytes (bytes, 0, length);
}

static void
put (Fixture *f, const char *key, GBytes *bytes)
{
  mt_loopback_s3_put (f->fake, BUCKET, key, 1738300000000, bytes, 0);
}

static void
assert_colour (GdkTexture *texture, int x, int y, guint8 red, guint8 green, guint8 blue)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  g_autofree guchar *data = g_malloc ((gsize) width * height * 4);
  guint32 pixel;

  /* Cairo's ARGB32: one native 32-bit word a pixel. */
  gdk_texture_download (texture, data, (gsize) width * 4);
  memcpy (&pixel, data + ((gsize) y * width + x) * 4, sizeof pixel);
  g_assert_cmpint (ABS ((int) ((pixel >> 16) & 0xFF) - red), <, 40);
  g_assert_cmpint (ABS ((int) ((pixel >> 8) & 0xFF) - green), <, 40);
  g_assert_cmpint (ABS ((int) (pixel & 0xFF) - blue), <, 40);
}

#define RED 220, 20, 20
#define BLUE 20, 20, 220

/* Waiting */

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static GdkTexture *
finish (MtPreviewCache *cache, GAsyncResult **slot, GError **error)
{
  GdkTexture *texture;

  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  texture = mt_preview_cache_load_finish (cache, *slot, error);
  g_clear_object (slot);
  return texture;
}

static GdkTexture *
load (MtPreviewCache *cache, const char *key, int size, GError **error)
{
  GAsyncResult *result = NULL;

  mt_preview_cache_load_async (cache, key, size, NULL, on_done, &result);
  return finish (cache, &result, error);
}

static void
assert_size (GdkTexture *texture, int width, int height)
{
  g_assert_nonnull (texture);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, width);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, height);
}

/* No secret, token or signature may ever be in a message a person sees. */
static void
assert_clean (const GError *error)
{
  g_assert_nonnull (error);
  g_test_message ("error: %s", error->message);
  g_assert_null (strstr (error->message, SECRET));
  g_assert_null (strstr (error->message, TOKEN));
  g_assert_null (strstr (error->message, "Signature="));
  g_assert_null (strstr (error->message, "AWS4-HMAC-SHA256"));
}

/* Tests */

static void
test_scale (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) jpeg = make_image (800, 600, "jpeg");
  g_autoptr(GBytes) png = make_image (600, 800, "png");
  g_autoptr(GdkTexture) small = NULL;
  g_autoptr(GdkTexture) full = NULL;
  g_autoptr(GdkTexture) portrait = NULL;
  g_autoptr(GError) error = NULL;

  put (f, "meal-images/user-1/lunch.jpg", jpeg);
  put (f, "meal-images/user-1/dinner.png", png);

  /* Down to the longest side, the aspect ratio kept. */
  small = load (f->cache, "meal-images/user-1/lunch.jpg", 256, &error);
  g_assert_no_error (error);
  assert_size (small, 256, 192);
  assert_colour (small, 32, 96, RED);
  assert_colour (small, 224, 96, BLUE);

  /* Never up. */
  full = load (f->cache, "meal-images/user-1/lunch.jpg", 2048, &error);
  g_assert_no_error (error);
  assert_size (full, 800, 600);
  assert_colour (full, 100, 300, RED);
  assert_colour (full, 700, 300, BLUE);

  portrait = load (f->cache, "meal-images/user-1/dinner.png", 300, &error);
  g_assert_no_error (error);
  assert_size (portrait, 225, 300);
  assert_colour (portrait, 20, 150, RED);
  assert_colour (portrait, 200, 150, BLUE);

  /* (key, size) pairs are cached apart. */
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), ==, 3);
  g_assert_cmpuint (mt_preview_cache_get_bytes (f->cache), ==, (256 * 192 + 800 * 600 + 225 * 300) * 4);
}

static void
test_orientation (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) jpeg = make_image (800, 600, "jpeg");
  g_autoptr(GBytes) rotated_right = with_orientation (jpeg, 6);
  g_autoptr(GBytes) rotated_left = with_orientation (jpeg, 8);
  g_autoptr(GBytes) upside_down = with_orientation (jpeg, 3);
  g_autoptr(GdkTexture) right = NULL;
  g_autoptr(GdkTexture) left = NULL;
  g_autoptr(GdkTexture) down = NULL;
  g_autoptr(GError) error = NULL;

  put (f, "meal-images/user-1/right.jpg", rotated_right);
  put (f, "meal-images/user-1/left.jpg", rotated_left);
  put (f, "meal-images/user-1/down.jpg", upside_down);

  /* 6: turned a quarter clockwise to be seen, the left half on top. */
  right = load (f->cache, "meal-images/user-1/right.jpg", 256, &error);
  g_assert_no_error (error);
  assert_size (right, 192, 256);
  assert_colour (right, 96, 32, RED);
  assert_colour (right, 96, 224, BLUE);

  /* 8: a quarter anticlockwise, the left half below. */
  left = load (f->cache, "meal-images/user-1/left.jpg", 256, &error);
  g_assert_no_error (error);
  assert_size (left, 192, 256);
  assert_colour (left, 96, 32, BLUE);
  assert_colour (left, 96, 224, RED);

  /* 3: half a turn. */
  down = load (f->cache, "meal-images/user-1/down.jpg", 256, &error);
  g_assert_no_error (error);
  assert_size (down, 256, 192);
  assert_colour (down, 32, 96, BLUE);
  assert_colour (down, 224, 96, RED);
}

static void
test_hit (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) jpeg = make_image (800, 600, "jpeg");
  g_autoptr(GdkTexture) first = NULL;
  g_autoptr(GdkTexture) looked_up = NULL;
  g_autoptr(GdkTexture) again = NULL;
  g_autoptr(GdkTexture) other_size = NULL;
  g_autoptr(GError) error = NULL;

  put (f, "meal-images/user-1/a.jpg", jpeg);
  g_assert_null (mt_preview_cache_lookup (f->cache, "meal-images/user-1/a.jpg", 256));
  first = load (f->cache, "meal-images/user-1/a.jpg", 256, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), ==, 1);
  g_assert_cmpuint (mt_preview_cache_get_bytes (f->cache), ==, SMALL_BYTES);

  looked_up = mt_preview_cache_lookup (f->cache, "meal-images/user-1/a.jpg", 256);
  g_assert_true (looked_up == first);
  again = load (f->cache, "meal-images/user-1/a.jpg", 256, &error);
  g_assert_no_error (error);
  g_assert_true (again == first);
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), ==, 1);
  g_assert_cmpuint (mt_s3_client_get_requests (f->client), ==, 1);

  /* Another size is another texture. */
  g_assert_null (mt_preview_cache_lookup (f->cache, "meal-images/user-1/a.jpg", 128));
  other_size = load (f->cache, "meal-images/user-1/a.jpg", 128, &error);
  g_assert_no_error (error);
  assert_size (other_size, 128, 96);
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), ==, 2);
}

static void
test_shared (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) jpeg = make_image (800, 600, "jpeg");
  g_autoptr(GdkTexture) first = NULL;
  g_autoptr(GdkTexture) second = NULL;
  g_autoptr(GdkTexture) third = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *results[3] = { NULL, NULL, NULL };

  put (f, "meal-images/user-1/a.jpg", jpeg);
  mt_loopback_s3_set_latency_ms (f->fake, 100);
  mt_preview_cache_load_async (f->cache, "meal-images/user-1/a.jpg", 256, NULL, on_done, &results[0]);
  mt_preview_cache_load_async (f->cache, "meal-images/user-1/a.jpg", 256, NULL, on_done, &results[1]);
  /* One more once the fetch is under way. */
  while (mt_loopback_s3_get_requests (f->fake) == 0)
    g_main_context_iteration (NULL, TRUE);
  mt_preview_cache_load_async (f->cache, "meal-images/user-1/a.jpg", 256, NULL, on_done, &results[2]);

  first = finish (f->cache, &results[0], &error);
  g_assert_no_error (error);
  second = finish (f->cache, &results[1], &error);
  g_assert_no_error (error);
  third = finish (f->cache, &results[2], &error);
  g_assert_no_error (error);
  assert_size (first, 256, 192);
  g_assert_true (second == first);
  g_assert_true (third == first);
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), ==, 1);
  g_assert_cmpuint (mt_preview_cache_get_bytes (f->cache), ==, SMALL_BYTES);
}

static void
test_cancel_one (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) jpeg = make_image (800, 600, "jpeg");
  g_autoptr(GCancellable) first_cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) second_cancellable = g_cancellable_new ();
  g_autoptr(GdkTexture) first = NULL;
  g_autoptr(GdkTexture) second = NULL;
  g_autoptr(GdkTexture) cached = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *results[2] = { NULL, NULL };

  put (f, "meal-images/user-1/a.jpg", jpeg);
  mt_loopback_s3_set_latency_ms (f->fake, 200);
  mt_preview_cache_load_async (f->cache, "meal-images/user-1/a.jpg", 256, first_cancellable, on_done, &results[0]);
  mt_preview_cache_load_async (f->cache, "meal-images/user-1/a.jpg", 256, second_cancellable, on_done, &results[1]);
  /* Cancelled with the fetch under way. */
  while (mt_loopback_s3_get_requests (f->fake) == 0)
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (first_cancellable);

  first = finish (f->cache, &results[0], &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (first);
  g_clear_error (&error);
  /* It ended at once: the other request still waits. */
  g_assert_null (results[1]);

  second = finish (f->cache, &results[1], &error);
  g_assert_no_error (error);
  assert_size (second, 256, 192);
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), ==, 1);
  cached = mt_preview_cache_lookup (f->cache, "meal-images/user-1/a.jpg", 256);
  g_assert_true (cached == second);
}

static void
test_cancel_all (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) jpeg = make_image (800, 600, "jpeg");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *results[3] = { NULL, NULL, NULL };

  put (f, "meal-images/user-1/a.jpg", jpeg);

  /* Cancelled before it is asked for: no request at all. */
  g_cancellable_cancel (cancelled);
  mt_preview_cache_load_async (f->cache, "meal-images/user-1/a.jpg", 256, cancelled, on_done, &results[2]);
  texture = finish (f->cache, &results[2], &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (texture);
  g_clear_error (&error);
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), ==, 0);

  /* Both requests cancelled: the fetch stops and nothing is kept. */
  mt_loopback_s3_set_latency_ms (f->fake, 200);
  mt_preview_cache_load_async (f->cache, "meal-images/user-1/a.jpg", 256, cancellable, on_done, &results[0]);
  mt_preview_cache_load_async (f->cache, "meal-images/user-1/a.jpg", 256, cancellable, on_done, &results[1]);
  while (mt_loopback_s3_get_requests (f->fake) == 0)
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (cancellable);
  for (guint i = 0; i < 2; i++)
    {
      texture = finish (f->cache, &results[i], &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_null (texture);
      g_clear_error (&error);
    }
  /* Past the server's answer: the cancelled fetch brings nothing in. */
  g_usleep (300 * G_TIME_SPAN_MILLISECOND);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_null (mt_preview_cache_lookup (f->cache, "meal-images/user-1/a.jpg", 256));
  g_assert_cmpuint (mt_preview_cache_get_bytes (f->cache), ==, 0);

  /* A new request starts a new fetch. */
  mt_loopback_s3_set_latency_ms (f->fake, 0);
  mt_loopback_s3_reset_counters (f->fake);
  texture = load (f->cache, "meal-images/user-1/a.jpg", 256, &error);
  g_assert_no_error (error);
  assert_size (texture, 256, 192);
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), ==, 1);
}

static void
test_memory_bound (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) jpeg = make_image (800, 600, "jpeg");
  g_autoptr(MtPreviewCache) cache = mt_preview_cache_new (2 * SMALL_BYTES + SMALL_BYTES / 2);
  const char *keys[] = { "meal-images/user-1/a.jpg", "meal-images/user-1/b.jpg", "meal-images/user-1/c.jpg" };
  g_autoptr(GdkTexture) large = NULL;
  g_autoptr(GError) error = NULL;

  mt_preview_cache_set_client (cache, f->client);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    put (f, keys[i], jpeg);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GdkTexture) texture = load (cache, keys[i], 256, &error);

      g_assert_no_error (error);
      g_assert_nonnull (texture);
    }
  g_assert_cmpuint (mt_preview_cache_get_bytes (cache), ==, 2 * SMALL_BYTES);

  /* a is used again, so b is the least recently used when c comes. */
  g_clear_object (&large);
  large = mt_preview_cache_lookup (cache, keys[0], 256);
  g_assert_nonnull (large);
  g_clear_object (&large);
  large = load (cache, keys[2], 256, &error);
  g_assert_no_error (error);
  g_clear_object (&large);

  g_assert_cmpuint (mt_preview_cache_get_bytes (cache), ==, 2 * SMALL_BYTES);
  g_assert_cmpuint (mt_preview_cache_get_bytes (cache), <=, mt_preview_cache_get_max_bytes (cache));
  large = mt_preview_cache_lookup (cache, keys[0], 256);
  g_assert_nonnull (large);
  g_clear_object (&large);
  large = mt_preview_cache_lookup (cache, keys[1], 256);
  g_assert_null (large);
  large = mt_preview_cache_lookup (cache, keys[2], 256);
  g_assert_nonnull (large);
  g_clear_object (&large);

  /* b again: fetched again, and now a goes. */
  mt_loopback_s3_reset_counters (f->fake);
  large = load (cache, keys[1], 256, &error);
  g_assert_no_error (error);
  g_clear_object (&large);
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), ==, 1);
  g_assert_cmpuint (mt_preview_cache_get_bytes (cache), ==, 2 * SMALL_BYTES);
  large = mt_preview_cache_lookup (cache, keys[0], 256);
  g_assert_null (large);

  /* A texture larger than the whole bound is handed out, not kept. */
  large = load (cache, keys[0], 2048, &error);
  g_assert_no_error (error);
  assert_size (large, 800, 600);
  g_assert_cmpuint (mt_preview_cache_get_bytes (cache), ==, 2 * SMALL_BYTES);
  g_assert_null (mt_preview_cache_lookup (cache, keys[0], 2048));

  mt_preview_cache_set_client (cache, NULL);
}

/* What the message of a file in no format Mealtrace shows says. */
#define NOT_A_PHOTO "is not a JPEG, PNG, WebP or GIF image"

static void
assert_broken (Fixture *f, const char *key, int code, const char *words)
{
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  texture = load (f->cache, key, 256, &error);
  g_assert_null (texture);
  g_assert_error (error, MT_PREVIEW_ERROR, code);
  g_test_message ("%s: %s", key, error->message);
  g_assert_nonnull (strstr (error->message, key));
  g_assert_nonnull (strstr (error->message, words));
}

static void
test_broken (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) jpeg = make_image (800, 600, "jpeg");
  g_autoptr(GBytes) png = make_image (800, 600, "png");
  g_autoptr(GBytes) half_jpeg = head (jpeg, g_bytes_get_size (jpeg) / 2);
  g_autoptr(GBytes) jpeg_header = head (jpeg, 100);
  g_autoptr(GBytes) half_png = head (png, g_bytes_get_size (png) / 2);
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GBytes) noise = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  guint8 random[4096];
  guint before;

  for (gsize i = 0; i < sizeof random; i++)
    random[i] = (guint8) g_test_rand_int_range (0, 256);
  /* Not by chance a JPEG or PNG. */
  random[0] = 0x42;
  noise = g_bytes_new (random, sizeof random);

  put (f, "meal-images/user-1/noise.jpg", noise);
  put (f, "meal-images/user-1/empty.jpg", empty);
  put (f, "meal-images/user-1/half.jpg", half_jpeg);
  put (f, "meal-images/user-1/header.jpg", jpeg_header);
  put (f, "meal-images/user-1/half.png", half_png);

  assert_broken (f, "meal-images/user-1/noise.jpg", MT_PREVIEW_ERROR_NOT_AN_IMAGE, NOT_A_PHOTO);
  assert_broken (f, "meal-images/user-1/empty.jpg", MT_PREVIEW_ERROR_EMPTY, "empty");
  assert_broken (f, "meal-images/user-1/half.jpg", MT_PREVIEW_ERROR_TRUNCATED, "JPEG file ends before");
  assert_broken (f, "meal-images/user-1/header.jpg", MT_PREVIEW_ERROR_TRUNCATED, "JPEG file ends before");
  assert_broken (f, "meal-images/user-1/half.png", MT_PREVIEW_ERROR_TRUNCATED, "PNG file ends before");
  g_assert_cmpuint (mt_preview_cache_get_bytes (f->cache), ==, 0);

  /* Errors are not kept: asked again, the photo is fetched again. */
  before = mt_loopback_s3_get_requests (f->fake);
  assert_broken (f, "meal-images/user-1/noise.jpg", MT_PREVIEW_ERROR_NOT_AN_IMAGE, NOT_A_PHOTO);
  g_assert_cmpuint (mt_loopback_s3_get_requests (f->fake), ==, before + 1);
  put (f, "meal-images/user-1/noise.jpg", jpeg);
  texture = load (f->cache, "meal-images/user-1/noise.jpg", 256, &error);
  g_assert_no_error (error);
  assert_size (texture, 256, 192);
}

static void
test_fault (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) jpeg = make_image (800, 600, "jpeg");
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  const char *key = "meal-images/user-1/a.jpg";

  put (f, key, jpeg);

  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_ACCESS_DENIED, 1, key);
  texture = load (f->cache, key, 256, &error);
  g_assert_null (texture);
  g_assert_error (error, MT_S3_ERROR, MT_S3_ERROR_ACCESS_DENIED);
  assert_clean (error);
  g_assert_nonnull (strstr (error->message, key));
  g_clear_error (&error);

  /* Every attempt meets a server error. */
  mt_s3_client_set_max_attempts (f->client, 2);
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_INTERNAL_ERROR, 10, key);
  texture = load (f->cache, key, 256, &error);
  g_assert_null (texture);
  g_assert_error (error, MT_S3_ERROR, MT_S3_ERROR_SERVER);
  assert_clean (error);
  g_clear_error (&error);
  g_assert_cmpuint (mt_preview_cache_get_bytes (f->cache), ==, 0);

  mt_fake_s3_clear_faults (f->fake);
  texture = load (f->cache, key, 256, &error);
  g_assert_no_error (error);
  assert_size (texture, 256, 192);
  g_assert_cmpuint (mt_preview_cache_get_bytes (f->cache), ==, SMALL_BYTES);
}

/* Crafted files (tests/data/images/, written by make-images.py) */

static GBytes *
read_crafted (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "images", name, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, length);
}

/* Puts the crafted file @name in the bucket; its key. */
static char *
put_crafted (Fixture *f, const char *name)
{
  g_autoptr(GBytes) bytes = read_crafted (name);
  char *key = g_strconcat ("meal-images/user-1/", name, NULL);

  put (f, key, bytes);
  return key;
}

static gboolean
have_loader (const char *name)
{
  g_autoptr(GSList) list = gdk_pixbuf_get_formats ();

  for (GSList *l = list; l != NULL; l = l->next)
    {
      g_autofree char *format = gdk_pixbuf_format_get_name (l->data);

      if (g_strcmp0 (format, name) == 0)
        return TRUE;
    }
  return FALSE;
}

/* The most this process has had in memory at once, in bytes. */
static guint64
peak_rss (void)
{
  struct rusage usage;

  g_assert_cmpint (getrusage (RUSAGE_SELF, &usage), ==, 0);
  return (guint64) usage.ru_maxrss * 1024;
}

typedef struct {
  const char *name;
  int code;
  const char *words; /* in the message, besides the key */
} Crafted;

/* Every crafted file that is not a photo to show, and how it fails. */
static const Crafted crafted_broken[] = {
  /* Headers that declare more than MT_PREVIEW_CACHE_MAX_PIXELS. */
  { "bomb.png", MT_PREVIEW_ERROR_TOO_LARGE, "at 100000 × 100000 pixels" },
  { "bomb.jpg", MT_PREVIEW_ERROR_TOO_LARGE, "at 65500 × 65500 pixels" },
  /* Fewer pixels, but 600 MB of coefficients that libjpeg would hold
   * however small the preview. */
  { "bomb-progressive.jpg", MT_PREVIEW_ERROR_TOO_LARGE, "at 10000 × 10000 pixels it would take more than the 512 MB" },
  { "bomb-scans.jpg", MT_PREVIEW_ERROR_TOO_LARGE, "at 10000 × 10000 pixels it would take more than the 512 MB" },
  { "bomb.gif", MT_PREVIEW_ERROR_TOO_LARGE, "at 65535 × 65535 pixels" },
  /* A small screen: the frame on it is what is large. */
  { "bomb-frame.gif", MT_PREVIEW_ERROR_TOO_LARGE, "at 20000 × 20000 pixels" },
  { "bomb-vp8.webp", MT_PREVIEW_ERROR_TOO_LARGE, "at 16383 × 16383 pixels" },
  { "bomb-vp8l.webp", MT_PREVIEW_ERROR_TOO_LARGE, "at 16384 × 16384 pixels" },
  { "bomb-vp8x.webp", MT_PREVIEW_ERROR_TOO_LARGE, "at 16384 × 16384 pixels" },
  /* Loaders decode these without a word, the missing part blank. */
  { "truncated.jpg", MT_PREVIEW_ERROR_TRUNCATED, "the JPEG file ends before its image does" },
  { "truncated.png", MT_PREVIEW_ERROR_TRUNCATED, "the PNG file ends before its image does" },
  { "truncated.gif", MT_PREVIEW_ERROR_TRUNCATED, "the GIF file ends before its image does" },
  { "truncated.webp", MT_PREVIEW_ERROR_TRUNCATED, "the WebP file ends before its image does" },
  { "zero-width.png", MT_PREVIEW_ERROR_CORRUPT, "its header gives an image of 0 × 2 pixels" },
  { "no-frame.jpg", MT_PREVIEW_ERROR_CORRUPT, "its header gives an image of 0 × 0 pixels" },
  { "corrupt.png", MT_PREVIEW_ERROR_CORRUPT, "the PNG file is damaged (" },
  /* gdk-pixbuf has loaders for these; they are no photos. An SVG sets
   * its own size and can ask a renderer for any amount of work. */
  { "drawing.svg", MT_PREVIEW_ERROR_NOT_AN_IMAGE, NOT_A_PHOTO },
  { "ok.bmp", MT_PREVIEW_ERROR_NOT_AN_IMAGE, NOT_A_PHOTO },
  { "photo.heic", MT_PREVIEW_ERROR_NOT_AN_IMAGE, "is a HEIF image" },
  { "random.jpg", MT_PREVIEW_ERROR_NOT_AN_IMAGE, NOT_A_PHOTO },
  { "notes.jpg", MT_PREVIEW_ERROR_NOT_AN_IMAGE, NOT_A_PHOTO },
  { "empty.jpg", MT_PREVIEW_ERROR_EMPTY, "the object in S3 is empty" },
};

static void
test_crafted (Fixture *f, gconstpointer data)
{
  GError *errors[G_N_ELEMENTS (crafted_broken)] = { NULL };
  char *keys[G_N_ELEMENTS (crafted_broken)] = { NULL };
  gboolean decoded[G_N_ELEMENTS (crafted_broken)] = { FALSE };
  guint64 peak_before = peak_rss ();
  guint64 peak_after;

  for (guint i = 0; i < G_N_ELEMENTS (crafted_broken); i++)
    {
      g_autoptr(GdkTexture) texture = NULL;

      keys[i] = put_crafted (f, crafted_broken[i].name);
      texture = load (f->cache, keys[i], 256, &errors[i]);
      decoded[i] = texture != NULL;
    }

  /* No file made a decoder take a large buffer: the bombs would have
   * taken from 600 MB to gigabytes, a decoded preview takes 256 KiB. */
  peak_after = peak_rss ();
  g_test_message ("peak resident memory %" G_GUINT64_FORMAT " → %" G_GUINT64_FORMAT " KiB",
                  peak_before / 1024, peak_after / 1024);
  g_assert_cmpuint (peak_after - peak_before, <, 64 * 1024 * 1024);

  for (guint i = 0; i < G_N_ELEMENTS (crafted_broken); i++)
    {
      g_assert_false (decoded[i]);
      g_test_message ("%s: %s", keys[i], errors[i]->message);
      g_assert_error (errors[i], MT_PREVIEW_ERROR, crafted_broken[i].code);
      g_assert_nonnull (strstr (errors[i]->message, keys[i]));
      g_assert_nonnull (strstr (errors[i]->message, crafted_broken[i].words));
      g_clear_error (&errors[i]);
      g_free (keys[i]);
    }
  g_assert_cmpuint (mt_preview_cache_get_bytes (f->cache), ==, 0);
}

/* The crafted photos that are well formed decode: the bombs differ from
 * them only in the sizes their headers declare. */
static void
test_crafted_ok (Fixture *f, gconstpointer data)
{
  g_autofree char *jpeg = put_crafted (f, "ok.jpg");
  g_autofree char *webp = put_crafted (f, "ok.webp");
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  /* Grey 64 on the left, 192 on the right. */
  texture = load (f->cache, jpeg, 256, &error);
  g_assert_no_error (error);
  assert_size (texture, 16, 8);
  assert_colour (texture, 2, 4, 64, 64, 64);
  assert_colour (texture, 13, 4, 192, 192, 192);
  g_clear_object (&texture);

  /* Red on the left, blue on the right. */
  for (const char *const *name = (const char *const[]) { "ok.png", "ok.gif", NULL }; *name != NULL; name++)
    {
      g_autofree char *key = put_crafted (f, *name);

      texture = load (f->cache, key, 256, &error);
      g_assert_no_error (error);
      assert_size (texture, 4, 2);
      assert_colour (texture, 0, 1, RED);
      assert_colour (texture, 3, 0, BLUE);
      g_clear_object (&texture);
    }

  /* WebP is decoded where its gdk-pixbuf loader is installed; elsewhere
   * the message says what to install. */
  texture = load (f->cache, webp, 256, &error);
  if (have_loader ("webp"))
    {
      g_assert_no_error (error);
      assert_size (texture, 1, 1);
    }
  else
    {
      g_assert_null (texture);
      g_assert_error (error, MT_PREVIEW_ERROR, MT_PREVIEW_ERROR_NOT_AN_IMAGE);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "webp-pixbuf-loader"));
    }
}

/* A WebP photo as libwebp writes it, scaled as the others are. */
static void
test_webp (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) webp = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  if (!have_loader ("webp"))
    {
      g_test_skip ("no WebP loader for gdk-pixbuf is installed (webp-pixbuf-loader)");
      return;
    }
  webp = make_image (800, 600, "webp");
  put (f, "meal-images/user-1/lunch.webp", webp);
  texture = load (f->cache, "meal-images/user-1/lunch.webp", 256, &error);
  g_assert_no_error (error);
  assert_size (texture, 256, 192);
  assert_colour (texture, 32, 96, RED);
  assert_colour (texture, 224, 96, BLUE);
}

/* Objects over the size cap */

/* A server that answers every GET with 200 and a body of zeros that does
 * not end until @limit bytes have gone: chunked with no length, or
 * announcing 4 GiB. It counts the body bytes it wrote to the socket. */
typedef struct {
  MtLoopbackServer *server;
  gboolean announce_length;
  gsize limit;
  gsize appended;
  gsize sent;
  guint finished;
} Stream;

static const char zeros[64 * 1024];

static void
on_stream_wrote_chunk (SoupServerMessage *msg, gpointer data)
{
  Stream *stream = data;
  SoupMessageBody *body = soup_server_message_get_response_body (msg);

  /* Appended at once: the server never waits for the next chunk. */
  if (stream->appended >= stream->limit)
    soup_message_body_complete (body);
  else
    {
      soup_message_body_append (body, SOUP_MEMORY_STATIC, zeros, sizeof zeros);
      stream->appended += sizeof zeros;
    }
}

static void
on_stream_wrote_body_data (SoupServerMessage *msg, guint chunk_size, gpointer data)
{
  ((Stream *) data)->sent += chunk_size;
}

static void
on_stream_finished (SoupServerMessage *msg, gpointer data)
{
  ((Stream *) data)->finished++;
}

static void
stream_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  Stream *stream = data;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SoupMessageBody *body = soup_server_message_get_response_body (msg);

  soup_server_message_set_status (msg, 200, NULL);
  soup_message_headers_replace (headers, "Content-Type", "image/jpeg");
  if (stream->announce_length)
    soup_message_headers_set_content_length (headers, G_GINT64_CONSTANT (4) << 30);
  else
    soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_body_set_accumulate (body, FALSE);
  soup_message_body_append (body, SOUP_MEMORY_STATIC, zeros, sizeof zeros);
  stream->appended = sizeof zeros;
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (on_stream_wrote_chunk), stream);
  g_signal_connect (msg, "wrote-body-data", G_CALLBACK (on_stream_wrote_body_data), stream);
  g_signal_connect (msg, "finished", G_CALLBACK (on_stream_finished), stream);
}

static void
stream_start (Stream *stream, gboolean announce_length, gsize limit)
{
  stream->announce_length = announce_length;
  stream->limit = limit;
  stream->server = mt_loopback_server_new ("stream", stream_handler, stream);
}

static void
stream_stop (Stream *stream)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  /* The server sees the client hang up when its next write fails. */
  while (stream->finished == 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (stream->finished, ==, 1);
  g_clear_pointer (&stream->server, mt_loopback_server_free);
}

/* Loads a photo from a Stream server of four times the cap with a client
 * and cache of their own; the error, and the bytes the server wrote. */
static GError *
load_from_stream (Fixture *f, gboolean announce_length, gsize *sent)
{
  Stream stream = { 0 };
  g_autoptr(MtS3Client) client = NULL;
  g_autoptr(MtPreviewCache) cache = mt_preview_cache_new (64 * 1024 * 1024);
  g_autoptr(GdkTexture) texture = NULL;
  GError *error = NULL;

  stream_start (&stream, announce_length, 4 * MT_PREVIEW_CACHE_MAX_OBJECT_SIZE);
  client = mt_s3_client_new (f->credentials, REGION, mt_loopback_server_get_url (stream.server), BUCKET, &error);
  g_assert_no_error (error);
  mt_s3_client_set_max_attempts (client, 1);
  mt_preview_cache_set_client (cache, client);
  texture = load (cache, "meal-images/user-1/endless.jpg", 256, &error);
  g_assert_null (texture);
  mt_preview_cache_set_client (cache, NULL);
  stream_stop (&stream);

  g_assert_error (error, MT_S3_ERROR, MT_S3_ERROR_TOO_LARGE);
  g_test_message ("the server wrote %" G_GSIZE_FORMAT " bytes of the body: %s", stream.sent, error->message);
  *sent = stream.sent;
  return error;
}

static void
test_too_large (Fixture *f, gconstpointer data)
{
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  /* Announced larger than the cap: refused without reading it. */
  mt_loopback_s3_put (f->fake, BUCKET, "meal-images/user-1/huge.jpg", 1738300000000, NULL,
                      MT_PREVIEW_CACHE_MAX_OBJECT_SIZE + 1);
  texture = load (f->cache, "meal-images/user-1/huge.jpg", 256, &error);
  g_assert_null (texture);
  g_assert_error (error, MT_S3_ERROR, MT_S3_ERROR_TOO_LARGE);
  g_test_message ("error: %s", error->message);
  g_assert_nonnull (strstr (error->message, "meal-images/user-1/huge.jpg"));
}

/* 4 GiB announced, a few bytes sent, then silence: the answer ends at its
 * headers, long before the client's timeouts, which waiting for the body
 * would meet. */
static void
test_too_large_announced (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) jpeg = make_image (800, 600, "jpeg");
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  const char *key = "meal-images/user-1/huge.jpg";
  gint64 start;

  put (f, key, jpeg);
  mt_fake_s3_add_fault (f->fake, MT_FAKE_S3_FAULT_HUGE_OBJECT, 1, key);
  start = g_get_monotonic_time ();
  texture = load (f->cache, key, 256, &error);
  g_assert_null (texture);
  g_assert_error (error, MT_S3_ERROR, MT_S3_ERROR_TOO_LARGE);
  g_test_message ("refused in %" G_GINT64_FORMAT " ms: %s", (g_get_monotonic_time () - start) / 1000, error->message);
  g_assert_nonnull (strstr (error->message, key));
  assert_clean (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_TIME_SPAN_SECOND);
}

/* A body far longer than the cap, its length announced: not one chunk of
 * it is read, so the server can write no more than the socket holds. */
static void
test_too_large_stream_announced (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gsize sent;

  error = load_from_stream (f, TRUE, &sent);
  g_assert_cmpuint (sent, <, MT_PREVIEW_CACHE_MAX_OBJECT_SIZE / 2);
}

/* Chunked, with no length: the read stops once the cap is passed, not at
 * the end of the body. */
static void
test_too_large_stream_chunked (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gsize sent;

  error = load_from_stream (f, FALSE, &sent);
  g_assert_cmpuint (sent, >, MT_PREVIEW_CACHE_MAX_OBJECT_SIZE);
  g_assert_cmpuint (sent, <, MT_PREVIEW_CACHE_MAX_OBJECT_SIZE + 16 * 1024 * 1024);
}

static void
test_client (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) jpeg = make_image (800, 600, "jpeg");
  g_autoptr(MtS3Client) other = new_client (f);
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GdkTexture) in_flight = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  const char *key = "meal-images/user-1/a.jpg";

  put (f, key, jpeg);
  texture = load (f->cache, key, 256, &error);
  g_assert_no_error (error);
  g_clear_object (&texture);

  /* The same client: the cache stays. */
  mt_preview_cache_set_client (f->cache, f->client);
  g_assert_cmpuint (mt_preview_cache_get_bytes (f->cache), ==, SMALL_BYTES);
  texture = mt_preview_cache_lookup (f->cache, key, 256);
  g_assert_nonnull (texture);
  g_clear_object (&texture);

  /* Another: emptied, and what was under way ends. */
  mt_loopback_s3_set_latency_ms (f->fake, 200);
  mt_preview_cache_load_async (f->cache, key, 128, NULL, on_done, &result);
  mt_preview_cache_set_client (f->cache, other);
  g_assert_true (mt_preview_cache_get_client (f->cache) == other);
  g_assert_cmpuint (mt_preview_cache_get_bytes (f->cache), ==, 0);
  g_assert_null (mt_preview_cache_lookup (f->cache, key, 256));
  in_flight = finish (f->cache, &result, &error);
  g_assert_null (in_flight);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_nonnull (strstr (error->message, key));
  g_clear_error (&error);

  /* Loads go through the new client. */
  mt_loopback_s3_set_latency_ms (f->fake, 0);
  texture = load (f->cache, key, 256, &error);
  g_assert_no_error (error);
  assert_size (texture, 256, 192);
  g_assert_cmpuint (mt_s3_client_get_requests (other), >=, 1);
  g_clear_object (&texture);

  /* None: emptied, and nothing can load. */
  mt_preview_cache_set_client (f->cache, NULL);
  g_assert_cmpuint (mt_preview_cache_get_bytes (f->cache), ==, 0);
  g_assert_null (mt_preview_cache_lookup (f->cache, key, 256));
  texture = load (f->cache, key, 256, &error);
  g_assert_null (texture);
  g_assert_error (error, MT_PREVIEW_ERROR, MT_PREVIEW_ERROR_NO_CLIENT);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/preview-cache/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("scale", test_scale);
  ADD ("orientation", test_orientation);
  ADD ("hit", test_hit);
  ADD ("shared", test_shared);
  ADD ("cancel-one", test_cancel_one);
  ADD ("cancel-all", test_cancel_all);
  ADD ("memory-bound", test_memory_bound);
  ADD ("broken", test_broken);
  ADD ("fault", test_fault);
  ADD ("crafted", test_crafted);
  ADD ("crafted-ok", test_crafted_ok);
  ADD ("webp", test_webp);
  ADD ("too-large", test_too_large);
  ADD ("too-large-announced", test_too_large_announced);
  ADD ("too-large-stream-announced", test_too_large_stream_announced);
  ADD ("too-large-stream-chunked", test_too_large_stream_chunked);
  ADD ("client", test_client);
#undef ADD

  return g_test_run ();
}
