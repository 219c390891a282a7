/* mt-application.h — Mealtrace as a GNOME application
 *
 * One instance per session: a second `mealtrace` raises the first one's
 * window (and `mealtrace --demo` asks it for the demo). The application
 * owns the demo's loopback servers, started on first use and shared by its
 * windows.
 */
#pragma once

#include <gtk/gtk.h>

#include "mt-demo.h"

G_BEGIN_DECLS

#define MT_TYPE_APPLICATION (mt_application_get_type ())

G_DECLARE_FINAL_TYPE (MtApplication, mt_application, MT, APPLICATION, GtkApplication)

MtApplication *mt_application_new      (GApplicationFlags  flags);

/* The demo's servers and data set, started now if they are not yet. */
MtDemo        *mt_application_get_demo (MtApplication     *self);

G_END_DECLS
