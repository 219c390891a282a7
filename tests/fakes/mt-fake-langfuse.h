/* mt-fake-langfuse.h — faults and rate limits for the loopback Langfuse
 * server, for the tests
 *
 * The app's loopback Langfuse server (src/app/mt-loopback-langfuse.h)
 * speaks both API generations. This fake steps in through the server's
 * hooks: it keeps a rate limit the way Langfuse Cloud does (a fixed window
 * from the first request, 429 with Retry-After and X-RateLimit-*), makes
 * requests meet faults, and adds data while a client reads.
 */
#pragma once

#include "mt-loopback-langfuse.h"

G_BEGIN_DECLS

typedef enum {
  MT_FAKE_LANGFUSE_FAULT_NONE = 1,        /* the request passes: to skip requests */
  MT_FAKE_LANGFUSE_FAULT_INTERNAL_ERROR,  /* 500 */
  MT_FAKE_LANGFUSE_FAULT_UNAVAILABLE,     /* 503 */
  MT_FAKE_LANGFUSE_FAULT_TIMEOUT,         /* 524, Cloudflare's timeout page */
  MT_FAKE_LANGFUSE_FAULT_RESET,           /* the connection closes, no answer */
  MT_FAKE_LANGFUSE_FAULT_TRUNCATED,       /* the answer cut in the middle */
  MT_FAKE_LANGFUSE_FAULT_WRONG_SHAPE,     /* 200 with JSON that is not a page */
  MT_FAKE_LANGFUSE_FAULT_BAD_ITEM,        /* 200 with a page whose last item has no time */
  MT_FAKE_LANGFUSE_FAULT_THROTTLED,       /* 429, as a spent rate limit answers */
  MT_FAKE_LANGFUSE_FAULT_ECHO,            /* 400 whose message echoes the Authorization header */
  MT_FAKE_LANGFUSE_FAULT_STALL,           /* the answer comes after the stall time */
  MT_FAKE_LANGFUSE_FAULT_THROTTLED_LONG,  /* 429 asking to wait an hour */
  MT_FAKE_LANGFUSE_FAULT_STUCK_CURSOR,    /* v2: a next page whose cursor is the one asked with */
  MT_FAKE_LANGFUSE_FAULT_BAD_COUNTS,      /* v1: a page whose totalPages does not fit totalItems */
  MT_FAKE_LANGFUSE_FAULT_STALL_BODY,      /* half the body, the rest after the stall time */
  MT_FAKE_LANGFUSE_FAULT_CUT_BODY,        /* half the body, then after the stall time the connection closes */
} MtFakeLangfuseFault;

/* How X-RateLimit-Reset names the window's end. */
typedef enum {
  MT_FAKE_LANGFUSE_RESET_DATE,            /* JavaScript's Date.toString(), as Langfuse */
  MT_FAKE_LANGFUSE_RESET_SECONDS,         /* seconds from now */
  MT_FAKE_LANGFUSE_RESET_UNIX,            /* Unix seconds */
} MtFakeLangfuseReset;

/* What a 429 carries. */
typedef enum {
  MT_FAKE_LANGFUSE_THROTTLE_JSON,         /* Retry-After, and Langfuse's JSON error */
  MT_FAKE_LANGFUSE_THROTTLE_TEXT,         /* Retry-After, and a line of plain text */
  MT_FAKE_LANGFUSE_THROTTLE_BODY_ONLY,    /* no Retry-After: only the JSON's retryAfterSeconds */
} MtFakeLangfuseThrottle;

/* The next @count requests whose path starts with @prefix (%NULL: any)
 * meet @fault. Faults queue up in order. */
void   mt_fake_langfuse_add_fault           (MtLoopbackLangfuse     *langfuse,
                                             MtFakeLangfuseFault     fault,
                                             guint                   count,
                                             const char             *prefix);
void   mt_fake_langfuse_clear_faults        (MtLoopbackLangfuse     *langfuse);
/* How long a MT_FAKE_LANGFUSE_FAULT_STALL answer waits, besides the
 * latency; how long a _STALL_BODY or _CUT_BODY answer stops in the middle. */
void   mt_fake_langfuse_set_stall_ms        (MtLoopbackLangfuse     *langfuse,
                                             guint                   stall_ms);

/* At most @limit requests per window of @window_ms, the window starting
 * with its first request; 0 for no limit. @announce: every answer states
 * the limit (X-RateLimit-*); else only 429s do, as Langfuse Cloud. Only
 * requests the server would serve count. */
void   mt_fake_langfuse_set_rate_limit      (MtLoopbackLangfuse     *langfuse,
                                             guint                   limit,
                                             guint                   window_ms,
                                             gboolean                announce);
void   mt_fake_langfuse_set_reset_style     (MtLoopbackLangfuse     *langfuse,
                                             MtFakeLangfuseReset     style);
void   mt_fake_langfuse_set_throttle_style  (MtLoopbackLangfuse     *langfuse,
                                             MtFakeLangfuseThrottle  style);

/* Data arriving while a client reads: the next @count requests whose path
 * starts with @prefix each add a trace ("grown-0", "grown-1"…, user
 * "user-grown") at @timestamp before they are answered. */
void   mt_fake_langfuse_add_growth          (MtLoopbackLangfuse     *langfuse,
                                             const char             *prefix,
                                             guint                   count,
                                             gint64                  timestamp);
guint  mt_fake_langfuse_get_grown           (MtLoopbackLangfuse     *langfuse);

/* 429s sent, and the rate windows they were sent in; the most requests
 * admitted in one rate window. The server's reset_counters resets these. */
guint  mt_fake_langfuse_get_throttled         (MtLoopbackLangfuse   *langfuse);
guint  mt_fake_langfuse_get_throttled_windows (MtLoopbackLangfuse   *langfuse);
guint  mt_fake_langfuse_get_max_per_window    (MtLoopbackLangfuse   *langfuse);

G_END_DECLS
