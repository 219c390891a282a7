/* mt-test-files.c — the tests' own temporary folders, and the exports in them */

#include <glib/gstdio.h>
#include <stdarg.h>

#include "mt-test-files.h"

void
mt_test_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        mt_test_remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static char *
replace_all (char       *text,
             const char *pattern,
             const char *replacement)
{
  g_autoptr(GRegex) regex = g_regex_new (pattern, 0, 0, NULL);
  char *next;

  g_assert_nonnull (regex);
  next = g_regex_replace_literal (regex, text, -1, 0, replacement, 0, NULL);
  g_free (text);
  return next;
}

char *
mt_test_normalise_export (const char *text,
                          ...)
{
  static const char *const common[][2] = {
    { "127\\.0\\.0\\.1:[0-9]+", "127.0.0.1:PORT" },
    { "\"export_timestamp\": \"[^\"]*\"", "\"export_timestamp\": \"EXPORT_TIME\"" },
    { "X-Amz-Date=[0-9TZ]+", "X-Amz-Date=DATE" },
    { "%2F[0-9]{8}%2F", "%2FDAY%2F" },
    { "X-Amz-Signature=[0-9a-f]{64}", "X-Amz-Signature=SIGNATURE" },
  };
  char *result = g_strdup (text);
  const char *pattern;
  va_list args;

  for (guint i = 0; i < G_N_ELEMENTS (common); i++)
    result = replace_all (result, common[i][0], common[i][1]);
  va_start (args, text);
  while ((pattern = va_arg (args, const char *)) != NULL)
    result = replace_all (result, pattern, va_arg (args, const char *));
  va_end (args);
  return result;
}
