/* mt-test-files.h — the tests' own temporary folders */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Removes @path and all it holds; links are removed, not followed. */
void mt_test_remove_tree (const char *path);

G_END_DECLS
