/* mt-fake-s3.h — faults for the loopback S3 server, for the tests
 *
 * The app's loopback S3 server (src/app/mt-loopback-s3.h) speaks S3: the
 * listing, objects, signatures, error documents and region redirects.
 * This fake steps in through the server's hooks and makes it misbehave on
 * request: 5xx and throttling answers, resets, truncated or chunked
 * answers, slow answers, a 4 GiB object that never comes, an answer that
 * echoes the request's credentials; and it keeps a request rate, as S3
 * does for a prefix, with 503 SlowDown beyond it.
 */
#pragma once

#include "mt-loopback-s3.h"

G_BEGIN_DECLS

typedef enum {
  MT_FAKE_S3_FAULT_NONE = 1,        /* the request passes: to skip requests */
  MT_FAKE_S3_FAULT_INTERNAL_ERROR,  /* 500 InternalError */
  MT_FAKE_S3_FAULT_SLOW_DOWN,       /* 503 SlowDown */
  MT_FAKE_S3_FAULT_RESET,           /* the connection closes, no answer */
  MT_FAKE_S3_FAULT_TRUNCATED,       /* the answer cut in the middle */
  MT_FAKE_S3_FAULT_STALL,           /* the answer comes after the stall time */
  MT_FAKE_S3_FAULT_EXPIRED_TOKEN,   /* 400 ExpiredToken */
  MT_FAKE_S3_FAULT_ACCESS_DENIED,   /* 403 AccessDenied */
  MT_FAKE_S3_FAULT_HUGE_OBJECT,     /* 200 announcing 4 GiB, then silence */
  MT_FAKE_S3_FAULT_THROTTLED,       /* 429 with Retry-After: 1 */
  MT_FAKE_S3_FAULT_REDIRECT,        /* 307 to the same place, with a Location */
  MT_FAKE_S3_FAULT_CHUNKED,         /* the answer sent chunked, with no length */
  MT_FAKE_S3_FAULT_ECHO,            /* 400 whose message echoes the request's credentials */
  MT_FAKE_S3_FAULT_STALL_BODY,      /* half the body, the rest after the stall time */
  MT_FAKE_S3_FAULT_CUT_BODY,        /* half the body, then after the stall time the connection closes */
  MT_FAKE_S3_FAULT_WRONG_REGION,    /* 301 PermanentRedirect that does not name the bucket's region */
} MtFakeS3Fault;

/* The next @count requests whose listing prefix or object key starts with
 * @prefix (%NULL: any request) meet @fault. Faults queue up in order. */
void  mt_fake_s3_add_fault    (MtLoopbackS3  *s3,
                               MtFakeS3Fault  fault,
                               guint          count,
                               const char    *prefix);
void  mt_fake_s3_clear_faults (MtLoopbackS3  *s3);
/* How long a MT_FAKE_S3_FAULT_STALL answer waits, besides the latency;
 * how long a _STALL_BODY or _CUT_BODY answer stops in the middle. */
void  mt_fake_s3_set_stall_ms (MtLoopbackS3  *s3,
                               guint          stall_ms);

/* At most @per_second requests in each second (0: no limit); the others
 * get 503 SlowDown, as S3 answers a prefix asked too fast. */
void  mt_fake_s3_set_rate_limit (MtLoopbackS3 *s3,
                                 guint         per_second);
/* SlowDown answers the limit sent. */
guint mt_fake_s3_get_slowed     (MtLoopbackS3 *s3);

G_END_DECLS
