/* mt-user-result.c — what matching found for one user */

#include "config.h"

#include "mt-core-enums.h"
#include "mt-core-private.h"
#include "mt-time.h"
#include "mt-user-result.h"

G_DEFINE_FINAL_TYPE (MtUserResult, mt_user_result, G_TYPE_OBJECT)

/* Guards the lists built on first use; they are built once per user. */
static GMutex lazy_lock;

enum {
  PROP_0,
  PROP_USER_ID,
  PROP_STATUS,
  PROP_N_TRACES,
  PROP_N_IMAGES,
  PROP_N_PAIRS,
  PROP_LATEST_IMAGE,
  PROP_TRACES,
  PROP_IMAGES,
  PROP_PAIRS,
  PROP_UNUSED_TRACES,
  PROP_UNMATCHED_IMAGES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mt_user_result_finalize (GObject *object)
{
  MtUserResult *self = MT_USER_RESULT (object);

  g_free (self->user_id);
  g_free (self->image_trace);
  g_clear_pointer (&self->unused_traces, g_ptr_array_unref);
  g_clear_pointer (&self->unmatched_images, g_ptr_array_unref);
  g_clear_pointer (&self->pairs, g_ptr_array_unref);
  g_clear_pointer (&self->traces, g_ptr_array_unref);
  g_clear_pointer (&self->images, g_ptr_array_unref);

  G_OBJECT_CLASS (mt_user_result_parent_class)->finalize (object);
}

static void
mt_user_result_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  MtUserResult *self = MT_USER_RESULT (object);

  switch (prop_id)
    {
    case PROP_USER_ID:
      g_value_set_string (value, self->user_id);
      break;
    case PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;
    case PROP_N_TRACES:
      g_value_set_uint (value, self->traces->len);
      break;
    case PROP_N_IMAGES:
      g_value_set_uint (value, self->images->len);
      break;
    case PROP_N_PAIRS:
      g_value_set_uint (value, self->n_pairs);
      break;
    case PROP_LATEST_IMAGE:
      g_value_set_int64 (value, mt_user_result_get_latest_image (self));
      break;
    case PROP_TRACES:
      g_value_set_boxed (value, mt_user_result_get_traces (self));
      break;
    case PROP_IMAGES:
      g_value_set_boxed (value, mt_user_result_get_images (self));
      break;
    case PROP_PAIRS:
      g_value_set_boxed (value, mt_user_result_get_pairs (self));
      break;
    case PROP_UNUSED_TRACES:
      g_value_set_boxed (value, mt_user_result_get_unused_traces (self));
      break;
    case PROP_UNMATCHED_IMAGES:
      g_value_set_boxed (value, mt_user_result_get_unmatched_images (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_user_result_class_init (MtUserResultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = mt_user_result_finalize;
  object_class->get_property = mt_user_result_get_property;

  properties[PROP_USER_ID] = g_param_spec_string ("user-id", NULL, NULL, NULL, ro);
  properties[PROP_STATUS] =
    g_param_spec_enum ("status", NULL, NULL, MT_TYPE_USER_STATUS, MT_USER_STATUS_NO_IMAGES, ro);
  properties[PROP_N_TRACES] = g_param_spec_uint ("n-traces", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_N_IMAGES] = g_param_spec_uint ("n-images", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_N_PAIRS] = g_param_spec_uint ("n-pairs", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_LATEST_IMAGE] =
    g_param_spec_int64 ("latest-image", NULL, NULL, G_MININT64, G_MAXINT64, MT_TIME_NONE, ro);
  /* GPtrArrays of MtTrace, MtImage and MtPair, as the getters give them;
   * the pairs and what is left over are made when first read. */
  properties[PROP_TRACES] = g_param_spec_boxed ("traces", NULL, NULL, G_TYPE_PTR_ARRAY, ro);
  properties[PROP_IMAGES] = g_param_spec_boxed ("images", NULL, NULL, G_TYPE_PTR_ARRAY, ro);
  properties[PROP_PAIRS] = g_param_spec_boxed ("pairs", NULL, NULL, G_TYPE_PTR_ARRAY, ro);
  properties[PROP_UNUSED_TRACES] = g_param_spec_boxed ("unused-traces", NULL, NULL, G_TYPE_PTR_ARRAY, ro);
  properties[PROP_UNMATCHED_IMAGES] = g_param_spec_boxed ("unmatched-images", NULL, NULL, G_TYPE_PTR_ARRAY, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_user_result_init (MtUserResult *self)
{
}

MtUserResult *
mt_user_result_new_internal (char         *user_id,
                             MtUserStatus  status,
                             GPtrArray    *traces,
                             GPtrArray    *images,
                             gint32       *image_trace,
                             guint         n_pairs)
{
  MtUserResult *self = g_object_new (MT_TYPE_USER_RESULT, NULL);

  self->user_id = user_id;
  self->status = status;
  self->traces = traces;
  self->images = images;
  self->image_trace = image_trace;
  self->n_pairs = n_pairs;
  return self;
}

static void
build_lists (MtUserResult *self)
{
  g_autofree guint8 *taken = g_new0 (guint8, self->traces->len);
  GPtrArray *pairs = g_ptr_array_new_full (self->n_pairs, g_object_unref);

  self->unmatched_images = g_ptr_array_new_full (self->images->len - self->n_pairs, NULL);
  for (guint i = 0; i < self->images->len; i++)
    {
      MtImage *image = g_ptr_array_index (self->images, i);
      gint32 t = self->image_trace[i];

      if (t < 0)
        g_ptr_array_add (self->unmatched_images, image);
      else
        {
          g_ptr_array_add (pairs, mt_pair_new_internal (g_ptr_array_index (self->traces, t), image));
          taken[t] = TRUE;
        }
    }

  self->unused_traces = g_ptr_array_new_full (self->traces->len - self->n_pairs, NULL);
  for (guint t = 0; t < self->traces->len; t++)
    if (!taken[t])
      g_ptr_array_add (self->unused_traces, g_ptr_array_index (self->traces, t));

  self->pairs = pairs;
}

static void
ensure_lists (MtUserResult *self)
{
  g_mutex_lock (&lazy_lock);
  if (self->pairs == NULL)
    build_lists (self);
  g_mutex_unlock (&lazy_lock);
}

const char *
mt_user_result_get_user_id (MtUserResult *self)
{
  g_return_val_if_fail (MT_IS_USER_RESULT (self), NULL);
  return self->user_id;
}

MtUserStatus
mt_user_result_get_status (MtUserResult *self)
{
  g_return_val_if_fail (MT_IS_USER_RESULT (self), MT_USER_STATUS_NO_IMAGES);
  return self->status;
}

guint
mt_user_result_get_n_traces (MtUserResult *self)
{
  g_return_val_if_fail (MT_IS_USER_RESULT (self), 0);
  return self->traces->len;
}

guint
mt_user_result_get_n_images (MtUserResult *self)
{
  g_return_val_if_fail (MT_IS_USER_RESULT (self), 0);
  return self->images->len;
}

guint
mt_user_result_get_n_pairs (MtUserResult *self)
{
  g_return_val_if_fail (MT_IS_USER_RESULT (self), 0);
  return self->n_pairs;
}

gint64
mt_user_result_get_latest_image (MtUserResult *self)
{
  MtImage *last;

  g_return_val_if_fail (MT_IS_USER_RESULT (self), MT_TIME_NONE);
  if (self->images->len == 0)
    return MT_TIME_NONE;
  last = g_ptr_array_index (self->images, self->images->len - 1);
  return last->last_modified;
}

GPtrArray *
mt_user_result_get_traces (MtUserResult *self)
{
  g_return_val_if_fail (MT_IS_USER_RESULT (self), NULL);
  return self->traces;
}

GPtrArray *
mt_user_result_get_images (MtUserResult *self)
{
  g_return_val_if_fail (MT_IS_USER_RESULT (self), NULL);
  return self->images;
}

GPtrArray *
mt_user_result_get_pairs (MtUserResult *self)
{
  g_return_val_if_fail (MT_IS_USER_RESULT (self), NULL);
  ensure_lists (self);
  return self->pairs;
}

GPtrArray *
mt_user_result_get_unused_traces (MtUserResult *self)
{
  g_return_val_if_fail (MT_IS_USER_RESULT (self), NULL);
  ensure_lists (self);
  return self->unused_traces;
}

GPtrArray *
mt_user_result_get_unmatched_images (MtUserResult *self)
{
  g_return_val_if_fail (MT_IS_USER_RESULT (self), NULL);
  ensure_lists (self);
  return self->unmatched_images;
}
