/* mt-loopback-langfuse.h — a Langfuse server in the process, on 127.0.0.1
 *
 * For the demo (SPEC §9) and the tests: nothing leaves the machine.
 * Serves both API generations Mealtrace reads, as the OpenAPI description
 * says: `GET /api/public/v2/observations` (cursor pagination, newest
 * first, `limit` ≤ 1000, `fields` groups, input and output as raw strings)
 * and the v1 `GET /api/public/traces` and `GET /api/public/observations`
 * (page pagination, `limit` ≤ 100, `orderBy`, v1's `fields` groups, input
 * and output as JSON). Time filters are half-open: from ≤ t < to. Requests
 * need Basic authentication. It can play a server without v2 (self-hosted
 * Langfuse v2/v3), without v1 (Langfuse Cloud after 2026-11-16) or without
 * v1's `fields`, keep a rate limit the way Langfuse Cloud does (a fixed
 * window from the first request, 429 with Retry-After and X-RateLimit-*),
 * and meet requests with faults (tests).
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
  MT_LOOPBACK_LANGFUSE_FAULT_NONE,           /* the request passes: to skip requests */
  MT_LOOPBACK_LANGFUSE_FAULT_INTERNAL_ERROR, /* 500 */
  MT_LOOPBACK_LANGFUSE_FAULT_UNAVAILABLE,    /* 503 */
  MT_LOOPBACK_LANGFUSE_FAULT_TIMEOUT,        /* 524, Cloudflare's timeout page */
  MT_LOOPBACK_LANGFUSE_FAULT_RESET,          /* the connection closes, no answer */
  MT_LOOPBACK_LANGFUSE_FAULT_TRUNCATED,      /* 200 with the JSON cut in the middle */
  MT_LOOPBACK_LANGFUSE_FAULT_WRONG_SHAPE,    /* 200 with JSON that is not a page */
  MT_LOOPBACK_LANGFUSE_FAULT_BAD_ITEM,       /* 200 with a page whose last item has no time */
  MT_LOOPBACK_LANGFUSE_FAULT_THROTTLED,      /* 429, as a spent rate limit answers */
  MT_LOOPBACK_LANGFUSE_FAULT_ECHO,           /* 400 whose message echoes the Authorization header */
  MT_LOOPBACK_LANGFUSE_FAULT_STALL,          /* the answer comes after the stall time */
  MT_LOOPBACK_LANGFUSE_FAULT_THROTTLED_LONG, /* 429 asking to wait an hour */
  MT_LOOPBACK_LANGFUSE_FAULT_STUCK_CURSOR,   /* v2: a next page whose cursor is the one asked with */
  MT_LOOPBACK_LANGFUSE_FAULT_BAD_COUNTS,     /* v1: a page whose totalPages does not fit totalItems */
} MtLoopbackLangfuseFault;

/* How X-RateLimit-Reset names the window's end. */
typedef enum {
  MT_LOOPBACK_LANGFUSE_RESET_DATE,           /* JavaScript's Date.toString(), as Langfuse */
  MT_LOOPBACK_LANGFUSE_RESET_SECONDS,        /* seconds from now */
  MT_LOOPBACK_LANGFUSE_RESET_UNIX,           /* Unix seconds */
} MtLoopbackLangfuseReset;

/* What a 429 carries. */
typedef enum {
  MT_LOOPBACK_LANGFUSE_THROTTLE_JSON,        /* Retry-After, and Langfuse's JSON error */
  MT_LOOPBACK_LANGFUSE_THROTTLE_TEXT,        /* Retry-After, and a line of plain text */
  MT_LOOPBACK_LANGFUSE_THROTTLE_BODY_ONLY,   /* no Retry-After: only the JSON's retryAfterSeconds */
} MtLoopbackLangfuseThrottle;

#define MT_TYPE_LOOPBACK_LANGFUSE (mt_loopback_langfuse_get_type ())

G_DECLARE_FINAL_TYPE (MtLoopbackLangfuse, mt_loopback_langfuse, MT, LOOPBACK_LANGFUSE, GObject)

/* Listens on 127.0.0.1 in the thread-default main context; requests must
 * authenticate with these keys. */
MtLoopbackLangfuse *mt_loopback_langfuse_new              (const char *public_key,
                                                           const char *secret_key);

/* http://127.0.0.1:PORT, to use as the base URL. */
const char *mt_loopback_langfuse_get_base_url         (MtLoopbackLangfuse  *self);
const char *mt_loopback_langfuse_get_project_id       (MtLoopbackLangfuse  *self);

/* Which generations answer (both by default); the other answers 404. */
void        mt_loopback_langfuse_set_apis             (MtLoopbackLangfuse *self,
                                                       gboolean            v1,
                                                       gboolean            v2);
/* Whether v1's traces take `fields` (TRUE); else it is a 400. */
void        mt_loopback_langfuse_set_v1_fields        (MtLoopbackLangfuse *self,
                                                       gboolean            accepted);

/* A trace and its root observation (a SPAN, id "@id-root", starting at
 * @timestamp). @input and @output are the raw text the SDK sent: JSON, or
 * not; %NULL for none. */
void        mt_loopback_langfuse_add_trace            (MtLoopbackLangfuse *self,
                                                       const char         *id,
                                                       gint64              timestamp,
                                                       const char         *name,
                                                       const char         *user_id,
                                                       const char         *session_id,
                                                       const char         *input,
                                                       const char         *output);
/* An observation of a trace added before: @type "GENERATION", "SPAN",
 * "EVENT"…; @parent_id %NULL makes it another root. @prompt_version < 0
 * and @cost NaN mean none. */
void        mt_loopback_langfuse_add_observation      (MtLoopbackLangfuse *self,
                                                       const char         *trace_id,
                                                       const char         *id,
                                                       const char         *type,
                                                       gint64              start,
                                                       const char         *parent_id,
                                                       const char         *model,
                                                       const char         *prompt_name,
                                                       int                 prompt_version,
                                                       const char         *input,
                                                       double              cost);

/* An observation of no trace (traceId null), as the API allows. */
void        mt_loopback_langfuse_add_orphan           (MtLoopbackLangfuse *self,
                                                       const char         *id,
                                                       const char         *type,
                                                       gint64              start);

/* Data arriving while a client reads: the next @count requests whose path
 * starts with @prefix each add a trace ("grown-0", "grown-1"…, user
 * "user-grown") at @timestamp before they are answered. */
void        mt_loopback_langfuse_add_growth           (MtLoopbackLangfuse *self,
                                                       const char         *prefix,
                                                       guint               count,
                                                       gint64              timestamp);
guint       mt_loopback_langfuse_get_grown            (MtLoopbackLangfuse  *self);

/* Every answer waits this long first, as a network would. */
void        mt_loopback_langfuse_set_latency_ms       (MtLoopbackLangfuse *self,
                                                       guint               latency_ms);
void        mt_loopback_langfuse_set_stall_ms         (MtLoopbackLangfuse *self,
                                                       guint               stall_ms);

/* At most @limit requests per window of @window_ms, the window starting
 * with its first request; 0 for no limit. @announce: every answer states
 * the limit (X-RateLimit-*); else only 429s do, as Langfuse Cloud. */
void        mt_loopback_langfuse_set_rate_limit       (MtLoopbackLangfuse *self,
                                                       guint               limit,
                                                       guint               window_ms,
                                                       gboolean            announce);
void        mt_loopback_langfuse_set_reset_style      (MtLoopbackLangfuse      *self,
                                                       MtLoopbackLangfuseReset  style);
void        mt_loopback_langfuse_set_throttle_style   (MtLoopbackLangfuse         *self,
                                                       MtLoopbackLangfuseThrottle  style);

/* The next @count requests whose path starts with @prefix (%NULL: any)
 * meet @fault. Faults queue up in order. */
void        mt_loopback_langfuse_add_fault            (MtLoopbackLangfuse      *self,
                                                       MtLoopbackLangfuseFault  fault,
                                                       guint                    count,
                                                       const char              *prefix);

void        mt_loopback_langfuse_clear_faults         (MtLoopbackLangfuse  *self);

/* Requests received; the most on the wire at once; 429s sent, and the
 * rate windows they were sent in; the most admitted in one rate window;
 * successful answers given twice to the same request (a page fetched
 * twice); items handed out again in another answer. */
guint       mt_loopback_langfuse_get_requests         (MtLoopbackLangfuse  *self);
guint       mt_loopback_langfuse_get_max_in_flight    (MtLoopbackLangfuse  *self);
guint       mt_loopback_langfuse_get_throttled        (MtLoopbackLangfuse  *self);
guint       mt_loopback_langfuse_get_throttled_windows (MtLoopbackLangfuse *self);
guint       mt_loopback_langfuse_get_max_per_window   (MtLoopbackLangfuse  *self);
guint       mt_loopback_langfuse_get_repeated_pages   (MtLoopbackLangfuse  *self);
guint       mt_loopback_langfuse_get_repeated_items   (MtLoopbackLangfuse  *self);
/* "path?query" of every request, in order of arrival. */
GPtrArray  *mt_loopback_langfuse_get_log              (MtLoopbackLangfuse  *self);
void        mt_loopback_langfuse_reset_counters       (MtLoopbackLangfuse  *self);

G_END_DECLS
