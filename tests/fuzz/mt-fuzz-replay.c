/* mt-fuzz-replay.c — runs a fuzz target over files, without libFuzzer
 *
 * `fuzz-TARGET-replay DIR_OR_FILE…`: every file of each folder (sorted by
 * name) or each file given goes once through LLVMFuzzerTestOneInput(), as
 * libFuzzer would give it. A crash or a broken invariant aborts, and the
 * name of the input that did it is on stderr. The normal and the sanitizer
 * builds' suites run each target so over its seed corpus and its kept
 * crashers.
 */

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt-fuzz.h"

static guint inputs;

static void
run_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  guint8 *copy;

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      fprintf (stderr, "cannot read %s: %s\n", path, error->message);
      exit (1);
    }
  fprintf (stderr, "%s\n", path);
  /* An exact-size copy, as libFuzzer gives, so that a read past the end
   * is caught by AddressSanitizer. */
  copy = g_memdup2 (contents, length);
  LLVMFuzzerTestOneInput (copy, length);
  g_free (copy);
  inputs++;
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
run_path (const char *path)
{
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      run_file (path);
      return;
    }
  dir = g_dir_open (path, 0, &error);
  if (dir == NULL)
    {
      fprintf (stderr, "cannot open %s: %s\n", path, error->message);
      exit (1);
    }
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    run_file (g_ptr_array_index (names, i));
}

int
main (int    argc,
      char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: %s DIR_OR_FILE…\n", argv[0]);
      return 2;
    }
  LLVMFuzzerInitialize (&argc, &argv);
  for (int i = 1; i < argc; i++)
    run_path (argv[i]);
  if (inputs == 0)
    {
      fprintf (stderr, "no inputs in the paths given\n");
      return 1;
    }
  printf ("%u inputs, each went through without a fault\n", inputs);
  return 0;
}
