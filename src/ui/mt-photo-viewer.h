/* mt-photo-viewer.h — one meal photo, large, in a window of its own */
#pragma once

#include <gtk/gtk.h>

#include "mt-preview-cache.h"

G_BEGIN_DECLS

/* The longest side, in pixels, the viewer loads a photo at. */
#define MT_PHOTO_VIEWER_SIZE 2048

#define MT_TYPE_PHOTO_VIEWER (mt_photo_viewer_get_type ())

G_DECLARE_FINAL_TYPE (MtPhotoViewer, mt_photo_viewer, MT, PHOTO_VIEWER, GtkWindow)

/* A modal window over @parent showing the photo @key from @cache, loading
 * it at MT_PHOTO_VIEWER_SIZE: a spinner while it loads, the reason when it
 * cannot. @title names the photo (%NULL: the last part of @key). Escape
 * closes it. Present it with gtk_window_present(). */
GtkWidget  *mt_photo_viewer_new       (GtkWindow      *parent,
                                       MtPreviewCache *cache,
                                       const char     *key,
                                       const char     *title);

/* What the window shows: "loading", "photo" or "error". */
const char *mt_photo_viewer_get_state (MtPhotoViewer  *self);

G_END_DECLS
