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
 * v1's `fields`. Tests step in through the server's hooks (tests/fakes/
 * adds faults and Langfuse Cloud's rate limit).
 */
#pragma once

#include <glib-object.h>

#include "mt-loopback-server.h"

G_BEGIN_DECLS

#define MT_TYPE_LOOPBACK_LANGFUSE (mt_loopback_langfuse_get_type ())

G_DECLARE_FINAL_TYPE (MtLoopbackLangfuse, mt_loopback_langfuse, MT, LOOPBACK_LANGFUSE, GObject)

/* Listens on 127.0.0.1 in the thread-default main context; requests must
 * authenticate with these keys. */
MtLoopbackLangfuse *mt_loopback_langfuse_new              (const char *public_key,
                                                           const char *secret_key);

/* The server underneath, for its hooks. */
MtLoopbackServer *mt_loopback_langfuse_get_server     (MtLoopbackLangfuse *self);
/* Answers @msg with Langfuse's JSON error ({"message", "code"}). */
void        mt_loopback_langfuse_answer_error         (SoupServerMessage  *msg,
                                                       guint               status,
                                                       const char         *code,
                                                       const char         *message);

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

/* Every answer waits this long first, as a network would. */
void        mt_loopback_langfuse_set_latency_ms       (MtLoopbackLangfuse *self,
                                                       guint               latency_ms);

/* Requests received; the most on the wire at once; successful answers
 * given twice to the same request (a page fetched twice); items handed out
 * again in another answer. */
guint       mt_loopback_langfuse_get_requests         (MtLoopbackLangfuse  *self);
guint       mt_loopback_langfuse_get_max_in_flight    (MtLoopbackLangfuse  *self);
guint       mt_loopback_langfuse_get_repeated_pages   (MtLoopbackLangfuse  *self);
guint       mt_loopback_langfuse_get_repeated_items   (MtLoopbackLangfuse  *self);
/* "path?query" of every request, in order of arrival. */
GPtrArray  *mt_loopback_langfuse_get_log              (MtLoopbackLangfuse  *self);
void        mt_loopback_langfuse_reset_counters       (MtLoopbackLangfuse  *self);

G_END_DECLS
