/* mt-config.c — every setting of SPEC §2, and where it came from */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mt-config.h"
#include "mt-demo.h"
#include "mt-text.h"
#include "mt-time.h"

G_DEFINE_QUARK (mt-config-error-quark, mt_config_error)

G_DEFINE_BOXED_TYPE (MtConfig, mt_config, mt_config_ref, mt_config_unref)

/* A .env is a few lines; anything this big is not one. */
#define MAX_DOTENV_SIZE (1024 * 1024)
#define DEFAULT_PREFIX "meal-images/"
#define DEFAULT_TIMEZONE "+07:00"
#define DEFAULT_URL_LIFETIME 3600
#define MAX_URL_LIFETIME (7 * 24 * 3600)
#define DEFAULT_MAX_IN_FLIGHT 16
#define MAX_MAX_IN_FLIGHT 64
/* Ten years: a longer gap is a typing slip. */
#define MAX_GAP_SECONDS (10 * 366 * 24 * 3600)

/* The window's preferences, and the settings they stand for. */
static const struct {
  const char *key;
  const char *name;
} settings_keys[] = {
  { "s3-bucket", MT_CONFIG_BUCKET },
  { "s3-prefix", MT_CONFIG_PREFIX },
  { "langfuse-base-url", MT_CONFIG_LANGFUSE_BASE_URL },
  { "time-zone", MT_CONFIG_TIMEZONE },
  { "max-gap-seconds", MT_CONFIG_MAX_GAP },
  { "langfuse-api", MT_CONFIG_LANGFUSE_API },
  { "max-in-flight", MT_CONFIG_MAX_IN_FLIGHT },
  { "url-lifetime-seconds", MT_CONFIG_URL_LIFETIME },
};

MtConfig *
mt_config_ref (MtConfig *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

static void
wipe_free (char *secret)
{
  if (secret != NULL)
    memset (secret, 0, strlen (secret));
  g_free (secret);
}

void
mt_config_unref (MtConfig *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->langfuse_public_key);
  wipe_free (self->langfuse_secret_key);
  g_free (self->langfuse_base_url);
  g_clear_pointer (&self->aws_credentials, mt_aws_credentials_unref);
  g_free (self->aws_region);
  g_free (self->aws_endpoint_url);
  g_free (self->bucket);
  g_free (self->prefix);
  g_clear_pointer (&self->time_zone, g_time_zone_unref);
  g_clear_pointer (&self->origins, g_hash_table_unref);
  g_free (self);
}

const char *
mt_config_get_origin (MtConfig   *self,
                      const char *name)
{
  const char *origin = g_hash_table_lookup (self->origins, name);

  return origin != NULL ? origin : _("default");
}

/* .env */

static gboolean
is_name (const char *text,
         gsize       length)
{
  if (length == 0 || !(g_ascii_isalpha (text[0]) || text[0] == '_'))
    return FALSE;
  for (gsize i = 1; i < length; i++)
    if (!(g_ascii_isalnum (text[i]) || text[i] == '_'))
      return FALSE;
  return TRUE;
}

static gboolean
dotenv_error (GError     **error,
              const char  *file_name,
              guint        line,
              const char  *what)
{
  g_set_error (error, MT_CONFIG_ERROR, MT_CONFIG_ERROR_FILE,
               _("%s, line %u: %s. Write settings as NAME=value, one a line."), file_name, line, what);
  return FALSE;
}

/* Reads the value that starts at @p (a line's rest) into @out. */
static gboolean
dotenv_value (const char  *p,
              const char  *end,
              GString     *out,
              const char  *file_name,
              guint        line,
              GError     **error)
{
  if (p < end && (*p == '"' || *p == '\''))
    {
      char quote = *p++;

      for (; p < end && *p != quote; p++)
        {
          if (quote == '"' && *p == '\\' && p + 1 < end)
            {
              p++;
              switch (*p)
                {
                case 'n':
                  g_string_append_c (out, '\n');
                  break;
                case 't':
                  g_string_append_c (out, '\t');
                  break;
                case 'r':
                  g_string_append_c (out, '\r');
                  break;
                default:
                  g_string_append_c (out, *p);
                  break;
                }
            }
          else
            g_string_append_c (out, *p);
        }
      if (p >= end)
        return dotenv_error (error, file_name, line, _("a quote that is not closed"));
      /* After the closing quote: nothing but space or a comment. */
      for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
        ;
      if (p < end && *p != '#')
        return dotenv_error (error, file_name, line, _("text after the closing quote"));
      return TRUE;
    }

  /* Unquoted: up to a comment that follows a space, trimmed. */
  for (const char *q = p; q < end; q++)
    {
      if (*q == '#' && (q == p || q[-1] == ' ' || q[-1] == '\t'))
        {
          end = q;
          break;
        }
    }
  g_string_append_len (out, p, end - p);
  while (out->len > 0 && g_ascii_isspace (out->str[out->len - 1]))
    g_string_truncate (out, out->len - 1);
  return TRUE;
}

GHashTable *
mt_dotenv_parse (const char  *text,
                 gsize        length,
                 const char  *file_name,
                 GError     **error)
{
  g_autoptr(GHashTable) values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *p = text, *text_end = text + length;
  guint line = 0;

  if (!g_utf8_validate_len (text, length, NULL))
    {
      g_set_error (error, MT_CONFIG_ERROR, MT_CONFIG_ERROR_FILE,
                   _("%s is not UTF-8 text. Save it as UTF-8."), file_name);
      return NULL;
    }
  /* A byte-order mark, as some editors write. */
  if (length >= 3 && memcmp (p, "\xef\xbb\xbf", 3) == 0)
    p += 3;

  while (p < text_end)
    {
      const char *end = memchr (p, '\n', text_end - p);
      const char *next, *name, *equals;
      g_autoptr(GString) value = g_string_new (NULL);

      if (end == NULL)
        end = text_end;
      next = end + 1;
      line++;
      if (end > p && end[-1] == '\r')
        end--;
      while (p < end && (*p == ' ' || *p == '\t'))
        p++;
      if (p == end || *p == '#')
        {
          p = next;
          continue;
        }
      if (end - p > 7 && strncmp (p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t'))
        for (p += 7; p < end && (*p == ' ' || *p == '\t'); p++)
          ;
      name = p;
      equals = memchr (p, '=', end - p);
      if (equals == NULL)
        return dotenv_error (error, file_name, line, _("no “=”")), NULL;
      for (p = equals; p > name && (p[-1] == ' ' || p[-1] == '\t'); p--)
        ;
      if (!is_name (name, p - name))
        return dotenv_error (error, file_name, line, _("a name that is not one")), NULL;
      {
        const char *v = equals + 1;

        while (v < end && (*v == ' ' || *v == '\t'))
          v++;
        if (!dotenv_value (v, end, value, file_name, line, error))
          return NULL;
      }
      g_hash_table_replace (values, g_strndup (name, p - name), g_string_free (g_steal_pointer (&value), FALSE));
      p = next;
    }
  return g_steal_pointer (&values);
}

/* The layers */

typedef struct {
  GHashTable *values;  /* name → value, the highest layer's */
  GHashTable *origins; /* name → where it came from */
} Layers;

/* Settings read under two names: the second is read when the first is
 * not set, so a layer that sets the second must hide the first as lower
 * layers set it (the environment's LANGFUSE_HOST over .env's
 * LANGFUSE_BASE_URL). AWS_PROFILE stands for keys read from a profile. */
static const struct {
  const char *name;
  const char *hides[4];
} second_names[] = {
  { "LANGFUSE_HOST", { "LANGFUSE_BASE_URL", NULL } },
  { "AWS_DEFAULT_REGION", { "AWS_REGION", NULL } },
  { "AWS_ENDPOINT_URL", { "AWS_ENDPOINT_URL_S3", NULL } },
  { "AWS_PROFILE", { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", NULL } },
};

static void
layer (Layers     *layers,
       const char *name,
       const char *value,
       const char *origin)
{
  if (value == NULL || value[0] == '\0')
    return;
  for (guint i = 0; i < G_N_ELEMENTS (second_names); i++)
    {
      if (strcmp (name, second_names[i].name) != 0)
        continue;
      for (guint j = 0; second_names[i].hides[j] != NULL; j++)
        {
          const char *hidden = second_names[i].hides[j];
          const char *from = g_hash_table_lookup (layers->origins, hidden);

          /* The same layer's first name still wins. */
          if (from != NULL && strcmp (from, origin) != 0)
            {
              g_hash_table_remove (layers->values, hidden);
              g_hash_table_remove (layers->origins, hidden);
            }
        }
    }
  g_hash_table_replace (layers->values, g_strdup (name), g_strdup (value));
  g_hash_table_replace (layers->origins, g_strdup (name), g_strdup (origin));
}

static gboolean
read_dotenv (Layers                *layers,
             const MtConfigSources *sources,
             GError               **error)
{
  g_autoptr(GFile) own = NULL;
  GFile *file = sources != NULL ? sources->dotenv : NULL;
  g_autofree char *contents = NULL;
  g_autofree char *name = NULL;
  g_autoptr(GHashTable) values = NULL;
  g_autoptr(GError) local_error = NULL;
  GHashTableIter iter;
  gpointer key, value;
  gsize length = 0;
  GFileInfo *info;

  if (file == NULL)
    file = own = g_file_new_for_path (".env");
  name = g_file_get_parse_name (file);

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                            G_FILE_QUERY_INFO_NONE, NULL, &local_error);
  if (info == NULL)
    {
      /* No .env is the usual case. */
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return TRUE;
      g_set_error (error, MT_CONFIG_ERROR, MT_CONFIG_ERROR_FILE, _("%s cannot be read: %s"), name,
                   local_error->message);
      return FALSE;
    }
  if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR || g_file_info_get_size (info) > MAX_DOTENV_SIZE)
    {
      g_object_unref (info);
      g_set_error (error, MT_CONFIG_ERROR, MT_CONFIG_ERROR_FILE,
                   _("%s is not a settings file (a folder, or larger than 1 MiB). Remove it or fix it."), name);
      return FALSE;
    }
  g_object_unref (info);
  if (!g_file_load_contents (file, NULL, &contents, &length, NULL, &local_error))
    {
      g_set_error (error, MT_CONFIG_ERROR, MT_CONFIG_ERROR_FILE, _("%s cannot be read: %s"), name,
                   local_error->message);
      return FALSE;
    }
  values = mt_dotenv_parse (contents, length, name, error);
  if (values == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, values);
  while (g_hash_table_iter_next (&iter, &key, &value))
    layer (layers, key, value, ".env");
  if (length > 0)
    memset (contents, 0, length);
  return TRUE;
}

static void
read_settings (Layers    *layers,
               GSettings *settings)
{
  g_autoptr(GSettingsSchema) schema = NULL;

  if (settings == NULL)
    return;
  g_object_get (settings, "settings-schema", &schema, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (settings_keys); i++)
    {
      g_autoptr(GVariant) value = NULL;
      g_autofree char *text = NULL;

      if (!g_settings_schema_has_key (schema, settings_keys[i].key) ||
          (value = g_settings_get_user_value (settings, settings_keys[i].key)) == NULL)
        continue;
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        text = g_variant_dup_string (value, NULL);
      else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32) && g_variant_get_int32 (value) > 0)
        text = g_strdup_printf ("%d", g_variant_get_int32 (value));
      layer (layers, settings_keys[i].name, text, "GSettings");
    }
}

/* The merged layers as an environment, for the AWS and Langfuse loaders,
 * without @skip (checked here already). */
static char **
as_environ (Layers     *layers,
            const char *skip)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  GHashTableIter iter;
  gpointer key, value;
  char **envp;

  g_hash_table_iter_init (&iter, layers->values);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autofree char *entry = NULL;

      if (g_strcmp0 (key, skip) == 0)
        continue;
      entry = g_strconcat (key, "=", value, NULL);
      g_strv_builder_add (builder, entry);
      memset (entry, 0, strlen (entry));
    }
  envp = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return envp;
}

static gboolean
load_layers (Layers                *layers,
             const MtConfigSources *sources,
             GError               **error)
{
  g_auto(GStrv) own_environ = NULL;
  const char * const *envp = sources != NULL ? sources->environ : NULL;

  layers->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) wipe_free);
  layers->origins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  /* Lowest first. */
  read_settings (layers, sources != NULL ? sources->settings : NULL);
  if (!read_dotenv (layers, sources, error))
    return FALSE;
  if (envp == NULL)
    envp = (const char * const *) (own_environ = g_get_environ ());
  for (guint i = 0; envp[i] != NULL; i++)
    {
      const char *equals = strchr (envp[i], '=');
      g_autofree char *name = NULL;

      if (equals == NULL)
        continue;
      name = g_strndup (envp[i], equals - envp[i]);
      layer (layers, name, equals + 1, _("the environment"));
    }
  if (sources != NULL && sources->options != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, sources->options);
      while (g_hash_table_iter_next (&iter, &key, &value))
        layer (layers, key, value, _("a command-line option"));
    }
  return TRUE;
}

static void
layers_clear (Layers *layers)
{
  g_clear_pointer (&layers->values, g_hash_table_unref);
  g_clear_pointer (&layers->origins, g_hash_table_unref);
}

/* Keys read from a profile in the AWS files have no layer of their own:
 * they are recorded under the variables they stand in for. */
static void
record_profile_origins (Layers           *layers,
                        MtAwsCredentials *credentials)
{
  const char *source = mt_aws_credentials_get_source (credentials);

  if (g_hash_table_contains (layers->values, MT_CONFIG_AWS_ACCESS_KEY_ID) ||
      g_hash_table_contains (layers->values, MT_CONFIG_AWS_SECRET_ACCESS_KEY))
    return;
  g_hash_table_replace (layers->origins, g_strdup (MT_CONFIG_AWS_ACCESS_KEY_ID), g_strdup (source));
  g_hash_table_replace (layers->origins, g_strdup (MT_CONFIG_AWS_SECRET_ACCESS_KEY), g_strdup (source));
  if (mt_aws_credentials_get_session_token (credentials) != NULL)
    g_hash_table_replace (layers->origins, g_strdup (MT_CONFIG_AWS_SESSION_TOKEN), g_strdup (source));
  else
    g_hash_table_remove (layers->origins, MT_CONFIG_AWS_SESSION_TOKEN);
}

/* "MEALTRACE_TIMEZONE (from .env)" */
static char *
named (Layers     *layers,
       const char *name)
{
  const char *origin = g_hash_table_lookup (layers->origins, name);

  return origin != NULL ? g_strdup_printf (_("%s (from %s)"), name, origin) : g_strdup (name);
}

static gboolean
parse_seconds (const char *text,
               guint64     min,
               guint64     max,
               guint64    *value)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));

  return g_ascii_string_to_unsigned (copy, 10, min, max, value, NULL);
}

/* The settings every configuration has, demo or not. */
static void
load_common (MtConfig  *config,
             Layers    *layers,
             GPtrArray *problems)
{
  const char *value;
  guint64 number;

  value = g_hash_table_lookup (layers->values, MT_CONFIG_TIMEZONE);
  {
    g_autoptr(GError) local_error = NULL;

    config->time_zone = mt_time_zone_new (value != NULL ? value : DEFAULT_TIMEZONE, &local_error);
    if (config->time_zone == NULL)
      {
        g_autofree char *which = named (layers, MT_CONFIG_TIMEZONE);

        g_ptr_array_add (problems, g_strdup_printf ("%s: %s", which, local_error->message));
      }
  }

  config->max_gap_ms = -1;
  value = g_hash_table_lookup (layers->values, MT_CONFIG_MAX_GAP);
  if (value != NULL)
    {
      g_autofree char *which = named (layers, MT_CONFIG_MAX_GAP);
      g_autofree char *shown = mt_text_quote (value, -1, MT_TEXT_QUOTE_MAX);

      if (parse_seconds (value, 0, MAX_GAP_SECONDS, &number))
        config->max_gap_ms = (gint64) number * 1000;
      else
        g_ptr_array_add (problems, g_strdup_printf (_("%s is “%s”; it must be a number of seconds, such as 3600."),
                                                    which, shown));
    }

  config->url_lifetime = DEFAULT_URL_LIFETIME;
  value = g_hash_table_lookup (layers->values, MT_CONFIG_URL_LIFETIME);
  if (value != NULL)
    {
      g_autofree char *which = named (layers, MT_CONFIG_URL_LIFETIME);
      g_autofree char *shown = mt_text_quote (value, -1, MT_TEXT_QUOTE_MAX);

      if (parse_seconds (value, 1, MAX_URL_LIFETIME, &number))
        config->url_lifetime = (guint) number;
      else
        g_ptr_array_add (problems, g_strdup_printf (_("%s is “%s”; it must be from 1 to 604800 seconds (7 days)."),
                                                    which, shown));
    }

  config->max_in_flight = DEFAULT_MAX_IN_FLIGHT;
  value = g_hash_table_lookup (layers->values, MT_CONFIG_MAX_IN_FLIGHT);
  if (value != NULL)
    {
      g_autofree char *which = named (layers, MT_CONFIG_MAX_IN_FLIGHT);
      g_autofree char *shown = mt_text_quote (value, -1, MT_TEXT_QUOTE_MAX);

      if (parse_seconds (value, 1, MAX_MAX_IN_FLIGHT, &number))
        config->max_in_flight = (guint) number;
      else
        g_ptr_array_add (problems, g_strdup_printf (_("%s is “%s”; it must be from 1 to 64."), which, shown));
    }

  config->langfuse_api = MT_LANGFUSE_API_AUTO;
  value = g_hash_table_lookup (layers->values, MT_CONFIG_LANGFUSE_API);
  if (value != NULL && !mt_langfuse_api_from_string (value, &config->langfuse_api))
    {
      g_autofree char *which = named (layers, MT_CONFIG_LANGFUSE_API);
      g_autofree char *shown = mt_text_quote (value, -1, MT_TEXT_QUOTE_MAX);

      g_ptr_array_add (problems, g_strdup_printf (_("%s is “%s”; it may be auto, v2 or v1."), which, shown));
    }
}

static MtConfig *
config_new (Layers *layers)
{
  MtConfig *config = g_new0 (MtConfig, 1);

  config->ref_count = 1;
  config->origins = g_hash_table_ref (layers->origins);
  return config;
}

/* One error for everything wrong: what is missing, then what is invalid. */
static void
set_problems (GError    **error,
              GPtrArray  *missing,
              GPtrArray  *invalid)
{
  g_autoptr(GString) message = g_string_new (NULL);

  if (missing->len > 0)
    {
      g_string_append (message, ngettext ("Mealtrace needs a setting that is not set:",
                                          "Mealtrace needs settings that are not set:", missing->len));
      for (guint i = 0; i < missing->len; i++)
        g_string_append_printf (message, "\n  %s", (const char *) g_ptr_array_index (missing, i));
      g_string_append (message, "\n");
      g_string_append (message, _("Set them in the environment or in a .env file in the working directory "
                                  "(see README.md). To try Mealtrace without an account, open its demo: "
                                  "“mealtrace --demo”, or “mealtrace --batch --demo” in batch mode."));
    }
  for (guint i = 0; i < invalid->len; i++)
    {
      if (message->len > 0)
        g_string_append_c (message, '\n');
      g_string_append (message, g_ptr_array_index (invalid, i));
    }
  g_set_error_literal (error, MT_CONFIG_ERROR, missing->len > 0 ? MT_CONFIG_ERROR_MISSING : MT_CONFIG_ERROR_INVALID,
                       message->str);
}

MtConfig *
mt_config_load (const MtConfigSources  *sources,
                GError                **error)
{
  Layers layers = { NULL, NULL };
  g_autoptr(MtConfig) config = NULL;
  g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) invalid = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(MtAwsSettings) aws = NULL;
  g_autoptr(GError) aws_error = NULL;
  g_autoptr(GError) langfuse_error = NULL;
  g_autoptr(MtLangfuseSettings) langfuse = NULL;
  g_auto(GStrv) envp = NULL;
  const char *value;

  if (!load_layers (&layers, sources, error))
    {
      layers_clear (&layers);
      return NULL;
    }
  envp = as_environ (&layers, MT_CONFIG_LANGFUSE_API);

  if (g_hash_table_lookup (layers.values, MT_CONFIG_LANGFUSE_PUBLIC_KEY) == NULL)
    g_ptr_array_add (missing, g_strdup (_("LANGFUSE_PUBLIC_KEY: the Langfuse project’s public key (pk-lf-…)")));
  if (g_hash_table_lookup (layers.values, MT_CONFIG_LANGFUSE_SECRET_KEY) == NULL)
    g_ptr_array_add (missing, g_strdup (_("LANGFUSE_SECRET_KEY: the Langfuse project’s secret key (sk-lf-…)")));
  if (g_hash_table_lookup (layers.values, MT_CONFIG_BUCKET) == NULL)
    g_ptr_array_add (missing, g_strdup (_("MEALTRACE_S3_BUCKET: the S3 bucket that holds the meal images")));

  aws = mt_aws_settings_load ((const char * const *) envp, &aws_error);
  if (aws == NULL)
    {
      if (g_error_matches (aws_error, MT_AWS_ERROR, MT_AWS_ERROR_NO_CREDENTIALS))
        g_ptr_array_add (missing, g_strdup (_("AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                                              "(and AWS_SESSION_TOKEN for temporary keys), or AWS_PROFILE "
                                              "naming a profile in ~/.aws/credentials")));
      else
        g_ptr_array_add (invalid, g_strdup (aws_error->message));
    }

  /* The Langfuse keys were checked above; the URL and the generation here. */
  if (missing->len == 0 || g_hash_table_lookup (layers.values, MT_CONFIG_LANGFUSE_PUBLIC_KEY) != NULL)
    {
      langfuse = mt_langfuse_settings_load ((const char * const *) envp, &langfuse_error);
      if (langfuse == NULL && !g_error_matches (langfuse_error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NOT_CONFIGURED))
        g_ptr_array_add (invalid, g_strdup (langfuse_error->message));
    }

  config = config_new (&layers);
  load_common (config, &layers, invalid);

  if (langfuse != NULL)
    {
      g_autoptr(MtLangfuseClient) check = NULL;
      g_autoptr(GError) url_error = NULL;

      check = mt_langfuse_client_new (langfuse->base_url, langfuse->public_key, langfuse->secret_key, &url_error);
      if (check == NULL)
        {
          g_autofree char *which = named (&layers, langfuse->base_url_source);

          g_ptr_array_add (invalid, g_strdup_printf ("%s: %s", which, url_error->message));
        }
      config->langfuse_public_key = g_strdup (langfuse->public_key);
      config->langfuse_secret_key = g_strdup (langfuse->secret_key);
      config->langfuse_base_url = g_strdup (langfuse->base_url);
      if (g_strcmp0 (langfuse->base_url_source, "default") != 0)
        g_hash_table_replace (config->origins, g_strdup (MT_CONFIG_LANGFUSE_BASE_URL),
                              g_strdup (g_hash_table_lookup (config->origins, langfuse->base_url_source)));
    }

  value = g_hash_table_lookup (layers.values, MT_CONFIG_BUCKET);
  config->bucket = g_strdup (value);
  value = g_hash_table_lookup (layers.values, MT_CONFIG_PREFIX);
  if (value == NULL)
    value = DEFAULT_PREFIX;
  /* Users are the folder below the prefix: it ends in a slash. */
  config->prefix = value[0] == '\0' || g_str_has_suffix (value, "/") ? g_strdup (value)
                                                                      : g_strconcat (value, "/", NULL);
  if (aws != NULL)
    {
      record_profile_origins (&layers, aws->credentials);
      config->aws_credentials = mt_aws_credentials_ref (aws->credentials);
      config->aws_region = g_strdup (aws->region);
      config->aws_endpoint_url = g_strdup (aws->endpoint_url);
      if (config->bucket != NULL)
        {
          g_autoptr(MtS3Endpoint) check = NULL;
          g_autoptr(GError) bucket_error = NULL;

          check = mt_s3_endpoint_new (aws->endpoint_url, aws->region, config->bucket, &bucket_error);
          if (check == NULL)
            {
              g_autofree char *which = named (&layers, MT_CONFIG_BUCKET);

              g_ptr_array_add (invalid, g_strdup_printf ("%s: %s", which, bucket_error->message));
            }
        }
    }

  layers_clear (&layers);
  if (missing->len > 0 || invalid->len > 0)
    {
      set_problems (error, missing, invalid);
      return NULL;
    }
  return g_steal_pointer (&config);
}

GHashTable *
mt_config_load_origins (const MtConfigSources  *sources,
                        GError                **error)
{
  Layers layers = { NULL, NULL };
  GHashTable *origins;

  if (!load_layers (&layers, sources, error))
    {
      layers_clear (&layers);
      return NULL;
    }

  /* Without keys in a layer, the AWS files' profile may have them; what
   * is wrong with those files is mt_config_load()'s to say. */
  if (!g_hash_table_contains (layers.values, MT_CONFIG_AWS_ACCESS_KEY_ID) &&
      !g_hash_table_contains (layers.values, MT_CONFIG_AWS_SECRET_ACCESS_KEY))
    {
      g_auto(GStrv) envp = as_environ (&layers, NULL);
      g_autoptr(MtAwsSettings) aws = mt_aws_settings_load ((const char * const *) envp, NULL);

      if (aws != NULL)
        record_profile_origins (&layers, aws->credentials);
      for (guint i = 0; envp[i] != NULL; i++)
        memset (envp[i], 0, strlen (envp[i]));
    }

  origins = g_hash_table_ref (layers.origins);
  layers_clear (&layers);
  return origins;
}

MtConfig *
mt_config_load_demo (const MtConfigSources  *sources,
                     const char             *langfuse_base_url,
                     const char             *s3_endpoint_url,
                     GError                **error)
{
  Layers layers = { NULL, NULL };
  g_autoptr(MtConfig) config = NULL;
  g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) invalid = g_ptr_array_new_with_free_func (g_free);

  if (!load_layers (&layers, sources, error))
    {
      layers_clear (&layers);
      return NULL;
    }
  config = config_new (&layers);
  load_common (config, &layers, invalid);
  layers_clear (&layers);
  if (invalid->len > 0)
    {
      set_problems (error, missing, invalid);
      return NULL;
    }

  config->demo = TRUE;
  config->langfuse_public_key = g_strdup (MT_DEMO_LANGFUSE_PUBLIC_KEY);
  config->langfuse_secret_key = g_strdup (MT_DEMO_LANGFUSE_SECRET_KEY);
  config->langfuse_base_url = g_strdup (langfuse_base_url);
  config->aws_credentials = mt_aws_credentials_new (MT_DEMO_AWS_ACCESS_KEY_ID, MT_DEMO_AWS_SECRET_ACCESS_KEY,
                                                    NULL, _("the demo"));
  config->aws_region = g_strdup ("us-east-1");
  config->aws_endpoint_url = g_strdup (s3_endpoint_url);
  config->bucket = g_strdup (MT_DEMO_BUCKET);
  config->prefix = g_strdup (DEFAULT_PREFIX);
  return g_steal_pointer (&config);
}
