/* mt-pair.h — an image and the trace that produced it */
#pragma once

#include "mt-image.h"
#include "mt-trace.h"

G_BEGIN_DECLS

#define MT_TYPE_PAIR (mt_pair_get_type ())

G_DECLARE_FINAL_TYPE (MtPair, mt_pair, MT, PAIR, GObject)

MtTrace *mt_pair_get_trace                   (MtPair *self);
MtImage *mt_pair_get_image                   (MtPair *self);

/* image time − trace time; always > 0 for a pair the matcher made. */
gint64   mt_pair_get_time_difference_ms      (MtPair *self);
double   mt_pair_get_time_difference_seconds (MtPair *self);

G_END_DECLS
