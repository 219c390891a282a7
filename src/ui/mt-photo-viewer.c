/* mt-photo-viewer.c — one meal photo, large, in a window of its own */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "mt-photo-viewer.h"

struct _MtPhotoViewer
{
  GtkWindow parent_instance;

  GtkStack *stack;
  GtkPicture *picture;
  GtkSpinner *spinner;
  GtkLabel *error_message;

  MtPreviewCache *cache;
  char *key;
  GCancellable *cancellable; /* cancelled when the window goes */
};

G_DEFINE_FINAL_TYPE (MtPhotoViewer, mt_photo_viewer, GTK_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_CACHE,
  PROP_KEY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

GtkWidget *
mt_photo_viewer_new (GtkWindow      *parent,
                     MtPreviewCache *cache,
                     const char     *key,
                     const char     *title)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (MT_IS_PREVIEW_CACHE (cache), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  /* S3 keys are separated by slashes on every system. */
  if (title == NULL)
    {
      const char *slash = strrchr (key, '/');

      name = g_strdup (slash != NULL && slash[1] != '\0' ? slash + 1 : key);
    }

  return g_object_new (MT_TYPE_PHOTO_VIEWER,
                       "transient-for", parent,
                       "modal", TRUE,
                       "destroy-with-parent", TRUE,
                       "title", title != NULL ? title : name,
                       "cache", cache,
                       "key", key,
                       NULL);
}

const char *
mt_photo_viewer_get_state (MtPhotoViewer *self)
{
  g_return_val_if_fail (MT_IS_PHOTO_VIEWER (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}

static void
show_photo (MtPhotoViewer *self,
            GdkTexture    *texture)
{
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (texture));
  gtk_spinner_stop (self->spinner);
  gtk_stack_set_visible_child_name (self->stack, "photo");
}

static void
show_error (MtPhotoViewer *self,
            const GError  *error)
{
  gtk_label_set_text (self->error_message, error->message);
  gtk_spinner_stop (self->spinner);
  gtk_stack_set_visible_child_name (self->stack, "error");
}

static void
on_loaded (GObject      *source_object,
           GAsyncResult *result,
           gpointer      data)
{
  GWeakRef *weak = data;
  g_autoptr(MtPhotoViewer) self = g_weak_ref_get (weak);
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  g_weak_ref_clear (weak);
  g_free (weak);
  texture = mt_preview_cache_load_finish (MT_PREVIEW_CACHE (source_object), result, &error);
  /* Closed meanwhile: the window's insides are gone. */
  if (self == NULL || g_cancellable_is_cancelled (self->cancellable))
    return;
  if (texture == NULL)
    show_error (self, error);
  else
    show_photo (self, texture);
}

static void
load (MtPhotoViewer *self)
{
  g_autoptr(GdkTexture) texture = NULL;
  GWeakRef *weak;

  texture = mt_preview_cache_lookup (self->cache, self->key, MT_PHOTO_VIEWER_SIZE);
  if (texture != NULL)
    {
      show_photo (self, texture);
      return;
    }

  gtk_spinner_start (self->spinner);
  gtk_stack_set_visible_child_name (self->stack, "loading");
  /* Not a reference: closing the window disposes it, which cancels the load. */
  weak = g_new0 (GWeakRef, 1);
  g_weak_ref_init (weak, self);
  mt_preview_cache_load_async (self->cache, self->key, MT_PHOTO_VIEWER_SIZE, self->cancellable,
                               on_loaded, weak);
}

static void
build_ui (MtPhotoViewer *self)
{
  GtkWidget *box;
  GtkWidget *icon;
  GtkWidget *title;
  GtkWidget *label;

  self->stack = GTK_STACK (gtk_stack_new ());
  gtk_stack_set_transition_type (self->stack, GTK_STACK_TRANSITION_TYPE_CROSSFADE);

  self->spinner = GTK_SPINNER (gtk_spinner_new ());
  gtk_widget_set_size_request (GTK_WIDGET (self->spinner), 32, 32);
  gtk_widget_set_halign (GTK_WIDGET (self->spinner), GTK_ALIGN_CENTER);
  gtk_widget_set_valign (GTK_WIDGET (self->spinner), GTK_ALIGN_CENTER);
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->spinner), "loading");

  self->picture = GTK_PICTURE (gtk_picture_new ());
  gtk_picture_set_can_shrink (self->picture, TRUE);
  gtk_picture_set_content_fit (self->picture, GTK_CONTENT_FIT_CONTAIN);
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->picture), "photo");

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_halign (box, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
  gtk_widget_set_margin_start (box, 24);
  gtk_widget_set_margin_end (box, 24);
  icon = gtk_image_new_from_icon_name ("image-missing-symbolic");
  gtk_image_set_pixel_size (GTK_IMAGE (icon), 96);
  gtk_widget_add_css_class (icon, "dim-label");
  gtk_box_append (GTK_BOX (box), icon);
  title = gtk_label_new (_("Photo Not Available"));
  gtk_widget_add_css_class (title, "title-2");
  gtk_box_append (GTK_BOX (box), title);
  label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 60);
  gtk_label_set_justify (GTK_LABEL (label), GTK_JUSTIFY_CENTER);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_box_append (GTK_BOX (box), label);
  self->error_message = GTK_LABEL (label);
  gtk_stack_add_named (self->stack, box, "error");

  gtk_window_set_child (GTK_WINDOW (self), GTK_WIDGET (self->stack));
}

static void
mt_photo_viewer_constructed (GObject *object)
{
  MtPhotoViewer *self = MT_PHOTO_VIEWER (object);

  G_OBJECT_CLASS (mt_photo_viewer_parent_class)->constructed (object);

  g_return_if_fail (self->cache != NULL && self->key != NULL);
  gtk_picture_set_alternative_text (self->picture, gtk_window_get_title (GTK_WINDOW (self)));
  load (self);
}

static void
mt_photo_viewer_dispose (GObject *object)
{
  MtPhotoViewer *self = MT_PHOTO_VIEWER (object);

  /* The cancellable itself stays to the end: a load finishing later reads it. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cache);

  G_OBJECT_CLASS (mt_photo_viewer_parent_class)->dispose (object);
}

static void
mt_photo_viewer_finalize (GObject *object)
{
  MtPhotoViewer *self = MT_PHOTO_VIEWER (object);

  g_clear_object (&self->cancellable);
  g_free (self->key);

  G_OBJECT_CLASS (mt_photo_viewer_parent_class)->finalize (object);
}

static void
mt_photo_viewer_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  MtPhotoViewer *self = MT_PHOTO_VIEWER (object);

  switch (prop_id)
    {
    case PROP_CACHE:
      g_value_set_object (value, self->cache);
      break;
    case PROP_KEY:
      g_value_set_string (value, self->key);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_photo_viewer_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  MtPhotoViewer *self = MT_PHOTO_VIEWER (object);

  switch (prop_id)
    {
    case PROP_CACHE:
      g_set_object (&self->cache, g_value_get_object (value));
      break;
    case PROP_KEY:
      g_free (self->key);
      self->key = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_photo_viewer_class_init (MtPhotoViewerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = mt_photo_viewer_constructed;
  object_class->dispose = mt_photo_viewer_dispose;
  object_class->finalize = mt_photo_viewer_finalize;
  object_class->get_property = mt_photo_viewer_get_property;
  object_class->set_property = mt_photo_viewer_set_property;

  properties[PROP_CACHE] =
    g_param_spec_object ("cache", NULL, NULL,
                         MT_TYPE_PREVIEW_CACHE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_KEY] =
    g_param_spec_string ("key", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
mt_photo_viewer_init (MtPhotoViewer *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_window_set_default_size (GTK_WINDOW (self), 900, 700);
  build_ui (self);
}
