/* mt-bench-data.c — the benchmarks' data sets, the same on every run */

#include "config.h"

#include <math.h>

#include "mt-bench-data.h"

#define HEAVY_USERS 5
#define HEAVY_TRACES 900
#define HEAVY_IMAGES 150
#define ARCHIVE 3000

static const MtBenchData scales[] = {
  [MT_BENCH_MEDIUM] = { "medium", 300, 8000, 2500, 0, 0, 0 },
  [MT_BENCH_LARGE] = { "large", 2000, 50000, 15000, 0, 0, 0 },
};

void
mt_bench_data_generate (MtBenchScale        scale,
                        gboolean            sparse,
                        const MtBenchSink  *sink,
                        gpointer            sink_data,
                        MtBenchData        *data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (2026 + scale);
  g_autofree guint *objects = NULL;
  guint images = 0;
  /* The large set's heaviest users: over 1,000 objects each. */
  guint heavy = scale == MT_BENCH_LARGE ? HEAVY_USERS : 0;

  *data = scales[scale];
  objects = g_new0 (guint, data->users);
  for (guint i = 0; i < data->traces; i++)
    {
      g_autofree char *id = g_strdup_printf ("trace-%06u", i);
      g_autofree char *root = g_strdup_printf ("trace-%06u-root", i);
      g_autofree char *span = g_strdup_printf ("trace-%06u-upload", i);
      guint u = i < heavy * HEAVY_TRACES ? i / HEAVY_TRACES : (guint) g_rand_int_range (rand, heavy, data->users);
      g_autofree char *user = g_strdup_printf ("user-%04u", u);
      gint64 timestamp = MT_BENCH_FROM + (gint64) (g_rand_double (rand) * (MT_BENCH_TO - MT_BENCH_FROM - 3600000));
      g_autofree char *key = g_strdup_printf ("meal-images/%s/%" G_GINT64_FORMAT ".jpg", user, timestamp);
      g_autofree char *input = g_strdup_printf ("{\"image\":\"%s\",\"note\":\"lunch at the canteen, rice and grilled fish\"}",
                                                key);
      g_autofree char *output = g_strdup_printf ("{\"dishes\":[\"rice\",\"grilled fish\",\"greens\"],"
                                                 "\"calories\":%u,\"protein_g\":%u}",
                                                 400 + i % 500, 20 + i % 30);
      guint count = 1 + (i % 3 == 0);

      sink->trace (sink_data, id, timestamp, "meal-analysis", user, input, output);
      sink->observation (sink_data, id, span, "SPAN", timestamp + 20, root, NULL, NULL, -1, NULL, NAN);
      for (guint n = 0; n < count; n++)
        {
          g_autofree char *generation = g_strdup_printf ("trace-%06u-g%u", i, n);

          sink->observation (sink_data, id, generation, "GENERATION", timestamp + 100 + 2000 * n, root, "gpt-4o",
                             "meal-analyzer", 3,
                             "[{\"role\":\"system\",\"content\":\"You are a nutrition assistant.\"},"
                             "{\"role\":\"user\",\"content\":\"What is on this plate?\"}]",
                             0.0025 + (i % 7) * 0.0001);
          data->generations++;
        }
      objects[u]++;
      /* Heavy users photograph most meals they ask about. */
      if ((i % 10 < 3 || (u < heavy && i % HEAVY_TRACES < HEAVY_IMAGES)) && images < data->images)
        {
          sink->image (sink_data, key, timestamp + g_rand_int_range (rand, 60000, 600000),
                       g_rand_int_range (rand, 80000, 400000));
          objects[u]++;
          images++;
        }
    }
  while (images < data->images)
    {
      guint u = (guint) g_rand_int_range (rand, 0, data->users);
      g_autofree char *key = g_strdup_printf ("meal-images/user-%04u/extra-%05u.jpg", u, images);

      sink->image (sink_data, key, MT_BENCH_FROM + (gint64) (g_rand_double (rand) * (MT_BENCH_TO - MT_BENCH_FROM)),
                   120000);
      objects[u]++;
      images++;
    }
  /* An archive of earlier photos that sorts first: not in the window. */
  for (guint i = 0; sparse && i < ARCHIVE; i++)
    {
      g_autofree char *key = g_strdup_printf ("meal-images/0-archive-%03u/%05u.jpg", i / 10, i);

      sink->image (sink_data, key, MT_BENCH_FROM - 86400000 * (gint64) (1 + i % 300), 100000);
      data->archive++;
    }
  for (guint u = 0; u < data->users; u++)
    data->largest_user = MAX (data->largest_user, objects[u]);
}

/* Into the loopback servers. */
typedef struct {
  MtLoopbackLangfuse *langfuse;
  MtLoopbackS3 *s3;
} Servers;

static void
servers_trace (gpointer data, const char *id, gint64 timestamp, const char *name, const char *user_id,
               const char *input, const char *output)
{
  Servers *servers = data;

  mt_loopback_langfuse_add_trace (servers->langfuse, id, timestamp, name, user_id, NULL, input, output);
}

static void
servers_observation (gpointer data, const char *trace_id, const char *id, const char *type, gint64 start,
                     const char *parent_id, const char *model, const char *prompt_name, int prompt_version,
                     const char *input, double cost)
{
  Servers *servers = data;

  mt_loopback_langfuse_add_observation (servers->langfuse, trace_id, id, type, start, parent_id, model, prompt_name,
                                        prompt_version, input, cost);
}

static void
servers_image (gpointer data, const char *key, gint64 last_modified, gsize size)
{
  Servers *servers = data;

  mt_loopback_s3_put (servers->s3, MT_BENCH_BUCKET, key, last_modified, NULL, size);
}

void
mt_bench_data_populate (MtBenchScale        scale,
                        gboolean            sparse,
                        MtLoopbackLangfuse *langfuse,
                        MtLoopbackS3       *s3,
                        MtBenchData        *data)
{
  static const MtBenchSink sink = { servers_trace, servers_observation, servers_image };
  Servers servers = { langfuse, s3 };

  mt_loopback_s3_add_bucket (s3, MT_BENCH_BUCKET);
  mt_bench_data_generate (scale, sparse, &sink, &servers, data);
}
