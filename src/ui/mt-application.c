/* mt-application.c — Mealtrace as a GNOME application */

#include "config.h"

#include <glib/gi18n.h>

#include "mt-application.h"
#include "mt-time.h"
#include "mt-ui-resources.h"
#include "mt-window.h"

struct _MtApplication
{
  GtkApplication parent_instance;

  MtDemo *demo;
  gboolean demo_requested;   /* --demo, for the first window */
};

G_DEFINE_FINAL_TYPE (MtApplication, mt_application, GTK_TYPE_APPLICATION)

MtApplication *
mt_application_new (GApplicationFlags flags)
{
  static gsize registered;

  if (g_once_init_enter (&registered))
    {
      mt_ui_register_resource ();
      g_once_init_leave (&registered, 1);
    }
  return g_object_new (MT_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", flags,
                       "resource-base-path", "/io/github/mealtrace/Mealtrace",
                       NULL);
}

MtDemo *
mt_application_get_demo (MtApplication *self)
{
  g_return_val_if_fail (MT_IS_APPLICATION (self), NULL);

  if (self->demo == NULL)
    self->demo = mt_demo_new (mt_time_now_ms ());
  return self->demo;
}

static MtWindow *
ensure_window (MtApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (mt_window_new (self));
  return MT_WINDOW (window);
}

static void
mt_application_activate (GApplication *app)
{
  MtApplication *self = MT_APPLICATION (app);
  MtWindow *window = ensure_window (self);

  gtk_window_present (GTK_WINDOW (window));
  if (self->demo_requested)
    {
      self->demo_requested = FALSE;
      mt_window_open_demo (window);
    }
  else
    mt_window_start (window);
}

/* --demo in a second instance asks the first one through its action. */
static int
mt_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  MtApplication *self = MT_APPLICATION (app);
  g_autoptr(GError) error = NULL;

  if (!g_variant_dict_contains (options, "demo"))
    return -1;
  if (!g_application_register (app, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (g_application_get_is_remote (app))
    {
      g_action_group_activate_action (G_ACTION_GROUP (app), "demo", NULL);
      return 0;
    }
  self->demo_requested = TRUE;
  return -1;
}

static void
on_demo (GSimpleAction *action,
         GVariant      *parameter,
         gpointer       data)
{
  MtApplication *self = data;
  MtWindow *window = ensure_window (self);

  gtk_window_present (GTK_WINDOW (window));
  mt_window_open_demo (window);
}

static void
on_quit (GSimpleAction *action,
         GVariant      *parameter,
         gpointer       data)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (data));

  /* Each window stops its run and saves its state as it closes. */
  while (windows != NULL)
    {
      GList *next = windows->next;

      gtk_window_destroy (GTK_WINDOW (windows->data));
      windows = next;
    }
}

static void
on_about (GSimpleAction *action,
          GVariant      *parameter,
          gpointer       data)
{
  static const char *developers[] = { "The Mealtrace developers", NULL };
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (data));

  gtk_show_about_dialog (parent,
                         "program-name", _("Mealtrace"),
                         "logo-icon-name", APPLICATION_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Pair meal photos with the model calls that analysed them"),
                         "website", "https://github.com/mealtrace/mealtrace",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "authors", developers,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static const GActionEntry app_actions[] = {
  { "demo", on_demo },
  { "quit", on_quit },
  { "about", on_about },
};

static void
mt_application_startup (GApplication *app)
{
  static const char *quit_accels[] = { "<Control>q", NULL };
  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

  G_APPLICATION_CLASS (mt_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);

  gtk_css_provider_load_from_resource (css, "/io/github/mealtrace/Mealtrace/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

static void
mt_application_shutdown (GApplication *app)
{
  MtApplication *self = MT_APPLICATION (app);

  G_APPLICATION_CLASS (mt_application_parent_class)->shutdown (app);
  g_clear_pointer (&self->demo, mt_demo_free);
}

static void
mt_application_finalize (GObject *object)
{
  MtApplication *self = MT_APPLICATION (object);

  /* Also when the application was only registered, never run. */
  g_clear_pointer (&self->demo, mt_demo_free);

  G_OBJECT_CLASS (mt_application_parent_class)->finalize (object);
}

static void
mt_application_class_init (MtApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = mt_application_finalize;
  app_class->activate = mt_application_activate;
  app_class->startup = mt_application_startup;
  app_class->shutdown = mt_application_shutdown;
  app_class->handle_local_options = mt_application_handle_local_options;
}

static void
mt_application_init (MtApplication *self)
{
  static const GOptionEntry options[] = {
    { "demo", 0, 0, G_OPTION_ARG_NONE, NULL,
      N_("Open the demo: sample data served inside Mealtrace, no account needed"), NULL },
    { NULL },
  };

  g_application_add_main_option_entries (G_APPLICATION (self), options);
}
