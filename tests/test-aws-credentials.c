/* test-aws-credentials.c — where AWS credentials, region and endpoint come from */

#include <glib/gstdio.h>

#include "mt-aws-credentials.h"

/* Recognisable fake secrets: none may ever reach an error message. */
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY"
#define TOKEN "FQoGZXIvYXdzEXAMPLETOKENabc+/="

typedef struct {
  char *home;
  GPtrArray *env;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *aws = NULL;

  f->home = g_dir_make_tmp ("mealtrace-aws-XXXXXX", &error);
  g_assert_no_error (error);
  aws = g_build_filename (f->home, ".aws", NULL);
  g_assert_cmpint (g_mkdir (aws, 0700), ==, 0);
  f->env = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (f->env, g_strdup_printf ("HOME=%s", f->home));
  g_ptr_array_add (f->env, NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autofree char *command = g_strdup_printf ("rm -rf '%s'", f->home);

  g_assert_true (g_spawn_command_line_sync (command, NULL, NULL, NULL, NULL));
  g_free (f->home);
  g_ptr_array_unref (f->env);
}

static void
setenv_ (Fixture *f, const char *name, const char *value)
{
  g_ptr_array_insert (f->env, f->env->len - 1, g_strdup_printf ("%s=%s", name, value));
}

static char *
write_aws_file (Fixture *f, const char *name, const char *contents)
{
  char *path = g_build_filename (f->home, ".aws", name, NULL);

  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

static MtAwsSettings *
load (Fixture *f, GError **error)
{
  MtAwsSettings *settings = mt_aws_settings_load ((const char * const *) f->env->pdata, error);

  /* Whatever happens, no secret is ever in the message. */
  if (error != NULL && *error != NULL)
    {
      g_test_message ("error: %s", (*error)->message);
      g_assert_null (strstr ((*error)->message, SECRET));
      g_assert_null (strstr ((*error)->message, TOKEN));
    }
  return settings;
}

static void
test_environment (Fixture *f, gconstpointer data)
{
  g_autoptr(MtAwsSettings) s = NULL;
  g_autoptr(GError) error = NULL;

  setenv_ (f, "AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT");
  setenv_ (f, "AWS_SECRET_ACCESS_KEY", SECRET);
  setenv_ (f, "AWS_SESSION_TOKEN", TOKEN);
  /* The profile in the file loses to the environment. */
  g_free (write_aws_file (f, "credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = other\n"));
  s = load (f, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mt_aws_credentials_get_access_key_id (s->credentials), ==, "AKIAENVIRONMENT");
  g_assert_cmpstr (mt_aws_credentials_get_secret_access_key (s->credentials), ==, SECRET);
  g_assert_cmpstr (mt_aws_credentials_get_session_token (s->credentials), ==, TOKEN);
  g_assert_cmpstr (mt_aws_credentials_get_source (s->credentials), ==, "the environment");
  g_assert_cmpstr (s->region, ==, "us-east-1");
  g_assert_cmpstr (s->region_source, ==, "default");
  g_assert_null (s->endpoint_url);
}

static void
test_environment_incomplete (Fixture *f, gconstpointer data)
{
  g_autoptr(MtAwsSettings) s = NULL;
  g_autoptr(GError) error = NULL;

  setenv_ (f, "AWS_ACCESS_KEY_ID", "AKIAONLYTHEID");
  s = load (f, &error);
  g_assert_null (s);
  g_assert_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INCOMPLETE);
  g_assert_nonnull (strstr (error->message, "AWS_SECRET_ACCESS_KEY"));
}

static void
test_profiles (Fixture *f, gconstpointer data)
{
  g_autofree char *credentials = NULL;
  g_autofree char *config = NULL;
  g_autoptr(MtAwsSettings) s = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *source = NULL;

  credentials = write_aws_file (f, "credentials",
                                "# a comment\r\n"
                                "[default]\r\n"
                                "aws_access_key_id=AKIADEFAULT\r\n"
                                "aws_secret_access_key=default-secret\r\n"
                                "\r\n"
                                "[work]\n"
                                "  ; an indented comment\n"
                                "aws_access_key_id = AKIAWORK\n"
                                "aws_secret_access_key = " SECRET "\n"
                                "aws_session_token = " TOKEN "\n");
  config = write_aws_file (f, "config",
                           "[default]\nregion = eu-west-1\n"
                           "[profile work]\n"
                           "region = ap-southeast-1\n"
                           "s3 =\n"
                           "    addressing_style = path\n");
  setenv_ (f, "AWS_PROFILE", "work");
  s = load (f, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->profile, ==, "work");
  g_assert_cmpstr (mt_aws_credentials_get_access_key_id (s->credentials), ==, "AKIAWORK");
  g_assert_cmpstr (mt_aws_credentials_get_secret_access_key (s->credentials), ==, SECRET);
  g_assert_cmpstr (mt_aws_credentials_get_session_token (s->credentials), ==, TOKEN);
  source = g_strdup_printf ("profile “work” in %s", credentials);
  g_assert_cmpstr (mt_aws_credentials_get_source (s->credentials), ==, source);
  g_assert_cmpstr (s->region, ==, "ap-southeast-1");
  g_assert_nonnull (strstr (s->region_source, config));
}

static void
test_profile_in_config_file (Fixture *f, gconstpointer data)
{
  g_autoptr(MtAwsSettings) s = NULL;
  g_autoptr(GError) error = NULL;

  /* `[profile x]` in the config file may hold the keys too. */
  g_free (write_aws_file (f, "config",
                          "[profile dev]\n"
                          "aws_access_key_id = AKIADEV\n"
                          "aws_secret_access_key = dev-secret\n"
                          "region = us-west-2\n"));
  setenv_ (f, "AWS_PROFILE", "dev");
  s = load (f, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mt_aws_credentials_get_access_key_id (s->credentials), ==, "AKIADEV");
  g_assert_null (mt_aws_credentials_get_session_token (s->credentials));
  g_assert_cmpstr (s->region, ==, "us-west-2");
}

static void
test_region_order (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  setenv_ (f, "AWS_ACCESS_KEY_ID", "AKIA");
  setenv_ (f, "AWS_SECRET_ACCESS_KEY", SECRET);
  g_free (write_aws_file (f, "config", "[default]\nregion = eu-west-1\n"));

  {
    g_autoptr(MtAwsSettings) s = load (f, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (s->region, ==, "eu-west-1");
  }
  setenv_ (f, "AWS_DEFAULT_REGION", "eu-central-1");
  {
    g_autoptr(MtAwsSettings) s = load (f, &error);

    g_assert_cmpstr (s->region, ==, "eu-central-1");
    g_assert_cmpstr (s->region_source, ==, "AWS_DEFAULT_REGION");
  }
  setenv_ (f, "AWS_REGION", "ap-southeast-1");
  {
    g_autoptr(MtAwsSettings) s = load (f, &error);

    g_assert_cmpstr (s->region, ==, "ap-southeast-1");
    g_assert_cmpstr (s->region_source, ==, "AWS_REGION");
  }
}

static void
test_invalid_region (Fixture *f, gconstpointer data)
{
  g_autoptr(MtAwsSettings) s = NULL;
  g_autoptr(GError) error = NULL;

  setenv_ (f, "AWS_ACCESS_KEY_ID", "AKIA");
  setenv_ (f, "AWS_SECRET_ACCESS_KEY", SECRET);
  setenv_ (f, "AWS_REGION", "us-east-1.evil.com/");
  s = load (f, &error);
  g_assert_null (s);
  g_assert_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "AWS_REGION"));
}

static void
test_missing_everything (Fixture *f, gconstpointer data)
{
  g_autoptr(MtAwsSettings) s = NULL;
  g_autoptr(GError) error = NULL;

  s = load (f, &error);
  g_assert_null (s);
  g_assert_error (error, MT_AWS_ERROR, MT_AWS_ERROR_NO_CREDENTIALS);
  g_assert_nonnull (strstr (error->message, "AWS_ACCESS_KEY_ID"));
  g_assert_nonnull (strstr (error->message, "AWS_SECRET_ACCESS_KEY"));
  g_assert_nonnull (strstr (error->message, ".aws/credentials"));
}

static void
test_missing_profile (Fixture *f, gconstpointer data)
{
  g_autoptr(MtAwsSettings) s = NULL;
  g_autoptr(GError) error = NULL;

  g_free (write_aws_file (f, "credentials", "[default]\naws_access_key_id = A\naws_secret_access_key = B\n"));
  setenv_ (f, "AWS_PROFILE", "nope");
  s = load (f, &error);
  g_assert_null (s);
  g_assert_error (error, MT_AWS_ERROR, MT_AWS_ERROR_PROFILE_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "nope"));
  g_assert_nonnull (strstr (error->message, ".aws/credentials"));
  g_assert_nonnull (strstr (error->message, ".aws/config"));
}

static void
test_profile_incomplete (Fixture *f, gconstpointer data)
{
  g_autoptr(MtAwsSettings) s = NULL;
  g_autoptr(GError) error = NULL;

  g_free (write_aws_file (f, "credentials", "[default]\naws_secret_access_key = " SECRET "\n"));
  s = load (f, &error);
  g_assert_null (s);
  g_assert_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INCOMPLETE);
  g_assert_nonnull (strstr (error->message, "aws_access_key_id"));
  g_assert_nonnull (strstr (error->message, ".aws/credentials"));
}

static void
test_named_files (Fixture *f, gconstpointer data)
{
  g_autofree char *big = g_build_filename (f->home, "big", NULL);
  g_autofree char *contents = g_strnfill (2 * 1024 * 1024, 'x');
  g_autoptr(GError) error = NULL;

  /* A file named by a variable must exist … */
  setenv_ (f, "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
  {
    g_autoptr(MtAwsSettings) s = load (f, &error);

    g_assert_null (s);
    g_assert_error (error, MT_AWS_ERROR, MT_AWS_ERROR_FILE);
    g_assert_nonnull (strstr (error->message, "/nonexistent/credentials"));
    g_assert_nonnull (strstr (error->message, "AWS_SHARED_CREDENTIALS_FILE"));
    g_clear_error (&error);
  }
  /* … and be the size of one. */
  g_assert_true (g_file_set_contents (big, contents, -1, NULL));
  g_ptr_array_remove_index (f->env, f->env->len - 2);
  setenv_ (f, "AWS_CONFIG_FILE", big);
  {
    g_autoptr(MtAwsSettings) s = load (f, &error);

    g_assert_null (s);
    g_assert_error (error, MT_AWS_ERROR, MT_AWS_ERROR_FILE);
    g_assert_nonnull (strstr (error->message, "AWS_CONFIG_FILE"));
  }
}

static void
test_bad_values (Fixture *f, gconstpointer data)
{
  g_autoptr(MtAwsSettings) s = NULL;
  g_autoptr(GError) error = NULL;

  /* A secret pasted with a space in it cannot go into a header. */
  setenv_ (f, "AWS_ACCESS_KEY_ID", "AKIA");
  setenv_ (f, "AWS_SECRET_ACCESS_KEY", SECRET " oops");
  s = load (f, &error);
  g_assert_null (s);
  g_assert_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INVALID);
}

static void
test_endpoint_variables (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  setenv_ (f, "AWS_ACCESS_KEY_ID", "AKIA");
  setenv_ (f, "AWS_SECRET_ACCESS_KEY", SECRET);
  setenv_ (f, "AWS_ENDPOINT_URL", "http://localhost:9000");
  {
    g_autoptr(MtAwsSettings) s = load (f, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (s->endpoint_url, ==, "http://localhost:9000");
    g_assert_cmpstr (s->endpoint_source, ==, "AWS_ENDPOINT_URL");
  }
  setenv_ (f, "AWS_ENDPOINT_URL_S3", "https://minio.example.com/s3/");
  {
    g_autoptr(MtAwsSettings) s = load (f, &error);

    g_assert_cmpstr (s->endpoint_url, ==, "https://minio.example.com/s3/");
    g_assert_cmpstr (s->endpoint_source, ==, "AWS_ENDPOINT_URL_S3");
  }
}

static void
test_endpoint_invalid (Fixture *f, gconstpointer data)
{
  g_autoptr(MtAwsSettings) s = NULL;
  g_autoptr(GError) error = NULL;

  setenv_ (f, "AWS_ACCESS_KEY_ID", "AKIA");
  setenv_ (f, "AWS_SECRET_ACCESS_KEY", SECRET);
  setenv_ (f, "AWS_ENDPOINT_URL_S3", "ftp://example.com");
  s = load (f, &error);
  g_assert_null (s);
  g_assert_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "AWS_ENDPOINT_URL_S3"));
}

static void
test_addressing (void)
{
  struct { const char *endpoint, *region, *bucket, *scheme, *host, *base; gboolean path_style; } cases[] = {
    { NULL, "ap-southeast-1", "meals", "https", "meals.s3.ap-southeast-1.amazonaws.com", "", FALSE },
    { NULL, "us-east-1", "service-dietfit-20250526115059333100000001", "https",
      "service-dietfit-20250526115059333100000001.s3.us-east-1.amazonaws.com", "", FALSE },
    /* Dots break the wildcard certificate: path style. */
    { NULL, "eu-west-1", "meals.example.com", "https", "s3.eu-west-1.amazonaws.com", "/meals.example.com", TRUE },
    /* A custom endpoint is always path style, keeping its port and path. */
    { "http://127.0.0.1:9000", "us-east-1", "meals", "http", "127.0.0.1:9000", "/meals", TRUE },
    { "https://minio.example.com/s3/", "us-east-1", "meals", "https", "minio.example.com", "/s3/meals", TRUE },
    { "HTTP://[::1]:9000", "us-east-1", "meals", "http", "[::1]:9000", "/meals", TRUE },
  };
  static const char *const bad_buckets[] = { "", "ab", "a/b", "a b", "bucket?x", "b\xc3\xa9", "Meals",
                                             "meals_2025", "-meals", "meals.",
                                             "a234567890123456789012345678901234567890123456789012345678901234" };
  static const char *const bad_endpoints[] = { "", "example.com", "ftp://x", "http://", "http://h/?q=1", "http://u:p@h" };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MtS3Endpoint) e = mt_s3_endpoint_new (cases[i].endpoint, cases[i].region, cases[i].bucket, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (e->scheme, ==, cases[i].scheme);
      g_assert_cmpstr (e->host, ==, cases[i].host);
      g_assert_cmpstr (e->base_path, ==, cases[i].base);
      g_assert_cmpint (e->path_style, ==, cases[i].path_style);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_buckets); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MtS3Endpoint) e = mt_s3_endpoint_new (NULL, "us-east-1", bad_buckets[i], &error);

      g_assert_null (e);
      g_assert_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INVALID);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_endpoints); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MtS3Endpoint) e = mt_s3_endpoint_new (bad_endpoints[i], "us-east-1", "meals", &error);

      g_test_message ("endpoint “%s”", bad_endpoints[i]);
      g_assert_null (e);
      g_assert_error (error, MT_AWS_ERROR, MT_AWS_ERROR_INVALID);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/aws/environment", test_environment);
  ADD ("/aws/environment-incomplete", test_environment_incomplete);
  ADD ("/aws/profiles", test_profiles);
  ADD ("/aws/profile-in-config-file", test_profile_in_config_file);
  ADD ("/aws/region-order", test_region_order);
  ADD ("/aws/invalid-region", test_invalid_region);
  ADD ("/aws/missing-everything", test_missing_everything);
  ADD ("/aws/missing-profile", test_missing_profile);
  ADD ("/aws/profile-incomplete", test_profile_incomplete);
  ADD ("/aws/named-files", test_named_files);
  ADD ("/aws/bad-values", test_bad_values);
  ADD ("/aws/endpoint-variables", test_endpoint_variables);
  ADD ("/aws/endpoint-invalid", test_endpoint_invalid);
#undef ADD
  g_test_add_func ("/aws/addressing", test_addressing);

  return g_test_run ();
}
