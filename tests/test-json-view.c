/* test-json-view.c — the JSON viewer in a real display (Xvfb): the copied
 * text, the tree it shows and what starts open, the cost of a 10,000-item
 * array, long strings cut and shown whole, plain and missing values, a new
 * value replacing the old one; saves json-view.png, json-view-dark.png and
 * a few more (json-view-*.png) in the build folder to be looked at. */

#include "config.h"

#include <gtk/gtk.h>
#include <string.h>

#include "mt-json-view.h"
#include "mt-test-ui.h"

typedef struct {
  GtkWindow *window;
  MtJsonView *view;
} Fixture;

/* What a trace's input looks like: a chat with a photo of the meal. */
static const char chat_json[] =
  "{\"model\":\"gpt-4o\",\"messages\":["
  "{\"role\":\"user\",\"content\":["
  "{\"type\":\"text\",\"text\":\"Rate this meal\"},"
  "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/jpeg;base64,AAAA\"}}]}],"
  "\"temperature\":0.2,\"stream\":false,\"stop\":null,\"empty\":{},\"list\":[]}";

/* The same, as the Copy button writes it. */
static const char chat_pretty[] =
  "{\n"
  "  \"model\": \"gpt-4o\",\n"
  "  \"messages\": [\n"
  "    {\n"
  "      \"role\": \"user\",\n"
  "      \"content\": [\n"
  "        {\n"
  "          \"type\": \"text\",\n"
  "          \"text\": \"Rate this meal\"\n"
  "        },\n"
  "        {\n"
  "          \"type\": \"image_url\",\n"
  "          \"image_url\": {\n"
  "            \"url\": \"data:image/jpeg;base64,AAAA\"\n"
  "          }\n"
  "        }\n"
  "      ]\n"
  "    }\n"
  "  ],\n"
  "  \"temperature\": 0.2,\n"
  "  \"stream\": false,\n"
  "  \"stop\": null,\n"
  "  \"empty\": {},\n"
  "  \"list\": []\n"
  "}";

static JsonNode *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

/* Runs the main loop for @ms milliseconds. */
static void
iterate_for (guint ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < until)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  f->window = GTK_WINDOW (g_object_ref_sink (gtk_window_new ()));
  gtk_window_set_title (f->window, "JSON");
  gtk_window_set_default_size (f->window, 720, 820);
  f->view = MT_JSON_VIEW (mt_json_view_new ());
  gtk_widget_set_margin_start (GTK_WIDGET (f->view), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (f->view), 12);
  gtk_widget_set_margin_top (GTK_WIDGET (f->view), 12);
  gtk_widget_set_margin_bottom (GTK_WIDGET (f->view), 12);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (f->view));
  gtk_window_set_child (f->window, scrolled);
  gtk_window_present (f->window);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  gtk_window_destroy (f->window);
  g_clear_object (&f->window);
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
}

/* Walking the view's widgets */

static guint
count_widgets (GtkWidget *widget)
{
  guint n = 1;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL; child = gtk_widget_get_next_sibling (child))
    n += count_widgets (child);
  return n;
}

typedef gboolean (*Match) (GtkWidget *widget, gconstpointer data);

static GtkWidget *
find (GtkWidget *widget, Match match, gconstpointer data)
{
  if (match (widget, data))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find (child, match, data);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_label (GtkWidget *widget, gconstpointer text)
{
  return GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0;
}

static gboolean
is_label_starting (GtkWidget *widget, gconstpointer prefix)
{
  return GTK_IS_LABEL (widget) && g_str_has_prefix (gtk_label_get_text (GTK_LABEL (widget)), prefix);
}

static gboolean
is_button (GtkWidget *widget, gconstpointer text)
{
  return GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), text) == 0;
}

static GtkLabel *
find_label (Fixture *f, const char *text)
{
  return (GtkLabel *) find (GTK_WIDGET (f->view), is_label, text);
}

/* A label in an expander's title. */
static gboolean
is_title_label (GtkWidget *widget, gconstpointer text)
{
  GtkWidget *title = gtk_widget_get_parent (widget);
  GtkWidget *expander;

  if (!is_label (widget, text) || title == NULL)
    return FALSE;
  expander = gtk_widget_get_ancestor (title, GTK_TYPE_EXPANDER);
  return expander != NULL && gtk_expander_get_label_widget (GTK_EXPANDER (expander)) == title;
}

/* The expander whose title holds the label @text. */
static GtkExpander *
find_expander (Fixture *f, const char *text)
{
  GtkWidget *label = find (GTK_WIDGET (f->view), is_title_label, text);

  if (label == NULL)
    g_error ("no expander titled “%s”", text);
  return GTK_EXPANDER (gtk_widget_get_ancestor (label, GTK_TYPE_EXPANDER));
}

static void
click (GtkWidget *button)
{
  g_assert_nonnull (button);
  g_signal_emit_by_name (button, "clicked");
}

static void
assert_value_label (Fixture *f, const char *text, const char *css_class)
{
  GtkLabel *label = find_label (f, text);

  if (label == NULL)
    g_error ("no label “%s”", text);
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (label), css_class));
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (label), "monospace"));
  g_assert_true (gtk_label_get_selectable (label));
  g_assert_true (gtk_label_get_wrap (label));
  g_assert_cmpint (gtk_label_get_wrap_mode (label), ==, PANGO_WRAP_WORD_CHAR);
}

/* Screenshots */

/* Lets a new window lay itself out and draw. */
static void
settle (Fixture *f)
{
  for (int i = 0; i < 5000 && gtk_widget_get_width (GTK_WIDGET (f->window)) == 0; i++)
    iterate_for (1);
  iterate_for (300);
}

static void
save_screenshot (Fixture *f, const char *name)
{
  GtkWidget *widget = GTK_WIDGET (f->window);

  settle (f);
  mt_test_save_png (widget, GTK_NATIVE (widget), gtk_widget_get_width (widget), gtk_widget_get_height (widget), name);
}

/* Tests */

/* A photo in a data: URL. Under AddressSanitizer, whose full stacks make
 * each of Pango's allocations slow, laying out 300 KB takes minutes; the
 * same paths are taken with less. */
#if defined(__SANITIZE_ADDRESS__)
#define LONG_STRING_SIZE (48 * 1024)
#else
#define LONG_STRING_SIZE (300 * 1024)
#endif

static void
test_to_text (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) node = parse (chat_json);
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) again = NULL;

  mt_json_view_set_node (f->view, node);
  g_assert_true (mt_json_view_get_node (f->view) == node);
  text = mt_json_view_to_text (f->view);
  g_assert_cmpstr (text, ==, chat_pretty);
  /* And it is the same value. */
  again = parse (text);
  g_assert_true (json_node_equal (again, node));
}

static void
test_tree (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) node = parse (chat_json);
  GtkExpander *content;

  mt_json_view_set_node (f->view, node);

  /* Open from the top, down to depth 2. */
  g_assert_true (gtk_expander_get_expanded (find_expander (f, "{ 7 members }")));
  /* Reached by the keyboard. */
  g_assert_true (gtk_widget_get_focusable (GTK_WIDGET (find_expander (f, "messages:"))));
  g_assert_true (gtk_expander_get_expanded (find_expander (f, "messages:")));
  g_assert_true (gtk_expander_get_expanded (find_expander (f, "0:")));
  g_assert_nonnull (find_label (f, "role:"));

  /* Each value by its kind, selectable, wrapped, monospace. */
  assert_value_label (f, "\"gpt-4o\"", "json-string");
  assert_value_label (f, "\"user\"", "json-string");
  assert_value_label (f, "0.2", "json-number");
  assert_value_label (f, "false", "json-literal");
  assert_value_label (f, "null", "json-literal");
  assert_value_label (f, "{}", "json-literal");
  assert_value_label (f, "[]", "json-literal");
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (find_label (f, "model:")), "json-key"));
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (find_label (f, "0:")), "json-index"));

  /* Depth 3 starts closed, its members not yet built. */
  content = find_expander (f, "content:");
  g_assert_false (gtk_expander_get_expanded (content));
  g_assert_nonnull (find_label (f, "[ 2 items ]"));
  g_assert_null (find_label (f, "\"Rate this meal\""));
  g_assert_null (find_label (f, "type:"));

  /* Opened, it opens its small members two levels down. */
  gtk_expander_set_expanded (content, TRUE);
  g_assert_true (gtk_expander_get_expanded (find_expander (f, "image_url:")));
  assert_value_label (f, "\"Rate this meal\"", "json-string");
  assert_value_label (f, "\"data:image/jpeg;base64,AAAA\"", "json-string");

  /* Closed and opened again: built once. */
  gtk_expander_set_expanded (content, FALSE);
  gtk_expander_set_expanded (content, TRUE);
  g_assert_nonnull (find_label (f, "\"Rate this meal\""));
}

static void
test_summaries (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;

  /* Past 20 members, a container starts closed even at depth 1. */
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "wide");
  json_builder_begin_object (builder);
  for (int i = 0; i < 21; i++)
    {
      char name[16];

      g_snprintf (name, sizeof name, "m%d", i);
      json_builder_set_member_name (builder, name);
      json_builder_add_int_value (builder, i);
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "one");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, "x");
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "single");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "k");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);

  mt_json_view_set_node (f->view, node);
  g_assert_nonnull (find_label (f, "{ 3 members }"));
  g_assert_nonnull (find_label (f, "{ 21 members }"));
  g_assert_false (gtk_expander_get_expanded (find_expander (f, "wide:")));
  g_assert_null (find_label (f, "m0:"));
  g_assert_nonnull (find_label (f, "[ 1 item ]"));
  g_assert_nonnull (find_label (f, "{ 1 member }"));
  g_assert_true (gtk_expander_get_expanded (find_expander (f, "one:")));
  assert_value_label (f, "true", "json-literal");
}

static JsonNode *
big_array (guint n)
{
  JsonArray *array = json_array_sized_new (n);
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < n; i++)
    json_array_add_int_element (array, i * 7);
  json_node_take_array (node, array);
  return node;
}

static void
test_large_array (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) array = big_array (10000);
  g_autoptr(JsonNode) object = json_node_new (JSON_NODE_OBJECT);
  JsonObject *members = json_object_new ();
  guint closed, first_page, second_page;
  GtkExpander *big;

  /* The whole value: open, with its first 200 items. */
  mt_json_view_set_node (f->view, array);
  first_page = count_widgets (GTK_WIDGET (f->view));
  g_test_message ("10,000 items, first page: %u widgets", first_page);
  g_assert_cmpuint (first_page, <=, 2 * 200 + 30);
  g_assert_nonnull (find_label (f, "[ 10000 items ]"));
  g_assert_nonnull (find_label (f, "199:"));
  g_assert_nonnull (find_label (f, "1393"));
  g_assert_null (find_label (f, "200:"));

  click (find (GTK_WIDGET (f->view), is_button, "Show 200 more…"));
  second_page = count_widgets (GTK_WIDGET (f->view));
  g_test_message ("10,000 items, two pages: %u widgets", second_page);
  g_assert_cmpuint (second_page, <=, 2 * 400 + 30);
  g_assert_cmpuint (second_page, >, first_page + 300);
  g_assert_nonnull (find_label (f, "399:"));
  g_assert_null (find_label (f, "400:"));
  /* One button at a time. */
  g_assert_nonnull (find (GTK_WIDGET (f->view), is_button, "Show 200 more…"));
  g_assert_cmpuint (second_page, ==, first_page + 2 * 200);

  /* Nested: closed, and nothing built until opened. */
  json_object_set_member (members, "big", json_node_ref (array));
  json_object_set_int_member (members, "n", 10000);
  json_node_take_object (object, members);
  mt_json_view_set_node (f->view, object);
  closed = count_widgets (GTK_WIDGET (f->view));
  g_test_message ("10,000 items, closed: %u widgets", closed);
  g_assert_cmpuint (closed, <=, 40);
  big = find_expander (f, "big:");
  g_assert_false (gtk_expander_get_expanded (big));
  g_assert_nonnull (find_label (f, "[ 10000 items ]"));
  g_assert_null (find_label (f, "0:"));
  gtk_expander_set_expanded (big, TRUE);
  g_assert_nonnull (find_label (f, "199:"));
  g_assert_null (find_label (f, "200:"));
  g_assert_cmpuint (count_widgets (GTK_WIDGET (f->view)), <=, closed + 2 * 200 + 10);

  /* A page of small objects: opening them all would cost too much, so all
   * show their summary. */
  {
    g_autoptr(JsonNode) records = json_node_new (JSON_NODE_ARRAY);
    JsonArray *list = json_array_new ();
    gint64 start;
    guint n;

    for (guint i = 0; i < 10000; i++)
      {
        JsonObject *record = json_object_new ();

        json_object_set_int_member (record, "kcal", i);
        json_object_set_string_member (record, "dish", "rice");
        json_array_add_object_element (list, record);
      }
    json_node_take_array (records, list);
    start = g_get_monotonic_time ();
    mt_json_view_set_node (f->view, records);
    settle (f);
    n = count_widgets (GTK_WIDGET (f->view));
    g_test_message ("10,000 objects, first page: %u widgets, built and drawn in %" G_GINT64_FORMAT " ms",
                    n, (g_get_monotonic_time () - start) / 1000 - 300);
    g_assert_cmpuint (n, <=, 200 * 8);
    g_assert_false (gtk_expander_get_expanded (find_expander (f, "0:")));
    g_assert_false (gtk_expander_get_expanded (find_expander (f, "199:")));
    g_assert_nonnull (find_label (f, "{ 2 members }"));
    g_assert_null (find_label (f, "200:"));
  }
}

static void
test_short_last_page (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) array = big_array (250);
  GtkWidget *scrolled;
  GtkAdjustment *adjustment;

  mt_json_view_set_node (f->view, array);
  /* The end of the first page, with its button. */
  scrolled = gtk_widget_get_ancestor (GTK_WIDGET (f->view), GTK_TYPE_SCROLLED_WINDOW);
  adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  settle (f);
  gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment));
  save_screenshot (f, "json-view-more");
  click (find (GTK_WIDGET (f->view), is_button, "Show 50 more…"));
  g_assert_nonnull (find_label (f, "249:"));
  g_assert_null (find (GTK_WIDGET (f->view), is_button, "Show 50 more…"));
}

static void
test_long_string (Fixture *f, gconstpointer data)
{
  const gsize size = LONG_STRING_SIZE;
  g_autoptr(GString) url = g_string_new ("data:image/jpeg;base64,");
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *note = NULL;
  g_autofree char *whole = NULL;
  JsonObject *object = json_object_new ();
  JsonObject *image = json_object_new ();
  g_autoptr(GString) shown = NULL;
  GtkLabel *label;
  GtkWidget *cell;
  guint pieces = 0;
  gint64 started;
  int height;

  while (url->len < size)
    g_string_append (url, "/9j/4AAQSkZJRgABAQ");
  g_string_truncate (url, size);
  json_object_set_string_member (image, "url", url->str);
  json_object_set_object_member (object, "image_url", image);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, object);

  mt_json_view_set_node (f->view, node);
  label = GTK_LABEL (find (GTK_WIDGET (f->view), is_label_starting, "\"data:image/jpeg;base64,"));
  g_assert_nonnull (label);
  /* The opening quote and 2,000 characters. */
  g_assert_cmpuint (strlen (gtk_label_get_text (label)), ==, 1 + 2000);
  g_assert_true (strncmp (gtk_label_get_text (label) + 1, url->str, 2000) == 0);
  g_assert_true (gtk_label_get_selectable (label));
  note = g_strdup_printf ("… (%zu more characters)", size - 2000);
  g_assert_nonnull (find_label (f, note));
  save_screenshot (f, "json-view-long-string");

  /* Whole, in labels of 4 KB one under the other: one label cannot lay
   * out 300 KB. */
  click (find (GTK_WIDGET (f->view), is_button, "Show all"));
  g_assert_null (find_label (f, note));
  g_assert_null (find (GTK_WIDGET (f->view), is_button, "Show all"));
  label = GTK_LABEL (find (GTK_WIDGET (f->view), is_label_starting, "\"data:image/jpeg;base64,"));
  g_assert_nonnull (label);
  cell = gtk_widget_get_parent (GTK_WIDGET (label));
  shown = g_string_new (NULL);
  for (GtkWidget *child = gtk_widget_get_first_child (cell); child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      g_assert_true (GTK_IS_LABEL (child));
      g_assert_true (gtk_label_get_selectable (GTK_LABEL (child)));
      g_assert_true (gtk_widget_has_css_class (child, "json-string"));
      g_string_append (shown, gtk_label_get_text (GTK_LABEL (child)));
      pieces++;
    }
  whole = g_strdup_printf ("\"%s\"", url->str);
  g_assert_cmpstr (shown->str, ==, whole);
  g_assert_cmpuint (pieces, ==, (size + 4095) / 4096);

  /* Laid out whole: a line for every 100 characters or fewer, each within
   * the window's width. */
  started = g_get_monotonic_time ();
  for (int i = 0; i < 30000 && gtk_widget_get_height (cell) <= 14 * (int) (size / 100); i++)
    iterate_for (1);
  height = gtk_widget_get_height (cell);
  g_test_message ("%zu KB string: %d px high, laid out in %" G_GINT64_FORMAT " ms", size / 1024,
                  height, (g_get_monotonic_time () - started) / 1000);
  g_assert_cmpint (height, >, 14 * (int) (size / 100));
  g_assert_cmpint (gtk_widget_get_width (cell), <, 720);
  save_screenshot (f, "json-view-show-all");
}

static void
test_plain_values (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) string = json_node_init_string (json_node_alloc (), "A balanced plate: \"rice\" and fish");
  g_autoptr(JsonNode) number = json_node_init_int (json_node_alloc (), 42);
  g_autoptr(JsonNode) null = json_node_init_null (json_node_alloc ());
  g_autoptr(JsonNode) empty = parse ("{}");
  g_autofree char *text = NULL;

  /* Nothing yet. */
  g_assert_null (mt_json_view_get_node (f->view));
  g_assert_nonnull (find_label (f, "None"));
  text = mt_json_view_to_text (f->view);
  g_assert_cmpstr (text, ==, "null");
  g_clear_pointer (&text, g_free);

  mt_json_view_set_node (f->view, string);
  assert_value_label (f, "\"A balanced plate: \\\"rice\\\" and fish\"", "json-string");
  g_assert_null (find_label (f, "None"));
  text = mt_json_view_to_text (f->view);
  g_assert_cmpstr (text, ==, "\"A balanced plate: \\\"rice\\\" and fish\"");
  g_clear_pointer (&text, g_free);

  mt_json_view_set_node (f->view, number);
  assert_value_label (f, "42", "json-number");

  mt_json_view_set_node (f->view, null);
  g_assert_true (mt_json_view_get_node (f->view) == null);
  g_assert_nonnull (find_label (f, "None"));
  g_assert_null (find_label (f, "42"));
  text = mt_json_view_to_text (f->view);
  g_assert_cmpstr (text, ==, "null");
  g_clear_pointer (&text, g_free);

  mt_json_view_set_node (f->view, empty);
  assert_value_label (f, "{}", "json-literal");
  text = mt_json_view_to_text (f->view);
  g_assert_cmpstr (text, ==, "{}");
  g_clear_pointer (&text, g_free);

  /* Text that is not UTF-8 (Latin-1 here) reads with U+FFFD in its place,
   * short or long. */
  json_node_set_string (string, "caf\xe9 au lait");
  mt_json_view_set_node (f->view, NULL);
  mt_json_view_set_node (f->view, string);
  assert_value_label (f, "\"caf\xef\xbf\xbd au lait\"", "json-string");
  {
    g_autoptr(GString) long_text = g_string_new (NULL);

    for (int i = 0; i < 1000; i++)
      g_string_append (long_text, "caf\xe9 ");
    json_node_set_string (string, long_text->str);
    mt_json_view_set_node (f->view, NULL);
    mt_json_view_set_node (f->view, string);
    g_assert_nonnull (find_label (f, "… (3000 more characters)"));
    click (find (GTK_WIDGET (f->view), is_button, "Show all"));
    g_assert_nonnull (find (GTK_WIDGET (f->view), is_label_starting, "\"caf\xef\xbf\xbd caf"));
  }

  mt_json_view_set_node (f->view, NULL);
  g_assert_null (mt_json_view_get_node (f->view));
  g_assert_nonnull (find_label (f, "None"));
}

static void
on_notify (GObject *object, GParamSpec *pspec, guint *count)
{
  (*count)++;
}

static void
test_replace (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) first = parse (chat_json);
  g_autoptr(JsonNode) second = parse ("[{\"food\":\"rice\",\"kcal\":200},{\"food\":\"fish\",\"kcal\":180}]");
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = NULL;
  GtkWidget *fresh;
  GtkWidget *old_root;
  guint notified = 0;

  g_signal_connect (f->view, "notify::node", G_CALLBACK (on_notify), &notified);
  mt_json_view_set_node (f->view, first);
  g_assert_nonnull (find_label (f, "model:"));
  old_root = GTK_WIDGET (find_expander (f, "{ 7 members }"));
  g_object_add_weak_pointer (G_OBJECT (old_root), (gpointer *) &old_root);
  mt_json_view_set_node (f->view, second);
  g_assert_null (find_label (f, "model:"));
  g_assert_null (find_label (f, "{ 7 members }"));
  g_assert_nonnull (find_label (f, "\"fish\""));
  g_assert_true (mt_json_view_get_node (f->view) == second);
  /* The property gives a copy (the boxed type's). */
  g_object_get (f->view, "node", &node, NULL);
  g_assert_true (json_node_equal (node, second));
  /* The same node again changes nothing. */
  mt_json_view_set_node (f->view, second);
  g_assert_cmpuint (notified, ==, 2);

  text = mt_json_view_to_text (f->view);
  g_assert_cmpstr (text, ==,
                   "[\n  {\n    \"food\": \"rice\",\n    \"kcal\": 200\n  },\n"
                   "  {\n    \"food\": \"fish\",\n    \"kcal\": 180\n  }\n]");

  /* The first value's widgets are gone, and no rows are left behind. */
  g_assert_null (old_root);
  fresh = g_object_ref_sink (mt_json_view_new ());
  mt_json_view_set_node (MT_JSON_VIEW (fresh), second);
  g_assert_cmpuint (count_widgets (GTK_WIDGET (f->view)), ==, count_widgets (fresh));
  g_object_unref (fresh);
}

static void
on_text_read (GObject *source, GAsyncResult *result, gpointer data)
{
  char **text = data;
  g_autoptr(GError) error = NULL;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, &error);
  g_assert_no_error (error);
}

static void
test_copy (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) node = parse (chat_json);
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (f->view));
  GtkWidget *button;
  char *copied = NULL;

  /* Nothing to copy yet. */
  button = NULL;
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (f->view)); child != NULL; child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_BUTTON (child))
      button = child;
  g_assert_nonnull (button);
  g_assert_cmpstr (gtk_button_get_icon_name (GTK_BUTTON (button)), ==, "edit-copy-symbolic");
  g_assert_cmpstr (gtk_widget_get_tooltip_text (button), ==, "Copy as JSON");
  g_assert_false (gtk_widget_is_sensitive (button));

  mt_json_view_set_node (f->view, node);
  g_assert_true (gtk_widget_is_sensitive (button));
  click (button);
  gdk_clipboard_read_text_async (clipboard, NULL, on_text_read, &copied);
  for (int i = 0; i < 5000 && copied == NULL; i++)
    iterate_for (1);
  g_assert_cmpstr (copied, ==, chat_pretty);
  g_free (copied);
}

/* A trace as the detail pane shows it. */
static const char trace_json[] =
  "{\"model\":\"gpt-4o-2024-08-06\",\"temperature\":0.2,\"max_tokens\":1024,\"stream\":false,"
  "\"messages\":["
  "{\"role\":\"system\",\"content\":\"You are a nutrition assistant. Estimate the calories and macronutrients "
  "of the meal in the photo. Answer in JSON with the keys dish, calories, protein_g, carbs_g and fat_g.\"},"
  "{\"role\":\"user\",\"content\":["
  "{\"type\":\"text\",\"text\":\"Lunch at the office canteen\"},"
  "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD\",\"detail\":\"low\"}}]}],"
  "\"response_format\":{\"type\":\"json_object\"},"
  "\"metadata\":{\"user_id\":\"u_1842\",\"photo_key\":\"uploads/2024/06/14/u_1842/IMG_2231.jpg\",\"retry\":null,"
  "\"tags\":[\"lunch\",\"canteen\"],\"scores\":{\"confidence\":0.87,\"blur\":0.05}},"
  "\"tools\":[],\"seed\":7}";

static void
test_screenshot (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) node = parse (trace_json);
  GtkSettings *settings = gtk_settings_get_default ();

  mt_json_view_set_node (f->view, node);
  gtk_expander_set_expanded (find_expander (f, "content:"), TRUE);
  save_screenshot (f, "json-view");

  g_object_set (settings, "gtk-application-prefer-dark-theme", TRUE, NULL);
  save_screenshot (f, "json-view-dark");
  g_object_set (settings, "gtk-application-prefer-dark-theme", FALSE, NULL);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    {
      g_printerr ("No display: the JSON view tests need one (build-aux/test runs them under Xvfb).\n");
      return 77;
    }

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/json-view/to-text", test_to_text);
  ADD ("/json-view/tree", test_tree);
  ADD ("/json-view/summaries", test_summaries);
  ADD ("/json-view/large-array", test_large_array);
  ADD ("/json-view/short-last-page", test_short_last_page);
  ADD ("/json-view/long-string", test_long_string);
  ADD ("/json-view/plain-values", test_plain_values);
  ADD ("/json-view/replace", test_replace);
  ADD ("/json-view/copy", test_copy);
  ADD ("/json-view/screenshot", test_screenshot);
#undef ADD

  return g_test_run ();
}
