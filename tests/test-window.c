/* test-window.c — the window in a real display (Xvfb): the demo read from
 * start to end, the user list's search, status filter and sorting, and a
 * stop during loading; each test saves a PNG of the window in the build
 * folder (screenshots/) to be looked at. */

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <locale.h>
#include <string.h>

#include "mt-exporter.h"
#include "mt-fake-langfuse.h"
#include "mt-loopback-s3.h"
#include "mt-match-summary.h"
#include "mt-user-result.h"
#include "mt-photo-viewer.h"
#include "mt-preferences-window.h"
#include "mt-test-ui.h"
#include "mt-window-private.h"

typedef struct {
  MtApplication *app;
  MtWindow *window;
} Fixture;

/* Runs the main loop until @done holds, or @timeout_ms have passed;
 * whether it holds. */
typedef gboolean (*Condition) (Fixture *f, gconstpointer data);

static gboolean
run_until (Fixture *f, Condition done, gconstpointer data, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!done (f, data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

static gboolean
page_is (Fixture *f, gconstpointer page)
{
  return g_strcmp0 (mt_window_get_page (f->window), page) == 0;
}

static gboolean
laid_out (Fixture *f, gconstpointer data)
{
  return gtk_widget_get_width (GTK_WIDGET (f->window)) > 0;
}

static void
iterate_until_page (Fixture *f, const char *page, guint timeout_ms)
{
  if (!run_until (f, page_is, page, timeout_ms))
    g_error ("the window showed “%s”, not “%s”, after %u ms", mt_window_get_page (f->window), page, timeout_ms);
}

static gboolean
page_still (Fixture *f, gconstpointer data)
{
  return !gtk_stack_get_transition_running (f->window->stack);
}

/* Lets the window finish a page's crossfade, lay itself out and draw. */
static void
settle (Fixture *f)
{
  gint64 until = g_get_monotonic_time () + 300 * 1000;

  run_until (f, page_still, NULL, 5000);
  while (g_get_monotonic_time () < until)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

static void
save_screenshot (Fixture *f, const char *name)
{
  GtkWidget *widget = GTK_WIDGET (f->window);

  /* A new window is laid out on its first frames. */
  run_until (f, laid_out, NULL, 5000);
  mt_test_save_png (widget, GTK_NATIVE (widget), gtk_widget_get_width (widget), gtk_widget_get_height (widget), name);
}

/* One application for the whole program, as a session has: each test
 * opens a window of its own. */
static MtApplication *application;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->app = application;
  f->window = mt_window_new (f->app);
  g_object_ref_sink (f->window);
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1200, 800);
  gtk_window_present (GTK_WINDOW (f->window));
}

static gboolean
window_gone (Fixture *f, gconstpointer window)
{
  return *(gpointer *) window == NULL;
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  gpointer window = f->window;

  /* Closed, the window is freed once the work it started has ended: no
   * callback, toast, load or export keeps it alive. (The sanitizers cannot
   * see a widget kept this way: GTK's own tables still point to it.) */
  g_object_add_weak_pointer (G_OBJECT (window), &window);
  gtk_window_destroy (GTK_WINDOW (f->window));
  g_clear_object (&f->window);
  run_until (f, window_gone, &window, 10000);
  g_assert_null (window);
  /* What the stopped or finished work still had queued. */
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
}

static guint
shown (Fixture *f)
{
  return g_list_model_get_n_items (G_LIST_MODEL (f->window->sorted));
}

static gboolean
shows (Fixture *f, gconstpointer expected)
{
  return shown (f) == GPOINTER_TO_UINT (expected);
}

/* Waits for the list to show @expected users (the search entry waits a
 * moment before it filters). */
static void
wait_for_shown (Fixture *f, guint expected)
{
  run_until (f, shows, GUINT_TO_POINTER (expected), 5000);
  g_assert_cmpuint (shown (f), ==, expected);
}
static const char *
figure_value (Fixture *f, guint index)
{
  GtkFlowBoxChild *child = gtk_flow_box_get_child_at_index (f->window->summary_strip, (int) index);
  GtkWidget *box = gtk_flow_box_child_get_child (child);

  return gtk_label_get_text (GTK_LABEL (gtk_widget_get_first_child (box)));
}

/* The newest open window of @type, or %NULL. */
static GtkWindow *
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  GtkWindow *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type))
        found = window;
    }
  return found;
}

/* The first widget under @widget with the style class @name, depth first. */
static GtkWidget *
find_styled (GtkWidget *widget, const char *name)
{
  if (gtk_widget_has_css_class (widget, name))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_styled (child, name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
viewer_done (Fixture *f, gconstpointer viewer)
{
  return g_strcmp0 (mt_photo_viewer_get_state ((MtPhotoViewer *) viewer), "loading") != 0;
}

static gboolean
previews_loaded (Fixture *f, gconstpointer expected)
{
  MtUserDetail *detail = f->window->detail;

  return mt_user_detail_get_n_previews_loaded (detail) + mt_user_detail_get_n_previews_broken (detail)
         >= GPOINTER_TO_UINT (expected);
}

static void
test_demo (Fixture *f, gconstpointer data)
{
  MtMatchResult *result;
  MtMatchSummary *summary;
  guint n_users, expected, last;
  g_autofree char *users_text = NULL;
  g_autofree char *pairs_text = NULL;
  g_autofree char *needle = NULL;
  GListModel *columns;
  GtkColumnViewColumn *pairs_column = NULL;

  mt_window_open_demo (f->window);
  iterate_until_page (f, "results", 60000);
  settle (f);
  save_screenshot (f, "demo-results");

  result = mt_window_get_result (f->window);
  g_assert_nonnull (result);
  summary = mt_match_result_get_summary (result);
  n_users = g_list_model_get_n_items (G_LIST_MODEL (result));
  /* The demo's users, all listed, and the summary is the result's. */
  g_assert_cmpuint (n_users, >=, 20);
  g_assert_cmpuint (n_users, ==, mt_match_summary_get_total_users (summary));
  g_assert_cmpuint (shown (f), ==, n_users);
  users_text = g_strdup_printf ("%u", mt_match_summary_get_total_users (summary));
  pairs_text = g_strdup_printf ("%u", mt_match_summary_get_total_matched_pairs (summary));
  g_assert_cmpstr (figure_value (f, 0), ==, users_text);
  g_assert_cmpstr (figure_value (f, 5), ==, pairs_text);

  /* The search narrows the list to the users whose id holds the text. */
  {
    g_autoptr(MtUserResult) first = g_list_model_get_item (G_LIST_MODEL (result), 0);

    needle = g_ascii_strup (mt_user_result_get_user_id (first), 3);
  }
  expected = 0;
  for (guint i = 0; i < n_users; i++)
    {
      g_autoptr(MtUserResult) user = g_list_model_get_item (G_LIST_MODEL (result), i);
      g_autofree char *id = g_ascii_strup (mt_user_result_get_user_id (user), -1);

      expected += strstr (id, needle) != NULL;
    }
  g_assert_cmpuint (expected, >=, 1);
  g_assert_cmpuint (expected, <, n_users);
  gtk_editable_set_text (GTK_EDITABLE (f->window->search_entry), needle);
  wait_for_shown (f, expected);
  settle (f);
  save_screenshot (f, "demo-search");
  gtk_editable_set_text (GTK_EDITABLE (f->window->search_entry), "");
  wait_for_shown (f, n_users);

  /* The status filter: users without photos only. */
  expected = 0;
  for (guint i = 0; i < n_users; i++)
    {
      g_autoptr(MtUserResult) user = g_list_model_get_item (G_LIST_MODEL (result), i);

      expected += mt_user_result_get_status (user) == MT_USER_STATUS_NO_IMAGES;
    }
  g_assert_cmpuint (expected, >=, 1);
  gtk_drop_down_set_selected (f->window->status_filter, 2);
  wait_for_shown (f, expected);
  for (guint i = 0; i < shown (f); i++)
    {
      g_autoptr(MtUserResult) user = g_list_model_get_item (G_LIST_MODEL (f->window->sorted), i);

      g_assert_cmpint (mt_user_result_get_status (user), ==, MT_USER_STATUS_NO_IMAGES);
    }
  gtk_drop_down_set_selected (f->window->status_filter, 0);
  wait_for_shown (f, n_users);

  /* Sorting by pairs, most first. */
  columns = gtk_column_view_get_columns (f->window->user_view);
  for (guint i = 0; i < g_list_model_get_n_items (columns); i++)
    {
      g_autoptr(GtkColumnViewColumn) column = g_list_model_get_item (columns, i);

      if (g_strcmp0 (gtk_column_view_column_get_title (column), "Pairs") == 0)
        pairs_column = column;
    }
  g_assert_nonnull (pairs_column);
  gtk_column_view_sort_by_column (f->window->user_view, pairs_column, GTK_SORT_DESCENDING);
  settle (f);
  last = G_MAXUINT;
  for (guint i = 0; i < shown (f); i++)
    {
      g_autoptr(MtUserResult) user = g_list_model_get_item (G_LIST_MODEL (f->window->sorted), i);

      g_assert_cmpuint (mt_user_result_get_n_pairs (user), <=, last);
      last = mt_user_result_get_n_pairs (user);
    }
  g_assert_cmpuint (last, <, mt_match_summary_get_total_matched_pairs (summary));
  save_screenshot (f, "demo-sorted-by-pairs");

  /* The gap histogram counts every pair once. */
  {
    const guint *bins = mt_match_summary_get_gap_histogram (summary);
    guint total = 0;

    g_assert_nonnull (f->window->gap_histogram);
    for (guint b = 0; b < MT_GAP_HISTOGRAM_BINS; b++)
      total += bins[b];
    g_assert_cmpuint (total, ==, mt_match_summary_get_total_matched_pairs (summary));
  }

  /* Selecting the user with the most pairs shows a card per pair, each
   * with its photo decoded, and their lone photos' thumbnails. */
  {
    g_autoptr(MtUserResult) top = g_list_model_get_item (G_LIST_MODEL (f->window->sorted), 0);
    guint cards = MIN (mt_user_result_get_n_pairs (top), MT_USER_DETAIL_PAGE);
    guint previews = cards + MIN (mt_user_result_get_unmatched_images (top)->len, 3 * MT_USER_DETAIL_PAGE);

    g_assert_cmpuint (cards, >=, 2);
    gtk_single_selection_set_selected (f->window->selection, 0);
    g_assert_true (mt_user_detail_get_user (f->window->detail) == top);
    g_assert_cmpuint (mt_user_detail_get_n_pair_cards (f->window->detail), ==, cards);
    run_until (f, previews_loaded, GUINT_TO_POINTER (previews), 30000);
    g_assert_cmpuint (mt_user_detail_get_n_previews_loaded (f->window->detail), ==, previews);
    g_assert_cmpuint (mt_user_detail_get_n_previews_broken (f->window->detail), ==, 0);
    settle (f);
    save_screenshot (f, "demo-detail");

    /* Clicking a preview opens the photo large, decoded. */
    {
      MtPhotoViewer *viewer;
      GtkWidget *preview = find_styled (GTK_WIDGET (f->window->detail), "photo-preview");

      g_assert_true (GTK_IS_BUTTON (preview));
      g_signal_emit_by_name (preview, "clicked");
      viewer = (MtPhotoViewer *) find_toplevel (MT_TYPE_PHOTO_VIEWER);
      g_assert_nonnull (viewer);
      run_until (f, viewer_done, viewer, 30000);
      g_assert_cmpstr (mt_photo_viewer_get_state (viewer), ==, "photo");
      gtk_window_destroy (GTK_WINDOW (viewer));
    }

    /* "Copy Image URL": a presigned address of the demo's S3. */
    g_assert_true (mt_user_detail_copy_image_url (f->window->detail, 0));
    {
      GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (f->window->detail));
      GdkContentProvider *content = gdk_clipboard_get_content (clipboard);
      g_auto(GValue) value = G_VALUE_INIT;
      MtPair *pair = g_ptr_array_index (mt_user_result_get_pairs (top), 0);
      g_autofree char *escaped_key = g_uri_escape_string (mt_image_get_name (mt_pair_get_image (pair)), NULL, FALSE);
      const char *url;

      g_assert_nonnull (content);
      g_value_init (&value, G_TYPE_STRING);
      g_assert_true (gdk_content_provider_get_value (content, &value, NULL));
      url = g_value_get_string (&value);
      g_assert_true (g_str_has_prefix (url, "http://127.0.0.1:"));
      g_assert_nonnull (strstr (url, escaped_key));
      g_assert_nonnull (strstr (url, "X-Amz-Signature="));
      g_assert_null (strstr (url, MT_DEMO_AWS_SECRET_ACCESS_KEY));
    }
  }
}

static void
test_stop (Fixture *f, gconstpointer data)
{
  mt_window_open_demo (f->window);
  g_assert_cmpstr (mt_window_get_page (f->window), ==, "loading");
  /* Drawn, but stopped long before the demo's requests are answered. */
  for (int i = 0; i < 5; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpstr (mt_window_get_page (f->window), ==, "loading");
  save_screenshot (f, "stop-loading");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.stop", NULL));
  iterate_until_page (f, "ready", 10000);
  g_assert_null (mt_window_get_result (f->window));
  settle (f);
  save_screenshot (f, "stop-stopped");

  /* Usable again: a refresh reads the demo to the end. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.refresh", NULL));
  iterate_until_page (f, "results", 60000);
  g_assert_nonnull (mt_window_get_result (f->window));
}

static void
test_no_credentials (Fixture *f, gconstpointer data)
{
  const char *text;

  mt_window_start (f->window);
  g_assert_cmpstr (mt_window_get_page (f->window), ==, "welcome");
  text = gtk_label_get_text (f->window->welcome_message);
  g_assert_nonnull (strstr (text, "LANGFUSE_PUBLIC_KEY"));
  g_assert_nonnull (strstr (text, "MEALTRACE_S3_BUCKET"));
  settle (f);
  save_screenshot (f, "welcome");

  /* Its Preferences button (and Ctrl+,) opens the dialog over the window. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.preferences", NULL));
  {
    GtkWindow *preferences = find_toplevel (MT_TYPE_PREFERENCES_WINDOW);

    g_assert_nonnull (preferences);
    g_assert_true (gtk_window_get_transient_for (preferences) == GTK_WINDOW (f->window));
    gtk_window_destroy (preferences);
  }
}


static gboolean
exported (Fixture *f, gconstpointer data)
{
  return f->window->last_export != NULL && f->window->export_cancellable == NULL;
}

static gboolean
export_ended (Fixture *f, gconstpointer data)
{
  return f->window->export_cancellable == NULL;
}

static gboolean
dialog_in (Fixture *f, gconstpointer dir)
{
  g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (f->window->export_dialog));
  g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

  return path != NULL && g_str_has_prefix (path, dir);
}

static char *
read_file (GFile *file)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_assert_true (g_file_load_contents (file, NULL, &contents, NULL, NULL, &error));
  g_assert_no_error (error);
  return contents;
}

/* "Export JSON…" and "Export CSV…" as a user goes through them: the save
 * dialog offers the batch's file name, and its answer writes the bytes
 * batch mode writes for the same result at the same export time. */
static void
test_export (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_dir_make_tmp ("mealtrace-export-XXXXXX", NULL);
  MtExportFormat formats[] = { MT_EXPORT_FORMAT_JSON, MT_EXPORT_FORMAT_CSV };

  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (f->window->export_button)));
  mt_window_open_demo (f->window);
  iterate_until_page (f, "results", 60000);
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (f->window->export_button)));

  for (guint k = 0; k < G_N_ELEMENTS (formats); k++)
    {
      MtConfig *config = f->window->config;
      g_autofree char *name = NULL;
      g_autofree char *offered = NULL;
      g_autoptr(GFile) chosen = NULL;
      g_autoptr(GFile) batch = NULL;
      g_autoptr(MtExporter) exporter = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *window_bytes = NULL;
      g_autofree char *batch_bytes = NULL;

      g_clear_object (&f->window->last_export);
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.export", "s",
                                                 formats[k] == MT_EXPORT_FORMAT_JSON ? "json" : "csv"));
      g_assert_nonnull (f->window->export_dialog);
      settle (f);
      name = mt_export_file_name (formats[k], f->window->export_time, config->time_zone);
      offered = gtk_file_chooser_get_current_name (GTK_FILE_CHOOSER (f->window->export_dialog));
      g_assert_cmpstr (offered, ==, name);

      /* The user picks a folder of their own and saves. */
      chosen = g_file_new_build_filename (dir, name, NULL);
      g_assert_true (gtk_file_chooser_set_file (GTK_FILE_CHOOSER (f->window->export_dialog), chosen, &error));
      g_assert_no_error (error);
      /* The dialog opens the folder before it answers with it. */
      run_until (f, dialog_in, dir, 10000);
      g_signal_emit_by_name (f->window->export_dialog, "response", GTK_RESPONSE_ACCEPT);
      g_assert_null (f->window->export_dialog);
      g_assert_true (run_until (f, exported, NULL, 30000));
      {
        g_autofree char *written = g_file_get_path (f->window->last_export);
        g_autofree char *wanted = g_file_get_path (chosen);

        g_assert_cmpstr (written, ==, wanted);
      }
      g_assert_true (gtk_revealer_get_reveal_child (f->window->toast_revealer));
      g_assert_nonnull (strstr (gtk_label_get_text (f->window->toast_label), name));

      /* Batch mode's way: its file, its exporter, the same time. */
      batch = mt_export_batch_file (dir, formats[k], NULL, f->window->export_time, config->time_zone);
      exporter = mt_exporter_new (config->time_zone);
      mt_exporter_set_export_time (exporter, f->window->export_time);
      g_assert_true (mt_exporter_write_file (exporter, mt_window_get_result (f->window), formats[k], batch, NULL,
                                             &error));
      g_assert_no_error (error);
      window_bytes = read_file (chosen);
      batch_bytes = read_file (batch);
      g_assert_cmpuint (strlen (window_bytes), >, 1000);
      g_assert_cmpstr (window_bytes, ==, batch_bytes);
    }
  settle (f);
  save_screenshot (f, "export-done");

  /* A file that cannot be written (its folder became a file after it was
   * chosen): an error dialog says why, and export stays usable. */
  {
    g_autofree char *folder = g_build_filename (dir, "blocked", NULL);
    g_autofree char *target_path = g_build_filename (folder, "export.json", NULL);
    g_autoptr(GFile) target = g_file_new_for_path (target_path);
    GtkWindow *alert;
    g_autoptr(GError) error = NULL;

    g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
    g_clear_object (&f->window->last_export);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.export", "s", "json"));
    settle (f);
    g_assert_true (gtk_file_chooser_set_file (GTK_FILE_CHOOSER (f->window->export_dialog), target, &error));
    g_assert_no_error (error);
    run_until (f, dialog_in, folder, 10000);
    g_assert_cmpint (g_rmdir (folder), ==, 0);
    g_assert_true (g_file_set_contents (folder, "not a folder", -1, NULL));
    g_signal_emit_by_name (f->window->export_dialog, "response", GTK_RESPONSE_ACCEPT);
    g_assert_true (run_until (f, export_ended, NULL, 30000));
    g_assert_null (f->window->last_export);
    alert = find_toplevel (GTK_TYPE_MESSAGE_DIALOG);
    g_assert_nonnull (alert);
    {
      g_autofree char *secondary = NULL;

      g_object_get (alert, "secondary-text", &secondary, NULL);
      g_assert_nonnull (strstr (secondary, "blocked"));
    }
    settle (f);
    mt_test_save_png (GTK_WIDGET (alert), GTK_NATIVE (alert), gtk_widget_get_width (GTK_WIDGET (alert)),
                      gtk_widget_get_height (GTK_WIDGET (alert)), "export-error");
    gtk_window_destroy (alert);
  }

  /* A cancelled dialog writes nothing and leaves export usable. */
  g_clear_object (&f->window->last_export);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.export", "s", "json"));
  g_signal_emit_by_name (f->window->export_dialog, "response", GTK_RESPONSE_CANCEL);
  g_assert_null (f->window->export_dialog);
  g_assert_null (f->window->last_export);
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (f->window->export_button)));
}

#define ERR_PUBLIC "pk-lf-window-test"
#define ERR_SECRET "sk-lf-window-test"
#define ERR_AWS_ID "AKIAWINDOWTEST000000"
#define ERR_AWS_SECRET "window-test-secret"

/* Langfuse down: the error page says so; once it is back, Retry reads the
 * period. */
static void
test_error_retry (Fixture *f, gconstpointer data)
{
  g_autoptr(MtLoopbackLangfuse) langfuse = mt_loopback_langfuse_new (ERR_PUBLIC, ERR_SECRET);
  g_autoptr(MtLoopbackS3) s3 = mt_loopback_s3_new ("us-east-1", ERR_AWS_ID, ERR_AWS_SECRET, NULL);
  gint64 now = g_get_real_time () / 1000;
  const char *message;

  mt_loopback_langfuse_add_trace (langfuse, "trace-1", now - 3600000, "analyse-meal", "user-1", NULL,
                                  "{\"text\": \"lunch\"}", "{\"kcal\": 640}");
  mt_loopback_s3_add_bucket (s3, "window-test");
  mt_loopback_s3_put (s3, "window-test", "meal-images/user-1/lunch.jpg", now - 3000000, NULL, 1000);
  g_setenv ("LANGFUSE_PUBLIC_KEY", ERR_PUBLIC, TRUE);
  g_setenv ("LANGFUSE_SECRET_KEY", ERR_SECRET, TRUE);
  g_setenv ("LANGFUSE_BASE_URL", mt_loopback_langfuse_get_base_url (langfuse), TRUE);
  g_setenv ("AWS_ACCESS_KEY_ID", ERR_AWS_ID, TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", ERR_AWS_SECRET, TRUE);
  g_setenv ("AWS_REGION", "us-east-1", TRUE);
  g_setenv ("AWS_ENDPOINT_URL", mt_loopback_s3_get_endpoint (s3), TRUE);
  g_setenv ("MEALTRACE_S3_BUCKET", "window-test", TRUE);

  /* Every Langfuse request has its connection dropped. */
  mt_fake_langfuse_add_fault (langfuse, MT_FAKE_LANGFUSE_FAULT_RESET, 1000, NULL);
  mt_window_start (f->window);
  g_assert_cmpstr (mt_window_get_page (f->window), ==, "loading");
  mt_langfuse_client_set_max_attempts (mt_mapping_job_get_langfuse_client (f->window->job), 1);
  iterate_until_page (f, "error", 60000);
  message = gtk_label_get_text (f->window->error_message);
  g_assert_cmpstr (message, !=, "");
  g_assert_nonnull (strstr (message, "Preferences"));
  g_assert_null (strstr (message, ERR_SECRET));
  g_assert_null (mt_window_get_result (f->window));
  settle (f);
  save_screenshot (f, "error");

  /* Back up: Retry. */
  mt_fake_langfuse_clear_faults (langfuse);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.refresh", NULL));
  iterate_until_page (f, "results", 60000);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (mt_window_get_result (f->window))), ==, 1);
  g_assert_cmpuint (mt_match_summary_get_total_matched_pairs (mt_match_result_get_summary (
                      mt_window_get_result (f->window))), ==, 1);

  /* A photo that is not an image: the broken state, not a crash. */
  gtk_single_selection_set_selected (f->window->selection, 0);
  run_until (f, previews_loaded, GUINT_TO_POINTER (1), 30000);
  g_assert_cmpuint (mt_user_detail_get_n_previews_broken (f->window->detail), ==, 1);
  settle (f);
  save_screenshot (f, "broken-photo");

  for (const char *const *name = (const char *const[]) { "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY",
                                                          "LANGFUSE_BASE_URL", "AWS_ACCESS_KEY_ID",
                                                          "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
                                                          "AWS_ENDPOINT_URL", "MEALTRACE_S3_BUCKET", NULL };
       *name != NULL; name++)
    g_unsetenv (*name);
}

/* A custom range of days: checked, and read as whole days. */
static void
test_custom_range (Fixture *f, gconstpointer data)
{
  mt_window_open_demo (f->window);
  iterate_until_page (f, "results", 60000);

  gtk_drop_down_set_selected (f->window->time_filter, 4);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (f->window->range_button)));
  gtk_editable_set_text (GTK_EDITABLE (f->window->range_from), "2026-02-30");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.apply-range", NULL));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (f->window->range_error)));
  g_assert_cmpstr (mt_window_get_page (f->window), ==, "results");
  settle (f);
  save_screenshot (f, "custom-range-error");

  {
    g_autoptr(GDateTime) today = g_date_time_new_now_local ();
    g_autoptr(GDateTime) earlier = g_date_time_add_days (today, -40);
    g_autofree char *first = g_date_time_format (earlier, "%Y-%m-%d");
    g_autofree char *last = g_date_time_format (today, "%Y-%m-%d");
    MtMatchResult *result;

    gtk_editable_set_text (GTK_EDITABLE (f->window->range_from), first);
    gtk_editable_set_text (GTK_EDITABLE (f->window->range_to), last);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.apply-range", NULL));
    g_assert_false (gtk_widget_get_visible (GTK_WIDGET (f->window->range_error)));
    iterate_until_page (f, "loading", 5000);
    iterate_until_page (f, "results", 60000);
    result = mt_window_get_result (f->window);
    g_assert_cmpuint (mt_match_result_get_time_filter_days (result), ==, 0);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (result)), >=, 20);
    {
      g_autoptr(GSettings) settings = g_settings_new ("io.github.mealtrace.Mealtrace");
      g_autofree char *saved = g_settings_get_string (settings, "custom-range-from");

      g_assert_cmpint (g_settings_get_int (settings, "time-filter-days"), ==, 0);
      g_assert_cmpstr (saved, ==, first);
      g_settings_set_int (settings, "time-filter-days", 1);
    }
  }
}

/* The window in Vietnamese, when the test runs with LANGUAGE=vi (the
 * test-window-vi run): the demo read to the end, a user selected, the
 * window's own words from the catalog, and a screenshot to look at. */
static void
test_vietnamese (Fixture *f, gconstpointer data)
{
  const char *demo_title = "Mealtrace — Demo";
  const char *translated = dgettext (GETTEXT_PACKAGE, demo_title);
  const char *users = dgettext (GETTEXT_PACKAGE, "Users");

  if (g_strcmp0 (g_getenv ("LANGUAGE"), "vi") != 0)
    {
      g_test_skip ("only with LANGUAGE=vi (the test-window-vi run)");
      return;
    }
  /* The catalog is there and has the window's words. */
  g_assert_cmpstr (translated, !=, demo_title);
  g_assert_cmpstr (users, !=, "Users");

  mt_window_open_demo (f->window);
  iterate_until_page (f, "results", 60000);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (f->window)), ==, translated);
  gtk_single_selection_set_selected (f->window->selection, 0);
  run_until (f, previews_loaded, GUINT_TO_POINTER (1), 30000);
  settle (f);
  save_screenshot (f, "demo-detail-vi");
}

int
main (int argc, char *argv[])
{
  static const char *const unset[] = {
    "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY", "LANGFUSE_BASE_URL", "LANGFUSE_HOST",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "MEALTRACE_S3_BUCKET", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
  };
  g_autofree char *home = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  /* The translations built beside the tests, as an installed app finds its own. */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, MT_TEST_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  if (!gtk_init_check ())
    {
      g_printerr ("No display: the window tests need one (build-aux/test runs them under Xvfb).\n");
      return 77;
    }
  /* No keys from this machine: the welcome test wants none, and the demo
   * brings its own. */
  for (guint i = 0; i < G_N_ELEMENTS (unset); i++)
    g_unsetenv (unset[i]);
  home = g_dir_make_tmp ("mealtrace-window-XXXXXX", NULL);
  g_setenv ("HOME", home, TRUE);

  g_test_add ("/window/demo", Fixture, NULL, fixture_set_up, test_demo, fixture_tear_down);
  g_test_add ("/window/stop", Fixture, NULL, fixture_set_up, test_stop, fixture_tear_down);
  g_test_add ("/window/no-credentials", Fixture, NULL, fixture_set_up, test_no_credentials, fixture_tear_down);
  g_test_add ("/window/export", Fixture, NULL, fixture_set_up, test_export, fixture_tear_down);
  g_test_add ("/window/error-retry", Fixture, NULL, fixture_set_up, test_error_retry, fixture_tear_down);
  g_test_add ("/window/custom-range", Fixture, NULL, fixture_set_up, test_custom_range, fixture_tear_down);
  g_test_add ("/window/vietnamese", Fixture, NULL, fixture_set_up, test_vietnamese, fixture_tear_down);

  application = mt_application_new (G_APPLICATION_NON_UNIQUE);
  if (!g_application_register (G_APPLICATION (application), NULL, &error))
    g_error ("%s", error->message);
  status = g_test_run ();
  /* The demo's servers stop with the application. */
  g_application_quit (G_APPLICATION (application));
  g_object_unref (application);
  return status;
}
