/* fuzz-aws-config.c — the AWS shared credentials and config files
 *
 * The input is the credentials file, a NUL, the config file, a NUL, and
 * the profile to read (AWS_PROFILE; none when that part is empty). The
 * files are written to a folder of the target's own and read as
 * mt_aws_settings_load() reads them. What must hold: settings that load
 * have credentials and a valid region; settings that do not fail with
 * MT_AWS_ERROR and a UTF-8 message that quotes neither the secret access
 * key nor the session token found in either file.
 */

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt-aws-credentials.h"
#include "mt-fuzz.h"

/* What the seed corpus puts in keys: the fuzzer carries it about. */
#define CANARY "CANARYsecretVALUE"

/* Whether the canary appears only where a key is: on lines of
 * aws_access_key_id, aws_secret_access_key or aws_session_token. Other
 * values (a region, a profile's name) are quoted in errors by design. */
static gboolean
canary_only_in_keys (const char *file)
{
  g_auto(GStrv) lines = g_strsplit (file, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      char *eq;

      if (strstr (lines[i], CANARY) == NULL)
        continue;
      eq = strchr (lines[i], '=');
      if (eq == NULL)
        return FALSE;
      name = g_ascii_strdown (lines[i], eq - lines[i]);
      g_strstrip (name);
      if (strcmp (name, "aws_access_key_id") != 0 && strcmp (name, "aws_secret_access_key") != 0 &&
          strcmp (name, "aws_session_token") != 0)
        return FALSE;
    }
  return TRUE;
}

static char *folder;
static char *credentials_path;
static char *config_path;

static void
remove_folder (void)
{
  g_unlink (credentials_path);
  g_unlink (config_path);
  g_rmdir (folder);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  mt_fuzz_setup ();
  folder = g_dir_make_tmp ("mealtrace-fuzz-aws-XXXXXX", NULL);
  if (folder == NULL)
    abort ();
  credentials_path = g_build_filename (folder, "credentials", NULL);
  config_path = g_build_filename (folder, "config", NULL);
  atexit (remove_folder);
  return 0;
}

static void
write_part (const char    *path,
            const uint8_t *data,
            size_t         size)
{
  if (!g_file_set_contents (path, (const char *) data, size, NULL))
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(MtAwsSettings) settings = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *credentials = NULL;
  g_autofree char *config = NULL;
  g_autofree char *profile = NULL;
  g_autofree char *credentials_variable = g_strconcat ("AWS_SHARED_CREDENTIALS_FILE=", credentials_path, NULL);
  g_autofree char *config_variable = g_strconcat ("AWS_CONFIG_FILE=", config_path, NULL);
  g_autofree char *profile_variable = NULL;
  const char *envp[5] = { "HOME=/nonexistent", credentials_variable, config_variable, NULL, NULL };
  const uint8_t *rest, *config_start;
  size_t rest_size, config_size;

  /* The parts, between the NULs. */
  credentials = mt_fuzz_take_part (data, size, &config_start, &config_size);
  config = mt_fuzz_take_part (config_start, config_size, &rest, &rest_size);
  profile = g_strndup ((const char *) rest, rest_size);
  write_part (credentials_path, (const uint8_t *) credentials, strlen (credentials));
  write_part (config_path, (const uint8_t *) config, strlen (config));
  if (profile[0] != '\0')
    envp[3] = profile_variable = g_strconcat ("AWS_PROFILE=", profile, NULL);

  settings = mt_aws_settings_load (envp, &error);
  if (settings != NULL)
    {
      if (error != NULL || settings->credentials == NULL || !mt_aws_region_is_valid (settings->region))
        abort ();
      return 0;
    }
  if (error == NULL || error->domain != MT_AWS_ERROR)
    abort ();
  mt_fuzz_check_message (error->message, "AWS settings");
  if (strstr (profile, CANARY) == NULL && canary_only_in_keys (credentials) && canary_only_in_keys (config) &&
      strstr (error->message, CANARY) != NULL)
    abort ();
  return 0;
}
