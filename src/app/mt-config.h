/* mt-config.h — every setting of SPEC §2, and where it came from
 *
 * Highest wins: a command-line option, the environment, a `.env` file in
 * the working directory, GSettings (the window only), the default. A
 * missing or unusable setting is reported together with every other one,
 * so that a single run says all there is to fix.
 */
#pragma once

#include <gio/gio.h>

#include "mt-aws-credentials.h"
#include "mt-langfuse-client.h"

G_BEGIN_DECLS

#define MT_CONFIG_ERROR (mt_config_error_quark ())

typedef enum {
  MT_CONFIG_ERROR_MISSING, /* required settings are not set (all named) */
  MT_CONFIG_ERROR_INVALID, /* a value that cannot be right (named) */
  MT_CONFIG_ERROR_FILE,    /* `.env` cannot be read, or a line of it */
} MtConfigError;

GQuark mt_config_error_quark (void);

/* Names of settings, as the environment spells them. */
#define MT_CONFIG_LANGFUSE_PUBLIC_KEY "LANGFUSE_PUBLIC_KEY"
#define MT_CONFIG_LANGFUSE_SECRET_KEY "LANGFUSE_SECRET_KEY"
#define MT_CONFIG_LANGFUSE_BASE_URL   "LANGFUSE_BASE_URL"
#define MT_CONFIG_LANGFUSE_HOST       "LANGFUSE_HOST"
#define MT_CONFIG_LANGFUSE_API        "MEALTRACE_LANGFUSE_API"
#define MT_CONFIG_BUCKET              "MEALTRACE_S3_BUCKET"
#define MT_CONFIG_PREFIX              "MEALTRACE_S3_PREFIX"
#define MT_CONFIG_TIMEZONE            "MEALTRACE_TIMEZONE"
#define MT_CONFIG_MAX_GAP             "MEALTRACE_MAX_GAP_SECONDS"
#define MT_CONFIG_URL_LIFETIME        "MEALTRACE_URL_LIFETIME_SECONDS"
#define MT_CONFIG_MAX_IN_FLIGHT       "MEALTRACE_MAX_IN_FLIGHT"
#define MT_CONFIG_AWS_ACCESS_KEY_ID     "AWS_ACCESS_KEY_ID"
#define MT_CONFIG_AWS_SECRET_ACCESS_KEY "AWS_SECRET_ACCESS_KEY"
#define MT_CONFIG_AWS_SESSION_TOKEN     "AWS_SESSION_TOKEN"

/* Where the values are read from; every member may be %NULL. */
typedef struct {
  /* Command-line options, by the setting names above. */
  GHashTable *options;
  /* As from g_get_environ(); %NULL means the process's own. */
  const char * const *environ;
  /* The .env file; %NULL means `.env` in the working directory, if any. */
  GFile *dotenv;
  /* The window's preferences (keys `s3-bucket`, `s3-prefix`,
   * `langfuse-base-url`, `time-zone`, `max-gap-seconds`, `langfuse-api`,
   * `max-in-flight`, `url-lifetime-seconds`); only values the user has
   * set count. */
  GSettings *settings;
} MtConfigSources;

/* Immutable once loaded, reference counted. */
typedef struct {
  char *langfuse_public_key;
  char *langfuse_secret_key;
  char *langfuse_base_url;
  MtLangfuseApi langfuse_api;
  MtAwsCredentials *aws_credentials;
  char *aws_region;
  char *aws_endpoint_url;   /* %NULL for AWS itself */
  char *bucket;
  char *prefix;             /* "" or ending in "/" */
  GTimeZone *time_zone;
  gint64 max_gap_ms;        /* -1 for none */
  guint url_lifetime;       /* seconds a presigned image URL lasts */
  guint max_in_flight;      /* S3 requests at once; Langfuse takes at most 8 */
  gboolean demo;            /* the loopback servers of the demo */
  /*< private >*/
  GHashTable *origins;      /* setting name → where its value came from */
  gint ref_count;
} MtConfig;

#define MT_TYPE_CONFIG (mt_config_get_type ())
GType        mt_config_get_type      (void) G_GNUC_CONST;

MtConfig    *mt_config_load          (const MtConfigSources *sources,
                                      GError               **error);
/* The demo's configuration: its loopback servers and keys, with the time
 * zone, gap and API generation still read from @sources. */
MtConfig    *mt_config_load_demo     (const MtConfigSources *sources,
                                      const char            *langfuse_base_url,
                                      const char            *s3_endpoint_url,
                                      GError               **error);
MtConfig    *mt_config_ref           (MtConfig              *self);
void         mt_config_unref         (MtConfig              *self);

/* "the environment", ".env", "GSettings", "a command-line option",
 * "default": where @name's value came from. AWS keys read from a profile
 * are recorded under AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN as "profile “name” in /path/to/file". */
const char  *mt_config_get_origin    (MtConfig              *self,
                                      const char            *name);

/* Where each setting's value comes from, read as mt_config_load() reads
 * the sources but without checking any value, so that it answers for an
 * incomplete configuration too: a table of name → origin (as
 * mt_config_get_origin() words them) for every name some source sets,
 * with the AWS keys of a profile as mt_config_get_origin() records them.
 * The Langfuse URL is LANGFUSE_BASE_URL's when that is in the table, else
 * LANGFUSE_HOST's. It never holds a value. %NULL, with @error, when .env
 * cannot be read. */
GHashTable  *mt_config_load_origins  (const MtConfigSources *sources,
                                      GError               **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtConfig, mt_config_unref)

/* A .env file read into a table of names and values: `KEY=value` lines,
 * `#` comments, `export ` allowed, values in single quotes taken as they
 * are and in double quotes with \n, \t, \" and \\ read as escapes. */
GHashTable  *mt_dotenv_parse         (const char            *text,
                                      gsize                  length,
                                      const char            *file_name,
                                      GError               **error);

G_END_DECLS
