/* mt-pair.c — an image and the trace that produced it */

#include "config.h"

#include "mt-core-private.h"
#include "mt-pair.h"

G_DEFINE_FINAL_TYPE (MtPair, mt_pair, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_TRACE,
  PROP_IMAGE,
  PROP_TIME_DIFFERENCE_MS,
  PROP_TIME_DIFFERENCE_SECONDS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mt_pair_dispose (GObject *object)
{
  MtPair *self = MT_PAIR (object);

  g_clear_object (&self->trace);
  g_clear_object (&self->image);

  G_OBJECT_CLASS (mt_pair_parent_class)->dispose (object);
}

static void
mt_pair_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  MtPair *self = MT_PAIR (object);

  switch (prop_id)
    {
    case PROP_TRACE:
      g_value_set_object (value, self->trace);
      break;
    case PROP_IMAGE:
      g_value_set_object (value, self->image);
      break;
    case PROP_TIME_DIFFERENCE_MS:
      g_value_set_int64 (value, mt_pair_get_time_difference_ms (self));
      break;
    case PROP_TIME_DIFFERENCE_SECONDS:
      g_value_set_double (value, mt_pair_get_time_difference_seconds (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_pair_class_init (MtPairClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->dispose = mt_pair_dispose;
  object_class->get_property = mt_pair_get_property;

  properties[PROP_TRACE] = g_param_spec_object ("trace", NULL, NULL, MT_TYPE_TRACE, ro);
  properties[PROP_IMAGE] = g_param_spec_object ("image", NULL, NULL, MT_TYPE_IMAGE, ro);
  properties[PROP_TIME_DIFFERENCE_MS] =
    g_param_spec_int64 ("time-difference-ms", NULL, NULL, G_MININT64, G_MAXINT64, 0, ro);
  properties[PROP_TIME_DIFFERENCE_SECONDS] =
    g_param_spec_double ("time-difference-seconds", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_pair_init (MtPair *self)
{
}

MtPair *
mt_pair_new_internal (MtTrace *trace,
                      MtImage *image)
{
  MtPair *self = g_object_new (MT_TYPE_PAIR, NULL);

  self->trace = g_object_ref (trace);
  self->image = g_object_ref (image);
  return self;
}

MtTrace *
mt_pair_get_trace (MtPair *self)
{
  g_return_val_if_fail (MT_IS_PAIR (self), NULL);
  return self->trace;
}

MtImage *
mt_pair_get_image (MtPair *self)
{
  g_return_val_if_fail (MT_IS_PAIR (self), NULL);
  return self->image;
}

gint64
mt_pair_get_time_difference_ms (MtPair *self)
{
  g_return_val_if_fail (MT_IS_PAIR (self), 0);
  return self->image->last_modified - self->trace->timestamp;
}

double
mt_pair_get_time_difference_seconds (MtPair *self)
{
  return mt_pair_get_time_difference_ms (self) / 1000.0;
}
