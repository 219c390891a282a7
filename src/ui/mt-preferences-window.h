/* mt-preferences-window.h — the Preferences dialog (SPEC §2, §8)
 *
 * Edits the window's GSettings as the user types, says which values the
 * environment or a .env file overrides, and where each key and token
 * comes from, never what it is.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MT_TYPE_PREFERENCES_WINDOW (mt_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (MtPreferencesWindow, mt_preferences_window, MT, PREFERENCES_WINDOW, GtkWindow)

/* A modal dialog over @parent (may be %NULL) bound to @settings, a
 * GSettings of the io.github.mealtrace.Mealtrace schema. Where the
 * settings and credentials come from is read when it is made, from the
 * environment and the working directory's .env. Escape closes it. */
MtPreferencesWindow *mt_preferences_window_new (GtkWindow *parent,
                                                GSettings *settings);

G_END_DECLS
