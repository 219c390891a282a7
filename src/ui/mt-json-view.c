/* mt-json-view.c — a trace's input or output as a collapsible JSON tree */

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "mt-json-view.h"
#include "mt-json-writer.h"

/* Members built at a time: a trace's array of 10,000 items costs one page
 * of rows when opened, and nothing while closed. */
#define PAGE_SIZE 200
/* Opening an object or array (the whole value is open from the start) also
 * opens its members down to this many levels, those with at most this many
 * members of their own... */
#define OPEN_LEVELS 2
#define OPEN_MEMBERS 20
/* ...as long as that costs fewer widgets than this; a page opens all of its
 * small members or none, so that a page of 200 records stays closed. */
#define OPEN_BUDGET 1000
/* Widgets an open object or array costs, roughly: its expander and title,
 * and a key and a value for each of its @n members. */
#define OPEN_COST(n) (8 + 2 * (n))
/* Longer strings (base64 photos in data: URLs) show this many characters
 * until asked for the rest. */
#define LONG_STRING 2000
/* The width of an expander's arrow (Adwaita's): members sit this far to
 * the right of their parent's arrow, under its key, and keys of plain
 * values this far again, in line with the keys of their open siblings. */
#define INDENT 16

struct _MtJsonView
{
  GtkWidget parent_instance;

  JsonNode *node;
  GtkWidget *value;        /* the tree, or a single value's label */
  GtkWidget *copy_button;
};

G_DEFINE_FINAL_TYPE (MtJsonView, mt_json_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_NODE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* What an object's or array's expander shows, kept on the expander. */
typedef struct {
  JsonNode *node;
  guint shown;       /* members built so far */
  GtkWidget *grid;   /* the members; %NULL until first opened */
  GtkWidget *more;   /* "Show N more…", while some are not built */
} Branch;

static GQuark branch_quark;
static GQuark node_quark;
static GQuark style_quark;

/* Colours mixed with the text colour, so that they stay readable on the
 * light and the dark theme alike. */
static const char style_css[] =
  "jsonview .json-key { color: mix(#1c71d8, currentColor, 0.3); }\n"
  "jsonview .json-index { opacity: 0.6; }\n"
  "jsonview .json-string { color: mix(#26a269, currentColor, 0.3); }\n"
  "jsonview .json-number { color: mix(#c64600, currentColor, 0.3); }\n"
  "jsonview .json-literal { color: mix(#9141ac, currentColor, 0.3); }\n"
  "jsonview .json-none { font-style: italic; }\n"
  "jsonview button.json-more { padding: 0 8px; min-height: 24px; }\n";

static void
branch_free (gpointer data)
{
  Branch *branch = data;

  json_node_unref (branch->node);
  g_free (branch);
}

static gboolean
is_container (JsonNode *node)
{
  return node != NULL && (JSON_NODE_HOLDS_OBJECT (node) || JSON_NODE_HOLDS_ARRAY (node));
}

static guint
container_size (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    return json_object_get_size (json_node_get_object (node));
  return json_array_get_length (json_node_get_array (node));
}

static char *
container_summary (JsonNode *node)
{
  guint n = container_size (node);

  if (JSON_NODE_HOLDS_OBJECT (node))
    /* Translators: a closed JSON object; keep the braces. */
    return g_strdup_printf (ngettext ("{ %'u member }", "{ %'u members }", n), n);
  /* Translators: a closed JSON array; keep the brackets. */
  return g_strdup_printf (ngettext ("[ %'u item ]", "[ %'u items ]", n), n);
}

/* Labels */

static GtkWidget *
value_label_new (const char *text,
                 const char *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  /* Wraps at the width it is given; this only keeps its request modest. */
  gtk_label_set_max_width_chars (GTK_LABEL (label), 60);
  /* A long value's minimum width is measured laid out this wide, not one
   * character a line: for thousands of characters, seconds instead of
   * milliseconds. */
  if (strlen (text) > 200)
    gtk_label_set_width_chars (GTK_LABEL (label), 20);
  /* At the top of a row made taller by a wrapped key: with the label
   * filling it, not aligned in it, which would measure it at each
   * allocation (seconds, for a photo shown whole). */
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_yalign (GTK_LABEL (label), 0.0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (label, "monospace");
  gtk_widget_add_css_class (label, css_class);
  return label;
}

/* Names are shown bare, unless they would not read as one: empty, with
 * control characters, or with spaces at an end. */
static gboolean
key_needs_quotes (const char *key)
{
  gsize len = strlen (key);

  if (len == 0 || key[0] == ' ' || key[len - 1] == ' ')
    return TRUE;
  for (const char *p = key; *p != '\0'; p++)
    if ((guchar) *p < 0x20)
      return TRUE;
  return FALSE;
}

static char *
key_text (const char *key,
          gboolean    is_index)
{
  g_autoptr(GString) text = g_string_new (NULL);

  if (!is_index && key_needs_quotes (key))
    mt_json_append_string (text, key);
  else
    g_string_append (text, key);
  g_string_append_c (text, ':');
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static GtkWidget *
key_label_new (const char *text,
               gboolean    is_index)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 32);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_yalign (GTK_LABEL (label), 0.0);
  gtk_widget_add_css_class (label, "monospace");
  gtk_widget_add_css_class (label, is_index ? "json-index" : "json-key");
  return label;
}

/* Strings */

static char *
quoted (const char *text)
{
  g_autoptr(GString) out = g_string_new (NULL);

  mt_json_append_string (out, text);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A string node's text, made valid UTF-8 (in @valid) if it is not, so that
 * it can be cut by characters. */
static const char *
valid_string (JsonNode  *node,
              char     **valid)
{
  const char *text = json_node_get_string (node);

  if (text == NULL)
    return "";
  if (g_utf8_validate (text, -1, NULL))
    return text;
  *valid = g_utf8_make_valid (text, -1);
  return *valid;
}

/* The whole string replaces the cut one, in labels of at most this many
 * bytes: a label measures its text unwrapped first, and past about
 * 250,000 characters (a photo in a data: URL) that overflows Pango's units
 * and it shows nothing. */
#define CHUNK 4096

static void
on_show_all_clicked (GtkButton *button,
                     GtkBox    *cell)
{
  JsonNode *node = g_object_get_qdata (G_OBJECT (cell), node_quark);
  g_autofree char *valid = NULL;
  const char *text = valid_string (node, &valid);
  const char *end = text + strlen (text);

  while (gtk_widget_get_first_child (GTK_WIDGET (cell)) != NULL)
    gtk_box_remove (cell, gtk_widget_get_first_child (GTK_WIDGET (cell)));
  gtk_box_set_spacing (cell, 0);

  /* Each piece quoted by itself, so that no escape is cut in two; the
   * opening quote on the first, the closing one on the last. */
  for (const char *p = text; p < end;)
    {
      const char *cut = end;
      g_autoptr(GString) piece = g_string_new (NULL);
      g_autofree char *raw = NULL;
      GtkWidget *label;

      if ((gsize) (end - p) > CHUNK)
        {
          cut = g_utf8_find_prev_char (p, p + CHUNK + 1);
          if (cut == NULL || cut <= p)
            cut = p + CHUNK;
          /* After a space when there is one near the end: words stay whole. */
          for (const char *q = cut; q > p + CHUNK - CHUNK / 8; q--)
            if (q[-1] == ' ')
              {
                cut = q;
                break;
              }
        }
      raw = g_strndup (p, (gsize) (cut - p));
      mt_json_append_string (piece, raw);
      if (cut < end)
        g_string_truncate (piece, piece->len - 1);
      if (p > text)
        g_string_erase (piece, 0, 1);
      label = value_label_new (piece->str, "json-string");
      gtk_box_append (cell, label);
      p = cut;
    }
}

static GtkWidget *
string_value_new (JsonNode *node)
{
  g_autofree char *valid = NULL;
  const char *text = valid_string (node, &valid);
  gsize len;
  glong n_chars;
  const char *cut;
  g_autofree char *prefix = NULL;
  g_autofree char *start = NULL;
  g_autofree char *note_text = NULL;
  GtkWidget *cell, *label, *footer, *note, *button;

  len = strlen (text);
  n_chars = len <= LONG_STRING ? (glong) len : g_utf8_strlen (text, (gssize) len);
  if (n_chars <= LONG_STRING)
    {
      g_autofree char *whole = quoted (text);

      return value_label_new (whole, "json-string");
    }

  /* The opening quote and the first characters; the closing quote comes
   * with the rest. */
  cut = g_utf8_offset_to_pointer (text, LONG_STRING);
  prefix = g_strndup (text, (gsize) (cut - text));
  start = quoted (prefix);
  start[strlen (start) - 1] = '\0';

  cell = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_hexpand (cell, TRUE);
  g_object_set_qdata_full (G_OBJECT (cell), node_quark, json_node_ref (node), (GDestroyNotify) json_node_unref);
  label = value_label_new (start, "json-string");
  gtk_box_append (GTK_BOX (cell), label);

  footer = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  note_text = g_strdup_printf (ngettext ("… (%'lu more character)", "… (%'lu more characters)",
                                         (gulong) (n_chars - LONG_STRING)),
                               (gulong) (n_chars - LONG_STRING));
  note = gtk_label_new (note_text);
  gtk_widget_add_css_class (note, "dim-label");
  gtk_widget_add_css_class (note, "monospace");
  gtk_box_append (GTK_BOX (footer), note);
  button = gtk_button_new_with_label (_("Show all"));
  gtk_widget_add_css_class (button, "json-more");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_signal_connect_object (button, "clicked", G_CALLBACK (on_show_all_clicked), cell, 0);
  gtk_box_append (GTK_BOX (footer), button);
  gtk_box_append (GTK_BOX (cell), footer);
  return cell;
}

/* Values other than non-empty objects and arrays. */
static GtkWidget *
scalar_value_new (JsonNode *node)
{
  g_autoptr(GString) text = g_string_new (NULL);
  const char *css_class = "json-literal";

  if (JSON_NODE_HOLDS_OBJECT (node))
    g_string_append (text, "{}");
  else if (JSON_NODE_HOLDS_ARRAY (node))
    g_string_append (text, "[]");
  else if (JSON_NODE_HOLDS_NULL (node))
    g_string_append (text, "null");
  else
    switch (json_node_get_value_type (node))
      {
      case G_TYPE_STRING:
        return string_value_new (node);
      case G_TYPE_INT64:
        css_class = "json-number";
        g_string_append_printf (text, "%" G_GINT64_FORMAT, json_node_get_int (node));
        break;
      case G_TYPE_DOUBLE:
        css_class = "json-number";
        /* JSON has no NaN or infinities; written as the writer does. */
        if (isfinite (json_node_get_double (node)))
          mt_format_double (text, json_node_get_double (node));
        else
          g_string_append (text, "null");
        break;
      case G_TYPE_BOOLEAN:
        g_string_append (text, json_node_get_boolean (node) ? "true" : "false");
        break;
      default:
        g_string_append (text, "null");
        break;
      }
  return value_label_new (text->str, css_class);
}

/* Objects and arrays */

static GtkWidget *branch_new (const char *key,
                              gboolean    is_index,
                              JsonNode   *node,
                              gboolean    open,
                              guint       levels,
                              guint      *budget);

static void
add_row (GtkGrid    *grid,
         int         row,
         const char *key,
         gboolean    is_index,
         JsonNode   *value,
         guint       levels,
         guint      *budget)
{
  g_autofree char *text = key_text (key, is_index);
  GtkWidget *key_label;

  if (is_container (value) && container_size (value) > 0)
    {
      gboolean open = levels > 0 && container_size (value) <= OPEN_MEMBERS;

      gtk_grid_attach (grid, branch_new (text, is_index, value, open, open ? levels - 1 : 0, budget), 0, row, 2, 1);
      return;
    }
  key_label = key_label_new (text, is_index);
  gtk_widget_set_margin_start (key_label, INDENT);
  gtk_grid_attach (grid, key_label, 0, row, 1, 1);
  gtk_grid_attach (grid, scalar_value_new (value), 1, row, 1, 1);
}

static void branch_fill (GtkExpander *expander,
                         guint        levels,
                         guint       *budget);

static void
on_show_more_clicked (GtkButton   *button,
                      GtkExpander *expander)
{
  guint budget = OPEN_BUDGET;

  branch_fill (expander, OPEN_LEVELS, &budget);
}

/* Whether opening the small objects and arrays among @values fits in
 * @budget; if so, it is spent. */
static gboolean
spend_on_page (GPtrArray *values,
               guint     *budget)
{
  guint cost = 0;

  for (guint i = 0; i < values->len; i++)
    {
      JsonNode *value = g_ptr_array_index (values, i);
      guint n = is_container (value) ? container_size (value) : 0;

      if (n > 0 && n <= OPEN_MEMBERS)
        cost += OPEN_COST (n);
    }
  if (cost > *budget)
    return FALSE;
  *budget -= cost;
  return TRUE;
}

/* Builds the next page of members, and the button for the one after; the
 * small ones among them open down to @levels below. */
static void
branch_fill (GtkExpander *expander,
             guint        levels,
             guint       *budget)
{
  Branch *branch = g_object_get_qdata (G_OBJECT (expander), branch_quark);
  guint total = container_size (branch->node);
  guint end = MIN (total, branch->shown + PAGE_SIZE);
  g_autoptr(GPtrArray) names = g_ptr_array_sized_new (end - branch->shown);
  g_autoptr(GPtrArray) values = g_ptr_array_sized_new (end - branch->shown);
  GtkGrid *grid;

  if (branch->grid == NULL)
    {
      branch->grid = gtk_grid_new ();
      gtk_grid_set_column_spacing (GTK_GRID (branch->grid), 8);
      gtk_grid_set_row_spacing (GTK_GRID (branch->grid), 2);
      gtk_widget_set_margin_start (branch->grid, INDENT);
      gtk_widget_set_margin_top (branch->grid, 2);
      gtk_expander_set_child (expander, branch->grid);
    }
  grid = GTK_GRID (branch->grid);
  if (branch->more != NULL)
    {
      gtk_grid_remove (grid, branch->more);
      branch->more = NULL;
    }

  /* The page's members: names (bare pointers into the object) and values. */
  if (JSON_NODE_HOLDS_OBJECT (branch->node))
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;
      guint i = 0;

      json_object_iter_init_ordered (&iter, json_node_get_object (branch->node));
      while (i < end && json_object_iter_next_ordered (&iter, &name, &member))
        {
          if (i++ < branch->shown)
            continue;
          g_ptr_array_add (names, (gpointer) name);
          g_ptr_array_add (values, member);
        }
    }
  else
    {
      JsonArray *array = json_node_get_array (branch->node);

      for (guint i = branch->shown; i < end; i++)
        g_ptr_array_add (values, json_array_get_element (array, i));
    }

  if (levels > 0 && !spend_on_page (values, budget))
    levels = 0;
  for (guint k = 0; k < values->len; k++)
    {
      guint i = branch->shown + k;
      char index[16];

      if (k < names->len)
        add_row (grid, (int) i, g_ptr_array_index (names, k), FALSE, g_ptr_array_index (values, k), levels, budget);
      else
        {
          g_snprintf (index, sizeof index, "%u", i);
          add_row (grid, (int) i, index, TRUE, g_ptr_array_index (values, k), levels, budget);
        }
    }
  branch->shown = end;

  if (end < total)
    {
      guint next = MIN (PAGE_SIZE, total - end);
      g_autofree char *label = g_strdup_printf (ngettext ("Show %'u more…", "Show %'u more…", next), next);

      branch->more = gtk_button_new_with_label (label);
      gtk_widget_add_css_class (branch->more, "json-more");
      gtk_widget_set_halign (branch->more, GTK_ALIGN_START);
      gtk_widget_set_margin_start (branch->more, INDENT);
      gtk_widget_set_margin_top (branch->more, 4);
      g_signal_connect_object (branch->more, "clicked", G_CALLBACK (on_show_more_clicked), expander, 0);
      gtk_grid_attach (grid, branch->more, 0, (int) end, 2, 1);
    }
}

static void
on_expanded_changed (GtkExpander *expander,
                     GParamSpec  *pspec,
                     gpointer     data)
{
  Branch *branch = g_object_get_qdata (G_OBJECT (expander), branch_quark);
  guint budget = OPEN_BUDGET;

  if (gtk_expander_get_expanded (expander) && branch->grid == NULL)
    branch_fill (expander, OPEN_LEVELS, &budget);
}

/* An object's or array's expander, named by @key ("name:" or "3:") unless
 * it is the whole value; when @open, open with its members built, the small
 * ones open down to @levels below. */
static GtkWidget *
branch_new (const char *key,
            gboolean    is_index,
            JsonNode   *node,
            gboolean    open,
            guint       levels,
            guint      *budget)
{
  GtkWidget *expander = gtk_expander_new (NULL);
  GtkWidget *title = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  g_autofree char *summary = container_summary (node);
  g_autofree char *accessible = NULL;
  GtkWidget *summary_label;
  Branch *branch;

  if (key != NULL)
    gtk_box_append (GTK_BOX (title), key_label_new (key, is_index));
  summary_label = gtk_label_new (summary);
  gtk_label_set_xalign (GTK_LABEL (summary_label), 0.0);
  gtk_widget_set_valign (summary_label, GTK_ALIGN_START);
  gtk_widget_add_css_class (summary_label, "monospace");
  gtk_widget_add_css_class (summary_label, "dim-label");
  gtk_box_append (GTK_BOX (title), summary_label);
  gtk_expander_set_label_widget (GTK_EXPANDER (expander), title);

  accessible = key != NULL ? g_strdup_printf ("%s %s", key, summary) : g_strdup (summary);
  gtk_accessible_update_property (GTK_ACCESSIBLE (expander),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);

  branch = g_new0 (Branch, 1);
  branch->node = json_node_ref (node);
  g_object_set_qdata_full (G_OBJECT (expander), branch_quark, branch, branch_free);
  g_signal_connect (expander, "notify::expanded", G_CALLBACK (on_expanded_changed), NULL);

  if (open)
    {
      branch_fill (GTK_EXPANDER (expander), levels, budget);
      gtk_expander_set_expanded (GTK_EXPANDER (expander), TRUE);
    }
  return expander;
}

static GtkWidget *
root_new (JsonNode *node)
{
  guint budget = OPEN_BUDGET;
  GtkWidget *root;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      /* Translators: in place of a trace's input or output that has none. */
      root = gtk_label_new (_("None"));
      gtk_label_set_xalign (GTK_LABEL (root), 0.0);
      gtk_label_set_yalign (GTK_LABEL (root), 0.0);
      gtk_widget_add_css_class (root, "dim-label");
      gtk_widget_add_css_class (root, "json-none");
    }
  else if (is_container (node) && container_size (node) > 0)
    root = branch_new (NULL, FALSE, node, TRUE, OPEN_LEVELS, &budget);
  else
    root = scalar_value_new (node);
  gtk_widget_set_hexpand (root, TRUE);
  return root;
}

/* The view */

GtkWidget *
mt_json_view_new (void)
{
  return g_object_new (MT_TYPE_JSON_VIEW, NULL);
}

JsonNode *
mt_json_view_get_node (MtJsonView *self)
{
  g_return_val_if_fail (MT_IS_JSON_VIEW (self), NULL);
  return self->node;
}

void
mt_json_view_set_node (MtJsonView *self,
                       JsonNode   *node)
{
  g_return_if_fail (MT_IS_JSON_VIEW (self));

  if (node == self->node)
    return;
  if (node != NULL)
    json_node_ref (node);
  g_clear_pointer (&self->node, json_node_unref);
  self->node = node;

  g_clear_pointer (&self->value, gtk_widget_unparent);
  self->value = root_new (node);
  gtk_widget_insert_before (self->value, GTK_WIDGET (self), self->copy_button);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "json.copy", node != NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NODE]);
}

char *
mt_json_view_to_text (MtJsonView *self)
{
  g_autoptr(GString) out = NULL;
  g_autoptr(MtJsonWriter) writer = NULL;

  g_return_val_if_fail (MT_IS_JSON_VIEW (self), NULL);

  out = g_string_new (NULL);
  writer = mt_json_writer_new (out, TRUE);
  mt_json_writer_node (writer, self->node);
  g_clear_pointer (&writer, mt_json_writer_free);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
copy_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  g_autofree char *text = mt_json_view_to_text (MT_JSON_VIEW (widget));

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), text);
}

/* The colours, once for each display the view is shown on. */
static void
ensure_style (GdkDisplay *display)
{
  g_autoptr(GtkCssProvider) provider = NULL;

  if (display == NULL || g_object_get_qdata (G_OBJECT (display), style_quark) != NULL)
    return;
  provider = gtk_css_provider_new ();
  gtk_css_provider_load_from_data (provider, style_css, -1);
  gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_set_qdata_full (G_OBJECT (display), style_quark, g_steal_pointer (&provider), g_object_unref);
}

static void
mt_json_view_root (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (mt_json_view_parent_class)->root (widget);
  ensure_style (gtk_widget_get_display (widget));
}

static void
mt_json_view_dispose (GObject *object)
{
  MtJsonView *self = MT_JSON_VIEW (object);

  g_clear_pointer (&self->value, gtk_widget_unparent);
  g_clear_pointer (&self->copy_button, gtk_widget_unparent);

  G_OBJECT_CLASS (mt_json_view_parent_class)->dispose (object);
}

static void
mt_json_view_finalize (GObject *object)
{
  MtJsonView *self = MT_JSON_VIEW (object);

  g_clear_pointer (&self->node, json_node_unref);

  G_OBJECT_CLASS (mt_json_view_parent_class)->finalize (object);
}

static void
mt_json_view_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  MtJsonView *self = MT_JSON_VIEW (object);

  switch (prop_id)
    {
    case PROP_NODE:
      g_value_set_boxed (value, self->node);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_json_view_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  MtJsonView *self = MT_JSON_VIEW (object);

  switch (prop_id)
    {
    case PROP_NODE:
      mt_json_view_set_node (self, g_value_get_boxed (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_json_view_class_init (MtJsonViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mt_json_view_dispose;
  object_class->finalize = mt_json_view_finalize;
  object_class->get_property = mt_json_view_get_property;
  object_class->set_property = mt_json_view_set_property;
  widget_class->root = mt_json_view_root;

  properties[PROP_NODE] =
    g_param_spec_boxed ("node", NULL, NULL,
                        JSON_TYPE_NODE,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "json.copy", NULL, copy_action);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "jsonview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);

  branch_quark = g_quark_from_static_string ("mt-json-view-branch");
  node_quark = g_quark_from_static_string ("mt-json-view-node");
  style_quark = g_quark_from_static_string ("mt-json-view-style");
}

static void
mt_json_view_init (MtJsonView *self)
{
  GtkBoxLayout *layout = GTK_BOX_LAYOUT (gtk_widget_get_layout_manager (GTK_WIDGET (self)));

  gtk_box_layout_set_spacing (layout, 6);

  self->copy_button = gtk_button_new_from_icon_name ("edit-copy-symbolic");
  gtk_button_set_has_frame (GTK_BUTTON (self->copy_button), FALSE);
  gtk_widget_set_valign (self->copy_button, GTK_ALIGN_START);
  gtk_widget_set_tooltip_text (self->copy_button, _("Copy as JSON"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->copy_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Copy as JSON"),
                                  -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->copy_button), "json.copy");
  gtk_widget_set_parent (self->copy_button, GTK_WIDGET (self));

  self->value = root_new (NULL);
  gtk_widget_insert_before (self->value, GTK_WIDGET (self), self->copy_button);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "json.copy", FALSE);
}
