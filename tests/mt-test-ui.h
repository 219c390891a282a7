/* mt-test-ui.h — what the tests in a display share */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Saves what @widget draws, @width × @height from its top left corner, as
 * screenshots/@name.png in the tests' build folder, for a person to look
 * at; @native renders it. Waits (up to 30 s) for a widget that is being
 * laid out anew to draw. */
void mt_test_save_png (GtkWidget  *widget,
                       GtkNative  *native,
                       int         width,
                       int         height,
                       const char *name);

typedef gboolean (*MtTestCondition) (gconstpointer data);

/* Turns the main context until @done holds for @data; %FALSE when it
 * still does not after @timeout_ms. */
gboolean mt_test_run_until (MtTestCondition  done,
                            gconstpointer    data,
                            guint            timeout_ms);

G_END_DECLS
