/* mt-fake-langfuse.h — a Langfuse server in the test process, on 127.0.0.1
 *
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
 * and meet requests with faults.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
  MT_FAKE_LANGFUSE_FAULT_NONE,           /* the request passes: to skip requests */
  MT_FAKE_LANGFUSE_FAULT_INTERNAL_ERROR, /* 500 */
  MT_FAKE_LANGFUSE_FAULT_UNAVAILABLE,    /* 503 */
  MT_FAKE_LANGFUSE_FAULT_TIMEOUT,        /* 524, Cloudflare's timeout page */
  MT_FAKE_LANGFUSE_FAULT_RESET,          /* the connection closes, no answer */
  MT_FAKE_LANGFUSE_FAULT_TRUNCATED,      /* 200 with the JSON cut in the middle */
  MT_FAKE_LANGFUSE_FAULT_WRONG_SHAPE,    /* 200 with JSON that is not a page */
  MT_FAKE_LANGFUSE_FAULT_BAD_ITEM,       /* 200 with a page whose last item has no time */
  MT_FAKE_LANGFUSE_FAULT_THROTTLED,      /* 429, as a spent rate limit answers */
  MT_FAKE_LANGFUSE_FAULT_ECHO,           /* 400 whose message echoes the Authorization header */
  MT_FAKE_LANGFUSE_FAULT_STALL,          /* the answer comes after the stall time */
  MT_FAKE_LANGFUSE_FAULT_THROTTLED_LONG, /* 429 asking to wait an hour */
  MT_FAKE_LANGFUSE_FAULT_STUCK_CURSOR,   /* v2: a next page whose cursor is the one asked with */
  MT_FAKE_LANGFUSE_FAULT_BAD_COUNTS,     /* v1: a page whose totalPages does not fit totalItems */
} MtFakeLangfuseFault;

/* How X-RateLimit-Reset names the window's end. */
typedef enum {
  MT_FAKE_LANGFUSE_RESET_DATE,           /* JavaScript's Date.toString(), as Langfuse */
  MT_FAKE_LANGFUSE_RESET_SECONDS,        /* seconds from now */
  MT_FAKE_LANGFUSE_RESET_UNIX,           /* Unix seconds */
} MtFakeLangfuseReset;

/* What a 429 carries. */
typedef enum {
  MT_FAKE_LANGFUSE_THROTTLE_JSON,        /* Retry-After, and Langfuse's JSON error */
  MT_FAKE_LANGFUSE_THROTTLE_TEXT,        /* Retry-After, and a line of plain text */
  MT_FAKE_LANGFUSE_THROTTLE_BODY_ONLY,   /* no Retry-After: only the JSON's retryAfterSeconds */
} MtFakeLangfuseThrottle;

#define MT_TYPE_FAKE_LANGFUSE (mt_fake_langfuse_get_type ())

G_DECLARE_FINAL_TYPE (MtFakeLangfuse, mt_fake_langfuse, MT, FAKE_LANGFUSE, GObject)

/* Listens on 127.0.0.1 in the thread-default main context; requests must
 * authenticate with these keys. */
MtFakeLangfuse *mt_fake_langfuse_new              (const char      *public_key,
                                                   const char      *secret_key);

/* http://127.0.0.1:PORT, to use as the base URL. */
const char *mt_fake_langfuse_get_base_url         (MtFakeLangfuse  *self);
const char *mt_fake_langfuse_get_project_id       (MtFakeLangfuse  *self);

/* Which generations answer (both by default); the other answers 404. */
void        mt_fake_langfuse_set_apis             (MtFakeLangfuse  *self,
                                                   gboolean         v1,
                                                   gboolean         v2);
/* Whether v1's traces take `fields` (TRUE); else it is a 400. */
void        mt_fake_langfuse_set_v1_fields        (MtFakeLangfuse  *self,
                                                   gboolean         accepted);

/* A trace and its root observation (a SPAN, id "@id-root", starting at
 * @timestamp). @input and @output are the raw text the SDK sent: JSON, or
 * not; %NULL for none. */
void        mt_fake_langfuse_add_trace            (MtFakeLangfuse  *self,
                                                   const char      *id,
                                                   gint64           timestamp,
                                                   const char      *name,
                                                   const char      *user_id,
                                                   const char      *session_id,
                                                   const char      *input,
                                                   const char      *output);
/* An observation of a trace added before: @type "GENERATION", "SPAN",
 * "EVENT"…; @parent_id %NULL makes it another root. @prompt_version < 0
 * and @cost NaN mean none. */
void        mt_fake_langfuse_add_observation      (MtFakeLangfuse  *self,
                                                   const char      *trace_id,
                                                   const char      *id,
                                                   const char      *type,
                                                   gint64           start,
                                                   const char      *parent_id,
                                                   const char      *model,
                                                   const char      *prompt_name,
                                                   int              prompt_version,
                                                   const char      *input,
                                                   double           cost);

/* An observation of no trace (traceId null), as the API allows. */
void        mt_fake_langfuse_add_orphan           (MtFakeLangfuse  *self,
                                                   const char      *id,
                                                   const char      *type,
                                                   gint64           start);

/* Data arriving while a client reads: the next @count requests whose path
 * starts with @prefix each add a trace ("grown-0", "grown-1"…, user
 * "user-grown") at @timestamp before they are answered. */
void        mt_fake_langfuse_add_growth           (MtFakeLangfuse  *self,
                                                   const char      *prefix,
                                                   guint            count,
                                                   gint64           timestamp);
guint       mt_fake_langfuse_get_grown            (MtFakeLangfuse  *self);

/* Every answer waits this long first, as a network would. */
void        mt_fake_langfuse_set_latency_ms       (MtFakeLangfuse  *self,
                                                   guint            latency_ms);
void        mt_fake_langfuse_set_stall_ms         (MtFakeLangfuse  *self,
                                                   guint            stall_ms);

/* At most @limit requests per window of @window_ms, the window starting
 * with its first request; 0 for no limit. @announce: every answer states
 * the limit (X-RateLimit-*); else only 429s do, as Langfuse Cloud. */
void        mt_fake_langfuse_set_rate_limit       (MtFakeLangfuse  *self,
                                                   guint            limit,
                                                   guint            window_ms,
                                                   gboolean         announce);
void        mt_fake_langfuse_set_reset_style      (MtFakeLangfuse  *self,
                                                   MtFakeLangfuseReset style);
void        mt_fake_langfuse_set_throttle_style   (MtFakeLangfuse  *self,
                                                   MtFakeLangfuseThrottle style);

/* The next @count requests whose path starts with @prefix (%NULL: any)
 * meet @fault. Faults queue up in order. */
void        mt_fake_langfuse_add_fault            (MtFakeLangfuse  *self,
                                                   MtFakeLangfuseFault fault,
                                                   guint            count,
                                                   const char      *prefix);

void        mt_fake_langfuse_clear_faults         (MtFakeLangfuse  *self);

/* Requests received; the most on the wire at once; 429s sent, and the
 * rate windows they were sent in; the most admitted in one rate window;
 * successful answers given twice to the same request (a page fetched
 * twice); items handed out again in another answer. */
guint       mt_fake_langfuse_get_requests         (MtFakeLangfuse  *self);
guint       mt_fake_langfuse_get_max_in_flight    (MtFakeLangfuse  *self);
guint       mt_fake_langfuse_get_throttled        (MtFakeLangfuse  *self);
guint       mt_fake_langfuse_get_throttled_windows (MtFakeLangfuse *self);
guint       mt_fake_langfuse_get_max_per_window   (MtFakeLangfuse  *self);
guint       mt_fake_langfuse_get_repeated_pages   (MtFakeLangfuse  *self);
guint       mt_fake_langfuse_get_repeated_items   (MtFakeLangfuse  *self);
/* "path?query" of every request, in order of arrival. */
GPtrArray  *mt_fake_langfuse_get_log              (MtFakeLangfuse  *self);
void        mt_fake_langfuse_reset_counters       (MtFakeLangfuse  *self);

G_END_DECLS
