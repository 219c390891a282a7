/* mt-aws-credentials.c — AWS credentials, region and S3 endpoint */

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "mt-aws-credentials.h"
#include "mt-text.h"

G_DEFINE_QUARK (mt-aws-error-quark, mt_aws_error)

/* The shared files are small; anything larger is not one. */
#define MAX_FILE_SIZE (1024 * 1024)

struct _MtAwsCredentials
{
  gatomicrefcount ref_count;
  char *access_key_id;
  char *secret_access_key;
  char *session_token;
  char *source;
};

G_DEFINE_BOXED_TYPE (MtAwsCredentials, mt_aws_credentials,
                     mt_aws_credentials_ref, mt_aws_credentials_unref)

MtAwsCredentials *
mt_aws_credentials_new (const char *access_key_id,
                        const char *secret_access_key,
                        const char *session_token,
                        const char *source)
{
  MtAwsCredentials *self;

  g_return_val_if_fail (access_key_id != NULL, NULL);
  g_return_val_if_fail (secret_access_key != NULL, NULL);

  self = g_new0 (MtAwsCredentials, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->access_key_id = g_strdup (access_key_id);
  self->secret_access_key = g_strdup (secret_access_key);
  self->session_token = session_token != NULL && session_token[0] != '\0' ? g_strdup (session_token) : NULL;
  self->source = g_strdup (source != NULL ? source : "");
  return self;
}

MtAwsCredentials *
mt_aws_credentials_ref (MtAwsCredentials *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

static void
wipe (char *secret)
{
  if (secret != NULL)
    memset (secret, 0, strlen (secret));
  g_free (secret);
}

void
mt_aws_credentials_unref (MtAwsCredentials *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->access_key_id);
  wipe (self->secret_access_key);
  wipe (self->session_token);
  g_free (self->source);
  g_free (self);
}

const char *
mt_aws_credentials_get_access_key_id (MtAwsCredentials *self)
{
  return self->access_key_id;
}

const char *
mt_aws_credentials_get_secret_access_key (MtAwsCredentials *self)
{
  return self->secret_access_key;
}

const char *
mt_aws_credentials_get_session_token (MtAwsCredentials *self)
{
  return self->session_token;
}

const char *
mt_aws_credentials_get_source (MtAwsCredentials *self)
{
  return self->source;
}

void
mt_aws_settings_free (MtAwsSettings *settings)
{
  if (settings == NULL)
    return;
  g_clear_pointer (&settings->credentials, mt_aws_credentials_unref);
  g_free (settings->profile);
  g_free (settings->region);
  g_free (settings->region_source);
  g_free (settings->endpoint_url);
  g_free (settings->endpoint_source);
  g_free (settings);
}

/* The shared files: INI as the AWS CLI reads it. Sections in brackets,
 * `key = value`, `#` and `;` comment lines; indented lines belong to a
 * nested block (`s3 =`) and are skipped. No escapes: a value is taken as
 * written. */
typedef struct {
  GHashTable *sections; /* name → (key → value) */
  char *path;
} IniFile;

static void
ini_file_free (IniFile *ini)
{
  if (ini == NULL)
    return;
  g_hash_table_unref (ini->sections);
  g_free (ini->path);
  g_free (ini);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IniFile, ini_file_free)

static IniFile *
ini_parse (const char *path,
           const char *contents)
{
  IniFile *ini = g_new0 (IniFile, 1);
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  g_autofree gsize *lengths = g_new0 (gsize, g_strv_length (lines) + 1);
  GHashTable *section = NULL;

  /* Parsing cuts the lines; their whole length is wiped at the end. */
  for (guint i = 0; lines[i] != NULL; i++)
    lengths[i] = strlen (lines[i]);

  ini->path = g_strdup (path);
  ini->sections = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_hash_table_unref);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      char *eq;

      if (line[0] == ' ' || line[0] == '\t')
        continue;
      g_strstrip (line);
      if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
        continue;
      if (line[0] == '[')
        {
          char *close = strchr (line, ']');

          section = NULL;
          if (close == NULL)
            continue;
          *close = '\0';
          g_strstrip (line + 1);
          section = g_hash_table_lookup (ini->sections, line + 1);
          if (section == NULL)
            {
              section = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) wipe);
              g_hash_table_insert (ini->sections, g_strdup (line + 1), section);
            }
          continue;
        }
      eq = strchr (line, '=');
      if (section == NULL || eq == NULL)
        continue;
      *eq = '\0';
      g_hash_table_insert (section, g_ascii_strdown (g_strstrip (line), -1), g_strdup (g_strstrip (eq + 1)));
    }

  /* The lines held secrets; leave nothing of them in freed memory. */
  for (guint i = 0; lines[i] != NULL; i++)
    memset (lines[i], 0, lengths[i]);
  return ini;
}

/* %NULL with no error when the file simply does not exist and was not asked
 * for by name. */
static IniFile *
ini_load (const char  *path,
          const char  *variable,
          gboolean     named,
          GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  IniFile *ini;

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, NULL, &local_error);
  if (info == NULL)
    {
      if (!named && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return NULL;
      g_set_error (error, MT_AWS_ERROR, MT_AWS_ERROR_FILE,
                   _("Cannot read %s (%s): %s. Fix the file or the variable."),
                   path, variable, local_error->message);
      return NULL;
    }
  if (g_file_info_get_size (info) > MAX_FILE_SIZE)
    {
      g_set_error (error, MT_AWS_ERROR, MT_AWS_ERROR_FILE,
                   _("%s (%s) is larger than 1 MiB, too large for an AWS file. Check that %s names the right file."),
                   path, variable, variable);
      return NULL;
    }
  if (!g_file_load_contents (file, NULL, &contents, &length, NULL, &local_error))
    {
      g_set_error (error, MT_AWS_ERROR, MT_AWS_ERROR_FILE,
                   _("Cannot read %s (%s): %s. Fix the file or the variable."),
                   path, variable, local_error->message);
      return NULL;
    }
  if (memchr (contents, '\0', length) != NULL || !g_utf8_validate_len (contents, length, NULL))
    {
      memset (contents, 0, length);
      g_set_error (error, MT_AWS_ERROR, MT_AWS_ERROR_FILE,
                   _("%s (%s) is not a text file. Check that %s names the right file."),
                   path, variable, variable);
      return NULL;
    }
  ini = ini_parse (path, contents);
  memset (contents, 0, length);
  return ini;
}

static GHashTable *
ini_section (IniFile    *ini,
             const char *name)
{
  return ini != NULL ? g_hash_table_lookup (ini->sections, name) : NULL;
}

/* A profile in the config file: `[profile name]`, or `[default]`. */
static GHashTable *
config_section (IniFile    *ini,
                const char *profile)
{
  g_autofree char *name = g_strdup_printf ("profile %s", profile);
  GHashTable *section = ini_section (ini, name);

  if (section == NULL && strcmp (profile, "default") == 0)
    section = ini_section (ini, "default");
  return section;
}

static const char *
getenv_nonempty (const char * const *envp,
                 const char         *name)
{
  const char *value = g_environ_getenv ((char **) envp, name);

  return value != NULL && value[0] != '\0' ? value : NULL;
}

static char *
expand_home (const char * const *envp,
             const char         *path)
{
  const char *home = getenv_nonempty (envp, "HOME");

  if (home == NULL)
    home = g_get_home_dir ();
  if (g_str_has_prefix (path, "~/"))
    return g_build_filename (home, path + 2, NULL);
  return g_strdup (path);
}

/* Printable ASCII without white space: anything else cannot go into an
 * HTTP header and is a copying mistake. */
static gboolean
check_value (const char  *value,
             const char  *what,
             const char  *where,
             GError     **error)
{
  for (const char *p = value; *p != '\0'; p++)
    if ((guchar) *p <= ' ' || (guchar) *p >= 0x7f)
      {
        g_set_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INVALID,
                     _("The %s in %s has characters an AWS key never has (spaces, line breaks or non-ASCII). Copy it again."),
                     what, where);
        return FALSE;
      }
  return TRUE;
}

static MtAwsCredentials *
credentials_from (const char  *key_id,
                  const char  *secret,
                  const char  *token,
                  const char  *where,
                  const char  *key_id_name,
                  const char  *secret_name,
                  GError     **error)
{
  if (key_id == NULL || secret == NULL)
    {
      g_set_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INCOMPLETE,
                   _("The AWS credentials in %s have %s but not %s. Set both, or neither."),
                   where, key_id != NULL ? key_id_name : secret_name,
                   key_id != NULL ? secret_name : key_id_name);
      return NULL;
    }
  if (!check_value (key_id, key_id_name, where, error) ||
      !check_value (secret, secret_name, where, error) ||
      (token != NULL && !check_value (token, "session token", where, error)))
    return NULL;
  return mt_aws_credentials_new (key_id, secret, token, where);
}

/* Whether a wrong region is safe to say back: a misspelt name, not a key
 * pasted in its place or a line run into the next one of the file. Keys
 * are long runs of letters and digits, with / + = in secrets and tokens. */
static gboolean
could_be_region (const char *value)
{
  guint run = 0;

  if (strlen (value) > 32 || strpbrk (value, "=/+") != NULL)
    return FALSE;
  for (const char *p = value; *p != '\0'; p++)
    {
      run = g_ascii_isalnum (*p) ? run + 1 : 0;
      if (run >= 16)
        return FALSE;
    }
  return TRUE;
}

gboolean
mt_aws_region_is_valid (const char *region)
{
  if (region == NULL || region[0] == '\0' || strlen (region) > 64)
    return FALSE;
  for (const char *p = region; *p != '\0'; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '-')
      return FALSE;
  return TRUE;
}

MtAwsSettings *
mt_aws_settings_load (const char * const  *envp,
                      GError             **error)
{
  g_auto(GStrv) own_environ = NULL;
  g_autoptr(MtAwsSettings) settings = g_new0 (MtAwsSettings, 1);
  g_autoptr(IniFile) credentials_file = NULL;
  g_autoptr(IniFile) config_file = NULL;
  g_autofree char *credentials_path = NULL;
  g_autofree char *config_path = NULL;
  GHashTable *section;
  g_autofree char *profile_shown = NULL;
  const char *named_credentials, *named_config, *value;
  gboolean profile_named;

  if (envp == NULL)
    envp = (const char * const *) (own_environ = g_get_environ ());

  value = getenv_nonempty (envp, "AWS_PROFILE");
  profile_named = value != NULL;
  settings->profile = g_strdup (value != NULL ? value : "default");
  /* The profile as messages name it: the variable may hold any bytes. */
  profile_shown = mt_text_quote (settings->profile, -1, MT_TEXT_QUOTE_MAX);

  named_credentials = getenv_nonempty (envp, "AWS_SHARED_CREDENTIALS_FILE");
  credentials_path = expand_home (envp, named_credentials ? named_credentials : "~/.aws/credentials");
  named_config = getenv_nonempty (envp, "AWS_CONFIG_FILE");
  config_path = expand_home (envp, named_config ? named_config : "~/.aws/config");

  /* Credentials: the environment, then the profile in either file. */
  {
    const char *key_id = getenv_nonempty (envp, "AWS_ACCESS_KEY_ID");
    const char *secret = getenv_nonempty (envp, "AWS_SECRET_ACCESS_KEY");

    if (key_id != NULL || secret != NULL)
      {
        settings->credentials = credentials_from (key_id, secret,
                                                  getenv_nonempty (envp, "AWS_SESSION_TOKEN"),
                                                  _("the environment"),
                                                  "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", error);
        if (settings->credentials == NULL)
          return NULL;
      }
  }

  credentials_file = ini_load (credentials_path, "AWS_SHARED_CREDENTIALS_FILE", named_credentials != NULL, error);
  if (credentials_file == NULL && error != NULL && *error != NULL)
    return NULL;
  config_file = ini_load (config_path, "AWS_CONFIG_FILE", named_config != NULL, error);
  if (config_file == NULL && error != NULL && *error != NULL)
    return NULL;

  if (settings->credentials == NULL)
    {
      GHashTable *from_credentials = ini_section (credentials_file, settings->profile);
      GHashTable *from_config = config_section (config_file, settings->profile);

      section = from_credentials != NULL && (g_hash_table_contains (from_credentials, "aws_access_key_id") ||
                                             g_hash_table_contains (from_credentials, "aws_secret_access_key"))
                ? from_credentials : from_config;
      if (section != NULL && (g_hash_table_contains (section, "aws_access_key_id") ||
                              g_hash_table_contains (section, "aws_secret_access_key")))
        {
          g_autofree char *where = g_strdup_printf (_("profile “%s” in %s"), profile_shown,
                                                    section == from_credentials ? credentials_path : config_path);

          settings->credentials = credentials_from (g_hash_table_lookup (section, "aws_access_key_id"),
                                                    g_hash_table_lookup (section, "aws_secret_access_key"),
                                                    g_hash_table_lookup (section, "aws_session_token"),
                                                    where, "aws_access_key_id", "aws_secret_access_key", error);
          if (settings->credentials == NULL)
            return NULL;
        }
      else if (profile_named && from_credentials == NULL && from_config == NULL)
        {
          g_set_error (error, MT_AWS_ERROR, MT_AWS_ERROR_PROFILE_NOT_FOUND,
                       _("AWS_PROFILE is “%s”, but neither %s nor %s has that profile. Fix AWS_PROFILE or add the profile."),
                       profile_shown, credentials_path, config_path);
          return NULL;
        }
      else
        {
          g_set_error (error, MT_AWS_ERROR, MT_AWS_ERROR_NO_CREDENTIALS,
                       _("No AWS credentials. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                         "(and AWS_SESSION_TOKEN for temporary keys), or add them to profile “%s” in %s."),
                       profile_shown, credentials_path);
          return NULL;
        }
    }

  /* Region: the environment, then the profile, then us-east-1 (S3 answers
   * with the bucket's real region, and the client follows it). */
  if ((value = getenv_nonempty (envp, "AWS_REGION")) != NULL)
    settings->region_source = g_strdup ("AWS_REGION");
  else if ((value = getenv_nonempty (envp, "AWS_DEFAULT_REGION")) != NULL)
    settings->region_source = g_strdup ("AWS_DEFAULT_REGION");
  else if ((section = config_section (config_file, settings->profile)) != NULL &&
           (value = g_hash_table_lookup (section, "region")) != NULL && value[0] != '\0')
    settings->region_source = g_strdup_printf (_("profile “%s” in %s"), profile_shown, config_path);
  else
    {
      value = "us-east-1";
      settings->region_source = g_strdup (_("default"));
    }
  if (!mt_aws_region_is_valid (value))
    {
      if (could_be_region (value))
        {
          g_autofree char *quoted = mt_text_quote (value, -1, MT_TEXT_QUOTE_MAX);

          g_set_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INVALID,
                       _("“%s” (from %s) is not an AWS region. Use a name such as ap-southeast-1."),
                       quoted, settings->region_source);
        }
      else
        g_set_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INVALID,
                     _("The region from %s is not an AWS region. Use a name such as ap-southeast-1."),
                     settings->region_source);
      return NULL;
    }
  settings->region = g_strdup (value);

  if ((value = getenv_nonempty (envp, "AWS_ENDPOINT_URL_S3")) != NULL)
    settings->endpoint_source = g_strdup ("AWS_ENDPOINT_URL_S3");
  else if ((value = getenv_nonempty (envp, "AWS_ENDPOINT_URL")) != NULL)
    settings->endpoint_source = g_strdup ("AWS_ENDPOINT_URL");
  if (value != NULL)
    {
      g_autoptr(MtS3Endpoint) check = NULL;
      g_autoptr(GError) local_error = NULL;

      check = mt_s3_endpoint_new (value, settings->region, "bucket", &local_error);
      if (check == NULL)
        {
          g_set_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INVALID, _("%s: %s"),
                       settings->endpoint_source, local_error->message);
          return NULL;
        }
      settings->endpoint_url = g_strdup (value);
    }

  return g_steal_pointer (&settings);
}

void
mt_s3_endpoint_free (MtS3Endpoint *endpoint)
{
  if (endpoint == NULL)
    return;
  g_free (endpoint->scheme);
  g_free (endpoint->hostname);
  g_free (endpoint->host);
  g_free (endpoint->base_path);
  g_free (endpoint);
}

/* S3's naming rules: 3 to 63 lower-case letters, digits, dots and dashes,
 * beginning and ending with a letter or digit; anything else could not be
 * a host name, and is refused before it reaches a URL. */
static gboolean
bucket_is_valid (const char *bucket)
{
  gsize length = bucket != NULL ? strlen (bucket) : 0;

  if (length < 3 || length > 63 ||
      !(g_ascii_islower (bucket[0]) || g_ascii_isdigit (bucket[0])) ||
      !(g_ascii_islower (bucket[length - 1]) || g_ascii_isdigit (bucket[length - 1])))
    return FALSE;
  for (const char *p = bucket; *p != '\0'; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

MtS3Endpoint *
mt_s3_endpoint_new (const char  *endpoint_url,
                    const char  *region,
                    const char  *bucket,
                    GError     **error)
{
  g_autoptr(MtS3Endpoint) endpoint = g_new0 (MtS3Endpoint, 1);

  if (!bucket_is_valid (bucket))
    {
      g_autofree char *quoted = mt_text_quote (bucket, -1, MT_TEXT_QUOTE_MAX);

      g_set_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INVALID,
                   _("“%s” is not an S3 bucket name: use 3 to 63 lower-case letters, digits, dots and dashes, starting and ending with a letter or digit."),
                   quoted);
      return NULL;
    }
  if (!mt_aws_region_is_valid (region))
    {
      g_autofree char *quoted = mt_text_quote (region, -1, MT_TEXT_QUOTE_MAX);

      g_set_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INVALID,
                   _("“%s” is not an AWS region. Use a name such as ap-southeast-1."),
                   quoted);
      return NULL;
    }

  endpoint->port = -1;
  if (endpoint_url == NULL)
    {
      endpoint->scheme = g_strdup ("https");
      endpoint->path_style = strchr (bucket, '.') != NULL;
      if (endpoint->path_style)
        {
          endpoint->hostname = g_strdup_printf ("s3.%s.amazonaws.com", region);
          endpoint->base_path = g_strdup_printf ("/%s", bucket);
        }
      else
        {
          endpoint->hostname = g_strdup_printf ("%s.s3.%s.amazonaws.com", bucket, region);
          endpoint->base_path = g_strdup ("");
        }
      endpoint->host = g_strdup (endpoint->hostname);
      return g_steal_pointer (&endpoint);
    }

  {
    g_autoptr(GUri) uri = g_uri_parse (endpoint_url, G_URI_FLAGS_ENCODED, NULL);
    const char *scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
    const char *host = uri != NULL ? g_uri_get_host (uri) : NULL;
    g_autofree char *path = NULL;
    int port;

    if (uri == NULL || scheme == NULL || host == NULL || host[0] == '\0' ||
        (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
        g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL || g_uri_get_userinfo (uri) != NULL)
      {
        /* Never say back a URL that may have a key in it: in its user
         * part, its query or its fragment. */
        if (strpbrk (endpoint_url, "@?#") == NULL)
          {
            g_autofree char *quoted = mt_text_quote (endpoint_url, -1, MT_TEXT_QUOTE_MAX);

            g_set_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INVALID,
                         _("“%s” is not an endpoint URL. Write it as https://host[:port][/path]."),
                         quoted);
          }
        else
          g_set_error_literal (error, MT_AWS_ERROR, MT_AWS_ERROR_INVALID,
                               _("The endpoint URL is not one Mealtrace can use: keys belong in the AWS credentials, "
                                 "not in the URL, and it has no query or fragment. Write it as https://host[:port][/path]."));
        return NULL;
      }
    port = g_uri_get_port (uri);
    endpoint->scheme = g_ascii_strdown (scheme, -1);
    endpoint->path_style = TRUE;
    /* The default port is not written: the Host header sent leaves it out. */
    if (port == (strcmp (endpoint->scheme, "https") == 0 ? 443 : 80))
      port = -1;
    endpoint->port = port;
    endpoint->hostname = g_strdup (host);
    /* An IPv6 literal keeps its brackets in the Host header. */
    if (strchr (host, ':') != NULL)
      endpoint->host = port > 0 ? g_strdup_printf ("[%s]:%d", host, port) : g_strdup_printf ("[%s]", host);
    else
      endpoint->host = port > 0 ? g_strdup_printf ("%s:%d", host, port) : g_strdup (host);
    path = g_strdup (g_uri_get_path (uri));
    while (g_str_has_suffix (path, "/"))
      path[strlen (path) - 1] = '\0';
    endpoint->base_path = g_strdup_printf ("%s/%s", path, bucket);
  }
  return g_steal_pointer (&endpoint);
}
