/* mt-user-detail.c — one user's pairs, left-over traces and lone photos */

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "mt-json-view.h"
#include "mt-photo-viewer.h"
#include "mt-time.h"
#include "mt-tooltip.h"
#include "mt-user-detail.h"

/* The longest side of a pair's preview and of a lone photo's thumbnail. */
#define PREVIEW_SIZE 280
/* The pairs' inputs and outputs opened at each idle turn. */
#define OPEN_AT_ONCE 2
#define THUMBNAIL_SIZE 128
/* Lone photos are small: more of them at once. */
#define THUMBNAIL_PAGE (3 * MT_USER_DETAIL_PAGE)

struct _MtUserDetail
{
  GtkWidget parent_instance;

  GtkStack *stack;        /* "empty" or "user" */
  GtkScrolledWindow *scrolled;

  MtPreviewCache *cache;
  MtConfig *config;
  MtS3Client *client;
  MtUserResult *user;
  /* Cancels the previews of the user shown. */
  GCancellable *cancellable;

  /* The shown user's widgets. */
  GtkBox *content;
  GPtrArray *previews;    /* the previews' stacks */
  GtkWidget *pairs_box, *pairs_more;
  GtkWidget *unused_box, *unused_more;
  GtkWidget *lone_box, *lone_more;
  guint n_pairs_shown, n_unused_shown, n_lone_shown;
  /* The pairs' inputs and outputs open a few at a time once the pane is
   * shown, so that it shows at once however many pairs it holds. */
  GPtrArray *to_open;     /* GtkExpander */
  guint open_source;
};

G_DEFINE_FINAL_TYPE (MtUserDetail, mt_user_detail, GTK_TYPE_WIDGET)

GtkWidget *
mt_user_detail_new (MtPreviewCache *cache)
{
  MtUserDetail *self = g_object_new (MT_TYPE_USER_DETAIL, NULL);

  self->cache = g_object_ref (cache);
  return GTK_WIDGET (self);
}

/* Formatting */

static char *
format_time (MtUserDetail *self,
             gint64        ms)
{
  if (ms == MT_TIME_NONE)
    return g_strdup ("—");
  return mt_time_format_display (ms, self->config != NULL ? self->config->time_zone : NULL);
}

/* "42 s", "3 min 12 s", "2 h 5 min", "1 d 3 h": a gap, to the second. */
static char *
format_gap (gint64 ms)
{
  gint64 s = ms / 1000;

  if (s < 60)
    return g_strdup_printf (_("%u s"), (guint) s);
  if (s < 3600)
    return g_strdup_printf (_("%u min %u s"), (guint) (s / 60), (guint) (s % 60));
  if (s < 86400)
    return g_strdup_printf (_("%u h %u min"), (guint) (s / 3600), (guint) (s % 3600 / 60));
  return g_strdup_printf (_("%u d %u h"), (guint) (s / 86400), (guint) (s % 86400 / 3600));
}

static char *
format_cost (double cost)
{
  if (isnan (cost))
    return g_strdup (_("Unknown"));
  return g_strdup_printf ("$%.6f", cost);
}

/* Messages */

static void
toast (GtkWidget  *widget,
       const char *text)
{
  gtk_widget_activate_action (widget, "win.toast", "s", text);
}

/* Previews */

static void
show_preview_error (GtkStack     *stack,
                    const GError *error)
{
  GtkWidget *broken = gtk_stack_get_child_by_name (stack, "broken");

  mt_widget_set_tooltip (broken, error->message);
  gtk_stack_set_visible_child_name (stack, "broken");
}

static void
on_preview_loaded (GObject      *source,
                   GAsyncResult *result,
                   gpointer      data)
{
  g_autoptr(GtkStack) stack = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = mt_preview_cache_load_finish (MT_PREVIEW_CACHE (source), result, &error);

  if (texture == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_preview_error (stack, error);
      return;
    }
  gtk_picture_set_paintable (GTK_PICTURE (gtk_stack_get_child_by_name (stack, "picture")), GDK_PAINTABLE (texture));
  gtk_stack_set_visible_child_name (stack, "picture");
}

static void
open_photo (GtkButton *button,
            MtImage   *image)
{
  MtUserDetail *self = MT_USER_DETAIL (gtk_widget_get_ancestor (GTK_WIDGET (button), MT_TYPE_USER_DETAIL));
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (button));
  GtkWidget *viewer;

  if (self == NULL)
    return;
  viewer = mt_photo_viewer_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, self->cache,
                                mt_image_get_key (image), mt_image_get_name (image));
  gtk_window_present (GTK_WINDOW (viewer));
}

/* A button showing @image's preview at @size: a spinner until it is read,
 * then the photo, or a broken-photo sign that says why. Clicking it opens
 * the photo large. */
static GtkWidget *
make_preview (MtUserDetail *self,
              MtImage      *image,
              int           size)
{
  GtkWidget *button = gtk_button_new ();
  GtkWidget *stack = gtk_stack_new ();
  GtkWidget *spinner = gtk_spinner_new ();
  GtkWidget *picture = gtk_picture_new ();
  GtkWidget *broken = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *icon = gtk_image_new_from_icon_name ("image-missing-symbolic");
  GtkWidget *label = gtk_label_new (_("The photo could not be read"));
  g_autoptr(GdkTexture) texture = mt_preview_cache_lookup (self->cache, mt_image_get_key (image), size);
  g_autofree char *description = g_strdup_printf (_("Open %s"), mt_image_get_name (image));

  gtk_widget_add_css_class (button, "flat");
  gtk_widget_add_css_class (button, "photo-preview");
  mt_widget_set_tooltip (button, description);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, description, -1);
  gtk_widget_set_size_request (stack, size, size * 3 / 4);
  gtk_widget_set_halign (button, GTK_ALIGN_START);
  gtk_widget_set_valign (button, GTK_ALIGN_START);

  gtk_spinner_set_spinning (GTK_SPINNER (spinner), TRUE);
  gtk_widget_set_halign (spinner, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (spinner, GTK_ALIGN_CENTER);
  gtk_widget_set_size_request (spinner, 24, 24);
  gtk_stack_add_named (GTK_STACK (stack), spinner, "loading");

  gtk_picture_set_content_fit (GTK_PICTURE (picture), GTK_CONTENT_FIT_CONTAIN);
  gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
  gtk_stack_add_named (GTK_STACK (stack), picture, "picture");

  gtk_image_set_pixel_size (GTK_IMAGE (icon), size >= PREVIEW_SIZE ? 48 : 24);
  gtk_widget_add_css_class (broken, "dim-label");
  gtk_widget_set_valign (broken, GTK_ALIGN_CENTER);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_justify (GTK_LABEL (label), GTK_JUSTIFY_CENTER);
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (broken), icon);
  gtk_box_append (GTK_BOX (broken), label);
  gtk_stack_add_named (GTK_STACK (stack), broken, "broken");

  gtk_button_set_child (GTK_BUTTON (button), stack);
  g_signal_connect_data (button, "clicked", G_CALLBACK (open_photo), g_object_ref (image),
                         (GClosureNotify) (void (*) (void)) g_object_unref, 0);
  g_ptr_array_add (self->previews, g_object_ref (stack));

  if (texture != NULL)
    {
      gtk_picture_set_paintable (GTK_PICTURE (picture), GDK_PAINTABLE (texture));
      gtk_stack_set_visible_child_name (GTK_STACK (stack), "picture");
    }
  else
    {
      gtk_stack_set_visible_child_name (GTK_STACK (stack), "loading");
      mt_preview_cache_load_async (self->cache, mt_image_get_key (image), size, self->cancellable,
                                   on_preview_loaded, g_object_ref (stack));
    }
  return button;
}

/* Trace fields */

static void
add_field (GtkGrid    *grid,
           int         row,
           const char *name,
           const char *value)
{
  GtkWidget *name_label = gtk_label_new (name);
  GtkWidget *value_label = gtk_label_new (value != NULL && *value != '\0' ? value : "—");

  gtk_widget_add_css_class (name_label, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (name_label), 0);
  gtk_label_set_yalign (GTK_LABEL (name_label), 0);
  gtk_label_set_xalign (GTK_LABEL (value_label), 0);
  gtk_label_set_selectable (GTK_LABEL (value_label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (value_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (value_label), PANGO_WRAP_WORD_CHAR);
  gtk_widget_set_hexpand (value_label, TRUE);
  gtk_grid_attach (grid, name_label, 0, row, 1, 1);
  gtk_grid_attach (grid, value_label, 1, row, 1, 1);
}

static void
on_json_expanded (GtkExpander *expander,
                  GParamSpec  *pspec,
                  MtTrace     *trace)
{
  gboolean output = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (expander), "mt-output"));
  JsonNode *node;
  GtkWidget *view;

  if (!gtk_expander_get_expanded (expander) || gtk_expander_get_child (expander) != NULL)
    return;
  /* The value is read (parsed, for a kept text) only now. */
  node = output ? mt_trace_get_output (trace) : mt_trace_get_input (trace);
  view = mt_json_view_new ();
  if (node != NULL)
    mt_json_view_set_node (MT_JSON_VIEW (view), node);
  else
    {
      g_autoptr(JsonNode) null = json_node_new (JSON_NODE_NULL);

      mt_json_view_set_node (MT_JSON_VIEW (view), null);
    }
  gtk_widget_set_margin_top (view, 6);
  gtk_expander_set_child (expander, view);
}

/* An expander over a trace's input or output; its view is made when first
 * opened. */
static GtkWidget *
make_json_section (const char *title,
                   MtTrace    *trace,
                   gboolean    output)
{
  GtkWidget *expander = gtk_expander_new (title);

  g_object_set_data (G_OBJECT (expander), "mt-output", GINT_TO_POINTER (output));
  g_signal_connect_data (expander, "notify::expanded", G_CALLBACK (on_json_expanded), g_object_ref (trace),
                         (GClosureNotify) (void (*) (void)) g_object_unref, 0);
  return expander;
}

static void
open_in_langfuse (GtkButton  *button,
                  const char *url)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (button));

  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, url, GDK_CURRENT_TIME);
}

/* The trace's side of a card: name, times, gap, model, prompt, costs,
 * the Langfuse link, input and output. @pair is %NULL for a trace alone. */
static GtkWidget *
make_trace_info (MtUserDetail *self,
                 MtTrace      *trace,
                 MtPair       *pair,
                 GtkWidget    *extra_button)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *title = gtk_label_new (mt_trace_get_name (trace) != NULL ? mt_trace_get_name (trace)
                                                                       : _("Unnamed trace"));
  GtkWidget *grid = gtk_grid_new ();
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *langfuse = gtk_button_new_with_mnemonic (_("_Open in Langfuse"));
  g_autofree char *trace_time = format_time (self, mt_trace_get_timestamp (trace));
  g_autofree char *cost = format_cost (mt_trace_get_cost (trace));
  g_autofree char *total_cost = format_cost (mt_trace_get_total_cost (trace));
  const char *url = mt_trace_get_html_url (trace);
  int row = 0;

  gtk_widget_set_hexpand (box, TRUE);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_wrap (GTK_LABEL (title), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (title), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (title), TRUE);
  gtk_widget_add_css_class (title, "heading");
  gtk_box_append (GTK_BOX (box), title);

  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 2);
  add_field (GTK_GRID (grid), row++, _("Trace"), trace_time);
  if (pair != NULL)
    {
      MtImage *image = mt_pair_get_image (pair);
      g_autofree char *image_time = format_time (self, mt_image_get_last_modified (image));
      g_autofree char *gap = format_gap (mt_pair_get_time_difference_ms (pair));

      add_field (GTK_GRID (grid), row++, _("Photo"), image_time);
      add_field (GTK_GRID (grid), row++, _("Gap"), gap);
    }
  add_field (GTK_GRID (grid), row++, _("Model"), mt_trace_get_model_name (trace));
  add_field (GTK_GRID (grid), row++, _("Prompt"), mt_trace_get_prompt (trace));
  add_field (GTK_GRID (grid), row++, _("Cost"), cost);
  add_field (GTK_GRID (grid), row++, _("Total cost"), total_cost);
  add_field (GTK_GRID (grid), row++, _("Trace ID"), mt_trace_get_id (trace));
  gtk_box_append (GTK_BOX (box), grid);

  if (url != NULL && *url != '\0')
    g_signal_connect_data (langfuse, "clicked", G_CALLBACK (open_in_langfuse), g_strdup (url),
                           (GClosureNotify) (void (*) (void)) g_free, 0);
  else
    {
      gtk_widget_set_sensitive (langfuse, FALSE);
      mt_widget_set_tooltip (langfuse, _("Langfuse gave no address for this trace"));
    }
  gtk_box_append (GTK_BOX (buttons), langfuse);
  if (extra_button != NULL)
    gtk_box_append (GTK_BOX (buttons), extra_button);
  gtk_box_append (GTK_BOX (box), buttons);
  return box;
}

/* The trace's input and output, the card's width. */
static void
add_trace_values (MtUserDetail *self,
                  GtkWidget    *card,
                  MtTrace      *trace,
                  gboolean      expanded)
{
  GtkWidget *input = make_json_section (_("Input"), trace, FALSE);
  GtkWidget *output = make_json_section (_("Output"), trace, TRUE);

  gtk_box_append (GTK_BOX (card), input);
  gtk_box_append (GTK_BOX (card), output);
  if (expanded)
    {
      g_ptr_array_add (self->to_open, g_object_ref (input));
      g_ptr_array_add (self->to_open, g_object_ref (output));
    }
}

/* Opens the next few expanders waiting, in the order of the pane. */
static gboolean
open_some (gpointer data)
{
  MtUserDetail *self = data;
  guint n = MIN (self->to_open->len, OPEN_AT_ONCE);

  for (guint i = 0; i < n; i++)
    gtk_expander_set_expanded (g_ptr_array_index (self->to_open, i), TRUE);
  g_ptr_array_remove_range (self->to_open, 0, n);
  if (self->to_open->len > 0)
    return G_SOURCE_CONTINUE;
  self->open_source = 0;
  return G_SOURCE_REMOVE;
}

static void
open_later (MtUserDetail *self)
{
  if (self->open_source == 0 && self->to_open->len > 0)
    self->open_source = g_idle_add_full (G_PRIORITY_LOW, open_some, self, NULL);
}

/* Cards */

static gboolean
copy_url_of (MtUserDetail *self,
             GtkWidget    *widget,
             MtImage      *image)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  if (self->client == NULL || self->config == NULL)
    {
      toast (widget, _("The photo’s address cannot be made: refresh first"));
      return FALSE;
    }
  url = mt_s3_client_presign_get (self->client, mt_image_get_key (image), self->config->url_lifetime, 0, &error);
  if (url == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The photo’s address could not be made: %s"), error->message);

      toast (widget, text);
      return FALSE;
    }
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), url);
  {
    g_autofree char *lifetime = format_gap ((gint64) self->config->url_lifetime * 1000);
    g_autofree char *text = g_strdup_printf (_("Image URL copied; it works for %s"), lifetime);

    toast (widget, text);
  }
  return TRUE;
}

static void
on_copy_url (GtkButton *button,
             MtImage   *image)
{
  MtUserDetail *self = MT_USER_DETAIL (gtk_widget_get_ancestor (GTK_WIDGET (button), MT_TYPE_USER_DETAIL));

  if (self != NULL)
    copy_url_of (self, GTK_WIDGET (button), image);
}

static GtkWidget *
make_card (void)
{
  GtkWidget *card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);

  gtk_widget_add_css_class (card, "card");
  gtk_widget_add_css_class (card, "detail-card");
  return card;
}

static GtkWidget *
make_pair_card (MtUserDetail *self,
                MtPair       *pair)
{
  MtImage *image = mt_pair_get_image (pair);
  GtkWidget *card = make_card ();
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *photo = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *name = gtk_label_new (mt_image_get_name (image));
  GtkWidget *copy = gtk_button_new_with_mnemonic (_("_Copy Image URL"));

  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_max_width_chars (GTK_LABEL (name), 32);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  mt_widget_set_tooltip (name, mt_image_get_key (image));
  gtk_widget_add_css_class (name, "caption");
  gtk_box_append (GTK_BOX (photo), make_preview (self, image, PREVIEW_SIZE));
  gtk_box_append (GTK_BOX (photo), name);

  mt_widget_set_tooltip (copy, _("Copy an address anyone can open the photo with, for a while"));
  g_signal_connect_data (copy, "clicked", G_CALLBACK (on_copy_url), g_object_ref (image),
                         (GClosureNotify) (void (*) (void)) g_object_unref, 0);
  gtk_box_append (GTK_BOX (top), photo);
  gtk_box_append (GTK_BOX (top), make_trace_info (self, mt_pair_get_trace (pair), pair, copy));
  gtk_box_append (GTK_BOX (card), top);
  add_trace_values (self, card, mt_pair_get_trace (pair), TRUE);
  return card;
}

static GtkWidget *
make_lone_photo (MtUserDetail *self,
                 MtImage      *image)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  g_autofree char *time = format_time (self, mt_image_get_last_modified (image));
  GtkWidget *label = gtk_label_new (time);

  gtk_widget_add_css_class (label, "caption");
  gtk_widget_add_css_class (label, "numeric");
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  mt_widget_set_tooltip (label, mt_image_get_key (image));
  gtk_box_append (GTK_BOX (box), make_preview (self, image, THUMBNAIL_SIZE));
  gtk_box_append (GTK_BOX (box), label);
  return box;
}

/* Sections: a heading, the first page of items, and "Show more". */

typedef enum {
  SECTION_PAIRS,
  SECTION_UNUSED,
  SECTION_LONE,
} Section;

static void show_more (MtUserDetail *self, Section section);

static void
on_show_more (GtkButton *button,
              gpointer   data)
{
  MtUserDetail *self = MT_USER_DETAIL (gtk_widget_get_ancestor (GTK_WIDGET (button), MT_TYPE_USER_DETAIL));

  if (self != NULL)
    {
      show_more (self, GPOINTER_TO_INT (data));
      open_later (self);
    }
}

static void
show_more (MtUserDetail *self,
           Section       section)
{
  GPtrArray *items;
  GtkWidget *box, *more;
  guint *shown, page, end;

  switch (section)
    {
    case SECTION_PAIRS:
      items = mt_user_result_get_pairs (self->user);
      box = self->pairs_box, more = self->pairs_more, shown = &self->n_pairs_shown;
      page = MT_USER_DETAIL_PAGE;
      break;
    case SECTION_UNUSED:
      items = mt_user_result_get_unused_traces (self->user);
      box = self->unused_box, more = self->unused_more, shown = &self->n_unused_shown;
      page = MT_USER_DETAIL_PAGE;
      break;
    case SECTION_LONE:
    default:
      items = mt_user_result_get_unmatched_images (self->user);
      box = self->lone_box, more = self->lone_more, shown = &self->n_lone_shown;
      page = THUMBNAIL_PAGE;
      break;
    }

  end = MIN (items->len, *shown + page);
  for (guint i = *shown; i < end; i++)
    {
      gpointer item = g_ptr_array_index (items, i);

      if (section == SECTION_PAIRS)
        gtk_box_append (GTK_BOX (box), make_pair_card (self, item));
      else if (section == SECTION_UNUSED)
        {
          GtkWidget *card = make_card ();

          gtk_box_append (GTK_BOX (card), make_trace_info (self, item, NULL, NULL));
          add_trace_values (self, card, item, FALSE);
          gtk_box_append (GTK_BOX (box), card);
        }
      else
        gtk_flow_box_append (GTK_FLOW_BOX (box), make_lone_photo (self, item));
    }
  *shown = end;

  if (end < items->len)
    {
      guint next = MIN (page, items->len - end);
      g_autofree char *label = g_strdup_printf (ngettext ("Show %u More of %u", "Show %u More of %u", next), next,
                                                items->len - end);

      gtk_button_set_label (GTK_BUTTON (more), label);
      gtk_widget_set_visible (more, TRUE);
    }
  else
    gtk_widget_set_visible (more, FALSE);
}

static void
add_section (MtUserDetail *self,
             Section       section,
             const char   *title,
             guint         count,
             const char   *empty_text,
             GtkWidget   **box_out,
             GtkWidget   **more_out)
{
  g_autofree char *heading_text = g_strdup_printf ("%s (%u)", title, count);
  GtkWidget *heading = gtk_label_new (heading_text);
  GtkWidget *box, *more;

  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_widget_add_css_class (heading, "title-4");
  gtk_widget_set_margin_top (heading, 12);
  gtk_box_append (self->content, heading);

  if (section == SECTION_LONE)
    {
      box = gtk_flow_box_new ();
      gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (box), GTK_SELECTION_NONE);
      gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (box), TRUE);
      gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (box), 12);
      gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (box), 6);
      gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (box), 6);
    }
  else
    box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_box_append (self->content, box);

  if (count == 0)
    {
      GtkWidget *empty = gtk_label_new (empty_text);

      gtk_label_set_xalign (GTK_LABEL (empty), 0);
      gtk_label_set_wrap (GTK_LABEL (empty), TRUE);
      gtk_widget_add_css_class (empty, "dim-label");
      gtk_box_append (self->content, empty);
    }

  more = gtk_button_new ();
  gtk_widget_set_halign (more, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (more, "pill");
  gtk_widget_set_visible (more, FALSE);
  g_signal_connect (more, "clicked", G_CALLBACK (on_show_more), GINT_TO_POINTER (section));
  gtk_box_append (self->content, more);

  *box_out = box;
  *more_out = more;
}

static const char *
status_sentence (MtUserStatus status)
{
  switch (status)
    {
    case MT_USER_STATUS_MATCHED:
      return _("Photos paired with the traces before them.");
    case MT_USER_STATUS_NO_IMAGES:
      return _("Traces, but no photo in this period.");
    case MT_USER_STATUS_NO_PAIRS:
      return _("Photos, but none came after a trace.");
    case MT_USER_STATUS_INCOMPLETE:
      return _("This user’s data could not all be read: pairs may be missing. Refresh to try again.");
    default:
      return "";
    }
}

static void
build_user (MtUserDetail *self)
{
  MtUserResult *user = self->user;
  GtkWidget *title = gtk_label_new (mt_user_result_get_user_id (user));
  GtkWidget *subtitle = gtk_label_new (status_sentence (mt_user_result_get_status (user)));

  self->content = GTK_BOX (gtk_box_new (GTK_ORIENTATION_VERTICAL, 6));
  gtk_widget_add_css_class (GTK_WIDGET (self->content), "detail-content");

  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_selectable (GTK_LABEL (title), TRUE);
  gtk_label_set_wrap (GTK_LABEL (title), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (title), PANGO_WRAP_WORD_CHAR);
  gtk_widget_add_css_class (title, "title-2");
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_label_set_wrap (GTK_LABEL (subtitle), TRUE);
  gtk_widget_add_css_class (subtitle, mt_user_result_get_status (user) == MT_USER_STATUS_INCOMPLETE
                                      ? "warning" : "dim-label");
  gtk_box_append (self->content, title);
  gtk_box_append (self->content, subtitle);

  add_section (self, SECTION_PAIRS, _("Pairs"), mt_user_result_get_n_pairs (user),
               _("No photo of this user came after one of their traces."), &self->pairs_box, &self->pairs_more);
  add_section (self, SECTION_UNUSED, _("Traces without a photo"), mt_user_result_get_unused_traces (user)->len,
               _("Every trace has its photo."), &self->unused_box, &self->unused_more);
  add_section (self, SECTION_LONE, _("Photos without a trace"), mt_user_result_get_unmatched_images (user)->len,
               _("Every photo has its trace."), &self->lone_box, &self->lone_more);
  show_more (self, SECTION_PAIRS);
  show_more (self, SECTION_UNUSED);
  show_more (self, SECTION_LONE);

  gtk_scrolled_window_set_child (self->scrolled, GTK_WIDGET (self->content));
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->scrolled), 0);
  open_later (self);
}

static void
clear_user (MtUserDetail *self)
{
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_ptr_array_set_size (self->previews, 0);
  g_clear_handle_id (&self->open_source, g_source_remove);
  g_ptr_array_set_size (self->to_open, 0);
  gtk_scrolled_window_set_child (self->scrolled, NULL);
  self->content = NULL;
  self->pairs_box = self->pairs_more = self->unused_box = self->unused_more = NULL;
  self->lone_box = self->lone_more = NULL;
  self->n_pairs_shown = self->n_unused_shown = self->n_lone_shown = 0;
}

void
mt_user_detail_set_user (MtUserDetail *self,
                         MtUserResult *user)
{
  g_return_if_fail (MT_IS_USER_DETAIL (self));
  g_return_if_fail (user == NULL || MT_IS_USER_RESULT (user));

  if (user == self->user)
    return;
  clear_user (self);
  g_set_object (&self->user, user);
  if (user == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  self->cancellable = g_cancellable_new ();
  build_user (self);
  gtk_stack_set_visible_child_name (self->stack, "user");
}

MtUserResult *
mt_user_detail_get_user (MtUserDetail *self)
{
  g_return_val_if_fail (MT_IS_USER_DETAIL (self), NULL);
  return self->user;
}

void
mt_user_detail_set_run (MtUserDetail *self,
                        MtConfig     *config,
                        MtS3Client   *client)
{
  g_return_if_fail (MT_IS_USER_DETAIL (self));

  mt_user_detail_set_user (self, NULL);
  if (config != NULL)
    mt_config_ref (config);
  g_clear_pointer (&self->config, mt_config_unref);
  self->config = config;
  g_set_object (&self->client, client);
  mt_preview_cache_set_client (self->cache, client);
}

guint
mt_user_detail_get_n_pair_cards (MtUserDetail *self)
{
  g_return_val_if_fail (MT_IS_USER_DETAIL (self), 0);
  return self->n_pairs_shown;
}

static guint
count_previews (MtUserDetail *self,
                const char   *state)
{
  guint n = 0;

  for (guint i = 0; i < self->previews->len; i++)
    n += g_strcmp0 (gtk_stack_get_visible_child_name (g_ptr_array_index (self->previews, i)), state) == 0;
  return n;
}

guint
mt_user_detail_get_n_previews_loaded (MtUserDetail *self)
{
  g_return_val_if_fail (MT_IS_USER_DETAIL (self), 0);
  return count_previews (self, "picture");
}

guint
mt_user_detail_get_n_previews_broken (MtUserDetail *self)
{
  g_return_val_if_fail (MT_IS_USER_DETAIL (self), 0);
  return count_previews (self, "broken");
}

gboolean
mt_user_detail_copy_image_url (MtUserDetail *self,
                               guint         index)
{
  GPtrArray *pairs;

  g_return_val_if_fail (MT_IS_USER_DETAIL (self), FALSE);
  g_return_val_if_fail (self->user != NULL, FALSE);

  pairs = mt_user_result_get_pairs (self->user);
  g_return_val_if_fail (index < pairs->len, FALSE);
  return copy_url_of (self, GTK_WIDGET (self), mt_pair_get_image (g_ptr_array_index (pairs, index)));
}

/* The widget */

static void
mt_user_detail_dispose (GObject *object)
{
  MtUserDetail *self = MT_USER_DETAIL (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->previews != NULL)
    g_ptr_array_set_size (self->previews, 0);
  g_clear_handle_id (&self->open_source, g_source_remove);
  if (self->to_open != NULL)
    g_ptr_array_set_size (self->to_open, 0);
  if (self->stack != NULL)
    {
      gtk_widget_unparent (GTK_WIDGET (self->stack));
      self->stack = NULL;
    }

  G_OBJECT_CLASS (mt_user_detail_parent_class)->dispose (object);
}

static void
mt_user_detail_finalize (GObject *object)
{
  MtUserDetail *self = MT_USER_DETAIL (object);

  g_clear_pointer (&self->previews, g_ptr_array_unref);
  g_clear_pointer (&self->to_open, g_ptr_array_unref);
  g_clear_object (&self->user);
  g_clear_object (&self->client);
  g_clear_object (&self->cache);
  g_clear_pointer (&self->config, mt_config_unref);

  G_OBJECT_CLASS (mt_user_detail_parent_class)->finalize (object);
}

static void
mt_user_detail_class_init (MtUserDetailClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mt_user_detail_dispose;
  object_class->finalize = mt_user_detail_finalize;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "userdetail");
}

static void
mt_user_detail_init (MtUserDetail *self)
{
  GtkWidget *placeholder = gtk_label_new (_("Select a user to see their photos beside their traces."));

  self->previews = g_ptr_array_new_with_free_func (g_object_unref);
  self->to_open = g_ptr_array_new_with_free_func (g_object_unref);
  self->stack = GTK_STACK (gtk_stack_new ());
  gtk_widget_set_parent (GTK_WIDGET (self->stack), GTK_WIDGET (self));

  gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
  gtk_label_set_justify (GTK_LABEL (placeholder), GTK_JUSTIFY_CENTER);
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_start (placeholder, 24);
  gtk_widget_set_margin_end (placeholder, 24);
  gtk_stack_add_named (self->stack, placeholder, "empty");

  self->scrolled = GTK_SCROLLED_WINDOW (gtk_scrolled_window_new ());
  gtk_scrolled_window_set_policy (self->scrolled, GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->scrolled), "user");
  gtk_stack_set_visible_child_name (self->stack, "empty");
}
