/* mt-demo.h — the demo: Langfuse and S3 on loopback, with a month of meals
 *
 * SPEC §9: loopback servers inside the process that speak the same HTTP
 * the real services do (signatures and keys checked), filled with a data
 * set drawn from a fixed seed around the moment the demo starts, so that
 * every time filter shows something: 24 users, over 300 traces with their
 * inputs, prompts, outputs, models and costs, and 80 meal photos. Every
 * case is there: pairs, traces left over, photos before any trace, users
 * without photos, photos of users without traces, traces without a user.
 */
#pragma once

#include <glib.h>

#include "mt-config.h"

G_BEGIN_DECLS

/* The keys the demo's servers take. They open nothing but the demo. */
#define MT_DEMO_LANGFUSE_PUBLIC_KEY "pk-lf-mealtrace-demo"
#define MT_DEMO_LANGFUSE_SECRET_KEY "sk-lf-mealtrace-demo"
#define MT_DEMO_AWS_ACCESS_KEY_ID "AKIAMEALTRACEDEMO000"
#define MT_DEMO_AWS_SECRET_ACCESS_KEY "mealtrace-demo-secret-access-key"
#define MT_DEMO_BUCKET "mealtrace-demo"

typedef struct _MtDemo MtDemo;

/* Starts the servers in the thread-default main context, with the data set
 * placed around @now (milliseconds since the epoch). */
MtDemo     *mt_demo_new                (gint64                 now);
void        mt_demo_free               (MtDemo                *self);

const char *mt_demo_get_langfuse_url   (MtDemo                *self);
const char *mt_demo_get_s3_endpoint    (MtDemo                *self);

/* The demo's configuration: its servers and keys, with the time zone, gap
 * and API generation still read from @sources. */
MtConfig   *mt_demo_load_config        (MtDemo                *self,
                                        const MtConfigSources *sources,
                                        GError               **error);

/* What the data set holds, for those who check it. */
guint       mt_demo_get_n_traces       (MtDemo                *self);
guint       mt_demo_get_n_images       (MtDemo                *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtDemo, mt_demo_free)

G_END_DECLS
