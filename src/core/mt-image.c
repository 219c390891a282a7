/* mt-image.c — one meal photo */

#include "config.h"

#include <string.h>

#include "mt-core-private.h"
#include "mt-image.h"
#include "mt-time.h"

G_DEFINE_FINAL_TYPE (MtImage, mt_image, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_KEY,
  PROP_NAME,
  PROP_USER_ID,
  PROP_LAST_MODIFIED,
  PROP_SIZE,
  PROP_ETAG,
  PROP_URL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mt_image_finalize (GObject *object)
{
  MtImage *self = MT_IMAGE (object);

  g_free (self->key);
  g_free (self->user_id);
  g_free (self->etag);
  g_free (self->url);

  G_OBJECT_CLASS (mt_image_parent_class)->finalize (object);
}

static void
set_key (MtImage    *self,
         const char *key)
{
  const char *slash;

  g_free (self->key);
  self->key = g_strdup (key != NULL ? key : "");
  slash = strrchr (self->key, '/');
  self->name = slash != NULL ? slash + 1 : self->key;
}

static void
mt_image_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  MtImage *self = MT_IMAGE (object);

  switch (prop_id)
    {
    case PROP_KEY:
      g_value_set_string (value, self->key);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_USER_ID:
      g_value_set_string (value, self->user_id);
      break;
    case PROP_LAST_MODIFIED:
      g_value_set_int64 (value, self->last_modified);
      break;
    case PROP_SIZE:
      g_value_set_int64 (value, self->size);
      break;
    case PROP_ETAG:
      g_value_set_string (value, self->etag);
      break;
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_image_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  MtImage *self = MT_IMAGE (object);

  switch (prop_id)
    {
    case PROP_KEY:
      set_key (self, g_value_get_string (value));
      break;
    case PROP_USER_ID:
      self->user_id = g_value_dup_string (value);
      break;
    case PROP_LAST_MODIFIED:
      self->last_modified = g_value_get_int64 (value);
      break;
    case PROP_SIZE:
      self->size = g_value_get_int64 (value);
      break;
    case PROP_ETAG:
      self->etag = g_value_dup_string (value);
      break;
    case PROP_URL:
      mt_image_set_url (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_image_class_init (MtImageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = mt_image_finalize;
  object_class->get_property = mt_image_get_property;
  object_class->set_property = mt_image_set_property;

  properties[PROP_KEY] = g_param_spec_string ("key", NULL, NULL, NULL, construct);
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_USER_ID] = g_param_spec_string ("user-id", NULL, NULL, NULL, construct);
  properties[PROP_LAST_MODIFIED] =
    g_param_spec_int64 ("last-modified", NULL, NULL, G_MININT64, G_MAXINT64, MT_TIME_NONE, construct);
  properties[PROP_SIZE] =
    g_param_spec_int64 ("size", NULL, NULL, 0, G_MAXINT64, 0, construct);
  properties[PROP_ETAG] = g_param_spec_string ("etag", NULL, NULL, NULL, construct);
  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_image_init (MtImage *self)
{
  self->last_modified = MT_TIME_NONE;
}

MtImage *
mt_image_new (const char *key,
              const char *user_id,
              gint64      last_modified,
              gint64      size,
              const char *etag)
{
  MtImage *self;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (size >= 0, NULL);

  self = g_object_new (MT_TYPE_IMAGE, NULL);
  set_key (self, key);
  self->user_id = g_strdup (user_id);
  self->last_modified = last_modified;
  self->size = size;
  self->etag = g_strdup (etag);
  return self;
}

const char *
mt_image_get_key (MtImage *self)
{
  g_return_val_if_fail (MT_IS_IMAGE (self), NULL);
  return self->key;
}

const char *
mt_image_get_name (MtImage *self)
{
  g_return_val_if_fail (MT_IS_IMAGE (self), NULL);
  return self->name;
}

const char *
mt_image_get_user_id (MtImage *self)
{
  g_return_val_if_fail (MT_IS_IMAGE (self), NULL);
  return self->user_id;
}

gint64
mt_image_get_last_modified (MtImage *self)
{
  g_return_val_if_fail (MT_IS_IMAGE (self), MT_TIME_NONE);
  return self->last_modified;
}

gint64
mt_image_get_size (MtImage *self)
{
  g_return_val_if_fail (MT_IS_IMAGE (self), 0);
  return self->size;
}

const char *
mt_image_get_etag (MtImage *self)
{
  g_return_val_if_fail (MT_IS_IMAGE (self), NULL);
  return self->etag;
}

const char *
mt_image_get_url (MtImage *self)
{
  g_return_val_if_fail (MT_IS_IMAGE (self), NULL);
  return self->url;
}

void
mt_image_set_url (MtImage    *self,
                  const char *url)
{
  g_return_if_fail (MT_IS_IMAGE (self));
  if (mt_set_string (&self->url, url))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URL]);
}

gboolean
mt_image_key_is_image (const char *key)
{
  static const char *const extensions[] = {
    ".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".heif",
  };
  const char *dot;

  if (key == NULL)
    return FALSE;
  dot = strrchr (key, '.');
  /* A dot in a folder name is not an extension: "a.jpg/" is a folder. */
  if (dot == NULL || strchr (dot, '/') != NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (extensions); i++)
    if (g_ascii_strcasecmp (dot, extensions[i]) == 0)
      return TRUE;
  return FALSE;
}

char *
mt_image_user_id_from_key (const char *key,
                           const char *prefix)
{
  size_t prefix_len;
  const char *user, *slash;

  g_return_val_if_fail (key != NULL, NULL);

  if (prefix == NULL)
    prefix = "";
  prefix_len = strlen (prefix);
  if (strncmp (key, prefix, prefix_len) != 0)
    return NULL;

  user = key + prefix_len;
  slash = strchr (user, '/');
  /* No folder, an empty user folder, or nothing after the last slash. */
  if (slash == NULL || slash == user || key[strlen (key) - 1] == '/')
    return NULL;
  return g_strndup (user, slash - user);
}
