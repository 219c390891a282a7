/* mt-preferences-window.c — the Preferences dialog: groups of rows bound
 * to GSettings, and where the credentials come from */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mt-config.h"
#include "mt-preferences-window.h"
#include "mt-time.h"

/* The ranges mt-config.c accepts, as the schema's <range>s say them. */
#define MAX_IN_FLIGHT_MAX 64
#define URL_LIFETIME_MAX (7 * 24 * 3600)
#define MAX_GAP_MAX (10 * 366 * 24 * 3600)

struct _MtPreferencesWindow
{
  GtkWindow parent_instance;

  GSettings *settings;
  /* Setting name → where its value comes from; %NULL when the sources
   * could not be read (origins_error says why). */
  GHashTable *origins;
  GError *origins_error;

  GtkEntry *bucket_entry;
  GtkLabel *url_lifetime_subtitle;
  GtkLabel *max_gap_subtitle;
  GtkEditable *time_zone_entry;
  GtkLabel *time_zone_problem;
  GtkEditable *base_url_entry;
  GtkLabel *base_url_problem;
};

G_DEFINE_FINAL_TYPE (MtPreferencesWindow, mt_preferences_window, GTK_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The Langfuse API generations, in the order of the drop-down. */
static const char * const api_values[] = { "auto", "v2", "v1" };

MtPreferencesWindow *
mt_preferences_window_new (GtkWindow *parent,
                           GSettings *settings)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  return g_object_new (MT_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "settings", settings,
                       NULL);
}

/* Words for people */

/* "1 hour", "1 hour 30 minutes", "7 days": the two largest units. */
static char *
format_duration (guint seconds)
{
  const guint days = seconds / 86400, hours = seconds / 3600 % 24, minutes = seconds / 60 % 60, secs = seconds % 60;
  const guint counts[] = { days, hours, minutes, secs };
  g_autoptr(GString) text = g_string_new (NULL);
  guint shown = 0;

  for (guint i = 0; i < G_N_ELEMENTS (counts) && shown < 2; i++)
    {
      guint n = counts[i];

      if (n == 0)
        {
          /* "1 day 5 seconds" is not what a person says. */
          if (shown > 0)
            break;
          continue;
        }
      if (shown > 0)
        g_string_append_c (text, ' ');
      switch (i)
        {
        case 0:
          g_string_append_printf (text, ngettext ("%u day", "%u days", n), n);
          break;
        case 1:
          g_string_append_printf (text, ngettext ("%u hour", "%u hours", n), n);
          break;
        case 2:
          g_string_append_printf (text, ngettext ("%u minute", "%u minutes", n), n);
          break;
        default:
          g_string_append_printf (text, ngettext ("%u second", "%u seconds", n), n);
          break;
        }
      shown++;
    }
  if (shown == 0)
    g_string_append_printf (text, ngettext ("%u second", "%u seconds", 0), 0);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
update_url_lifetime (MtPreferencesWindow *self,
                     GParamSpec          *pspec,
                     GtkSpinButton       *spin)
{
  g_autofree char *duration = format_duration ((guint) gtk_spin_button_get_value_as_int (spin));
  /* Translators: %s is a duration, such as “1 hour”. */
  g_autofree char *text = g_strdup_printf (_("Seconds a presigned photo URL stays valid (%s)"), duration);

  gtk_label_set_text (self->url_lifetime_subtitle, text);
}

static void
update_max_gap (MtPreferencesWindow *self,
                GParamSpec          *pspec,
                GtkSpinButton       *spin)
{
  int seconds = gtk_spin_button_get_value_as_int (spin);
  g_autofree char *duration = seconds > 0 ? format_duration ((guint) seconds) : NULL;
  g_autofree char *text = NULL;

  if (duration != NULL)
    /* Translators: %s is a duration, such as “15 minutes”. */
    text = g_strdup_printf (_("Seconds a photo may follow its trace, 0 for no limit (%s)"), duration);
  else
    text = g_strdup (_("Seconds a photo may follow its trace, 0 for no limit"));

  gtk_label_set_text (self->max_gap_subtitle, text);
}

/* Rows */

static GtkWidget *
new_label (const char *text,
           const char *style_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  if (style_class != NULL)
    gtk_widget_add_css_class (label, style_class);
  return label;
}

/* A group: a bold heading, an optional explanation, and a framed list
 * of rows; returns the list. */
static GtkWidget *
add_group (GtkBox     *page,
           const char *heading,
           const char *description)
{
  GtkWidget *group = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *title = new_label (heading, "heading");
  GtkWidget *frame = gtk_frame_new (NULL);
  GtkWidget *list = gtk_list_box_new ();

  gtk_accessible_update_property (GTK_ACCESSIBLE (title), GTK_ACCESSIBLE_PROPERTY_LEVEL, 2, -1);
  gtk_box_append (GTK_BOX (group), title);
  if (description != NULL)
    {
      GtkWidget *explanation = new_label (description, "dim-label");

      gtk_widget_set_margin_bottom (explanation, 6);
      gtk_box_append (GTK_BOX (group), explanation);
    }
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_list_box_set_show_separators (GTK_LIST_BOX (list), TRUE);
  gtk_widget_add_css_class (list, "boxed-list");
  gtk_widget_add_css_class (list, "rich-list");
  gtk_frame_set_child (GTK_FRAME (frame), list);
  gtk_box_append (GTK_BOX (group), frame);
  gtk_box_append (page, group);
  return list;
}

/* A row: @title and @subtitle on the left, @end (a control, or a label)
 * at the end. Returns the column of texts, where notes go below the
 * subtitle; @subtitle_out, if not %NULL, receives the subtitle. */
static GtkBox *
add_row (GtkWidget   *list,
         const char  *title,
         const char  *subtitle,
         GtkWidget   *end,
         GtkLabel   **subtitle_out)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *texts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 3);
  GtkWidget *subtitle_label = new_label (subtitle, "dim-label");

  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  /* The keyboard goes straight to the controls. */
  gtk_widget_set_focusable (row, FALSE);
  gtk_widget_set_hexpand (texts, TRUE);
  gtk_widget_set_valign (texts, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (texts), new_label (title, NULL));
  gtk_widget_add_css_class (subtitle_label, "caption");
  gtk_box_append (GTK_BOX (texts), subtitle_label);
  gtk_box_append (GTK_BOX (box), texts);

  gtk_widget_set_valign (end, GTK_ALIGN_CENTER);
  gtk_widget_set_hexpand (end, FALSE);
  gtk_box_append (GTK_BOX (box), end);
  if (!GTK_IS_LABEL (end))
    gtk_accessible_update_property (GTK_ACCESSIBLE (end),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle,
                                    -1);

  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_append (GTK_LIST_BOX (list), row);
  if (subtitle_out != NULL)
    *subtitle_out = GTK_LABEL (subtitle_label);
  return GTK_BOX (texts);
}

/* A note below a row's subtitle, with an icon, named @name; with @text
 * %NULL it stays hidden until set_problem() has something to say. */
static GtkLabel *
add_note (GtkBox     *texts,
          const char *icon_name,
          const char *text,
          const char *name)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *icon = gtk_image_new_from_icon_name (icon_name);
  GtkWidget *label = new_label (text, "caption");

  gtk_widget_set_valign (icon, GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (box), icon);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_set_name (label, name);
  gtk_box_append (GTK_BOX (box), label);
  gtk_widget_set_margin_top (box, 3);
  gtk_widget_set_visible (box, text != NULL);
  gtk_box_append (texts, box);
  return GTK_LABEL (label);
}

/* A value above GSettings (the environment, .env) wins: the row says so,
 * since what the user types there is not used. @env_name's second name,
 * if any, counts when the first is not set. */
static void
add_override_note (MtPreferencesWindow *self,
                   GtkBox              *texts,
                   const char          *key,
                   const char          *env_name,
                   const char          *second_name)
{
  const char *origin = self->origins != NULL ? g_hash_table_lookup (self->origins, env_name) : NULL;
  g_autofree char *name = g_strconcat ("override-", key, NULL);
  g_autofree char *text = NULL;

  if (origin == NULL && second_name != NULL && self->origins != NULL)
    {
      origin = g_hash_table_lookup (self->origins, second_name);
      env_name = second_name;
    }
  if (origin == NULL || strcmp (origin, "GSettings") == 0)
    return;
  if (strcmp (origin, ".env") == 0)
    text = g_strdup_printf (_("Set in .env (%s): this value is not used"), env_name);
  else
    /* Translators: the first %s is where the value comes from, such as
     * “the environment”; the second the variable’s name. */
    text = g_strdup_printf (_("Set by %s (%s): this value is not used"), origin, env_name);
  add_note (texts, "dialog-warning-symbolic", text, name);
}

static GtkWidget *
new_entry (const char *key,
           const char *placeholder)
{
  GtkWidget *entry = gtk_entry_new ();

  gtk_widget_set_name (entry, key);
  gtk_editable_set_width_chars (GTK_EDITABLE (entry), 20);
  if (placeholder != NULL)
    gtk_entry_set_placeholder_text (GTK_ENTRY (entry), placeholder);
  return entry;
}

static GtkWidget *
new_spin (const char *key,
          double      min,
          double      max,
          double      step,
          double      page)
{
  GtkWidget *spin = gtk_spin_button_new_with_range (min, max, step);

  gtk_widget_set_name (spin, key);
  gtk_spin_button_set_increments (GTK_SPIN_BUTTON (spin), step, page);
  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), TRUE);
  gtk_editable_set_width_chars (GTK_EDITABLE (spin), 9);
  return spin;
}

/* Shows @problem under an entry, or hides it when %NULL. */
static void
set_problem (GtkEditable *entry,
             GtkLabel    *label,
             const char  *problem)
{
  if (problem != NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
      gtk_label_set_text (label, problem);
    }
  else
    gtk_widget_remove_css_class (GTK_WIDGET (entry), "error");
  gtk_widget_set_visible (gtk_widget_get_parent (GTK_WIDGET (label)), problem != NULL);
  gtk_accessible_update_state (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_STATE_INVALID,
                               problem != NULL ? GTK_ACCESSIBLE_INVALID_TRUE : GTK_ACCESSIBLE_INVALID_FALSE, -1);
}

/* Validation: only values mt_config_load() accepts are written */

/* Empty stands for the default; otherwise an offset or a zone's name. */
static gboolean
check_time_zone (const char  *text,
                 GError     **error)
{
  g_autoptr(GTimeZone) zone = NULL;

  if (text[0] == '\0')
    return TRUE;
  zone = mt_time_zone_new (text, error);
  return zone != NULL;
}

/* Empty stands for Langfuse Cloud; otherwise an http(s) address with a
 * host, and no keys or query in it. */
static gboolean
check_base_url (const char  *text,
                GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  if (text[0] == '\0')
    return TRUE;
  uri = g_uri_parse (text, G_URI_FLAGS_ENCODED, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri != NULL && scheme != NULL && (g_ascii_strcasecmp (scheme, "http") == 0 ||
                                        g_ascii_strcasecmp (scheme, "https") == 0) &&
      g_uri_get_host (uri) != NULL && g_uri_get_host (uri)[0] != '\0' &&
      g_uri_get_query (uri) == NULL && g_uri_get_userinfo (uri) == NULL)
    return TRUE;
  g_set_error_literal (error, G_URI_ERROR, G_URI_ERROR_FAILED,
                       _("Not a Langfuse address: enter one such as https://langfuse.example.org, "
                         "without keys in it, or leave it empty for Langfuse Cloud."));
  return FALSE;
}

/* The entry's text without surrounding space. */
static char *
stripped_text (const GValue *value)
{
  const char *text = g_value_get_string (value);

  return g_strstrip (g_strdup (text != NULL ? text : ""));
}

/* %NULL leaves the setting as it was. */
static GVariant *
time_zone_to_setting (const GValue       *value,
                      const GVariantType *expected_type,
                      gpointer            user_data)
{
  g_autofree char *text = stripped_text (value);

  return check_time_zone (text, NULL) ? g_variant_new_string (text) : NULL;
}

static GVariant *
base_url_to_setting (const GValue       *value,
                     const GVariantType *expected_type,
                     gpointer            user_data)
{
  g_autofree char *text = stripped_text (value);

  return check_base_url (text, NULL) ? g_variant_new_string (text) : NULL;
}

static gboolean
string_from_setting (GValue   *value,
                     GVariant *variant,
                     gpointer  user_data)
{
  g_value_set_string (value, g_variant_get_string (variant, NULL));
  return TRUE;
}

static void
time_zone_changed (MtPreferencesWindow *self,
                   GtkEditable         *entry)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (entry)));
  g_autoptr(GError) error = NULL;

  check_time_zone (text, &error);
  set_problem (entry, self->time_zone_problem, error != NULL ? error->message : NULL);
}

static void
base_url_changed (MtPreferencesWindow *self,
                  GtkEditable         *entry)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (entry)));
  g_autoptr(GError) error = NULL;

  check_base_url (text, &error);
  set_problem (entry, self->base_url_problem, error != NULL ? error->message : NULL);
}

static gboolean
api_from_setting (GValue   *value,
                  GVariant *variant,
                  gpointer  user_data)
{
  const char *api = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (api_values); i++)
    {
      if (strcmp (api, api_values[i]) == 0)
        {
          g_value_set_uint (value, i);
          return TRUE;
        }
    }
  return FALSE;
}

static GVariant *
api_to_setting (const GValue       *value,
                const GVariantType *expected_type,
                gpointer            user_data)
{
  guint selected = g_value_get_uint (value);

  return selected < G_N_ELEMENTS (api_values) ? g_variant_new_string (api_values[selected]) : NULL;
}

/* The groups */

static void
build_photos (MtPreferencesWindow *self,
              GtkBox              *page)
{
  GtkWidget *list = add_group (page, _("Photos (S3)"), NULL);
  GtkWidget *bucket = new_entry ("s3-bucket", _("Not set"));
  GtkWidget *prefix = new_entry ("s3-prefix", NULL);
  GtkWidget *in_flight = new_spin ("max-in-flight", 1, MAX_IN_FLIGHT_MAX, 1, 8);
  GtkWidget *lifetime = new_spin ("url-lifetime-seconds", 1, URL_LIFETIME_MAX, 60, 3600);
  GtkBox *texts;

  self->bucket_entry = GTK_ENTRY (bucket);
  texts = add_row (list, _("Bucket"), _("The S3 bucket that holds the meal photos"), bucket, NULL);
  add_override_note (self, texts, "s3-bucket", MT_CONFIG_BUCKET, NULL);
  g_settings_bind (self->settings, "s3-bucket", bucket, "text", G_SETTINGS_BIND_DEFAULT);

  texts = add_row (list, _("Prefix"), _("The folder of the bucket whose subfolders are users"), prefix, NULL);
  add_override_note (self, texts, "s3-prefix", MT_CONFIG_PREFIX, NULL);
  g_settings_bind (self->settings, "s3-prefix", prefix, "text", G_SETTINGS_BIND_DEFAULT);

  texts = add_row (list, _("Request Concurrency"), _("How many S3 requests run at once, from 1 to 64"),
                   in_flight, NULL);
  add_override_note (self, texts, "max-in-flight", MT_CONFIG_MAX_IN_FLIGHT, NULL);
  g_settings_bind (self->settings, "max-in-flight", in_flight, "value", G_SETTINGS_BIND_DEFAULT);

  texts = add_row (list, _("Photo URL Lifetime"), "", lifetime, &self->url_lifetime_subtitle);
  add_override_note (self, texts, "url-lifetime-seconds", MT_CONFIG_URL_LIFETIME, NULL);
  g_signal_connect_object (lifetime, "notify::value", G_CALLBACK (update_url_lifetime), self, G_CONNECT_SWAPPED);
  g_settings_bind (self->settings, "url-lifetime-seconds", lifetime, "value", G_SETTINGS_BIND_DEFAULT);
  update_url_lifetime (self, NULL, GTK_SPIN_BUTTON (lifetime));
}

static void
build_langfuse (MtPreferencesWindow *self,
                GtkBox              *page)
{
  const char * const api_labels[] = {
    /* Translators: the Langfuse API generation Mealtrace reads. */
    _("Automatic"), _("v2 (Langfuse Cloud)"), _("v1 (self-hosted)"), NULL,
  };
  GtkWidget *list = add_group (page, _("Langfuse"), NULL);
  GtkWidget *base_url = new_entry ("langfuse-base-url", _("Langfuse Cloud"));
  GtkWidget *api = gtk_drop_down_new (G_LIST_MODEL (gtk_string_list_new (api_labels)), NULL);
  GtkBox *texts;

  G_STATIC_ASSERT (G_N_ELEMENTS (api_labels) == G_N_ELEMENTS (api_values) + 1);

  gtk_editable_set_width_chars (GTK_EDITABLE (base_url), 24);
  texts = add_row (list, _("URL"), _("The address of a self-hosted Langfuse; empty for Langfuse Cloud"),
                   base_url, NULL);
  self->base_url_entry = GTK_EDITABLE (base_url);
  self->base_url_problem = add_note (texts, "dialog-error-symbolic", NULL, "problem-langfuse-base-url");
  add_override_note (self, texts, "langfuse-base-url", MT_CONFIG_LANGFUSE_BASE_URL, MT_CONFIG_LANGFUSE_HOST);
  g_signal_connect_object (base_url, "changed", G_CALLBACK (base_url_changed), self, G_CONNECT_SWAPPED);
  g_settings_bind_with_mapping (self->settings, "langfuse-base-url", base_url, "text", G_SETTINGS_BIND_DEFAULT,
                                string_from_setting, base_url_to_setting, NULL, NULL);

  gtk_widget_set_name (api, "langfuse-api");
  texts = add_row (list, _("API Generation"),
                   _("Automatic tries v2 and falls back to v1, which self-hosted Langfuse v2 and v3 serve"),
                   api, NULL);
  add_override_note (self, texts, "langfuse-api", MT_CONFIG_LANGFUSE_API, NULL);
  g_settings_bind_with_mapping (self->settings, "langfuse-api", api, "selected", G_SETTINGS_BIND_DEFAULT,
                                api_from_setting, api_to_setting, NULL, NULL);
}

static void
build_matching (MtPreferencesWindow *self,
                GtkBox              *page)
{
  GtkWidget *list = add_group (page, _("Matching"), NULL);
  GtkWidget *time_zone = new_entry ("time-zone", MT_TIME_ZONE_DEFAULT);
  GtkWidget *max_gap = new_spin ("max-gap-seconds", 0, MAX_GAP_MAX, 60, 3600);
  GtkBox *texts;

  texts = add_row (list, _("Time Zone"),
                   _("Times are shown and exported in it: an offset such as +07:00, or a name such as "
                     "Asia/Ho_Chi_Minh"),
                   time_zone, NULL);
  self->time_zone_entry = GTK_EDITABLE (time_zone);
  self->time_zone_problem = add_note (texts, "dialog-error-symbolic", NULL, "problem-time-zone");
  add_override_note (self, texts, "time-zone", MT_CONFIG_TIMEZONE, NULL);
  g_signal_connect_object (time_zone, "changed", G_CALLBACK (time_zone_changed), self, G_CONNECT_SWAPPED);
  g_settings_bind_with_mapping (self->settings, "time-zone", time_zone, "text", G_SETTINGS_BIND_DEFAULT,
                                string_from_setting, time_zone_to_setting, NULL, NULL);

  texts = add_row (list, _("Longest Gap"), "", max_gap, &self->max_gap_subtitle);
  add_override_note (self, texts, "max-gap-seconds", MT_CONFIG_MAX_GAP, NULL);
  g_signal_connect_object (max_gap, "notify::value", G_CALLBACK (update_max_gap), self, G_CONNECT_SWAPPED);
  g_settings_bind (self->settings, "max-gap-seconds", max_gap, "value", G_SETTINGS_BIND_DEFAULT);
  update_max_gap (self, NULL, GTK_SPIN_BUTTON (max_gap));
}

static void
build_credentials (MtPreferencesWindow *self,
                   GtkBox              *page)
{
  const struct {
    const char *name;
    const char *title;
  } credentials[] = {
    { MT_CONFIG_LANGFUSE_PUBLIC_KEY, N_("Langfuse Public Key") },
    { MT_CONFIG_LANGFUSE_SECRET_KEY, N_("Langfuse Secret Key") },
    { MT_CONFIG_AWS_ACCESS_KEY_ID, N_("AWS Access Key ID") },
    { MT_CONFIG_AWS_SECRET_ACCESS_KEY, N_("AWS Secret Access Key") },
    { MT_CONFIG_AWS_SESSION_TOKEN, N_("AWS Session Token") },
  };
  GtkWidget *list = add_group (page, _("Credentials"),
                               _("Keys and tokens are never stored in the preferences, and never shown here. "
                                 "Set them as environment variables, or as NAME=value lines in a .env file in "
                                 "the folder Mealtrace is started from. AWS keys may also come from a profile "
                                 "in ~/.aws/credentials (AWS_PROFILE chooses it)."));

  /* What kept the origins from being read, above the list. */
  if (self->origins_error != NULL)
    {
      GtkWidget *frame = gtk_widget_get_parent (list);
      GtkWidget *problem = new_label (self->origins_error->message, "error");

      gtk_widget_set_name (problem, "problem-credentials");
      gtk_widget_set_margin_bottom (problem, 6);
      gtk_box_insert_child_after (GTK_BOX (gtk_widget_get_parent (frame)), problem,
                                  gtk_widget_get_prev_sibling (frame));
    }

  for (guint i = 0; i < G_N_ELEMENTS (credentials); i++)
    {
      const char *origin = self->origins != NULL ? g_hash_table_lookup (self->origins, credentials[i].name) : NULL;
      g_autofree char *text = NULL;
      g_autofree char *name = g_strconcat ("origin-", credentials[i].name, NULL);
      GtkWidget *label;

      if (self->origins == NULL)
        text = g_strdup (_("Unknown"));
      else if (origin == NULL)
        text = g_strdup (_("Not set"));
      else
        /* Translators: %s is where a key comes from: “the environment”,
         * “.env” or “profile “default” in ~/.aws/credentials”. */
        text = g_strdup_printf (_("From %s"), origin);
      label = new_label (text, origin == NULL ? "dim-label" : NULL);
      gtk_widget_set_name (label, name);
      gtk_label_set_xalign (GTK_LABEL (label), 1.0);
      gtk_label_set_justify (GTK_LABEL (label), GTK_JUSTIFY_RIGHT);
      /* On one line when short; a profile's path wraps. */
      gtk_label_set_width_chars (GTK_LABEL (label), MIN ((int) g_utf8_strlen (text, -1), 24));
      gtk_label_set_max_width_chars (GTK_LABEL (label), 36);
      add_row (list, _(credentials[i].title), credentials[i].name, label, NULL);
    }
}

/* GObject */

static void
mt_preferences_window_constructed (GObject *object)
{
  MtPreferencesWindow *self = MT_PREFERENCES_WINDOW (object);
  MtConfigSources sources = { NULL, NULL, NULL, self->settings };
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *page = gtk_box_new (GTK_ORIENTATION_VERTICAL, 24);
  GtkWidget *intro;

  G_OBJECT_CLASS (mt_preferences_window_parent_class)->constructed (object);

  g_return_if_fail (self->settings != NULL);
  self->origins = mt_config_load_origins (&sources, &self->origins_error);

  gtk_widget_set_margin_top (page, 24);
  gtk_widget_set_margin_bottom (page, 24);
  gtk_widget_set_margin_start (page, 24);
  gtk_widget_set_margin_end (page, 24);
  intro = new_label (_("Changes are saved at once and used from the next refresh. The environment and a "
                       ".env file come before them."), "dim-label");
  gtk_box_append (GTK_BOX (page), intro);
  build_photos (self, GTK_BOX (page));
  build_langfuse (self, GTK_BOX (page));
  build_matching (self, GTK_BOX (page));
  build_credentials (self, GTK_BOX (page));

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), page);
  gtk_window_set_child (GTK_WINDOW (self), scrolled);

  /* The bindings set the entries before their handlers ran: check now. */
  time_zone_changed (self, self->time_zone_entry);
  base_url_changed (self, self->base_url_entry);
  /* The first control has the focus, without its text all selected as
   * if to be typed over. */
  gtk_entry_grab_focus_without_selecting (self->bucket_entry);
}

static void
mt_preferences_window_dispose (GObject *object)
{
  MtPreferencesWindow *self = MT_PREFERENCES_WINDOW (object);

  g_clear_object (&self->settings);
  G_OBJECT_CLASS (mt_preferences_window_parent_class)->dispose (object);
}

static void
mt_preferences_window_finalize (GObject *object)
{
  MtPreferencesWindow *self = MT_PREFERENCES_WINDOW (object);

  g_clear_pointer (&self->origins, g_hash_table_unref);
  g_clear_error (&self->origins_error);
  G_OBJECT_CLASS (mt_preferences_window_parent_class)->finalize (object);
}

static void
mt_preferences_window_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  MtPreferencesWindow *self = MT_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_preferences_window_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  MtPreferencesWindow *self = MT_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_set_object (&self->settings, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_preferences_window_class_init (MtPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = mt_preferences_window_constructed;
  object_class->dispose = mt_preferences_window_dispose;
  object_class->finalize = mt_preferences_window_finalize;
  object_class->get_property = mt_preferences_window_get_property;
  object_class->set_property = mt_preferences_window_set_property;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL,
                         G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
mt_preferences_window_init (MtPreferencesWindow *self)
{
  GtkWidget *header = gtk_header_bar_new ();

  gtk_window_set_title (GTK_WINDOW (self), _("Preferences"));
  gtk_window_set_modal (GTK_WINDOW (self), TRUE);
  gtk_window_set_destroy_with_parent (GTK_WINDOW (self), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (self), 640, 720);
  gtk_window_set_titlebar (GTK_WINDOW (self), header);
}
