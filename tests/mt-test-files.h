/* mt-test-files.h — the tests' own temporary folders, and the exports in them */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Removes @path and all it holds; links are removed, not followed. */
void  mt_test_remove_tree      (const char *path);

/* @text, an export, with what changes from run to run put as fixed words:
 * the servers' ports, the moment of the export, the presigned URLs' dates
 * and signatures; then each further pattern (a GRegex) replaced by the
 * replacement that follows it, up to a %NULL. */
char *mt_test_normalise_export (const char *text,
                                ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
