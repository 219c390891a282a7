/* test-config.c — settings, their precedence, and what is said when they
 * are missing */

#include <glib/gstdio.h>
#include <string.h>

#include "mt-config.h"
#include "mt-time.h"

typedef struct {
  char *home;         /* an empty home: no ~/.aws */
  char *dotenv_path;
  GFile *dotenv;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->home = g_dir_make_tmp ("mealtrace-config-XXXXXX", &error);
  g_assert_no_error (error);
  f->dotenv_path = g_build_filename (f->home, ".env", NULL);
  f->dotenv = g_file_new_for_path (f->dotenv_path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_unlink (f->dotenv_path);
  g_rmdir (f->home);
  g_free (f->dotenv_path);
  g_free (f->home);
  g_object_unref (f->dotenv);
}

static void
write_dotenv (Fixture *f, const char *text)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (f->dotenv_path, text, -1, &error);
  g_assert_no_error (error);
}

/* An environment with @extra (NULL-terminated "NAME=value"s) and a home
 * without AWS files. */
static char **
environment (Fixture *f, const char * const *extra)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  g_autofree char *home = g_strconcat ("HOME=", f->home, NULL);
  char **result;

  g_strv_builder_add (builder, home);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_strv_builder_add (builder, extra[i]);
  result = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return result;
}

static const char *complete[] = {
  "LANGFUSE_PUBLIC_KEY=pk-lf-public", "LANGFUSE_SECRET_KEY=sk-lf-secret-value",
  "MEALTRACE_S3_BUCKET=meals", "AWS_ACCESS_KEY_ID=AKIAEXAMPLEEXAMPLE01",
  "AWS_SECRET_ACCESS_KEY=aws-secret-value-0123456789", NULL,
};

static MtConfig *
load (Fixture *f, const char * const *extra, GHashTable *options, GSettings *settings, GError **error)
{
  g_auto(GStrv) environ = environment (f, extra);
  MtConfigSources sources = { options, (const char * const *) environ, f->dotenv, settings };

  return mt_config_load (&sources, error);
}

static void
test_defaults (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtConfig) config = load (f, complete, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (config->langfuse_public_key, ==, "pk-lf-public");
  g_assert_cmpstr (config->langfuse_secret_key, ==, "sk-lf-secret-value");
  g_assert_cmpstr (config->langfuse_base_url, ==, "https://cloud.langfuse.com");
  g_assert_cmpint (config->langfuse_api, ==, MT_LANGFUSE_API_AUTO);
  g_assert_cmpstr (config->bucket, ==, "meals");
  g_assert_cmpstr (config->prefix, ==, "meal-images/");
  g_assert_cmpstr (mt_time_zone_get_name (config->time_zone), ==, "+07:00");
  g_assert_cmpint (config->max_gap_ms, ==, -1);
  g_assert_cmpuint (config->url_lifetime, ==, 3600);
  g_assert_cmpuint (config->max_in_flight, ==, 16);
  g_assert_cmpstr (config->aws_region, ==, "us-east-1");
  g_assert_null (config->aws_endpoint_url);
  g_assert_cmpstr (mt_aws_credentials_get_access_key_id (config->aws_credentials), ==, "AKIAEXAMPLEEXAMPLE01");
  g_assert_false (config->demo);
  g_assert_cmpstr (mt_config_get_origin (config, MT_CONFIG_BUCKET), ==, "the environment");
  g_assert_cmpstr (mt_config_get_origin (config, MT_CONFIG_TIMEZONE), ==, "default");
}

/* Every missing setting is named at once, none of the secrets. */
static void
test_missing_all_at_once (Fixture *f, gconstpointer data)
{
  const char *some[] = { "MEALTRACE_TIMEZONE=Not/A_Zone", "MEALTRACE_MAX_GAP_SECONDS=soon", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(MtConfig) config = load (f, some, NULL, NULL, &error);

  g_assert_null (config);
  g_assert_error (error, MT_CONFIG_ERROR, MT_CONFIG_ERROR_MISSING);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "LANGFUSE_PUBLIC_KEY"));
  g_assert_nonnull (strstr (error->message, "LANGFUSE_SECRET_KEY"));
  g_assert_nonnull (strstr (error->message, "MEALTRACE_S3_BUCKET"));
  g_assert_nonnull (strstr (error->message, "AWS_ACCESS_KEY_ID"));
  /* And what else is wrong, in the same message. */
  g_assert_nonnull (strstr (error->message, "MEALTRACE_TIMEZONE (from the environment)"));
  g_assert_nonnull (strstr (error->message, "MEALTRACE_MAX_GAP_SECONDS"));
  g_assert_nonnull (strstr (error->message, "--demo"));
}

static void
test_invalid_values (Fixture *f, gconstpointer data)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) extra = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MtConfig) config = NULL;

  g_strv_builder_addv (builder, (const char **) complete);
  g_strv_builder_add (builder, "MEALTRACE_LANGFUSE_API=v3");
  g_strv_builder_add (builder, "MEALTRACE_URL_LIFETIME_SECONDS=604801");
  g_strv_builder_add (builder, "MEALTRACE_MAX_IN_FLIGHT=0");
  g_strv_builder_add (builder, "LANGFUSE_BASE_URL=ftp://langfuse.example");
  extra = g_strv_builder_end (builder);
  config = load (f, (const char * const *) extra, NULL, NULL, &error);
  g_assert_null (config);
  g_assert_error (error, MT_CONFIG_ERROR, MT_CONFIG_ERROR_INVALID);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "MEALTRACE_LANGFUSE_API"));
  g_assert_nonnull (strstr (error->message, "MEALTRACE_URL_LIFETIME_SECONDS"));
  g_assert_nonnull (strstr (error->message, "MEALTRACE_MAX_IN_FLIGHT"));
  g_assert_nonnull (strstr (error->message, "LANGFUSE_BASE_URL"));
  g_assert_null (strstr (error->message, "sk-lf-secret-value"));
  g_assert_null (strstr (error->message, "aws-secret-value"));
}

/* Option > environment > .env > GSettings > default. */
static void
test_precedence (Fixture *f, gconstpointer data)
{
  const char *env[] = {
    "LANGFUSE_PUBLIC_KEY=pk-lf-public", "AWS_ACCESS_KEY_ID=AKIAEXAMPLEEXAMPLE01",
    "AWS_SECRET_ACCESS_KEY=aws-secret-value-0123456789", "MEALTRACE_S3_BUCKET=from-environment",
    "MEALTRACE_TIMEZONE=+05:30", "MEALTRACE_S3_PREFIX=", NULL,
  };
  g_autoptr(GSettings) settings = g_settings_new ("io.github.mealtrace.Mealtrace");
  g_autoptr(GHashTable) options = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  g_autoptr(MtConfig) config = NULL;

  write_dotenv (f, "# the project's keys\n"
                   "export LANGFUSE_SECRET_KEY=\"sk-lf-from-dotenv\"\n"
                   "MEALTRACE_S3_BUCKET=from-dotenv\n"
                   "MEALTRACE_TIMEZONE='Asia/Ho_Chi_Minh'\n"
                   "MEALTRACE_MAX_GAP_SECONDS = 900   # a quarter of an hour\n"
                   "LANGFUSE_HOST=https://langfuse.example.org\n");
  g_settings_set_string (settings, "s3-prefix", "photos");
  g_settings_set_string (settings, "time-zone", "UTC");
  g_settings_set_int (settings, "max-gap-seconds", 60);
  g_settings_set_string (settings, "s3-bucket", "from-settings");
  g_settings_set_string (settings, "langfuse-api", "v1");
  g_hash_table_insert (options, (gpointer) MT_CONFIG_BUCKET, (gpointer) "from-option");

  config = load (f, env, options, settings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (config->bucket, ==, "from-option");
  g_assert_cmpstr (mt_config_get_origin (config, MT_CONFIG_BUCKET), ==, "a command-line option");
  /* The environment over .env and GSettings. */
  g_assert_cmpstr (mt_time_zone_get_name (config->time_zone), ==, "+05:30");
  /* .env over GSettings; .env fills what the environment lacks. */
  g_assert_cmpstr (config->langfuse_secret_key, ==, "sk-lf-from-dotenv");
  g_assert_cmpint (config->max_gap_ms, ==, 900000);
  g_assert_cmpstr (mt_config_get_origin (config, MT_CONFIG_MAX_GAP), ==, ".env");
  g_assert_cmpstr (config->langfuse_base_url, ==, "https://langfuse.example.org");
  g_assert_cmpstr (mt_config_get_origin (config, MT_CONFIG_LANGFUSE_BASE_URL), ==, ".env");
  /* GSettings where nothing above says (an empty variable says nothing),
   * and the prefix ends in a slash. */
  g_assert_cmpstr (config->prefix, ==, "photos/");
  g_assert_cmpint (config->langfuse_api, ==, MT_LANGFUSE_API_V1);
  g_assert_cmpstr (mt_config_get_origin (config, MT_CONFIG_LANGFUSE_API), ==, "GSettings");
  g_settings_reset (settings, "s3-prefix");
  g_settings_reset (settings, "time-zone");
  g_settings_reset (settings, "max-gap-seconds");
  g_settings_reset (settings, "s3-bucket");
  g_settings_reset (settings, "langfuse-api");
}

/* The S3 concurrency and the image links' lifetime are preferences too. */
static void
test_settings_numbers (Fixture *f, gconstpointer data)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) extra = NULL;
  g_autoptr(GSettings) settings = g_settings_new ("io.github.mealtrace.Mealtrace");
  g_autoptr(GError) error = NULL;
  g_autoptr(MtConfig) config = NULL;
  g_autoptr(MtConfig) overridden = NULL;

  g_settings_set_int (settings, "max-in-flight", 4);
  g_settings_set_int (settings, "url-lifetime-seconds", 600);
  config = load (f, complete, NULL, settings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (config->max_in_flight, ==, 4);
  g_assert_cmpuint (config->url_lifetime, ==, 600);
  g_assert_cmpstr (mt_config_get_origin (config, MT_CONFIG_MAX_IN_FLIGHT), ==, "GSettings");
  g_assert_cmpstr (mt_config_get_origin (config, MT_CONFIG_URL_LIFETIME), ==, "GSettings");

  /* The environment over GSettings, one setting at a time. */
  g_strv_builder_addv (builder, (const char **) complete);
  g_strv_builder_add (builder, "MEALTRACE_MAX_IN_FLIGHT=8");
  extra = g_strv_builder_end (builder);
  overridden = load (f, (const char * const *) extra, NULL, settings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (overridden->max_in_flight, ==, 8);
  g_assert_cmpstr (mt_config_get_origin (overridden, MT_CONFIG_MAX_IN_FLIGHT), ==, "the environment");
  g_assert_cmpuint (overridden->url_lifetime, ==, 600);
  g_assert_cmpstr (mt_config_get_origin (overridden, MT_CONFIG_URL_LIFETIME), ==, "GSettings");

  g_settings_reset (settings, "max-in-flight");
  g_settings_reset (settings, "url-lifetime-seconds");
}

/* AWS keys from a profile: their origin names the profile and the file. */
static void
test_profile_origins (Fixture *f, gconstpointer data)
{
  const char *env[] = {
    "LANGFUSE_PUBLIC_KEY=pk-lf-public", "LANGFUSE_SECRET_KEY=sk-lf-secret-value", "MEALTRACE_S3_BUCKET=meals", NULL,
  };
  g_autofree char *aws_dir = g_build_filename (f->home, ".aws", NULL);
  g_autofree char *credentials_path = g_build_filename (aws_dir, "credentials", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(MtConfig) config = NULL;

  g_assert_cmpint (g_mkdir (aws_dir, 0700), ==, 0);
  g_file_set_contents (credentials_path,
                       "[default]\naws_access_key_id = AKIAPROFILEEXAMPLE01\n"
                       "aws_secret_access_key = profile-secret-0123456789\n"
                       "aws_session_token = profile-token-0123456789\n", -1, &error);
  g_assert_no_error (error);

  config = load (f, env, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mt_aws_credentials_get_access_key_id (config->aws_credentials), ==, "AKIAPROFILEEXAMPLE01");
  g_assert_true (g_str_has_prefix (mt_config_get_origin (config, MT_CONFIG_AWS_ACCESS_KEY_ID), "profile “default” in "));
  g_assert_true (g_str_has_suffix (mt_config_get_origin (config, MT_CONFIG_AWS_SECRET_ACCESS_KEY), credentials_path));
  g_assert_true (g_str_has_suffix (mt_config_get_origin (config, MT_CONFIG_AWS_SESSION_TOKEN), credentials_path));
  g_assert_cmpstr (mt_config_get_origin (config, MT_CONFIG_LANGFUSE_SECRET_KEY), ==, "the environment");

  g_unlink (credentials_path);
  g_rmdir (aws_dir);
}

/* Origins without a complete configuration, and never a value. */
static void
test_origins (Fixture *f, gconstpointer data)
{
  const char *env[] = {
    "LANGFUSE_SECRET_KEY=sk-lf-secret-value", "AWS_ACCESS_KEY_ID=AKIAEXAMPLEEXAMPLE01",
    "LANGFUSE_HOST=https://langfuse.example.org", NULL,
  };
  g_auto(GStrv) environ = environment (f, env);
  g_autoptr(GSettings) settings = g_settings_new ("io.github.mealtrace.Mealtrace");
  MtConfigSources sources = { NULL, (const char * const *) environ, f->dotenv, settings };
  g_autoptr(GHashTable) origins = NULL;
  g_autoptr(GError) error = NULL;
  GHashTableIter iter;
  gpointer name, origin;

  write_dotenv (f, "LANGFUSE_PUBLIC_KEY=pk-lf-dotenv\nAWS_SECRET_ACCESS_KEY=aws-secret-value-0123456789\n");
  g_settings_set_string (settings, "s3-bucket", "from-settings");
  g_settings_set_int (settings, "max-in-flight", 4);

  origins = mt_config_load_origins (&sources, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (origins, MT_CONFIG_LANGFUSE_PUBLIC_KEY), ==, ".env");
  g_assert_cmpstr (g_hash_table_lookup (origins, MT_CONFIG_LANGFUSE_SECRET_KEY), ==, "the environment");
  g_assert_cmpstr (g_hash_table_lookup (origins, MT_CONFIG_AWS_ACCESS_KEY_ID), ==, "the environment");
  g_assert_cmpstr (g_hash_table_lookup (origins, MT_CONFIG_AWS_SECRET_ACCESS_KEY), ==, ".env");
  g_assert_null (g_hash_table_lookup (origins, MT_CONFIG_AWS_SESSION_TOKEN));
  g_assert_cmpstr (g_hash_table_lookup (origins, MT_CONFIG_LANGFUSE_HOST), ==, "the environment");
  g_assert_null (g_hash_table_lookup (origins, MT_CONFIG_LANGFUSE_BASE_URL));
  g_assert_cmpstr (g_hash_table_lookup (origins, MT_CONFIG_BUCKET), ==, "GSettings");
  g_assert_cmpstr (g_hash_table_lookup (origins, MT_CONFIG_MAX_IN_FLIGHT), ==, "GSettings");
  g_assert_null (g_hash_table_lookup (origins, MT_CONFIG_TIMEZONE));
  g_hash_table_iter_init (&iter, origins);
  while (g_hash_table_iter_next (&iter, &name, &origin))
    {
      g_assert_null (strstr (origin, "secret-value"));
      g_assert_null (strstr (origin, "pk-lf-dotenv"));
      g_assert_null (strstr (origin, "AKIAEXAMPLE"));
    }

  /* A .env that cannot be read is said. */
  g_clear_pointer (&origins, g_hash_table_unref);
  write_dotenv (f, "BROKEN\n");
  origins = mt_config_load_origins (&sources, &error);
  g_assert_null (origins);
  g_assert_error (error, MT_CONFIG_ERROR, MT_CONFIG_ERROR_FILE);

  g_settings_reset (settings, "s3-bucket");
  g_settings_reset (settings, "max-in-flight");
}

/* .env never overrides the real environment. */
static void
test_dotenv_under_environment (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtConfig) config = NULL;

  write_dotenv (f, "LANGFUSE_PUBLIC_KEY=pk-lf-dotenv\nMEALTRACE_S3_BUCKET=dotenv-bucket\n");
  config = load (f, complete, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (config->langfuse_public_key, ==, "pk-lf-public");
  g_assert_cmpstr (config->bucket, ==, "meals");
}

/* A setting with two names: the higher layer wins whichever name it
 * uses; within one layer, the first name does. */
static void
test_second_names (Fixture *f, gconstpointer data)
{
  const char *host[] = {
    "LANGFUSE_PUBLIC_KEY=pk-lf-public", "LANGFUSE_SECRET_KEY=sk-lf-secret-value", "MEALTRACE_S3_BUCKET=meals",
    "AWS_ACCESS_KEY_ID=AKIAEXAMPLEEXAMPLE01", "AWS_SECRET_ACCESS_KEY=aws-secret-value-0123456789",
    "LANGFUSE_HOST=https://env-host.example", "AWS_DEFAULT_REGION=eu-west-3", NULL,
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(MtConfig) config = NULL;
  g_autoptr(MtConfig) same_layer = NULL;

  write_dotenv (f, "LANGFUSE_BASE_URL=https://dotenv-base.example\nAWS_REGION=ap-southeast-1\n");
  config = load (f, host, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (config->langfuse_base_url, ==, "https://env-host.example");
  g_assert_cmpstr (config->aws_region, ==, "eu-west-3");

  write_dotenv (f, "LANGFUSE_BASE_URL=https://dotenv-base.example\nLANGFUSE_HOST=https://dotenv-host.example\n"
                   "AWS_REGION=ap-southeast-1\nAWS_DEFAULT_REGION=us-west-2\n");
  same_layer = load (f, complete, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (same_layer->langfuse_base_url, ==, "https://dotenv-base.example");
  g_assert_cmpstr (same_layer->aws_region, ==, "ap-southeast-1");
}

static void
test_dotenv_syntax (void)
{
  const char *text = "\xef\xbb\xbf# comment\n"
                     "\n"
                     "  PLAIN=value with spaces   \n"
                     "HASH=a#b # comment\n"
                     "SINGLE='keep \\n as it is # here'\n"
                     "DOUBLE=\"line\\nbreak \\\"quoted\\\" \\\\\" # comment\n"
                     "export EXPORTED=1\r\n"
                     "EMPTY=\n"
                     "LAST=no newline";
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) values = mt_dotenv_parse (text, strlen (text), ".env", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (values, "PLAIN"), ==, "value with spaces");
  g_assert_cmpstr (g_hash_table_lookup (values, "HASH"), ==, "a#b");
  g_assert_cmpstr (g_hash_table_lookup (values, "SINGLE"), ==, "keep \\n as it is # here");
  g_assert_cmpstr (g_hash_table_lookup (values, "DOUBLE"), ==, "line\nbreak \"quoted\" \\");
  g_assert_cmpstr (g_hash_table_lookup (values, "EXPORTED"), ==, "1");
  g_assert_cmpstr (g_hash_table_lookup (values, "EMPTY"), ==, "");
  g_assert_cmpstr (g_hash_table_lookup (values, "LAST"), ==, "no newline");
  g_assert_cmpuint (g_hash_table_size (values), ==, 7);
}

static void
test_dotenv_errors (void)
{
  const struct {
    const char *text;
    const char *said;
  } cases[] = {
    { "GOOD=1\nno equals sign here\n", ".env, line 2: no “=”" },
    { "GOOD=1\n\n2BAD=x\n", ".env, line 3: a name that is not one" },
    { "OPEN=\"never closed\n", ".env, line 1: a quote that is not closed" },
    { "AFTER='quoted' trailing\n", ".env, line 1: text after the closing quote" },
    { "BAD=\xff\xfe\n", "not UTF-8" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GHashTable) values = mt_dotenv_parse (cases[i].text, strlen (cases[i].text), ".env", &error);

      g_assert_null (values);
      g_assert_error (error, MT_CONFIG_ERROR, MT_CONFIG_ERROR_FILE);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].said));
    }
}

/* A .env that cannot be used stops the run, saying where. */
static void
test_dotenv_broken_file (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtConfig) config = NULL;

  write_dotenv (f, "LANGFUSE_SECRET_KEY=\"sk-lf-unclosed\n");
  config = load (f, complete, NULL, NULL, &error);
  g_assert_null (config);
  g_assert_error (error, MT_CONFIG_ERROR, MT_CONFIG_ERROR_FILE);
  g_assert_nonnull (strstr (error->message, "line 1"));
  g_assert_null (strstr (error->message, "sk-lf-unclosed"));
}

static void
test_demo (Fixture *f, gconstpointer data)
{
  const char *env[] = { "MEALTRACE_TIMEZONE=UTC", "MEALTRACE_MAX_GAP_SECONDS=600", NULL };
  g_auto(GStrv) environ = environment (f, env);
  MtConfigSources sources = { NULL, (const char * const *) environ, f->dotenv, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(MtConfig) config = mt_config_load_demo (&sources, "http://127.0.0.1:1", "http://127.0.0.1:2", &error);

  /* No account needed, and the display settings still read. */
  g_assert_no_error (error);
  g_assert_true (config->demo);
  g_assert_cmpstr (config->langfuse_base_url, ==, "http://127.0.0.1:1");
  g_assert_cmpstr (config->aws_endpoint_url, ==, "http://127.0.0.1:2");
  g_assert_nonnull (config->aws_credentials);
  g_assert_nonnull (config->bucket);
  g_assert_cmpstr (mt_time_zone_get_name (config->time_zone), ==, "+00:00");
  g_assert_cmpint (config->max_gap_ms, ==, 600000);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/config/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("defaults", test_defaults);
  ADD ("missing-all-at-once", test_missing_all_at_once);
  ADD ("invalid-values", test_invalid_values);
  ADD ("precedence", test_precedence);
  ADD ("settings-numbers", test_settings_numbers);
  ADD ("profile-origins", test_profile_origins);
  ADD ("origins", test_origins);
  ADD ("dotenv-under-environment", test_dotenv_under_environment);
  ADD ("second-names", test_second_names);
  ADD ("dotenv-broken-file", test_dotenv_broken_file);
  ADD ("demo", test_demo);
#undef ADD
  g_test_add_func ("/config/dotenv-syntax", test_dotenv_syntax);
  g_test_add_func ("/config/dotenv-errors", test_dotenv_errors);

  return g_test_run ();
}
