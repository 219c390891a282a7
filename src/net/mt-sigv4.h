/* mt-sigv4.h — AWS Signature Version 4
 *
 * Two sets of rules: AWS's generic ones (the path normalised if asked, then
 * percent-encoded again, as every service but S3 expects) and S3's (the path
 * kept exactly as sent, `x-amz-content-sha256` always sent, UNSIGNED-PAYLOAD
 * in presigned URLs). Both sign with headers (an Authorization header) or
 * with the query (a presigned URL).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MT_SIGV4_GENERIC,
  MT_SIGV4_S3,
} MtSigv4Mode;

/* The longest a presigned URL may live: seven days. */
#define MT_SIGV4_MAX_EXPIRES (7 * 24 * 3600)

#define MT_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

typedef struct {
  const char *access_key_id;
  const char *secret_access_key;
  const char *session_token;   /* %NULL for none */
} MtSigv4Credentials;

typedef struct {
  MtSigv4Mode mode;
  const char *region;
  const char *service;
  gint64 time;                 /* seconds since the epoch */
  gboolean keep_path;          /* generic rules only: do not resolve `.`, `..` and `//` */
  gboolean sign_body;          /* generic rules only: hash the body and send x-amz-content-sha256 */
  gboolean omit_session_token; /* send the token but leave it out of what is signed */
  guint expires;               /* presigned URLs: 1 … MT_SIGV4_MAX_EXPIRES seconds */
} MtSigv4Params;

typedef struct _MtSigv4Request MtSigv4Request;

/* @path and @query as on the request line: the path percent-encoded (raw
 * bytes are encoded for the signature too; a `/` is put before one that
 * does not start with it), the query without its `?`
 * (%NULL or "" for none). */
MtSigv4Request *mt_sigv4_request_new              (const char           *method,
                                                   const char           *path,
                                                   const char           *query);
void            mt_sigv4_request_free             (MtSigv4Request       *request);
/* Headers are signed in full: names in any case, repeated names joined. */
void            mt_sigv4_request_add_header       (MtSigv4Request       *request,
                                                   const char           *name,
                                                   const char           *value);
void            mt_sigv4_request_set_body         (MtSigv4Request       *request,
                                                   const guint8         *body,
                                                   gsize                 length);
/* For S3: a payload hash chosen by the caller, such as UNSIGNED-PAYLOAD. */
void            mt_sigv4_request_set_payload_hash (MtSigv4Request       *request,
                                                   const char           *payload_hash);

typedef struct {
  char *canonical_request;
  char *string_to_sign;
  char *signature;
  char *authorization; /* header signing: the Authorization value */
  GPtrArray *headers;  /* header signing: names and values, alternating, to add in order */
  GPtrArray *query;    /* query signing: "name=value", encoded, to append in order */
} MtSigv4Result;

/* Signs with an Authorization header. */
MtSigv4Result  *mt_sigv4_sign                     (const MtSigv4Request     *request,
                                                   const MtSigv4Credentials *credentials,
                                                   const MtSigv4Params      *params);
/* Signs with the query (a presigned URL); %NULL when @params->expires is
 * out of range. */
MtSigv4Result  *mt_sigv4_presign                  (const MtSigv4Request     *request,
                                                   const MtSigv4Credentials *credentials,
                                                   const MtSigv4Params      *params,
                                                   GError                  **error);
void            mt_sigv4_result_free              (MtSigv4Result            *result);

/* Signing may run in a worker thread, where OpenSSL keeps state of its
 * own; such a thread calls this once it is done signing, to free it. A
 * pool thread that ended only after OpenSSL's cleanup at exit would leave
 * that state behind. */
void            mt_sigv4_thread_done              (void);

/* Percent-encodes every byte but A–Z a–z 0–9 - _ . ~ (and / when
 * @keep_slash), with upper-case hex, as AWS requires. */
void            mt_sigv4_uri_encode               (GString              *out,
                                                   const char           *text,
                                                   gssize                length,
                                                   gboolean              keep_slash);
/* Undoes percent-encoding; a `%` not followed by two hex digits stays, and
 * so does `%00`, which would cut the text short. */
char           *mt_sigv4_uri_decode               (const char           *text,
                                                   gssize                length);

/* Lower-case hex SHA-256. */
char           *mt_sigv4_sha256_hex               (const guint8         *data,
                                                   gsize                 length);

/* `20150830T123600Z` */
char           *mt_sigv4_format_time              (gint64                time);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtSigv4Request, mt_sigv4_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtSigv4Result, mt_sigv4_result_free)

G_END_DECLS
