/* mt-loopback-s3.h — an S3 server in the process, on 127.0.0.1
 *
 * For the demo (SPEC §9) and the tests: nothing leaves the machine.
 * Speaks the part of S3 Mealtrace uses (ListObjectsV2, GetObject) the way
 * S3 does: path-style buckets, keys in bytewise order, real pagination with
 * continuation tokens, `encoding-type=url`, SigV4 signatures checked (header
 * and presigned), S3's error documents, and a redirect when a request is
 * signed for the wrong region. Tests step in through the server's hooks
 * (tests/fakes/).
 */
#pragma once

#include <glib-object.h>

#include "mt-loopback-server.h"

G_BEGIN_DECLS

#define MT_TYPE_LOOPBACK_S3 (mt_loopback_s3_get_type ())

G_DECLARE_FINAL_TYPE (MtLoopbackS3, mt_loopback_s3, MT, LOOPBACK_S3, GObject)

/* Listens on 127.0.0.1 in the thread-default main context. Requests must
 * be signed with these credentials for @region; @token %NULL means none. */
MtLoopbackS3   *mt_loopback_s3_new             (const char *region,
                                                const char *access_key_id,
                                                const char *secret_access_key,
                                                const char *session_token);

/* The server underneath, for its hooks. */
MtLoopbackServer *mt_loopback_s3_get_server (MtLoopbackS3      *self);
/* Answers @msg with S3's error document. */
void        mt_loopback_s3_answer_error    (SoupServerMessage *msg,
                                            guint              status,
                                            const char        *code,
                                            const char        *message);

/* http://127.0.0.1:PORT, to use as the S3 endpoint. */
const char *mt_loopback_s3_get_endpoint    (MtLoopbackS3      *self);

void        mt_loopback_s3_add_bucket      (MtLoopbackS3 *self,
                                            const char   *bucket);
/* @data %NULL: an object of @size bytes of filler. */
void        mt_loopback_s3_put             (MtLoopbackS3 *self,
                                            const char   *bucket,
                                            const char   *key,
                                            gint64        last_modified,
                                            GBytes       *data,
                                            gsize         size);

/* Every answer waits this long first, as a network would. */
void        mt_loopback_s3_set_latency_ms  (MtLoopbackS3 *self,
                                            guint         latency_ms);
/* How a request signed for another region is answered: 400
 * AuthorizationHeaderMalformed (the default) or 301 PermanentRedirect, both
 * with the bucket's region in x-amz-bucket-region. */
void        mt_loopback_s3_set_wrong_region_status (MtLoopbackS3 *self,
                                                    guint         status);
/* The server's clock runs this far ahead of the real one. */
void        mt_loopback_s3_set_clock_offset (MtLoopbackS3 *self,
                                             gint64        seconds);
/* The most keys a page holds (S3: 1000). */
void        mt_loopback_s3_set_page_size   (MtLoopbackS3 *self,
                                            guint         page_size);

guint       mt_loopback_s3_get_requests    (MtLoopbackS3      *self);
guint       mt_loopback_s3_get_max_in_flight (MtLoopbackS3    *self);
void        mt_loopback_s3_reset_counters  (MtLoopbackS3      *self);

G_END_DECLS
