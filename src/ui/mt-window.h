/* mt-window.h — the main window: a period's users, their photos and traces */
#pragma once

#include <gtk/gtk.h>

#include "mt-application.h"

G_BEGIN_DECLS

#define MT_TYPE_WINDOW (mt_window_get_type ())

G_DECLARE_FINAL_TYPE (MtWindow, mt_window, MT, WINDOW, GtkApplicationWindow)

MtWindow   *mt_window_new       (MtApplication *application);

/* Reads the configuration and, when it is complete, the chosen period;
 * otherwise shows what is missing and offers the demo. */
void        mt_window_start     (MtWindow      *self);
/* Switches to the demo's servers and data set, and reads them. */
void        mt_window_open_demo (MtWindow      *self);

G_END_DECLS
