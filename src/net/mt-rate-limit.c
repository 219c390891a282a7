/* mt-rate-limit.c — keeping below a server's rate limit */

#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "mt-http.h"
#include "mt-rate-limit.h"

/* The server's clock and the way there differ a little from ours: every
 * moment it names is taken this much later. */
#define MARGIN (250 * G_TIME_SPAN_MILLISECOND)
/* A Reset this much later than the one known names the next window. */
#define NEW_WINDOW (500 * G_TIME_SPAN_MILLISECOND)
/* With the budget spent and no end known, one request a second asks. */
#define PROBE_EVERY G_TIME_SPAN_SECOND
#define LONGEST_WINDOW G_TIME_SPAN_DAY
/* The send times kept to learn how long a window lasts. */
#define SENDS_KEPT 4096

struct _MtRateLimit
{
  guint limit;          /* requests per window; 0 when not known */
  gint remaining;       /* what is left of the window */
  gint64 window_end;    /* when it turns; 0 when not known */
  gint64 window_start;  /* when its first request left; 0 before that */
  gint64 duration;      /* how long a window lasts, learnt; 0 when not known */
  gint64 blocked_until; /* Retry-After: nothing leaves before */
  gint64 turned_at;     /* when the last window turned, by our clock */
  gint64 last_end;      /* the end of the window before this one */
  gint64 last_probe;
  gint64 sends[SENDS_KEPT]; /* the latest send times, a ring */
  guint sends_next;
  guint sends_count;
};

MtRateLimit *
mt_rate_limit_new (void)
{
  return g_new0 (MtRateLimit, 1);
}

void
mt_rate_limit_free (MtRateLimit *self)
{
  g_free (self);
}

void
mt_rate_limit_copy_from (MtRateLimit       *self,
                         const MtRateLimit *other)
{
  *self = *other;
}

static void
turn_if_due (MtRateLimit *self,
             gint64       now)
{
  if (self->window_end != 0 && now >= self->window_end)
    {
      self->remaining = (gint) self->limit;
      self->last_end = self->window_end;
      self->window_end = 0;
      self->window_start = 0;
      self->turned_at = now;
    }
}

static void
note_sent (MtRateLimit *self,
           gint64       now)
{
  self->sends[self->sends_next] = now;
  self->sends_next = (self->sends_next + 1) % SENDS_KEPT;
  self->sends_count = MIN (self->sends_count + 1, SENDS_KEPT);

  if (self->window_start == 0)
    {
      self->window_start = now;
      /* A server that states its limit only when it is spent: its window
       * started with this request, and lasts as long as the last one. */
      if (self->duration > 0 && self->window_end == 0)
        self->window_end = now + self->duration + MARGIN;
    }
}

/* The send time @back requests before the latest (0: the latest). */
static gint64
sent_before (MtRateLimit *self,
             guint        back)
{
  if (back >= self->sends_count)
    return 0;
  return self->sends[(self->sends_next + SENDS_KEPT - 1 - back) % SENDS_KEPT];
}

gint64
mt_rate_limit_admit (MtRateLimit *self,
                     gint64       now)
{
  if (now < self->blocked_until)
    return self->blocked_until - now;
  turn_if_due (self, now);

  if (self->limit == 0 || self->remaining > 0)
    {
      if (self->limit != 0)
        self->remaining--;
      note_sent (self, now);
      return 0;
    }
  if (self->window_end != 0)
    return self->window_end - now;
  /* Spent, and nobody said until when. */
  if (self->last_probe == 0 || now - self->last_probe >= PROBE_EVERY)
    {
      self->last_probe = now;
      note_sent (self, now);
      return 0;
    }
  return self->last_probe + PROBE_EVERY - now;
}

/* When the window turns, from X-RateLimit-Reset: seconds from now, or a
 * moment; a moment given to the second may mean up to a second later. */
static gboolean
parse_reset (const char *text,
             gint64      now,
             gint64      wall_ms,
             gint64     *end)
{
  gint64 moment_ms;
  gboolean to_the_second = FALSE;
  char *rest = NULL;
  double seconds;

  if (text == NULL)
    return FALSE;
  seconds = g_ascii_strtod (text, &rest);
  if (rest != text && *rest == '\0' && isfinite (seconds) && seconds >= 0 && seconds <= 1e9)
    {
      if (seconds * G_TIME_SPAN_SECOND > (double) LONGEST_WINDOW)
        return FALSE;
      *end = now + (gint64) ceil (seconds * G_TIME_SPAN_SECOND) + MARGIN;
      return TRUE;
    }
  if (!mt_http_parse_moment (text, &moment_ms, &to_the_second))
    return FALSE;
  if (to_the_second)
    moment_ms += 1000;
  if (moment_ms - wall_ms > LONGEST_WINDOW / 1000)
    return FALSE;
  *end = now + MAX (moment_ms - wall_ms, 0) * 1000 + MARGIN;
  return TRUE;
}

static gboolean
parse_count (const char *text,
             guint64     min,
             guint64    *value)
{
  g_autofree char *copy = NULL;

  if (text == NULL)
    return FALSE;
  copy = g_strstrip (g_strdup (text));
  return g_ascii_string_to_unsigned (copy, 10, min, G_MAXINT32, value, NULL);
}

void
mt_rate_limit_observe (MtRateLimit *self,
                       gint64       now,
                       gint64       wall_ms,
                       guint        status,
                       const char  *limit_text,
                       const char  *remaining_text,
                       const char  *reset_text,
                       gint64       retry_after_ms,
                       guint        in_flight,
                       gint64       sent_at)
{
  guint64 limit = 0, remaining = 0;
  gboolean has_limit = parse_count (limit_text, 1, &limit);
  gboolean has_remaining = parse_count (remaining_text, 0, &remaining);
  gint64 end = 0;
  gboolean has_reset = parse_reset (reset_text, now, wall_ms, &end);
  /* What the server may not have counted yet: the requests on the wire. */
  gint left = has_remaining ? MAX ((gint) remaining - (gint) in_flight, 0) : 0;
  gboolean stale;

  /* An answer that speaks of a window already over: by its Reset when it
   * names one (earlier than ours, or the one that turned), else by when its
   * request left. Only its Retry-After still holds. */
  if (has_reset)
    stale = (self->window_end != 0 && end < self->window_end - NEW_WINDOW) ||
            (self->window_end == 0 && self->last_end != 0 && end <= self->last_end + NEW_WINDOW);
  else
    stale = sent_at < self->turned_at;
  if (stale)
    {
      if (status == 429 && retry_after_ms >= 0 && now + retry_after_ms * 1000 > self->blocked_until)
        self->blocked_until = now + MIN (retry_after_ms, LONGEST_WINDOW / 1000) * 1000;
      return;
    }

  if (has_limit)
    self->limit = (guint) limit;
  else if (has_remaining && self->limit == 0)
    /* A budget without its size: at least what is left of it. */
    self->limit = (guint) remaining + in_flight + 1;

  if (status == 429)
    {
      gint64 until = 0;

      if (retry_after_ms >= 0)
        until = now + MIN (retry_after_ms, LONGEST_WINDOW / 1000) * 1000;
      else if (has_reset)
        until = end;
      if (until > self->blocked_until)
        self->blocked_until = until;
      if (!has_reset && until > 0)
        {
          has_reset = TRUE;
          end = until + MARGIN;
        }
      has_remaining = TRUE;
      left = 0;

      /* How long a window lasts: from the earliest request it may have
       * counted (the limit's worth before this one and those still on the
       * wire) to its end. Too long is safe: it only waits longer. */
      if (has_reset && self->limit > 0)
        {
          gint64 start = sent_before (self, self->limit + in_flight);

          if (start == 0)
            start = self->window_start;
          if (start != 0 && end > start && end - start <= LONGEST_WINDOW)
            self->duration = MAX (self->duration, end - start - MARGIN);
        }
    }

  if (has_reset)
    {
      if (self->window_end == 0 || end > self->window_end + NEW_WINDOW)
        {
          /* The next window (or the first known): the server's turned
           * before ours did. */
          if (self->window_end != 0)
            {
              self->last_end = self->window_end;
              self->turned_at = now;
            }
          self->window_end = end;
          if (has_remaining)
            self->remaining = left;
          else if (self->limit > 0)
            self->remaining = MIN (self->remaining, (gint) self->limit);
          return;
        }
      if (end > self->window_end)
        self->window_end = end;
    }
  if (has_remaining)
    {
      /* The same window: the lower of the server's count and ours, unless
       * the server, not saying when, has started a new one. */
      if (has_reset || status == 429)
        self->remaining = MIN (self->remaining, left);
      else
        self->remaining = left;
    }
}

gint64
mt_rate_limit_get_wait (MtRateLimit *self,
                        gint64       now)
{
  gint64 wait = MAX (self->blocked_until - now, 0);

  if (self->limit > 0 && self->remaining <= 0 && self->window_end > now)
    wait = MAX (wait, self->window_end - now);
  return wait;
}

gboolean
mt_rate_limit_is_known (MtRateLimit *self)
{
  return self->limit > 0;
}

gint
mt_rate_limit_get_remaining (MtRateLimit *self,
                             gint64       now)
{
  if (now < self->blocked_until)
    return 0;
  if (self->limit == 0)
    return G_MAXINT;
  if (self->window_end != 0 && now >= self->window_end)
    return (gint) self->limit;
  return self->remaining;
}
