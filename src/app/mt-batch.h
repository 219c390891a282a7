/* mt-batch.h — `mealtrace --batch`: the seed's batch mode, headless
 *
 * SPEC §7: the window from DAYS or --from/--to, the settings from the
 * options over the environment and .env, the job, the seed's console
 * summary on stdout, progress on stderr, JSON and CSV exports, and the
 * exit codes below. Nothing here touches a display.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MT_BATCH_EXIT_OK = 0,
  MT_BATCH_EXIT_INCOMPLETE = 1,  /* a fetch failed, or a user is incomplete */
  MT_BATCH_EXIT_USAGE = 2,
  MT_BATCH_EXIT_CONFIG = 3,      /* settings missing, or keys refused */
  MT_BATCH_EXIT_INTERRUPTED = 130,
} MtBatchExit;

/* Whether @argv asks for batch mode (or for --help or --version, which
 * batch mode answers): then no display is needed. */
gboolean mt_batch_wanted (int    argc,
                          char **argv);

/* Runs batch mode to its end and returns the exit code. */
int      mt_batch_run    (int    argc,
                          char **argv);

G_END_DECLS
