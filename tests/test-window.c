/* test-window.c — the window in a real display (Xvfb): the demo read from
 * start to end, the user list's search, status filter and sorting, and a
 * stop during loading; each test saves a PNG of the window in the build
 * folder (screenshots/) to be looked at. */

#include "config.h"

#include <gtk/gtk.h>
#include <string.h>

#include "mt-match-summary.h"
#include "mt-user-result.h"
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
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *dir = g_test_build_filename (G_TEST_BUILT, "screenshots", NULL);
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  GskRenderer *renderer;
  int width, height;

  /* A new window is laid out on its first frames. */
  run_until (f, laid_out, NULL, 5000);
  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  g_assert_cmpint (width, >, 0);
  paintable = gtk_widget_paintable_new (widget);
  renderer = gtk_native_get_renderer (GTK_NATIVE (widget));
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
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

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  gtk_window_destroy (GTK_WINDOW (f->window));
  g_clear_object (&f->window);
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

  application = mt_application_new (G_APPLICATION_NON_UNIQUE);
  if (!g_application_register (G_APPLICATION (application), NULL, &error))
    g_error ("%s", error->message);
  status = g_test_run ();
  /* The demo's servers stop with the application. */
  g_application_quit (G_APPLICATION (application));
  g_object_unref (application);
  return status;
}
