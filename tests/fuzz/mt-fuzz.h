/* mt-fuzz.h — what Mealtrace's fuzz targets share
 *
 * Each target is one LLVMFuzzerTestOneInput(). In the fuzzing build
 * (-Dfuzzing=true, clang) libFuzzer drives it; in the normal build
 * mt-fuzz-replay.c runs it over the seed corpus and the crashers kept as
 * regressions, so that both builds' test suites replay them.
 *
 * A target checks what must hold of every input, not only that nothing
 * crashes: a broken invariant aborts, and counts as a crash.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

int  LLVMFuzzerTestOneInput (const uint8_t *data,
                             size_t         size);
int  LLVMFuzzerInitialize   (int           *argc,
                             char        ***argv);

/* Makes GLib's warnings and criticals (a g_return_if_fail() that fails)
 * abort: a target that meets one has found a bug. mt-fuzz.c's
 * LLVMFuzzerInitialize() does only this; a target that defines its own
 * calls it first. */
void mt_fuzz_setup          (void);

/* Aborts with @what when @message is not valid UTF-8: errors are shown
 * in labels and written to terminals as they are. */
void mt_fuzz_check_message  (const char    *message,
                             const char    *what);

/* The part of @data up to the first NUL (all of it when there is none),
 * as a new string; @rest and @rest_size, when not %NULL, get what follows
 * the NUL (empty when there is none). */
char *mt_fuzz_take_part     (const uint8_t  *data,
                             size_t          size,
                             const uint8_t **rest,
                             size_t         *rest_size);

G_END_DECLS
