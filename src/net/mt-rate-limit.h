/* mt-rate-limit.h — keeping below a server's rate limit
 *
 * What a client knows of a server's limit of requests per window, from the
 * X-RateLimit-Limit, -Remaining and -Reset headers and from 429 answers
 * with Retry-After, and when the next request may leave so as not to cause
 * another 429. Servers differ: some state the limit on every answer, some
 * (Langfuse Cloud) only on the 429 itself, when the window is spent; Reset
 * may be seconds from now, Unix seconds or milliseconds, or a date.
 *
 * Clocks are passed in, so that the pace can be tested without waiting:
 * @now is monotonic microseconds, @wall_ms real milliseconds since 1970.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MtRateLimit MtRateLimit;

MtRateLimit *mt_rate_limit_new           (void);
void         mt_rate_limit_free          (MtRateLimit *self);

/* Asks to send a request: 0 when it may leave now (and it is counted),
 * else how many microseconds to wait before asking again. */
gint64       mt_rate_limit_admit         (MtRateLimit *self,
                                          gint64       now);

/* Tells what an answer said. @retry_after_ms is -1 when it did not say;
 * @in_flight counts the other requests on the wire, which the server's
 * Remaining may not count yet; @sent_at is when the request was admitted
 * (an answer to a request sent before the window turned is about the old
 * window). */
void         mt_rate_limit_observe       (MtRateLimit *self,
                                          gint64       now,
                                          gint64       wall_ms,
                                          guint        status,
                                          const char  *limit,
                                          const char  *remaining,
                                          const char  *reset,
                                          gint64       retry_after_ms,
                                          guint        in_flight,
                                          gint64       sent_at);

/* How long until a request may leave (0: now), without counting one. */
gint64       mt_rate_limit_get_wait      (MtRateLimit *self,
                                          gint64       now);

/* Whether a limit is known, and what is left of the window (G_MAXINT when
 * nothing is known). */
gboolean     mt_rate_limit_is_known      (MtRateLimit *self);
/* Makes @self know all @other knows (both on the same monotonic clock). */
void         mt_rate_limit_copy_from     (MtRateLimit       *self,
                                          const MtRateLimit *other);
gint         mt_rate_limit_get_remaining (MtRateLimit *self,
                                          gint64       now);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtRateLimit, mt_rate_limit_free)

G_END_DECLS
