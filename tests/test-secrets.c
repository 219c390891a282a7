/* test-secrets.c — no key, token, Authorization value or signature reaches
 * what Mealtrace prints, logs or exports, on any path it can take
 *
 * The binary runs in batch mode with G_MESSAGES_DEBUG=all against the
 * loopback Langfuse and S3 servers of this process, with fake secrets that
 * cannot be mistaken for anything else, through every error it can meet:
 * rejected keys, server faults and echoes, broken pages, the network, bad
 * configuration files. After each run, its standard output, its standard
 * error (which holds the debug log) and every file it wrote are searched for
 * any 8 bytes in a row of a secret (as written, or escaped for JSON, CSV,
 * XML or a URL), for a Basic or SigV4 Authorization value, and for a
 * signature. The exports' presigned image URLs carry the access key id, the
 * session token and a signature by design (SPEC §6, §10; README "Secrets"):
 * the exports are parsed and exactly those values are taken out before the
 * search, and each of them is checked on its own to hold nothing else.
 * Last, the messages the window shows for bad settings are made by calling
 * the functions that word them.
 */

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "mt-config.h"
#include "mt-demo.h"
#include "mt-fake-langfuse.h"
#include "mt-fake-s3.h"
#include "mt-test-files.h"

/* The canaries. The key id and the public key count as secrets too: they
 * may appear only where a presigned URL needs the key id. */
#define LF_PUBLIC "pk-lf-PUBLIC-CANARY-4e1b9c07d2a8"
#define LF_SECRET "sk-lf-SECRET-CANARY-7f3a5d21e8b6"
#define LF_WRONG "sk-lf-WRONG-CANARY-90c4ae13f5d7"
#define KEY_ID "AKIAKEYIDCANARY7Q3XZ"
#define WRONG_KEY_ID "AKIAWRONGIDCANARY5Z8"
#define AWS_SECRET "AWSSECRETCANARY/2b9e+Kq4Lm7Np0Rs3Tu6Vw8"
#define AWS_WRONG "AWSWRONGCANARY/8d1c+Hj5Gf4Ed3Cb2Ba1Zy9X"
#define TOKEN "IQoJTOKENCANARY+b3JpZ2luX2VjEJr/wEaCXVzLWVhc3QtMSJHMEUCIQ=="
#define WRONG_TOKEN "IQoJWRONGTOKENCANARY+ZXhwaXJlZF90b2tlbl9mb3JfdGVzdHM="
/* Secrets with what JSON, CSV, XML, URLs, .env and shells escape. An AWS
 * secret is printable ASCII without spaces (Mealtrace refuses others). */
#define LF_ESCAPED "sk-lf-ESCAPE-CANARY\"\\#5 $x'%2F&q=<b>;"
#define AWS_ESCAPED "AWSESCAPECANARY\"\\#%&'<>=?+/~`;|{}"
/* As .env writes them, in double quotes. */
#define LF_ESCAPED_DOTENV "\"sk-lf-ESCAPE-CANARY\\\"\\\\#5 $x'%2F&q=<b>;\""
#define AWS_ESCAPED_DOTENV "\"AWSESCAPECANARY\\\"\\\\#%&'<>=?+/~`;|{}\""

#define BUCKET "meals"
/* 2026-10-01T00:00:00+07:00 */
#define DAY0 G_GINT64_CONSTANT (1790787600000)
#define MINUTE G_GINT64_CONSTANT (60000)
/* Any 8 bytes in a row of a secret make a leak. */
#define WINDOW 8
/* No run may take longer: a hang is a failure too. */
#define RUN_TIMEOUT_S 120

/* What is searched for */

typedef struct {
  /* 8 bytes of a secret's form (guint64 *) → which secret and form */
  GHashTable *windows;
  /* the same, for the secrets a presigned URL must not carry either, less
   * the 8 bytes they share with those it carries (the canaries share
   * "CANARY") */
  GHashTable *url_windows;
  GHashTable *url_allowed;
  /* public secrets (the demo's), searched for whole */
  GPtrArray *whole;
  GPtrArray *patterns;   /* GRegex */
} Scanner;

static Scanner scanner;

static void
add_windows (GHashTable *table,
             const char *form,
             const char *label)
{
  gsize length = strlen (form);

  g_assert_cmpuint (length, >=, WINDOW);
  for (gsize i = 0; i + WINDOW <= length; i++)
    {
      guint64 *key = g_new (guint64, 1);

      memcpy (key, form + i, WINDOW);
      /* The first secret and form that has it names it. */
      if (g_hash_table_contains (table, key))
        g_free (key);
      else
        g_hash_table_insert (table, key, g_strdup (label));
    }
}

static char *
replace_all (const char *text,
             const char *const *pairs)
{
  GString *out = g_string_new (text);

  for (guint i = 0; pairs[i] != NULL; i += 2)
    g_string_replace (out, pairs[i], pairs[i + 1], 0);
  return g_string_free (out, FALSE);
}

/* @secret as written, and as JSON, CSV, XML and URLs escape it. */
static void
add_secret (const char *name,
            const char *secret,
            gboolean    allowed_in_urls)
{
  static const char *const json[] = { "\\", "\\\\", "\"", "\\\"", "/", "\\/", NULL };
  static const char *const csv[] = { "\"", "\"\"", NULL };
  static const char *const xml[] = { "&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;", "'", "&apos;", NULL };
  g_autofree char *as_json = replace_all (secret, json);
  g_autofree char *as_csv = replace_all (secret, csv);
  g_autofree char *as_xml = replace_all (secret, xml);
  g_autofree char *as_url = g_uri_escape_string (secret, NULL, FALSE);
  const struct {
    const char *form;
    const char *how;
  } forms[] = {
    { secret, "as written" }, { as_json, "escaped for JSON" }, { as_csv, "escaped for CSV" },
    { as_xml, "escaped for XML" }, { as_url, "escaped for a URL" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      g_autofree char *label = g_strdup_printf ("%s (%s)", name, forms[i].how);

      add_windows (scanner.windows, forms[i].form, label);
      add_windows (allowed_in_urls ? scanner.url_allowed : scanner.url_windows, forms[i].form, label);
    }
}

/* The Authorization value Langfuse gets for these keys, without "Basic ". */
static char *
basic_credentials (const char *public_key,
                   const char *secret_key)
{
  g_autofree char *pair = g_strconcat (public_key, ":", secret_key, NULL);

  return g_base64_encode ((const guchar *) pair, strlen (pair));
}

static void
add_basic (const char *public_key,
           const char *secret_key)
{
  g_autofree char *encoded = basic_credentials (public_key, secret_key);
  g_autofree char *label = g_strdup_printf ("the Basic credentials of %s", public_key);

  add_windows (scanner.windows, encoded, label);
  add_windows (scanner.url_windows, encoded, label);
}

static void
scanner_init (void)
{
  const char *patterns[] = {
    "Basic [A-Za-z0-9+/]{8}",          /* a Basic Authorization value */
    "AWS4-HMAC-SHA256 Credential=",    /* a SigV4 Authorization value */
    "Signature=[0-9a-f]{8}",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    "[0-9a-fA-F]{64}",                 /* a signature or a signing key, in hex */
  };
  g_autofree char *demo_basic = basic_credentials (MT_DEMO_LANGFUSE_PUBLIC_KEY, MT_DEMO_LANGFUSE_SECRET_KEY);

  scanner.windows = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  scanner.url_windows = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  scanner.url_allowed = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  add_secret ("the Langfuse secret key", LF_SECRET, FALSE);
  add_secret ("the wrong Langfuse secret key", LF_WRONG, FALSE);
  add_secret ("the Langfuse secret key with escapes", LF_ESCAPED, FALSE);
  add_secret ("the Langfuse public key", LF_PUBLIC, FALSE);
  add_secret ("the AWS secret access key", AWS_SECRET, FALSE);
  add_secret ("the wrong AWS secret access key", AWS_WRONG, FALSE);
  add_secret ("the AWS secret access key with escapes", AWS_ESCAPED, FALSE);
  add_secret ("the AWS access key id", KEY_ID, TRUE);
  add_secret ("the wrong AWS access key id", WRONG_KEY_ID, TRUE);
  add_secret ("the AWS session token", TOKEN, TRUE);
  add_secret ("the wrong AWS session token", WRONG_TOKEN, TRUE);
  add_basic (LF_PUBLIC, LF_SECRET);
  add_basic (LF_PUBLIC, LF_WRONG);
  add_basic (LF_PUBLIC, LF_ESCAPED);
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, scanner.url_allowed);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_hash_table_remove (scanner.url_windows, key);
  }

  /* The demo's keys are in its source; "mealtrace" is in much that is
   * printed, so they are searched for whole. */
  scanner.whole = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (scanner.whole, g_strdup (MT_DEMO_LANGFUSE_SECRET_KEY));
  g_ptr_array_add (scanner.whole, g_strdup (MT_DEMO_AWS_SECRET_ACCESS_KEY));
  g_ptr_array_add (scanner.whole, g_strdup (demo_basic));

  /* Not G_REGEX_OPTIMIZE: in the code PCRE2's JIT compiles from a pattern,
   * Valgrind's memcheck (meson test --setup valgrind) sees jumps on
   * uninitialised values, which PCRE2's interpreter does not make. */
  scanner.patterns = g_ptr_array_new_with_free_func ((GDestroyNotify) g_regex_unref);
  for (guint i = 0; i < G_N_ELEMENTS (patterns); i++)
    g_ptr_array_add (scanner.patterns, g_regex_new (patterns[i], G_REGEX_RAW, 0, NULL));
}

static void
scanner_clear (void)
{
  g_hash_table_unref (scanner.windows);
  g_hash_table_unref (scanner.url_windows);
  g_hash_table_unref (scanner.url_allowed);
  g_ptr_array_unref (scanner.whole);
  g_ptr_array_unref (scanner.patterns);
}

/* Fails the test when @table has any 8 bytes of @text. */
static gboolean
find_windows (GHashTable *table,
              const char *what,
              const char *text,
              gsize       length)
{
  for (gsize i = 0; i + WINDOW <= length; i++)
    {
      guint64 key;
      const char *label;

      memcpy (&key, text + i, WINDOW);
      if ((label = g_hash_table_lookup (table, &key)) != NULL)
        {
          gsize from = i > 60 ? i - 60 : 0;

          g_test_fail_printf ("%s holds part of %s at byte %" G_GSIZE_FORMAT ": “%.*s”", what, label, i,
                              (int) MIN (length - from, 140), text + from);
          return TRUE;
        }
    }
  return FALSE;
}

/* Fails the test when @text holds a secret, or a part of one, an
 * Authorization value or a signature. */
static void
assert_clean_text (const char *what,
                   const char *text,
                   gsize       length)
{
  if (find_windows (scanner.windows, what, text, length))
    return;
  for (guint i = 0; i < scanner.whole->len; i++)
    {
      const char *secret = g_ptr_array_index (scanner.whole, i);

      if (g_strstr_len (text, (gssize) length, secret) != NULL)
        {
          g_test_fail_printf ("%s holds the demo's secret “%s”", what, secret);
          return;
        }
    }
  for (guint i = 0; i < scanner.patterns->len; i++)
    {
      GRegex *regex = g_ptr_array_index (scanner.patterns, i);
      g_autoptr(GMatchInfo) match = NULL;

      if (g_regex_match_full (regex, text, (gssize) length, 0, 0, &match, NULL))
        {
          int start = 0;

          g_match_info_fetch_pos (match, 0, &start, NULL);
          g_test_fail_printf ("%s holds /%s/ at byte %d: “%.*s”", what, g_regex_get_pattern (regex), start,
                              (int) MIN ((gsize) (length - start), 120), text + start);
          return;
        }
    }
}

/* The loopback servers and a folder that is the binary's home and working
 * directory. */

typedef struct {
  MtLoopbackLangfuse *langfuse;
  MtLoopbackS3 *s3;
  char *dir;
  char **env;
  GHashTable *inputs;  /* paths of the files the test wrote there */
  const char *token;   /* the session token the server takes */
  gboolean demo;       /* the exports' URLs are the demo's */
} Fixture;

typedef struct {
  int status;
  char *out;
  char *err;
  guint urls;          /* presigned URLs found in the exports */
  guint exports;       /* JSON and CSV files written */
} Outcome;

static void
outcome_clear (Outcome *o)
{
  g_free (o->out);
  g_free (o->err);
}

static void
trace (Fixture    *f,
       const char *id,
       const char *user,
       gint64      time)
{
  g_autofree char *root = g_strconcat (id, "-root", NULL);
  g_autofree char *generation = g_strconcat (id, "-gen", NULL);

  mt_loopback_langfuse_add_trace (f->langfuse, id, time, "meal-analysis", user, "session-1",
                                  "{\"image_key\":\"a photo\"}", "{\"total_calories\":420}");
  mt_loopback_langfuse_add_observation (f->langfuse, id, generation, "GENERATION", time + 100, root, "gpt-4o",
                                        "meal-analyzer", 3, "[{\"role\":\"user\",\"content\":\"What is this?\"}]",
                                        0.001);
}

static void
image (Fixture    *f,
       const char *key,
       gint64      time)
{
  g_autoptr(GBytes) bytes = g_bytes_new_static ("\xff\xd8\xff\xe0 not really a photo", 24);

  mt_loopback_s3_put (f->s3, BUCKET, key, time, bytes, 0);
}

/* Every place a presigned URL has in the exports: a pair's photo, a photo
 * left unmatched, a photo of a user without pairs. */
static void
populate (Fixture *f)
{
  trace (f, "t-ana-1", "ana", DAY0 + 8 * 60 * MINUTE);
  trace (f, "t-ana-2", "ana", DAY0 + 12 * 60 * MINUTE);
  image (f, "meal-images/ana/breakfast.jpg", DAY0 + 8 * 60 * MINUTE + 5 * MINUTE);
  image (f, "meal-images/ana/early.jpg", DAY0 + 7 * 60 * MINUTE);
  trace (f, "t-bao-1", "bao", DAY0 + 9 * 60 * MINUTE);
  trace (f, "t-chi-1", "chi", DAY0 + 20 * 60 * MINUTE);
  image (f, "meal-images/chi/before.png", DAY0 + 19 * 60 * MINUTE);
}

static void
set (Fixture    *f,
     const char *name,
     const char *value)
{
  if (value != NULL)
    f->env = g_environ_setenv (f->env, name, value, TRUE);
  else
    f->env = g_environ_unsetenv (f->env, name);
}

/* The servers take these secrets, and the binary is given them. */
static void
serve (Fixture    *f,
       const char *langfuse_secret,
       const char *aws_secret,
       const char *token)
{
  g_clear_object (&f->langfuse);
  g_clear_object (&f->s3);
  f->langfuse = mt_loopback_langfuse_new (LF_PUBLIC, langfuse_secret);
  f->s3 = mt_loopback_s3_new ("us-east-1", KEY_ID, aws_secret, token);
  f->token = token;
  mt_loopback_s3_add_bucket (f->s3, BUCKET);
  populate (f);

  set (f, "LANGFUSE_BASE_URL", mt_loopback_langfuse_get_base_url (f->langfuse));
  set (f, "LANGFUSE_PUBLIC_KEY", LF_PUBLIC);
  set (f, "LANGFUSE_SECRET_KEY", langfuse_secret);
  set (f, "AWS_ENDPOINT_URL_S3", mt_loopback_s3_get_endpoint (f->s3));
  set (f, "AWS_ACCESS_KEY_ID", KEY_ID);
  set (f, "AWS_SECRET_ACCESS_KEY", aws_secret);
  set (f, "AWS_SESSION_TOKEN", token);
  set (f, "MEALTRACE_S3_BUCKET", BUCKET);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  const char *passed[] = { "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "G_SLICE", "PATH", NULL };
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("mealtrace-secrets-XXXXXX", &error);
  g_assert_no_error (error);
  f->inputs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f->env = g_environ_setenv (NULL, "HOME", f->dir, TRUE);
  for (guint i = 0; passed[i] != NULL; i++)
    if (g_getenv (passed[i]) != NULL)
      set (f, passed[i], g_getenv (passed[i]));
  set (f, "LC_ALL", "C.UTF-8");
  set (f, "no_proxy", "127.0.0.1");
  /* Everything the binary logs, on its standard streams. */
  set (f, "G_MESSAGES_DEBUG", "all");
  serve (f, LF_SECRET, AWS_SECRET, TOKEN);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->langfuse);
  g_clear_object (&f->s3);
  mt_test_remove_tree (f->dir);
  g_free (f->dir);
  g_strfreev (f->env);
  g_hash_table_unref (f->inputs);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* A file the binary reads, under the fixture's folder; it is not searched. */
static char *
write_input (Fixture    *f,
             const char *name,
             const char *contents,
             gssize      length)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  g_autofree char *folder = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_mkdir_with_parents (folder, 0700);
  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);
  g_hash_table_add (f->inputs, g_strdup (path));
  return g_steal_pointer (&path);
}

static void
remove_input (Fixture    *f,
              const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);

  g_unlink (path);
  g_hash_table_remove (f->inputs, path);
}

/* Exports */

/* A presigned URL of the loopback bucket (the demo's, in the demo), signed
 * with the key id and, when there is one, the session token, and nothing
 * else secret. */
static void
check_presigned (Fixture    *f,
                 const char *url,
                 const char *where)
{
  g_autofree char *prefix = f->demo ? g_strdup ("http://127.0.0.1:")
                                    : g_strconcat (mt_loopback_s3_get_endpoint (f->s3), "/" BUCKET "/", NULL);
  g_autofree char *credential = g_strconcat ("?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=",
                                             f->demo ? MT_DEMO_AWS_ACCESS_KEY_ID : KEY_ID, "%2F", NULL);
  g_autofree char *token = f->token != NULL ? g_uri_escape_string (f->token, NULL, FALSE) : NULL;
  g_autofree char *token_param = g_strconcat ("&X-Amz-Security-Token=", token, "&", NULL);
  g_autoptr(GRegex) signature = g_regex_new ("&X-Amz-Signature=[0-9a-f]{64}$", 0, 0, NULL);

  g_assert_true (g_str_has_prefix (url, prefix));
  g_assert_nonnull (strstr (url, f->demo ? "/" MT_DEMO_BUCKET "/meal-images/" : "/" BUCKET "/meal-images/"));
  g_assert_nonnull (strstr (url, credential));
  g_assert_true (g_regex_match (signature, url, 0, NULL));
  if (f->token != NULL)
    g_assert_nonnull (strstr (url, token_param));
  else
    g_assert_null (strstr (url, "X-Amz-Security-Token"));
  find_windows (scanner.url_windows, where, url, strlen (url));
}

/* Blanks the presigned URL in member "url" of image @node. */
static guint
strip_image_url (Fixture    *f,
                 JsonNode   *node,
                 const char *path)
{
  JsonObject *image;
  JsonNode *url;

  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  image = json_node_get_object (node);
  url = json_object_get_member (image, "url");
  g_assert_nonnull (url);
  if (JSON_NODE_HOLDS_NULL (url))
    return 0;
  check_presigned (f, json_node_get_string (url), path);
  json_object_set_string_member (image, "url", "");
  return 1;
}

static JsonArray *
array_member (JsonObject *object,
              const char *name)
{
  JsonNode *member = json_object_get_member (object, name);

  g_assert_nonnull (member);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (member));
  return json_node_get_array (member);
}

/* The JSON export, with its presigned URLs blanked, and how many there
 * were: those of successful_matches[].matched_pairs[].image,
 * successful_matches[].unmatched_images[] and
 * users_without_counterpart[].images[], and only those. */
static char *
json_without_urls (Fixture    *f,
                   const char *path,
                   const char *text,
                   gsize       length,
                   guint      *urls)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *users;

  json_parser_load_from_data (parser, text, (gssize) length, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  root = json_node_get_object (json_parser_get_root (parser));

  users = array_member (root, "successful_matches");
  for (guint i = 0; i < json_array_get_length (users); i++)
    {
      JsonObject *user = json_array_get_object_element (users, i);
      JsonArray *pairs = array_member (user, "matched_pairs");
      JsonArray *unmatched = array_member (user, "unmatched_images");

      for (guint j = 0; j < json_array_get_length (pairs); j++)
        *urls += strip_image_url (f, json_object_get_member (json_array_get_object_element (pairs, j), "image"), path);
      for (guint j = 0; j < json_array_get_length (unmatched); j++)
        *urls += strip_image_url (f, json_array_get_element (unmatched, j), path);
    }
  users = array_member (root, "users_without_counterpart");
  for (guint i = 0; i < json_array_get_length (users); i++)
    {
      JsonArray *images = array_member (json_array_get_object_element (users, i), "images");

      for (guint j = 0; j < json_array_get_length (images); j++)
        *urls += strip_image_url (f, json_array_get_element (images, j), path);
    }
  return json_to_string (json_parser_get_root (parser), TRUE);
}

/* RFC 4180: rows of cells, quoted or not. */
static GPtrArray *
csv_parse (const char *text,
           gsize       length)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  GPtrArray *row = g_ptr_array_new_with_free_func (g_free);
  GString *cell = g_string_new (NULL);
  gsize i = 0;

  while (i < length)
    {
      if (text[i] == '"' && cell->len == 0)
        {
          for (i++; i < length; i++)
            {
              if (text[i] == '"' && i + 1 < length && text[i + 1] == '"')
                g_string_append_c (cell, text[i++]);
              else if (text[i] == '"')
                break;
              else
                g_string_append_c (cell, text[i]);
            }
          g_assert_cmpuint (i, <, length); /* a quote that is never closed */
          i++;
          g_assert_true (i == length || text[i] == ',' || text[i] == '\r' || text[i] == '\n');
          continue;
        }
      if (text[i] == ',' || text[i] == '\n' || (text[i] == '\r' && i + 1 < length && text[i + 1] == '\n'))
        {
          g_ptr_array_add (row, g_string_free (g_steal_pointer (&cell), FALSE));
          cell = g_string_new (NULL);
          if (text[i] == '\r')
            i++;
          if (text[i] == '\n')
            {
              g_ptr_array_add (rows, row);
              row = g_ptr_array_new_with_free_func (g_free);
            }
          i++;
          continue;
        }
      g_string_append_c (cell, text[i++]);
    }
  /* Every row ends with a line break. */
  g_assert_cmpuint (row->len, ==, 0);
  g_assert_cmpuint (cell->len, ==, 0);
  g_ptr_array_unref (row);
  g_string_free (cell, TRUE);
  return rows;
}

/* The CSV export's cells, one a line, with the image_url column blanked. */
static char *
csv_without_urls (Fixture    *f,
                  const char *path,
                  const char *text,
                  gsize       length,
                  guint      *urls)
{
  g_autoptr(GPtrArray) rows = csv_parse (text, length);
  GPtrArray *header;
  GString *out = g_string_new (NULL);
  guint column = G_MAXUINT;

  g_assert_cmpuint (rows->len, >=, 1);
  header = g_ptr_array_index (rows, 0);
  for (guint i = 0; i < header->len; i++)
    if (strcmp (g_ptr_array_index (header, i), "image_url") == 0)
      column = i;
  g_assert_cmpuint (column, <, header->len);
  for (guint r = 0; r < rows->len; r++)
    {
      GPtrArray *row = g_ptr_array_index (rows, r);

      g_assert_cmpuint (row->len, ==, header->len);
      if (r > 0)
        {
          check_presigned (f, g_ptr_array_index (row, column), path);
          g_free (g_ptr_array_index (row, column));
          g_ptr_array_index (row, column) = g_strdup ("");
          (*urls)++;
        }
      for (guint i = 0; i < row->len; i++)
        g_string_append_printf (out, "%s\n", (const char *) g_ptr_array_index (row, i));
    }
  return g_string_free (out, FALSE);
}

/* Every file under @path the binary wrote: none holds a secret; the
 * exports, once their presigned URLs are out, neither. */
static void
scan_files (Fixture    *f,
            const char *path,
            Outcome    *o)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_autofree char *text = NULL;
      g_autofree char *rest = NULL;
      g_autoptr(GError) error = NULL;
      gsize length = 0;

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        {
          scan_files (f, child, o);
          continue;
        }
      if (g_hash_table_contains (f->inputs, child))
        continue;
      g_file_get_contents (child, &text, &length, &error);
      g_assert_no_error (error);
      if (g_str_has_suffix (name, ".json"))
        rest = json_without_urls (f, child, text, length, &o->urls);
      else if (g_str_has_suffix (name, ".csv"))
        rest = csv_without_urls (f, child, text, length, &o->urls);
      if (rest != NULL)
        o->exports++;
      assert_clean_text (child, rest != NULL ? rest : text, rest != NULL ? strlen (rest) : length);
    }
}

/* Runs */

static void
on_communicated (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static gboolean
on_too_long (gpointer data)
{
  g_subprocess_force_exit (data);
  g_test_fail_printf ("the run took more than %u s", RUN_TIMEOUT_S);
  return G_SOURCE_REMOVE;
}

/* `mealtrace` with @args and the fixture's environment, in its folder,
 * serving the loopback servers meanwhile; then all it printed and wrote is
 * searched. */
static Outcome
run_argv (Fixture            *f,
          const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  g_autoptr(GError) error = NULL;
  Outcome o = { 0 };
  guint timeout;

  g_ptr_array_add (argv, (gpointer) g_getenv ("MEALTRACE_BINARY"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_set_environ (launcher, f->env);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  timeout = g_timeout_add_seconds (RUN_TIMEOUT_S, on_too_long, process);
  g_subprocess_communicate_async (process, NULL, NULL, on_communicated, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_subprocess_communicate_finish (process, result, &out, &err, &error);
  g_assert_no_error (error);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  if (g_main_context_find_source_by_id (NULL, timeout) != NULL)
    g_source_remove (timeout);

  o.status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
  o.out = g_strndup (g_bytes_get_size (out) > 0 ? g_bytes_get_data (out, NULL) : "", g_bytes_get_size (out));
  o.err = g_strndup (g_bytes_get_size (err) > 0 ? g_bytes_get_data (err, NULL) : "", g_bytes_get_size (err));
  g_test_message ("exit %d\n--- stdout\n%s--- stderr\n%s", o.status, o.out, o.err);

  assert_clean_text ("standard output", g_bytes_get_data (out, NULL), g_bytes_get_size (out));
  assert_clean_text ("standard error", g_bytes_get_data (err, NULL), g_bytes_get_size (err));
  scan_files (f, f->dir, &o);
  return o;
}

/* `mealtrace --batch` over the day of the data, with @extra arguments. */
static Outcome
run_args (Fixture            *f,
          const char * const *extra)
{
  const char *window[] = {
    "--batch", "--from", "2026-10-01", "--to", "2026-10-02", "--timezone", "+07:00", "--output-dir", "out",
  };
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (window); i++)
    g_ptr_array_add (args, (gpointer) window[i]);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) extra[i]);
  g_ptr_array_add (args, NULL);
  return run_argv (f, (const char * const *) args->pdata);
}

static Outcome
run (Fixture *f)
{
  return run_args (f, NULL);
}

/* The run ended as the case means it to, so that the path was taken. */
static void
assert_outcome (Outcome    *o,
                int         status,
                const char *said)
{
  g_assert_cmpint (o->status, ==, status);
  if (said != NULL && strstr (o->err, said) == NULL)
    g_test_fail_printf ("standard error does not say “%s”", said);
}

/* @text is in what the binary printed, on either stream. */
static gboolean
printed (Outcome    *o,
         const char *text)
{
  return strstr (o->out, text) != NULL || strstr (o->err, text) != NULL;
}

/* Written, and said so: both exports, with @urls presigned URLs in all. */
static void
assert_exports (Outcome *o,
                guint    urls)
{
  g_assert_cmpuint (o->exports, ==, 2);
  g_assert_cmpuint (o->urls, ==, urls);
}

/* The three photos of the data: in the JSON, and in the CSV one pair. */
#define ALL_URLS 4

/* What the window shows for the fixture's settings: mt_config_load()'s
 * error (its welcome and error pages), which says @said (%NULL: the
 * settings load), and the origins its preferences list, or the error that
 * says why there are none. */
static void
check_window_messages (Fixture    *f,
                       const char *said)
{
  g_autofree char *path = g_build_filename (f->dir, ".env", NULL);
  g_autoptr(GFile) dotenv = g_file_new_for_path (path);
  MtConfigSources sources = { NULL, (const char * const *) f->env, dotenv, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(MtConfig) config = mt_config_load (&sources, &error);
  g_autoptr(GHashTable) origins = NULL;
  GHashTableIter iter;
  gpointer name, origin;

  if (said == NULL)
    g_assert_no_error (error);
  else
    {
      g_assert_null (config);
      g_assert_nonnull (error);
      if (strstr (error->message, said) == NULL)
        g_test_fail_printf ("the window's message does not say “%s”: %s", said, error->message);
      assert_clean_text ("the window's message", error->message, strlen (error->message));
      g_clear_error (&error);
    }

  origins = mt_config_load_origins (&sources, &error);
  if (origins == NULL)
    {
      assert_clean_text ("the preferences' message", error->message, strlen (error->message));
      return;
    }
  g_hash_table_iter_init (&iter, origins);
  while (g_hash_table_iter_next (&iter, &name, &origin))
    {
      assert_clean_text ("a setting's name in the preferences", name, strlen (name));
      assert_clean_text ("a setting's origin in the preferences", origin, strlen (origin));
    }
}

/* Successful runs */

static void
test_success (Fixture       *f,
              gconstpointer  data)
{
  const char *api[] = { "--langfuse-api", data, NULL };
  Outcome o;

  check_window_messages (f, NULL);
  o = run_args (f, api);

  assert_outcome (&o, 0, NULL);
  assert_exports (&o, ALL_URLS);
  g_assert_nonnull (strstr (o.out, "Total Matched Pairs: 1\n"));
  /* The log is on: G_MESSAGES_DEBUG=all reached the binary. */
  g_assert_true (printed (&o, "-DEBUG: "));
  outcome_clear (&o);
}

/* Keys with what needs escaping, read from .env, and no session token. */
static void
test_success_escaped (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *dotenv = NULL;
  Outcome o;

  serve (f, LF_ESCAPED, AWS_ESCAPED, NULL);
  set (f, "LANGFUSE_SECRET_KEY", NULL);
  set (f, "AWS_SECRET_ACCESS_KEY", NULL);
  dotenv = g_strdup_printf ("# keys\nexport LANGFUSE_SECRET_KEY=%s\nAWS_SECRET_ACCESS_KEY = %s # the bucket's\n",
                            LF_ESCAPED_DOTENV, AWS_ESCAPED_DOTENV);
  g_free (write_input (f, ".env", dotenv, -1));
  check_window_messages (f, NULL);
  o = run (f);
  assert_outcome (&o, 0, NULL);
  assert_exports (&o, ALL_URLS);
  outcome_clear (&o);
}

/* Rejected keys */

static void
test_langfuse_unauthorized (Fixture       *f,
                            gconstpointer  data)
{
  Outcome o;

  set (f, "LANGFUSE_SECRET_KEY", LF_WRONG);
  o = run (f);
  assert_outcome (&o, 3, "(401)");
  outcome_clear (&o);
}

static void
test_s3_rejected (Fixture       *f,
                  gconstpointer  data)
{
  const struct {
    const char *name;
    const char *value;
    const char *said;
  } cases[] = {
    { "AWS_SECRET_ACCESS_KEY", AWS_WRONG, "SignatureDoesNotMatch" },
    { "AWS_ACCESS_KEY_ID", WRONG_KEY_ID, "InvalidAccessKeyId" },
    { "AWS_SESSION_TOKEN", WRONG_TOKEN, "InvalidToken" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Outcome o;

      serve (f, LF_SECRET, AWS_SECRET, TOKEN);
      set (f, cases[i].name, cases[i].value);
      o = run (f);
      assert_outcome (&o, 3, cases[i].said);
      outcome_clear (&o);
    }
}

/* S3's faults, each after its retries where S3 may be asked again: on
 * every request, or (@one_user) on ana's own listing, once the walk of the
 * whole prefix has failed. Answers that ask to wait (SlowDown, 429) take
 * the second way: on every request they keep a run waiting half a minute. */
typedef struct {
  MtFakeS3Fault fault;
  gboolean one_user;
  int status;
  const char *said;
} S3Case;

static void
test_s3_fault (Fixture       *f,
               gconstpointer  data)
{
  const S3Case *c = data;
  Outcome o;

  if (c->one_user)
    {
      /* The walk's five attempts are the first five requests. */
      mt_fake_s3_add_fault (f->s3, MT_FAKE_S3_FAULT_INTERNAL_ERROR, 5, "meal-images/");
      mt_fake_s3_add_fault (f->s3, c->fault, 1000, "meal-images/ana/");
    }
  else
    mt_fake_s3_add_fault (f->s3, c->fault, 1000, NULL);
  o = run (f);
  assert_outcome (&o, c->status, c->said);
  /* Written all the same: with chi's photo alone when ana's failed. */
  if (c->status == 1)
    assert_exports (&o, c->one_user ? 1 : 0);
  if (c->one_user)
    g_assert_nonnull (strstr (o.out, "User ana could not be read completely."));
  outcome_clear (&o);
}

/* A server that echoes the credentials in its error message: the message
 * is shown, scrubbed, in standard error, the log and the exports' errors. */
static void
test_s3_echo (Fixture       *f,
              gconstpointer  data)
{
  Outcome o;

  mt_fake_s3_add_fault (f->s3, MT_FAKE_S3_FAULT_ECHO, 1000, NULL);
  o = run (f);
  assert_outcome (&o, 1, "Bad request from token");
  assert_exports (&o, 0);
  /* The log says it too. */
  g_assert_true (printed (&o, "listing each user instead"));
  outcome_clear (&o);
}

/* Langfuse's faults, on every request. */
typedef struct {
  MtFakeLangfuseFault fault;
  const char *api;
  int status;
  const char *said;
} LangfuseCase;

static void
test_langfuse_fault (Fixture       *f,
                     gconstpointer  data)
{
  const LangfuseCase *c = data;
  const char *api[] = { "--langfuse-api", c->api, NULL };
  Outcome o;

  mt_fake_langfuse_add_fault (f->langfuse, c->fault, 1000, NULL);
  o = run_args (f, api);
  assert_outcome (&o, c->status, c->said);
  if (c->status == 1)
    assert_exports (&o, 0);
  outcome_clear (&o);
}

static void
test_langfuse_echo (Fixture       *f,
                    gconstpointer  data)
{
  Outcome o;

  if (data != NULL)
    serve (f, LF_ESCAPED, AWS_SECRET, TOKEN);
  mt_fake_langfuse_add_fault (f->langfuse, MT_FAKE_LANGFUSE_FAULT_ECHO, 1000, NULL);
  o = run (f);
  assert_outcome (&o, 1, "Project not allowed");
  assert_exports (&o, 0);
  outcome_clear (&o);
}

/* A server that answers what it takes for TLS with plain HTTP, at once. */
static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             gpointer           data)
{
  static const char answer[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  g_output_stream_write_all (out, answer, sizeof answer - 1, NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return TRUE;
}

static char *
start_plain_server (GSocketService *service)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  g_socket_listener_add_address (G_SOCKET_LISTENER (service), address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &effective, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), NULL);
  g_socket_service_start (service);
  return g_strdup_printf ("https://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
}

/* The network: TLS with a server that does not speak it, a name that does
 * not resolve. */
static void
test_network (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autofree char *plain = start_plain_server (service);
  g_autofree char *langfuse = g_strdup (mt_loopback_langfuse_get_base_url (f->langfuse));
  g_autofree char *s3 = g_strdup (mt_loopback_s3_get_endpoint (f->s3));
  const struct {
    const char *name;
    const char *value;
    const char *said;
  } cases[] = {
    { "LANGFUSE_BASE_URL", plain, "TLS" },
    { "AWS_ENDPOINT_URL_S3", plain, "TLS" },
    { "LANGFUSE_BASE_URL", "http://langfuse.mealtrace-test.invalid", "mealtrace-test.invalid" },
    { "AWS_ENDPOINT_URL_S3", "http://s3.mealtrace-test.invalid", "mealtrace-test.invalid" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Outcome o;

      set (f, "LANGFUSE_BASE_URL", langfuse);
      set (f, "AWS_ENDPOINT_URL_S3", s3);
      set (f, cases[i].name, cases[i].value);
      o = run (f);
      g_assert_cmpint (o.status, !=, 0);
      assert_outcome (&o, o.status, cases[i].said);
      outcome_clear (&o);
    }
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
}

/* Configuration */

/* .env lines that hold a secret and cannot be read: the error says where,
 * never what. */
static void
test_dotenv (Fixture       *f,
             gconstpointer  data)
{
  const char *files[] = {
    "LANGFUSE_SECRET_KEY=\"" LF_SECRET "\n",
    "LANGFUSE_SECRET_KEY='" LF_SECRET "'x\n",
    "# the key\n" LF_SECRET "\n",
    "LANGFUSE SECRET " LF_SECRET "=1\n",
    "AWS_SECRET_ACCESS_KEY=\"" AWS_SECRET "\" " KEY_ID "\n",
    "export " AWS_SECRET "=" TOKEN "\n",
    "AWS_SESSION_TOKEN=" TOKEN "\xff\xfe\n",
  };

  set (f, "LANGFUSE_SECRET_KEY", NULL);
  set (f, "AWS_SECRET_ACCESS_KEY", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      Outcome o;

      g_free (write_input (f, ".env", files[i], -1));
      check_window_messages (f, ".env");
      o = run (f);
      assert_outcome (&o, 3, ".env");
      outcome_clear (&o);
    }
}

/* ~/.aws/credentials and ~/.aws/config, wrong in the ways files go wrong:
 * a value with a space, a key without its secret, two lines run into one,
 * a file that is not text, a profile that is not there. */
static void
test_aws_files (Fixture       *f,
                gconstpointer  data)
{
  const struct {
    const char *credentials;
    const char *config;
    const char *profile;
    const char *said;
    gsize nul;           /* bytes after the string's end that are part of the file */
  } cases[] = {
    { "[default]\naws_access_key_id = " KEY_ID "\naws_secret_access_key = " AWS_SECRET " " TOKEN "\n", NULL, NULL,
      "aws_secret_access_key" },
    { "[default]\naws_access_key_id = " KEY_ID " aws_secret_access_key = " AWS_SECRET "\n", NULL, NULL,
      "aws_access_key_id" },
    { "[default]\naws_secret_access_key = " AWS_SECRET "\naws_session_token = " TOKEN "\n", NULL, NULL,
      "aws_access_key_id" },
    { "[default]\naws_access_key_id = " KEY_ID "\naws_secret_access_key = " AWS_SECRET "\n",
      "[default]\nregion = ap-southeast-1aws_session_token = " TOKEN "\n", NULL, "region" },
    { NULL, "[default]\nregion = " AWS_SECRET "\naws_access_key_id = " KEY_ID "\n"
      "aws_secret_access_key = " AWS_SECRET "\n", NULL, "region" },
    { "[default]\naws_access_key_id = " KEY_ID "\naws_secret_access_key = " AWS_SECRET "\n\x00\x01", NULL, NULL,
      "not a text file", 2 },
    { "[" AWS_SECRET "\naws_access_key_id = " KEY_ID "\naws_secret_access_key = " AWS_SECRET "\n", NULL, "work",
      "AWS_PROFILE" },
  };

  set (f, "AWS_ACCESS_KEY_ID", NULL);
  set (f, "AWS_SECRET_ACCESS_KEY", NULL);
  set (f, "AWS_SESSION_TOKEN", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Outcome o;

      remove_input (f, ".aws/credentials");
      remove_input (f, ".aws/config");
      if (cases[i].credentials != NULL)
        g_free (write_input (f, ".aws/credentials", cases[i].credentials,
                             (gssize) (strlen (cases[i].credentials) + cases[i].nul)));
      if (cases[i].config != NULL)
        g_free (write_input (f, ".aws/config", cases[i].config, -1));
      set (f, "AWS_PROFILE", cases[i].profile);
      check_window_messages (f, cases[i].said);
      o = run (f);
      assert_outcome (&o, 3, cases[i].said);
      outcome_clear (&o);
    }
}

/* Keys written into the servers' URLs, keys with a character AWS keys
 * never have, and missing settings. */
static void
test_settings (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *langfuse = g_strdup (mt_loopback_langfuse_get_base_url (f->langfuse));
  g_autofree char *s3 = g_strdup (mt_loopback_s3_get_endpoint (f->s3));
  g_autofree char *langfuse_keys = g_strconcat ("http://" LF_PUBLIC ":" LF_SECRET "@", langfuse + strlen ("http://"),
                                                NULL);
  g_autofree char *s3_keys = g_strconcat ("http://" KEY_ID ":" AWS_SECRET "@", s3 + strlen ("http://"), NULL);
  g_autofree char *langfuse_query = g_strconcat (langfuse, "/?secret=" LF_SECRET, NULL);
  g_autofree char *langfuse_fragment = g_strconcat (langfuse, "/#" LF_SECRET, NULL);
  g_autofree char *s3_query = g_strconcat (s3, "?X-Amz-Credential=" KEY_ID "&token=" TOKEN, NULL);
  g_autofree char *s3_fragment = g_strconcat (s3, "#" AWS_SECRET, NULL);
  const struct {
    const char *name;
    const char *value;
    const char *said;
  } cases[] = {
    { "LANGFUSE_BASE_URL", langfuse_keys, "LANGFUSE_BASE_URL" },
    { "LANGFUSE_BASE_URL", langfuse_query, "LANGFUSE_BASE_URL" },
    { "LANGFUSE_BASE_URL", langfuse_fragment, "LANGFUSE_BASE_URL" },
    { "AWS_ENDPOINT_URL_S3", s3_keys, "AWS_ENDPOINT_URL_S3" },
    { "AWS_ENDPOINT_URL_S3", s3_query, "AWS_ENDPOINT_URL_S3" },
    { "AWS_ENDPOINT_URL_S3", s3_fragment, "AWS_ENDPOINT_URL_S3" },
    { "AWS_SECRET_ACCESS_KEY", AWS_SECRET "\t" LF_SECRET, "AWS_SECRET_ACCESS_KEY" },
    { "AWS_SESSION_TOKEN", TOKEN "é", "session token" },
    { "MEALTRACE_S3_BUCKET", NULL, "MEALTRACE_S3_BUCKET" },
    { "LANGFUSE_PUBLIC_KEY", NULL, "LANGFUSE_PUBLIC_KEY" },
    { "AWS_ACCESS_KEY_ID", NULL, "AWS_ACCESS_KEY_ID" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Outcome o;

      set (f, "LANGFUSE_BASE_URL", langfuse);
      set (f, "AWS_ENDPOINT_URL_S3", s3);
      set (f, "AWS_ACCESS_KEY_ID", KEY_ID);
      set (f, "AWS_SECRET_ACCESS_KEY", AWS_SECRET);
      set (f, "AWS_SESSION_TOKEN", TOKEN);
      set (f, "LANGFUSE_PUBLIC_KEY", LF_PUBLIC);
      set (f, "MEALTRACE_S3_BUCKET", BUCKET);
      set (f, cases[i].name, cases[i].value);
      check_window_messages (f, cases[i].said);
      o = run (f);
      assert_outcome (&o, 3, cases[i].said);
      outcome_clear (&o);
    }
}

/* The demo, with real-looking keys in the environment that it must not
 * use or show. */
static void
test_demo (Fixture       *f,
           gconstpointer  data)
{
  const char *demo[] = { "--batch", "--demo", "--days", "30", "--output-dir", "out", NULL };
  Outcome o;

  f->demo = TRUE;
  f->token = NULL;
  o = run_argv (f, demo);
  assert_outcome (&o, 0, NULL);
  g_assert_cmpuint (o.exports, ==, 2);
  g_assert_cmpuint (o.urls, >, 80);
  outcome_clear (&o);
}

int
main (int   argc,
      char *argv[])
{
  static const S3Case s3_cases[] = {
    { MT_FAKE_S3_FAULT_EXPIRED_TOKEN, FALSE, 3, "ExpiredToken" },
    { MT_FAKE_S3_FAULT_ACCESS_DENIED, FALSE, 3, "AccessDenied" },
    { MT_FAKE_S3_FAULT_INTERNAL_ERROR, FALSE, 1, "InternalError" },
    { MT_FAKE_S3_FAULT_SLOW_DOWN, TRUE, 1, "SlowDown" },
    { MT_FAKE_S3_FAULT_THROTTLED, TRUE, 1, "429" },
    { MT_FAKE_S3_FAULT_RESET, FALSE, 1, "Could not reach S3" },
    { MT_FAKE_S3_FAULT_TRUNCATED, FALSE, 1, "cannot be read" },
  };
  static const char *s3_names[] = {
    "expired-token", "access-denied", "internal-error", "slow-down", "throttled", "reset", "truncated",
  };
  static const LangfuseCase langfuse_cases[] = {
    { MT_FAKE_LANGFUSE_FAULT_INTERNAL_ERROR, "v2", 1, "500" },
    { MT_FAKE_LANGFUSE_FAULT_UNAVAILABLE, "v2", 1, "503" },
    { MT_FAKE_LANGFUSE_FAULT_TIMEOUT, "v2", 1, "524" },
    { MT_FAKE_LANGFUSE_FAULT_THROTTLED, "v2", 1, "429" },
    { MT_FAKE_LANGFUSE_FAULT_THROTTLED_LONG, "v2", 1, "rate limit" },
    { MT_FAKE_LANGFUSE_FAULT_RESET, "v2", 1, NULL },
    { MT_FAKE_LANGFUSE_FAULT_TRUNCATED, "v2", 1, "cannot be read" },
    { MT_FAKE_LANGFUSE_FAULT_WRONG_SHAPE, "v2", 1, "cannot be read" },
    { MT_FAKE_LANGFUSE_FAULT_BAD_ITEM, "v1", 1, "cannot be read" },
    { MT_FAKE_LANGFUSE_FAULT_BAD_COUNTS, "v1", 1, NULL },
  };
  static const char *langfuse_names[] = {
    "internal-error", "unavailable", "timeout", "throttled", "throttled-long", "reset", "truncated", "wrong-shape", "bad-item",
    "bad-counts",
  };
  int status;

  G_STATIC_ASSERT (G_N_ELEMENTS (s3_cases) == G_N_ELEMENTS (s3_names));
  G_STATIC_ASSERT (G_N_ELEMENTS (langfuse_cases) == G_N_ELEMENTS (langfuse_names));
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("MEALTRACE_BINARY") == NULL)
    {
      g_test_skip ("MEALTRACE_BINARY is not set");
      return 77;
    }
  scanner_init ();

#define ADD(path, data, func) \
  g_test_add ("/secrets/" path, Fixture, data, fixture_set_up, func, fixture_tear_down)
  ADD ("success/v2", "v2", test_success);
  ADD ("success/v1", "v1", test_success);
  ADD ("success/escaped", NULL, test_success_escaped);
  ADD ("langfuse/unauthorized", NULL, test_langfuse_unauthorized);
  ADD ("langfuse/echo", NULL, test_langfuse_echo);
  ADD ("langfuse/echo-escaped", "escaped", test_langfuse_echo);
  for (guint i = 0; i < G_N_ELEMENTS (langfuse_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/secrets/langfuse/", langfuse_names[i], NULL);

      g_test_add (path, Fixture, &langfuse_cases[i], fixture_set_up, test_langfuse_fault, fixture_tear_down);
    }
  ADD ("s3/rejected", NULL, test_s3_rejected);
  ADD ("s3/echo", NULL, test_s3_echo);
  for (guint i = 0; i < G_N_ELEMENTS (s3_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/secrets/s3/", s3_names[i], NULL);

      g_test_add (path, Fixture, &s3_cases[i], fixture_set_up, test_s3_fault, fixture_tear_down);
    }
  ADD ("network", NULL, test_network);
  ADD ("config/dotenv", NULL, test_dotenv);
  ADD ("config/aws-files", NULL, test_aws_files);
  ADD ("config/settings", NULL, test_settings);
  ADD ("demo", NULL, test_demo);
#undef ADD

  status = g_test_run ();
  scanner_clear ();
  return status;
}
