/* mt-json-view.h — a trace's input or output as a collapsible JSON tree
 *
 * Objects and arrays are expanders whose members are built on first
 * expansion, a page at a time; values are selectable, coloured by type, and
 * strings are shown JSON-quoted, long ones cut short until asked for. A
 * button copies the whole value as pretty JSON.
 */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define MT_TYPE_JSON_VIEW (mt_json_view_get_type ())

G_DECLARE_FINAL_TYPE (MtJsonView, mt_json_view, MT, JSON_VIEW, GtkWidget)

GtkWidget *mt_json_view_new      (void);

/* Shows @node (a reference is kept); %NULL or a JSON null shows a dim
 * “None”. */
void       mt_json_view_set_node (MtJsonView *self,
                                  JsonNode   *node);
/* The node shown, owned by the view; %NULL if none. */
JsonNode  *mt_json_view_get_node (MtJsonView *self);

/* The whole value as JSON laid out with a 2-space indent, as the Copy
 * button puts it on the clipboard; "null" when there is none. */
char      *mt_json_view_to_text  (MtJsonView *self);

G_END_DECLS
