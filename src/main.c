/* main.c — Mealtrace: batch mode without a display, or the window */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "mt-application.h"
#include "mt-batch.h"

/* The translations installed beside the binary: PREFIX/share/locale for
 * PREFIX/bin/mealtrace. The same as LOCALEDIR once installed where it was
 * built for; right too for a copy installed elsewhere (a staging DESTDIR,
 * a moved prefix). LOCALEDIR when the binary is not in a bin folder. */
static char *
locale_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *bin = exe != NULL ? g_path_get_dirname (exe) : NULL;
  g_autofree char *bin_name = bin != NULL ? g_path_get_basename (bin) : NULL;
  g_autofree char *prefix = bin != NULL ? g_path_get_dirname (bin) : NULL;
  g_autofree char *dir = NULL;

  if (bin_name == NULL || g_strcmp0 (bin_name, "bin") != 0)
    return g_strdup (LOCALEDIR);
  dir = g_build_filename (prefix, "share", "locale", NULL);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return g_strdup (LOCALEDIR);
  return g_steal_pointer (&dir);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *translations = locale_dir ();

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, translations);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  /* Batch mode, --help and --version never need a display: they are
   * answered before any toolkit starts. */
  if (mt_batch_wanted (argc, argv))
    return mt_batch_run (argc, argv);

  {
    g_autoptr(MtApplication) app = mt_application_new (G_APPLICATION_DEFAULT_FLAGS);

    return g_application_run (G_APPLICATION (app), argc, argv);
  }
}
