/* mt-bench-run.h — running the batch binary, and what it cost
 *
 * The benchmarks run `mealtrace` as a process of its own, as a person or a
 * script would, against servers in the benchmark's process.
 */
#pragma once

#include <gio/gio.h>

#include "mt-loopback-langfuse.h"
#include "mt-loopback-s3.h"

G_BEGIN_DECLS

/* What one run of the binary gave. */
typedef struct {
  double wall;        /* ms */
  double cpu;         /* ms, the binary's own */
  double peak_mb;     /* its peak resident memory, read from /proc as it runs */
  guint retries;      /* as its summary says */
  char *stdout_text;  /* to free */
} MtBenchRun;

/* Runs @argv with @env (NAME, value, … NULL) from @dir, serving this
 * thread's main context meanwhile; aborts when it fails. */
void    mt_bench_spawn          (const char * const *argv,
                                 const char * const *env,
                                 const char         *dir,
                                 MtBenchRun         *out);

/* `mealtrace --batch` over the benchmark window, against @langfuse and @s3
 * (filled by mt_bench_data_populate()), over @api, its exports in
 * @output_dir. The binary is $MEALTRACE_BINARY. */
void    mt_bench_run_batch      (MtLoopbackLangfuse *langfuse,
                                 MtLoopbackS3       *s3,
                                 const char         *api,
                                 const char         *dir,
                                 const char         *output_dir,
                                 MtBenchRun         *out);

/* This process's peak resident memory so far, in kB. */
guint64 mt_bench_peak_rss_kb    (void);

/* An async call's result kept in @data (a GAsyncResult **, to unref), and
 * the main loop run until it is there. */
void    mt_bench_keep_result    (GObject            *source,
                                 GAsyncResult       *result,
                                 gpointer            data);
GAsyncResult *mt_bench_wait     (GAsyncResult      **slot);

/* This process's CPU time so far, in ms: the servers'. */
double  mt_bench_process_cpu_ms (void);

G_END_DECLS
