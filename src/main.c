/* main.c — Mealtrace: batch mode without a display, or the window */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "mt-application.h"
#include "mt-batch.h"

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
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
