/* test-preferences.c — the Preferences dialog in a real display (Xvfb):
 * the controls show GSettings and write it, follow it when it changes,
 * say which values the environment or .env overrides, and say where each
 * key comes from without ever showing one. Saves screenshots/preferences.png
 * in the build folder to be looked at. */

#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "mt-preferences-window.h"
#include "mt-test-ui.h"

/* Secrets no text of the dialog may hold, whole or in part. */
#define PUBLIC_KEY   "pk-lf-Qm7vX2pL9sKd4TzR"
#define SECRET_KEY   "sk-lf-Wn3bY8cJ5hGf1AeU"
#define ACCESS_KEY   "AKIAZX7Q3MV9TB2KL4PD"
#define SECRET_AWS   "hT6pN2wQ8zR4yK1mB7vC5xL3jF9dS0gA"
#define SESSION      "FwoGZXIvYXdzEJr7Tk2Lq9sVb4Nc8Hm"
#define PROFILE_KEY  "AKIAPR0F1LEQ8W3E5R7T"
#define PROFILE_SECRET "pRoF1leSeCr3tVaLu3Xq9Zw2Yk4"

/* Names the environment of this machine may set, and the tests do. */
static const char * const variables[] = {
  "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY", "LANGFUSE_BASE_URL", "LANGFUSE_HOST", "MEALTRACE_LANGFUSE_API",
  "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_CONFIG_FILE", "MEALTRACE_S3_BUCKET", "MEALTRACE_S3_PREFIX", "MEALTRACE_TIMEZONE",
  "MEALTRACE_MAX_GAP_SECONDS", "MEALTRACE_URL_LIFETIME_SECONDS", "MEALTRACE_MAX_IN_FLIGHT",
};

/* The working directory (for .env) and home (for ~/.aws) of the tests. */
static char *home;

typedef struct {
  GSettings *settings;
  GtkWindow *parent;
  MtPreferencesWindow *dialog;
} Fixture;

static gboolean
laid_out (gconstpointer widget)
{
  return gtk_widget_get_width (GTK_WIDGET (widget)) > 0;
}

static void
settle (void)
{
  gint64 until = g_get_monotonic_time () + 300 * 1000;

  while (g_get_monotonic_time () < until)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

/* @widget as drawn, at @width × @height, into screenshots/@name.png. */
/* The dialog's whole page, below the fold too. */
static void
save_page (Fixture    *f,
           const char *name)
{
  GtkWidget *viewport = gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (gtk_window_get_child (GTK_WINDOW (f->dialog))));
  GtkWidget *page = gtk_widget_get_first_child (viewport);

  settle ();
  mt_test_save_png (page, GTK_NATIVE (f->dialog), gtk_widget_get_width (page), gtk_widget_get_height (page), name);
}

static void
write_file (const char *path,
            const char *text)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->settings = g_settings_new (APPLICATION_ID);
  f->parent = GTK_WINDOW (gtk_window_new ());
  g_object_ref_sink (f->parent);
  gtk_window_set_default_size (f->parent, 800, 600);
  gtk_window_present (f->parent);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;

  if (f->dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (f->dialog));
  g_clear_object (&f->dialog);
  gtk_window_destroy (f->parent);
  g_clear_object (&f->parent);
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);

  g_object_get (f->settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    g_settings_reset (f->settings, keys[i]);
  g_clear_object (&f->settings);
  for (guint i = 0; i < G_N_ELEMENTS (variables); i++)
    g_unsetenv (variables[i]);
  g_unlink (".env");
}

/* Opens the dialog as it is now: GSettings, the environment, .env. */
static void
open_dialog (Fixture *f)
{
  f->dialog = mt_preferences_window_new (f->parent, f->settings);
  g_object_ref (f->dialog);
  gtk_window_present (GTK_WINDOW (f->dialog));
  mt_test_run_until (laid_out, f->dialog, 5000);
}

/* The dialog's widget named @name (controls are named by their key). */
static GtkWidget *
find_in (GtkWidget  *widget,
         const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_in (child, name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWidget *
find (Fixture    *f,
      const char *name)
{
  GtkWidget *widget = find_in (GTK_WIDGET (f->dialog), name);

  if (widget == NULL)
    g_error ("the dialog has no widget named “%s”", name);
  return widget;
}

/* Every text of labels and editables under @widget, including the
 * titlebar, popovers and the dialog's own title. */
static void
collect_texts (GtkWidget *widget,
               GPtrArray *texts)
{
  if (GTK_IS_LABEL (widget))
    {
      g_ptr_array_add (texts, g_strdup (gtk_label_get_text (GTK_LABEL (widget))));
      g_ptr_array_add (texts, g_strdup (gtk_label_get_label (GTK_LABEL (widget))));
    }
  if (GTK_IS_EDITABLE (widget))
    g_ptr_array_add (texts, g_strdup (gtk_editable_get_text (GTK_EDITABLE (widget))));
  if (GTK_IS_ENTRY (widget) && gtk_entry_get_placeholder_text (GTK_ENTRY (widget)) != NULL)
    g_ptr_array_add (texts, g_strdup (gtk_entry_get_placeholder_text (GTK_ENTRY (widget))));
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_texts (child, texts);
}

static GPtrArray *
dialog_texts (Fixture *f)
{
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (texts, g_strdup (gtk_window_get_title (GTK_WINDOW (f->dialog))));
  collect_texts (GTK_WIDGET (f->dialog), texts);
  return texts;
}

/* No text of the dialog holds @secret, nor any eight characters of it. */
static void
assert_never_shown (GPtrArray  *texts,
                    const char *secret)
{
  gsize length = strlen (secret);

  for (guint i = 0; i < texts->len; i++)
    {
      const char *text = g_ptr_array_index (texts, i);

      for (gsize start = 0; start + 8 <= length; start++)
        {
          g_autofree char *part = g_strndup (secret + start, 8);

          if (strstr (text, part) != NULL)
            g_error ("the dialog shows part of a secret: “%s”", text);
        }
    }
}

static gboolean
has_text (GPtrArray  *texts,
          const char *needle)
{
  for (guint i = 0; i < texts->len; i++)
    if (strstr (g_ptr_array_index (texts, i), needle) != NULL)
      return TRUE;
  return FALSE;
}

static const char *
entry_text (Fixture    *f,
            const char *key)
{
  return gtk_editable_get_text (GTK_EDITABLE (find (f, key)));
}

static int
spin_value (Fixture    *f,
            const char *key)
{
  return gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (find (f, key)));
}

static const char *
label_text (Fixture    *f,
            const char *name)
{
  return gtk_label_get_text (GTK_LABEL (find (f, name)));
}

/* A note is shown when its label and the box around it are. */
static gboolean
note_shown (Fixture    *f,
            const char *name)
{
  GtkWidget *note = find_in (GTK_WIDGET (f->dialog), name);

  return note != NULL && gtk_widget_is_visible (note);
}

static void
test_shows_settings (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) texts = NULL;

  g_settings_set_string (f->settings, "s3-bucket", "meals-bucket");
  g_settings_set_string (f->settings, "s3-prefix", "photos/");
  g_settings_set_int (f->settings, "max-in-flight", 8);
  g_settings_set_int (f->settings, "url-lifetime-seconds", 7200);
  g_settings_set_string (f->settings, "langfuse-base-url", "https://langfuse.example.org");
  g_settings_set_string (f->settings, "langfuse-api", "v1");
  g_settings_set_string (f->settings, "time-zone", "Asia/Ho_Chi_Minh");
  g_settings_set_int (f->settings, "max-gap-seconds", 900);
  open_dialog (f);

  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (f->dialog)), ==, "Preferences");
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (f->dialog)));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (f->dialog)) == f->parent);
  g_assert_true (gtk_window_get_destroy_with_parent (GTK_WINDOW (f->dialog)));

  g_assert_cmpstr (entry_text (f, "s3-bucket"), ==, "meals-bucket");
  g_assert_cmpstr (entry_text (f, "s3-prefix"), ==, "photos/");
  g_assert_cmpint (spin_value (f, "max-in-flight"), ==, 8);
  g_assert_cmpint (spin_value (f, "url-lifetime-seconds"), ==, 7200);
  g_assert_cmpstr (entry_text (f, "langfuse-base-url"), ==, "https://langfuse.example.org");
  g_assert_cmpuint (gtk_drop_down_get_selected (GTK_DROP_DOWN (find (f, "langfuse-api"))), ==, 2);
  g_assert_cmpstr (entry_text (f, "time-zone"), ==, "Asia/Ho_Chi_Minh");
  g_assert_cmpint (spin_value (f, "max-gap-seconds"), ==, 900);

  /* Durations in words, for people. */
  texts = dialog_texts (f);
  g_assert_true (has_text (texts, "(2 hours)"));
  g_assert_true (has_text (texts, "(15 minutes)"));
  /* Nothing overridden, nothing wrong. */
  g_assert_false (note_shown (f, "override-s3-bucket"));
  g_assert_false (note_shown (f, "problem-time-zone"));
  g_assert_false (gtk_widget_has_css_class (find (f, "time-zone"), "error"));
}

static void
test_writes_settings (Fixture *f, gconstpointer data)
{
  g_autofree char *api = NULL;
  g_autofree char *zone = NULL;
  g_autofree char *url = NULL;
  g_autofree char *bucket = NULL;

  open_dialog (f);

  gtk_editable_set_text (GTK_EDITABLE (find (f, "s3-bucket")), "typed-bucket");
  bucket = g_settings_get_string (f->settings, "s3-bucket");
  g_assert_cmpstr (bucket, ==, "typed-bucket");

  gtk_spin_button_set_value (GTK_SPIN_BUTTON (find (f, "max-in-flight")), 32);
  g_assert_cmpint (g_settings_get_int (f->settings, "max-in-flight"), ==, 32);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (find (f, "url-lifetime-seconds")), 86400);
  g_assert_cmpint (g_settings_get_int (f->settings, "url-lifetime-seconds"), ==, 86400);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (find (f, "max-gap-seconds")), 600);
  g_assert_cmpint (g_settings_get_int (f->settings, "max-gap-seconds"), ==, 600);

  gtk_drop_down_set_selected (GTK_DROP_DOWN (find (f, "langfuse-api")), 1);
  api = g_settings_get_string (f->settings, "langfuse-api");
  g_assert_cmpstr (api, ==, "v2");

  /* A time zone that is none: said, and not written. */
  gtk_editable_set_text (GTK_EDITABLE (find (f, "time-zone")), "+05:30");
  gtk_editable_set_text (GTK_EDITABLE (find (f, "time-zone")), "Not/A_Zone");
  zone = g_settings_get_string (f->settings, "time-zone");
  g_assert_cmpstr (zone, ==, "+05:30");
  g_assert_true (gtk_widget_has_css_class (find (f, "time-zone"), "error"));
  g_assert_true (note_shown (f, "problem-time-zone"));
  g_assert_nonnull (strstr (label_text (f, "problem-time-zone"), "Not/A_Zone"));
  save_page (f, "preferences-invalid");
  g_clear_pointer (&zone, g_free);
  gtk_editable_set_text (GTK_EDITABLE (find (f, "time-zone")), " Asia/Ho_Chi_Minh ");
  zone = g_settings_get_string (f->settings, "time-zone");
  g_assert_cmpstr (zone, ==, "Asia/Ho_Chi_Minh");
  g_assert_false (gtk_widget_has_css_class (find (f, "time-zone"), "error"));
  g_assert_false (note_shown (f, "problem-time-zone"));

  /* The same for a Langfuse address; empty is Langfuse Cloud. */
  gtk_editable_set_text (GTK_EDITABLE (find (f, "langfuse-base-url")), "https://langfuse.example.org");
  gtk_editable_set_text (GTK_EDITABLE (find (f, "langfuse-base-url")), "ftp://langfuse.example.org");
  url = g_settings_get_string (f->settings, "langfuse-base-url");
  g_assert_cmpstr (url, ==, "https://langfuse.example.org");
  g_assert_true (note_shown (f, "problem-langfuse-base-url"));
  g_clear_pointer (&url, g_free);
  gtk_editable_set_text (GTK_EDITABLE (find (f, "langfuse-base-url")), "");
  url = g_settings_get_string (f->settings, "langfuse-base-url");
  g_assert_cmpstr (url, ==, "");
  g_assert_false (note_shown (f, "problem-langfuse-base-url"));
}

static void
test_follows_settings (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) texts = NULL;

  open_dialog (f);
  g_settings_set_string (f->settings, "s3-bucket", "elsewhere");
  g_settings_set_string (f->settings, "s3-prefix", "uploads/");
  g_settings_set_int (f->settings, "max-in-flight", 3);
  g_settings_set_int (f->settings, "url-lifetime-seconds", 604800);
  g_settings_set_string (f->settings, "langfuse-api", "v2");
  g_settings_set_string (f->settings, "langfuse-base-url", "http://127.0.0.1:3000");
  g_settings_set_string (f->settings, "time-zone", "UTC");
  g_settings_set_int (f->settings, "max-gap-seconds", 0);

  g_assert_cmpstr (entry_text (f, "s3-bucket"), ==, "elsewhere");
  g_assert_cmpstr (entry_text (f, "s3-prefix"), ==, "uploads/");
  g_assert_cmpint (spin_value (f, "max-in-flight"), ==, 3);
  g_assert_cmpint (spin_value (f, "url-lifetime-seconds"), ==, 604800);
  g_assert_cmpuint (gtk_drop_down_get_selected (GTK_DROP_DOWN (find (f, "langfuse-api"))), ==, 1);
  g_assert_cmpstr (entry_text (f, "langfuse-base-url"), ==, "http://127.0.0.1:3000");
  g_assert_cmpstr (entry_text (f, "time-zone"), ==, "UTC");
  g_assert_cmpint (spin_value (f, "max-gap-seconds"), ==, 0);
  texts = dialog_texts (f);
  g_assert_true (has_text (texts, "(7 days)"));
  g_assert_true (has_text (texts, "Seconds a photo may follow its trace, 0 for no limit"));
  g_assert_false (has_text (texts, "no limit ("));

  /* A reset shows the default again. */
  g_settings_reset (f->settings, "max-in-flight");
  g_assert_cmpint (spin_value (f, "max-in-flight"), ==, 16);
}

/* Keys from the environment and .env: where from, never what. */
static void
test_credentials (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) texts = NULL;

  g_setenv ("LANGFUSE_SECRET_KEY", SECRET_KEY, TRUE);
  g_setenv ("AWS_ACCESS_KEY_ID", ACCESS_KEY, TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", SECRET_AWS, TRUE);
  g_setenv ("AWS_SESSION_TOKEN", SESSION, TRUE);
  g_setenv ("MEALTRACE_S3_BUCKET", "bucket-from-environment", TRUE);
  write_file (".env", "LANGFUSE_PUBLIC_KEY=" PUBLIC_KEY "\n");
  g_settings_set_string (f->settings, "s3-bucket", "bucket-in-settings");
  open_dialog (f);

  g_assert_cmpstr (label_text (f, "origin-LANGFUSE_PUBLIC_KEY"), ==, "From .env");
  g_assert_cmpstr (label_text (f, "origin-LANGFUSE_SECRET_KEY"), ==, "From the environment");
  g_assert_cmpstr (label_text (f, "origin-AWS_ACCESS_KEY_ID"), ==, "From the environment");
  g_assert_cmpstr (label_text (f, "origin-AWS_SECRET_ACCESS_KEY"), ==, "From the environment");
  g_assert_cmpstr (label_text (f, "origin-AWS_SESSION_TOKEN"), ==, "From the environment");

  texts = dialog_texts (f);
  g_assert_true (has_text (texts, "never stored in the preferences"));
  g_assert_true (has_text (texts, ".env file"));
  assert_never_shown (texts, PUBLIC_KEY);
  assert_never_shown (texts, SECRET_KEY);
  assert_never_shown (texts, ACCESS_KEY);
  assert_never_shown (texts, SECRET_AWS);
  assert_never_shown (texts, SESSION);

  settle ();
  mt_test_save_png (GTK_WIDGET (f->dialog), GTK_NATIVE (f->dialog), gtk_widget_get_width (GTK_WIDGET (f->dialog)),
                   gtk_widget_get_height (GTK_WIDGET (f->dialog)), "preferences");
  save_page (f, "preferences-page");
}

/* AWS keys from a profile in ~/.aws/credentials; missing Langfuse keys. */
static void
test_credentials_profile (Fixture *f, gconstpointer data)
{
  g_autofree char *aws_dir = g_build_filename (home, ".aws", NULL);
  g_autofree char *credentials = g_build_filename (aws_dir, "credentials", NULL);
  g_autoptr(GPtrArray) texts = NULL;

  g_assert_cmpint (g_mkdir_with_parents (aws_dir, 0700), ==, 0);
  write_file (credentials, "[default]\naws_access_key_id = " PROFILE_KEY "\n"
                           "aws_secret_access_key = " PROFILE_SECRET "\n");
  open_dialog (f);

  g_assert_cmpstr (label_text (f, "origin-LANGFUSE_PUBLIC_KEY"), ==, "Not set");
  g_assert_cmpstr (label_text (f, "origin-LANGFUSE_SECRET_KEY"), ==, "Not set");
  g_assert_true (g_str_has_prefix (label_text (f, "origin-AWS_ACCESS_KEY_ID"), "From profile “default” in "));
  g_assert_true (g_str_has_suffix (label_text (f, "origin-AWS_SECRET_ACCESS_KEY"), credentials));
  g_assert_cmpstr (label_text (f, "origin-AWS_SESSION_TOKEN"), ==, "Not set");
  texts = dialog_texts (f);
  assert_never_shown (texts, PROFILE_KEY);
  assert_never_shown (texts, PROFILE_SECRET);
  save_page (f, "preferences-profile");

  g_unlink (credentials);
  g_rmdir (aws_dir);
}

/* A .env that cannot be read: said, and the rest still works. */
static void
test_credentials_unreadable (Fixture *f, gconstpointer data)
{
  write_file (".env", "LANGFUSE_SECRET_KEY=\"" SECRET_KEY "\n");
  open_dialog (f);

  g_assert_true (note_shown (f, "problem-credentials"));
  g_assert_nonnull (strstr (label_text (f, "problem-credentials"), ".env"));
  g_assert_cmpstr (label_text (f, "origin-LANGFUSE_SECRET_KEY"), ==, "Unknown");
  {
    g_autoptr(GPtrArray) texts = dialog_texts (f);

    assert_never_shown (texts, SECRET_KEY);
  }
  gtk_editable_set_text (GTK_EDITABLE (find (f, "s3-bucket")), "still-works");
  {
    g_autofree char *bucket = g_settings_get_string (f->settings, "s3-bucket");

    g_assert_cmpstr (bucket, ==, "still-works");
  }
}

/* A value the environment or .env sets: the row says it is not used. */
static void
test_override_notes (Fixture *f, gconstpointer data)
{
  g_setenv ("MEALTRACE_S3_BUCKET", "bucket-from-environment", TRUE);
  g_setenv ("LANGFUSE_HOST", "https://langfuse.example.org", TRUE);
  write_file (".env", "MEALTRACE_TIMEZONE=UTC\nMEALTRACE_MAX_IN_FLIGHT=4\n");
  g_settings_set_string (f->settings, "s3-prefix", "photos/");
  open_dialog (f);

  g_assert_true (note_shown (f, "override-s3-bucket"));
  g_assert_cmpstr (label_text (f, "override-s3-bucket"), ==,
                   "Set by the environment (MEALTRACE_S3_BUCKET): this value is not used");
  g_assert_true (note_shown (f, "override-langfuse-base-url"));
  g_assert_cmpstr (label_text (f, "override-langfuse-base-url"), ==,
                   "Set by the environment (LANGFUSE_HOST): this value is not used");
  g_assert_true (note_shown (f, "override-time-zone"));
  g_assert_cmpstr (label_text (f, "override-time-zone"), ==, "Set in .env (MEALTRACE_TIMEZONE): this value is not used");
  g_assert_true (note_shown (f, "override-max-in-flight"));
  /* GSettings' own values, and the defaults, are used: no note. */
  g_assert_false (note_shown (f, "override-s3-prefix"));
  g_assert_false (note_shown (f, "override-max-gap-seconds"));
  g_assert_false (note_shown (f, "override-langfuse-api"));
  save_page (f, "preferences-overrides");
}

static gboolean
is_null (gconstpointer pointer)
{
  return *(gpointer const *) pointer == NULL;
}

/* Escape is bound to closing, and closing destroys the dialog. */
static void
test_escape_closes (Fixture *f, gconstpointer data)
{
  g_autoptr(GListModel) controllers = NULL;
  gboolean escape_closes = FALSE;
  gpointer weak;

  open_dialog (f);
  controllers = gtk_widget_observe_controllers (GTK_WIDGET (f->dialog));
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);
          g_autofree char *trigger = gtk_shortcut_trigger_to_string (gtk_shortcut_get_trigger (shortcut));
          g_autofree char *action = gtk_shortcut_action_to_string (gtk_shortcut_get_action (shortcut));

          if (strcmp (trigger, "Escape") == 0 && strstr (action, "window.close") != NULL)
            escape_closes = TRUE;
        }
    }
  g_assert_true (escape_closes);

  weak = f->dialog;
  g_object_add_weak_pointer (weak, &weak);
  g_clear_object (&f->dialog);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (weak), "window.close", NULL));
  g_assert_true (mt_test_run_until (is_null, &weak, 5000));
}

int
main (int argc, char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    {
      g_printerr ("No display: the preferences tests need one (build-aux/test runs them under Xvfb).\n");
      return 77;
    }
  /* Nothing from this machine: only what each test sets. */
  for (guint i = 0; i < G_N_ELEMENTS (variables); i++)
    g_unsetenv (variables[i]);
  home = g_dir_make_tmp ("mealtrace-preferences-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("HOME", home, TRUE);
  g_assert_cmpint (g_chdir (home), ==, 0);

#define ADD(path, func) \
  g_test_add ("/preferences/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("shows-settings", test_shows_settings);
  ADD ("writes-settings", test_writes_settings);
  ADD ("follows-settings", test_follows_settings);
  ADD ("credentials", test_credentials);
  ADD ("credentials-profile", test_credentials_profile);
  ADD ("credentials-unreadable", test_credentials_unreadable);
  ADD ("override-notes", test_override_notes);
  ADD ("escape-closes", test_escape_closes);
#undef ADD

  status = g_test_run ();
  g_rmdir (home);
  g_free (home);
  return status;
}
