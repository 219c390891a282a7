/* mt-bench-run.h — running the batch binary, and what it cost
 *
 * The benchmarks run `mealtrace` as a process of its own, as a person or a
 * script would, against servers in the benchmark's process.
 */
#pragma once

#include <glib.h>

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

/* This process's CPU time so far, in ms: the servers'. */
double  mt_bench_process_cpu_ms (void);

void    mt_bench_remove_tree    (const char         *path);

G_END_DECLS
