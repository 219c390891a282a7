/* mt-aws-credentials.h — AWS credentials, region and S3 endpoint (SPEC §2)
 *
 * Read from an environment given as a string vector (so that the batch
 * command line can add a .env file, and tests can run without touching the
 * process's own), then the shared credentials and config files.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define MT_AWS_ERROR (mt_aws_error_quark ())

typedef enum {
  MT_AWS_ERROR_NO_CREDENTIALS,      /* nothing anywhere */
  MT_AWS_ERROR_INCOMPLETE,          /* a key id without a secret, or the reverse */
  MT_AWS_ERROR_PROFILE_NOT_FOUND,   /* AWS_PROFILE names a profile no file has */
  MT_AWS_ERROR_FILE,                /* a named file cannot be read, or is too large */
  MT_AWS_ERROR_INVALID,             /* a value that cannot be right */
} MtAwsError;

GQuark mt_aws_error_quark (void);

/* Immutable, reference counted. */
typedef struct _MtAwsCredentials MtAwsCredentials;

#define MT_TYPE_AWS_CREDENTIALS (mt_aws_credentials_get_type ())
GType             mt_aws_credentials_get_type          (void) G_GNUC_CONST;

MtAwsCredentials *mt_aws_credentials_new               (const char       *access_key_id,
                                                        const char       *secret_access_key,
                                                        const char       *session_token,
                                                        const char       *source);
MtAwsCredentials *mt_aws_credentials_ref               (MtAwsCredentials *self);
void              mt_aws_credentials_unref             (MtAwsCredentials *self);
const char       *mt_aws_credentials_get_access_key_id (MtAwsCredentials *self);
const char       *mt_aws_credentials_get_secret_access_key (MtAwsCredentials *self);
/* %NULL for long-term keys. */
const char       *mt_aws_credentials_get_session_token (MtAwsCredentials *self);
/* Where they came from, for people: "the environment (AWS_ACCESS_KEY_ID)",
 * "profile “default” in /home/ana/.aws/credentials". Never a secret. */
const char       *mt_aws_credentials_get_source        (MtAwsCredentials *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtAwsCredentials, mt_aws_credentials_unref)

typedef struct {
  MtAwsCredentials *credentials;
  char *profile;         /* the profile read, whether or not it supplied anything */
  char *region;          /* never %NULL */
  char *region_source;   /* "AWS_REGION", "AWS_DEFAULT_REGION", "profile … in …", "default" */
  char *endpoint_url;    /* %NULL for AWS itself */
  char *endpoint_source; /* "AWS_ENDPOINT_URL_S3" or "AWS_ENDPOINT_URL" */
} MtAwsSettings;

/* @envp as from g_get_environ(); %NULL means the process's own. */
MtAwsSettings    *mt_aws_settings_load                 (const char * const *envp,
                                                        GError            **error);
void              mt_aws_settings_free                 (MtAwsSettings     *settings);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtAwsSettings, mt_aws_settings_free)

/* Where requests for a bucket go. AWS itself is addressed virtual-hosted
 * (`https://bucket.s3.region.amazonaws.com/key`) unless the bucket name has
 * dots, which TLS certificates cannot cover; a custom endpoint is addressed
 * path style (`endpoint/bucket/key`). */
typedef struct {
  char *scheme;      /* "https" or "http" */
  char *hostname;    /* without the port; IPv6 without brackets */
  int port;          /* -1 for the scheme's default */
  char *host;        /* the Host header: with ":port" when not the default */
  char *base_path;   /* "" or "/bucket" (and the endpoint's own path), no trailing slash */
  gboolean path_style;
} MtS3Endpoint;

MtS3Endpoint     *mt_s3_endpoint_new                   (const char       *endpoint_url,
                                                        const char       *region,
                                                        const char       *bucket,
                                                        GError          **error);
void              mt_s3_endpoint_free                  (MtS3Endpoint     *endpoint);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtS3Endpoint, mt_s3_endpoint_free)

/* A region name as AWS writes them (letters, digits, dashes). */
gboolean          mt_aws_region_is_valid               (const char       *region);

G_END_DECLS
