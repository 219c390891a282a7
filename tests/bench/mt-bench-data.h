/* mt-bench-data.h — the benchmarks' data sets, the same on every run
 *
 * A month of a busy nutrition app, at two scales beside the demo (small):
 *  - medium: 300 users, 8,000 traces, 2,500 images;
 *  - large: 2,000 users, 50,000 traces, 15,000 images, five users with
 *    over 1,000 objects each.
 * Each trace has its root, an upload span and one or two generations;
 * three traces in ten get their photo 1 to 10 minutes later, and users who
 * photograph without asking the model add the other photos. A "sparse"
 * bucket also holds 3,000 photos of an archive that sorts before the users
 * and is not in the window: the first page of the prefix then covers no
 * user of the window, and Mealtrace lists each user's folder instead of
 * the whole prefix.
 */
#pragma once

#include "mt-loopback-langfuse.h"
#include "mt-loopback-s3.h"

G_BEGIN_DECLS

typedef enum {
  MT_BENCH_MEDIUM,
  MT_BENCH_LARGE,
} MtBenchScale;

#define MT_BENCH_BUCKET "meals"
/* The keys the servers take and the binary is given. */
#define MT_BENCH_PUBLIC_KEY "pk-lf-bench"
#define MT_BENCH_SECRET_KEY "sk-lf-bench"
#define MT_BENCH_KEY_ID "AKIABENCHBENCHBENCH0"
#define MT_BENCH_AWS_SECRET "bench-aws-secret-0123456789abcdefghijk"
/* 2026-10-01T00:00:00Z and thirty days on. */
#define MT_BENCH_FROM G_GINT64_CONSTANT (1790812800000)
#define MT_BENCH_TO (MT_BENCH_FROM + 30 * G_GINT64_CONSTANT (86400000))
#define MT_BENCH_FROM_TEXT "2026-10-01T00:00:00Z"
#define MT_BENCH_TO_TEXT "2026-10-31T00:00:00Z"

typedef struct {
  const char *name;
  guint users;
  guint traces;
  guint images;
  guint generations;   /* filled in by mt_bench_data_populate() */
  guint archive;       /* photos outside the window, sparse buckets only */
  guint largest_user;  /* the most objects (traces and images) of one user */
} MtBenchData;

/* Where a data set goes: its traces, their observations (@cost NaN: none;
 * @prompt_version < 0: none), its photos. */
typedef struct {
  void (*trace)       (gpointer data, const char *id, gint64 timestamp, const char *name, const char *user_id,
                       const char *input, const char *output);
  void (*observation) (gpointer data, const char *trace_id, const char *id, const char *type, gint64 start,
                       const char *parent_id, const char *model, const char *prompt_name, int prompt_version,
                       const char *input, double cost);
  void (*image)       (gpointer data, const char *key, gint64 last_modified, gsize size);
} MtBenchSink;

/* Hands the data set of @scale to @sink, the same each run. */
void mt_bench_data_generate (MtBenchScale        scale,
                             gboolean            sparse,
                             const MtBenchSink  *sink,
                             gpointer            sink_data,
                             MtBenchData        *data);

/* Fills both servers with the data set of @scale; the same each run. */
void mt_bench_data_populate (MtBenchScale        scale,
                             gboolean            sparse,
                             MtLoopbackLangfuse *langfuse,
                             MtLoopbackS3       *s3,
                             MtBenchData        *data);

G_END_DECLS
