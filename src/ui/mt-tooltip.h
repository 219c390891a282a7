/* mt-tooltip.h — tooltips for widgets made by the hundred */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Gives @widget @text (%NULL for none) as its tooltip and its accessible
 * description, as gtk_widget_set_tooltip_text() does, but without asking
 * the display where the pointer is each time: on X11 that is a round trip
 * for every list cell and card bound. GTK asks for the text when it shows
 * the tooltip. */
void mt_widget_set_tooltip (GtkWidget  *widget,
                            const char *text);

G_END_DECLS
