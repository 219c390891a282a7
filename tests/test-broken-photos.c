/* test-broken-photos.c — every way a photo can fail to load ends in the
 * broken state, in a real display (Xvfb): the detail pane's preview shows
 * the missing-image sign with the reason as its description (and tooltip),
 * and the photo viewer shows the reason as its text. The photos are the
 * crafted files of tests/data/images/ and objects S3 will not give; saves
 * broken-photos.png in the build folder to be looked at. */

#include "config.h"

#include <gtk/gtk.h>
#include <string.h>

#include "mt-fake-s3.h"
#include "mt-matcher.h"
#include "mt-photo-viewer.h"
#include "mt-preview-cache.h"
#include "mt-test-ui.h"
#include "mt-user-detail.h"

#define KEY_ID "AKIAFAKEFAKEFAKE1234"
#define SECRET "fakeSECRETfakeSECRETfakeSECRET0123456789"
#define BUCKET "meals"
#define REGION "eu-west-1"
#define USER "user-1"
#define FROM G_GINT64_CONSTANT (1738300000000)

/* The photos, each with the error it must end in; a domain of 0 is the
 * one that loads, the control. */
static const struct {
  const char *name;
  const char *crafted; /* the file in tests/data/images/, %NULL: see below */
  GQuark (*domain) (void);
  int code;
} photos[] = {
  { "ok.png", "ok.png", NULL, 0 },
  { "bomb.png", "bomb.png", mt_preview_error_quark, MT_PREVIEW_ERROR_TOO_LARGE },
  { "bomb.jpg", "bomb.jpg", mt_preview_error_quark, MT_PREVIEW_ERROR_TOO_LARGE },
  { "bomb-frame.gif", "bomb-frame.gif", mt_preview_error_quark, MT_PREVIEW_ERROR_TOO_LARGE },
  { "bomb-vp8x.webp", "bomb-vp8x.webp", mt_preview_error_quark, MT_PREVIEW_ERROR_TOO_LARGE },
  { "truncated.jpg", "truncated.jpg", mt_preview_error_quark, MT_PREVIEW_ERROR_TRUNCATED },
  { "truncated.png", "truncated.png", mt_preview_error_quark, MT_PREVIEW_ERROR_TRUNCATED },
  { "corrupt.png", "corrupt.png", mt_preview_error_quark, MT_PREVIEW_ERROR_CORRUPT },
  { "zero-width.png", "zero-width.png", mt_preview_error_quark, MT_PREVIEW_ERROR_CORRUPT },
  { "drawing.svg", "drawing.svg", mt_preview_error_quark, MT_PREVIEW_ERROR_NOT_AN_IMAGE },
  { "random.jpg", "random.jpg", mt_preview_error_quark, MT_PREVIEW_ERROR_NOT_AN_IMAGE },
  { "notes.jpg", "notes.jpg", mt_preview_error_quark, MT_PREVIEW_ERROR_NOT_AN_IMAGE },
  { "empty.jpg", "empty.jpg", mt_preview_error_quark, MT_PREVIEW_ERROR_EMPTY },
  /* Over the size cap: refused by the S3 client. */
  { "huge.jpg", NULL, mt_s3_error_quark, MT_S3_ERROR_TOO_LARGE },
  /* Listed, then deleted before it was fetched. */
  { "gone.jpg", NULL, mt_s3_error_quark, MT_S3_ERROR_NO_SUCH_KEY },
};

typedef struct {
  MtLoopbackS3 *fake;
  MtAwsCredentials *credentials;
  MtS3Client *client;
  MtPreviewCache *cache;
  char *messages[G_N_ELEMENTS (photos)]; /* what each photo's load says */
} Fixture;

static char *
key_of (guint i)
{
  return g_strconcat ("meal-images/" USER "/", photos[i].name, NULL);
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->fake = mt_loopback_s3_new (REGION, KEY_ID, SECRET, NULL);
  mt_loopback_s3_add_bucket (f->fake, BUCKET);
  for (guint i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *key = key_of (i);
      g_autofree char *path = NULL;
      g_autoptr(GBytes) bytes = NULL;
      char *contents = NULL;
      gsize length = 0;

      if (photos[i].crafted == NULL)
        continue;
      path = g_test_build_filename (G_TEST_DIST, "data", "images", photos[i].crafted, NULL);
      g_file_get_contents (path, &contents, &length, &error);
      g_assert_no_error (error);
      bytes = g_bytes_new_take (contents, length);
      mt_loopback_s3_put (f->fake, BUCKET, key, FROM, bytes, 0);
    }
  mt_loopback_s3_put (f->fake, BUCKET, "meal-images/" USER "/huge.jpg", FROM, NULL,
                      MT_PREVIEW_CACHE_MAX_OBJECT_SIZE + 1);

  f->credentials = mt_aws_credentials_new (KEY_ID, SECRET, NULL, "the test");
  f->client = mt_s3_client_new (f->credentials, REGION, mt_loopback_s3_get_endpoint (f->fake), BUCKET, &error);
  g_assert_no_error (error);
  mt_s3_client_set_retry_delay_ms (f->client, 1);
  f->cache = mt_preview_cache_new (64 * 1024 * 1024);
  mt_preview_cache_set_client (f->cache, f->client);

  /* Each photo's message, as the cache gives it: errors are not kept, so
   * the pane and the viewer fetch and fail again. */
  for (guint i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *key = key_of (i);
      g_autoptr(GdkTexture) texture = NULL;
      GAsyncResult *result = NULL;

      mt_preview_cache_load_async (f->cache, key, MT_PHOTO_VIEWER_SIZE, NULL, on_done, &result);
      while (result == NULL)
        g_main_context_iteration (NULL, TRUE);
      texture = mt_preview_cache_load_finish (f->cache, result, &error);
      g_object_unref (result);
      if (photos[i].domain == NULL)
        {
          g_assert_no_error (error);
          g_assert_nonnull (texture);
          continue;
        }
      g_assert_error (error, photos[i].domain (), photos[i].code);
      g_assert_nonnull (strstr (error->message, key));
      f->messages[i] = g_strdup (error->message);
      g_clear_error (&error);
    }
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS (photos); i++)
    g_free (f->messages[i]);
  g_clear_object (&f->cache);
  g_clear_object (&f->client);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&f->fake);
  mt_aws_credentials_unref (f->credentials);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static gboolean
previews_done (gconstpointer data)
{
  MtUserDetail *detail = (MtUserDetail *) data;

  return mt_user_detail_get_n_previews_loaded (detail) + mt_user_detail_get_n_previews_broken (detail)
         == G_N_ELEMENTS (photos);
}

static gboolean
laid_out (gconstpointer widget)
{
  return gtk_widget_get_width (GTK_WIDGET (widget)) > 0;
}

static gboolean
viewer_done (gconstpointer viewer)
{
  return g_strcmp0 (mt_photo_viewer_get_state ((MtPhotoViewer *) viewer), "loading") != 0;
}

/* Every widget under @widget, depth first, that @match picks. */
static void
collect (GtkWidget *widget, gboolean (*match) (GtkWidget *), GPtrArray *found)
{
  if (match (widget))
    g_ptr_array_add (found, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, match, found);
}

static gboolean
is_preview (GtkWidget *widget)
{
  return gtk_widget_has_css_class (widget, "photo-preview");
}

static gboolean
is_label (GtkWidget *widget)
{
  return GTK_IS_LABEL (widget);
}

static gboolean
is_missing_image (GtkWidget *widget)
{
  return GTK_IS_IMAGE (widget) && g_strcmp0 (gtk_image_get_icon_name (GTK_IMAGE (widget)), "image-missing-symbolic") == 0;
}

/* The index of the photo whose message @widget describes itself with, or -1. */
static int
described_photo (Fixture *f, GtkWidget *widget)
{
  int found = -1;

  for (guint i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *mismatch = NULL;

      if (f->messages[i] == NULL)
        continue;
      mismatch = gtk_test_accessible_check_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                                     f->messages[i]);
      if (mismatch == NULL)
        {
          g_assert_cmpint (found, ==, -1);
          found = (int) i;
        }
    }
  return found;
}

static void
test_detail (Fixture *f, gconstpointer data)
{
  g_autoptr(MtMatcher) matcher = mt_matcher_new ();
  g_autoptr(MtMatchResult) result = NULL;
  g_autoptr(GPtrArray) traces = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) previews = g_ptr_array_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *detail = mt_user_detail_new (f->cache);
  gboolean shown[G_N_ELEMENTS (photos)] = { FALSE };
  guint broken = 0;

  /* Each photo a second after a trace of its own: a pair each. */
  for (guint i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *id = g_strdup_printf ("trace-%02u", i);
      g_autofree char *key = key_of (i);
      gint64 at = FROM + (gint64) i * 60000;

      g_ptr_array_add (traces, mt_trace_new (id, USER, at));
      g_ptr_array_add (images, mt_image_new (key, USER, at + 1000, 1000, "\"etag\""));
    }
  mt_matcher_add_user (matcher, USER, (MtTrace **) traces->pdata, traces->len, (MtImage **) images->pdata, images->len);
  result = mt_matcher_run (matcher);

  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 800);
  /* Nothing takes the focus: a selectable label that did would select its
   * text and own the display's PRIMARY selection, which every other GTK
   * test on the display then reads, and GDK leaks what it is reading when
   * the test ends first. */
  gtk_widget_set_can_focus (scrolled, FALSE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), detail);
  gtk_window_set_child (GTK_WINDOW (window), scrolled);
  mt_user_detail_set_run (MT_USER_DETAIL (detail), NULL, f->client);
  mt_user_detail_set_user (MT_USER_DETAIL (detail), mt_match_result_lookup_user (result, USER));
  gtk_window_present (GTK_WINDOW (window));
  g_assert_cmpuint (mt_user_detail_get_n_pair_cards (MT_USER_DETAIL (detail)), ==, G_N_ELEMENTS (photos));
  g_assert_true (mt_test_run_until (previews_done, detail, 30000));
  g_assert_cmpuint (mt_user_detail_get_n_previews_loaded (MT_USER_DETAIL (detail)), ==, 1);
  g_assert_cmpuint (mt_user_detail_get_n_previews_broken (MT_USER_DETAIL (detail)), ==, G_N_ELEMENTS (photos) - 1);

  /* Each broken preview shows the sign, and says why: the reason of one
   * photo each, every photo's once. */
  collect (detail, is_preview, previews);
  g_assert_cmpuint (previews->len, ==, G_N_ELEMENTS (photos));
  for (guint i = 0; i < previews->len; i++)
    {
      GtkWidget *stack = gtk_button_get_child (GTK_BUTTON (g_ptr_array_index (previews, i)));
      GtkWidget *sign = gtk_stack_get_visible_child (GTK_STACK (stack));
      g_autoptr(GPtrArray) icons = g_ptr_array_new ();
      int photo;

      if (g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (stack)), "broken") != 0)
        continue;
      broken++;
      collect (sign, is_missing_image, icons);
      g_assert_cmpuint (icons->len, ==, 1);
      g_assert_true (gtk_widget_get_has_tooltip (sign));
      photo = described_photo (f, sign);
      g_assert_cmpint (photo, >=, 0);
      g_assert_false (shown[photo]);
      shown[photo] = TRUE;
    }
  g_assert_cmpuint (broken, ==, G_N_ELEMENTS (photos) - 1);

  g_assert_true (mt_test_run_until (laid_out, window, 30000));
  mt_test_save_png (window, GTK_NATIVE (window), gtk_widget_get_width (window), gtk_widget_get_height (window),
                    "broken-photos");
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_viewer (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *key = key_of (i);
      GtkWidget *viewer = mt_photo_viewer_new (NULL, f->cache, key, NULL);
      g_autoptr(GPtrArray) labels = g_ptr_array_new ();
      g_autoptr(GPtrArray) icons = g_ptr_array_new ();
      gboolean said = FALSE;

      /* No focus, as in test_detail: the message is a selectable label. */
      gtk_widget_set_can_focus (gtk_window_get_child (GTK_WINDOW (viewer)), FALSE);
      gtk_window_present (GTK_WINDOW (viewer));
      g_assert_true (mt_test_run_until (viewer_done, viewer, 30000));
      g_test_message ("%s: %s", photos[i].name, mt_photo_viewer_get_state (MT_PHOTO_VIEWER (viewer)));
      if (photos[i].domain == NULL)
        {
          g_assert_cmpstr (mt_photo_viewer_get_state (MT_PHOTO_VIEWER (viewer)), ==, "photo");
          gtk_window_destroy (GTK_WINDOW (viewer));
          continue;
        }
      g_assert_cmpstr (mt_photo_viewer_get_state (MT_PHOTO_VIEWER (viewer)), ==, "error");
      collect (viewer, is_missing_image, icons);
      g_assert_cmpuint (icons->len, ==, 1);
      g_assert_true (gtk_widget_get_mapped (g_ptr_array_index (icons, 0)));
      collect (viewer, is_label, labels);
      for (guint j = 0; j < labels->len; j++)
        said |= g_strcmp0 (gtk_label_get_text (g_ptr_array_index (labels, j)), f->messages[i]) == 0 &&
                gtk_widget_get_mapped (g_ptr_array_index (labels, j));
      g_assert_true (said);
      gtk_window_destroy (GTK_WINDOW (viewer));
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* GTK's accessibility for tests: what the previews say of themselves is
   * read back, and no accessibility bus is started. */
  g_setenv ("GTK_A11Y", "test", TRUE);
  if (!gtk_init_check ())
    {
      g_printerr ("No display: these tests need one (build-aux/test runs them under Xvfb).\n");
      return 77;
    }

  g_test_add ("/broken-photos/detail", Fixture, NULL, fixture_set_up, test_detail, fixture_tear_down);
  g_test_add ("/broken-photos/viewer", Fixture, NULL, fixture_set_up, test_viewer, fixture_tear_down);

  return g_test_run ();
}
