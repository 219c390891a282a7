/* test-rate-limit.c — the pace kept below a server's rate limit, on a
 * clock the test turns by hand, and the header values it reads */

#include <libsoup/soup.h>

#include "mt-http.h"
#include "mt-rate-limit.h"

#define MS G_TIME_SPAN_MILLISECOND
#define SECOND G_TIME_SPAN_SECOND
/* 2026-11-23T10:00:00Z */
#define WALL G_GINT64_CONSTANT (1795428000000)
/* An arbitrary monotonic start. */
#define T0 (1000 * SECOND)

static void
test_moments (void)
{
  const struct {
    const char *text;
    gint64 unix_ms;
    gboolean to_the_second;
  } good[] = {
    { "Mon Nov 23 2026 10:00:00 GMT+0000 (Coordinated Universal Time)", WALL, TRUE },
    { "Mon Nov 23 2026 17:00:00 GMT+0700 (Indochina Time)", WALL, TRUE },
    { "Nov 23 2026 05:30:00 GMT-0430", WALL, TRUE },
    { "Mon, 23 Nov 2026 10:00:00 GMT", WALL, TRUE },
    { "2026-11-23T10:00:00.250Z", WALL + 250, FALSE },
    { "2026-11-23T17:00:00+07:00", WALL, TRUE },
    { "1795428000", WALL, TRUE },
    { "1795428000.5", WALL + 500, FALSE },
    { "1795428000250", WALL + 250, FALSE },
  };
  const char *bad[] = { "", "soon", "Mon Foo 23 2026 10:00:00 GMT", "Mon Nov 23 2026 10:00:00 GMT+07",
                        "2026-13-01T00:00:00Z", "12" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      gint64 unix_ms = 0;
      gboolean to_the_second = !good[i].to_the_second;

      g_test_message ("%s", good[i].text);
      g_assert_true (mt_http_parse_moment (good[i].text, &unix_ms, &to_the_second));
      g_assert_cmpint (unix_ms, ==, good[i].unix_ms);
      g_assert_cmpint (to_the_second, ==, good[i].to_the_second);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      gint64 unix_ms = 0;

      g_test_message ("%s", bad[i]);
      g_assert_false (mt_http_parse_moment (bad[i], &unix_ms, NULL));
    }
}

static gboolean
retry_after (const char *value, gint64 *wait_ms)
{
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);

  if (value != NULL)
    soup_message_headers_append (headers, "Retry-After", value);
  return mt_http_get_retry_after (headers, wait_ms);
}

static void
test_retry_after (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) later = g_date_time_add_seconds (now, 30);
  g_autofree char *date = soup_date_time_to_string (later, SOUP_DATE_HTTP);
  gint64 wait_ms = -1;

  g_assert_true (retry_after ("120", &wait_ms));
  g_assert_cmpint (wait_ms, ==, 120000);
  g_assert_true (retry_after (" 1.25 ", &wait_ms));
  g_assert_cmpint (wait_ms, ==, 1250);
  g_assert_true (retry_after ("0", &wait_ms));
  g_assert_cmpint (wait_ms, ==, 0);
  /* An HTTP date: the time until then (to the second). */
  g_assert_true (retry_after (date, &wait_ms));
  g_assert_cmpint (wait_ms, >, 28000);
  g_assert_cmpint (wait_ms, <=, 30000);

  g_assert_false (retry_after (NULL, &wait_ms));
  g_assert_false (retry_after ("soon", &wait_ms));
  g_assert_false (retry_after ("-1", &wait_ms));
  g_assert_false (retry_after ("12 seconds", &wait_ms));
}

/* Nothing known: nothing held back. */
static void
test_unknown (void)
{
  g_autoptr(MtRateLimit) rate = mt_rate_limit_new ();

  for (guint i = 0; i < 1000; i++)
    g_assert_cmpint (mt_rate_limit_admit (rate, T0 + i), ==, 0);
  g_assert_false (mt_rate_limit_is_known (rate));
  g_assert_cmpint (mt_rate_limit_get_remaining (rate, T0), ==, G_MAXINT);

  /* Headers that cannot be read change nothing. */
  mt_rate_limit_observe (rate, T0, WALL, 200, "many", "-3", "whenever", -1, 0, T0);
  g_assert_false (mt_rate_limit_is_known (rate));
  g_assert_cmpint (mt_rate_limit_admit (rate, T0), ==, 0);
}

/* Every answer states the limit: the budget is spent, then the next
 * request waits for the window's end (and a margin), then goes. */
static void
test_announced (void)
{
  g_autoptr(MtRateLimit) rate = mt_rate_limit_new ();
  gint64 wait;

  g_assert_cmpint (mt_rate_limit_admit (rate, T0), ==, 0);
  mt_rate_limit_observe (rate, T0 + 10 * MS, WALL, 200, "5", "4", "2", -1, 0, T0);
  g_assert_true (mt_rate_limit_is_known (rate));
  g_assert_cmpint (mt_rate_limit_get_remaining (rate, T0 + 10 * MS), ==, 4);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpint (mt_rate_limit_admit (rate, T0 + 20 * MS), ==, 0);
  wait = mt_rate_limit_admit (rate, T0 + 20 * MS);
  /* The window ends 2 s after the answer, at T0 + 2.01 s. */
  g_assert_cmpint (wait, >=, 2 * SECOND - 10 * MS);
  g_assert_cmpint (wait, <=, 2 * SECOND + 500 * MS);
  /* Once it has turned, a new budget. */
  g_assert_cmpint (mt_rate_limit_admit (rate, T0 + 20 * MS + wait), ==, 0);
  g_assert_cmpint (mt_rate_limit_get_remaining (rate, T0 + 20 * MS + wait), ==, 4);
}

/* Requests still on the wire when an answer comes were not counted in its
 * Remaining: they are taken off. */
static void
test_in_flight_counted (void)
{
  g_autoptr(MtRateLimit) rate = mt_rate_limit_new ();

  mt_rate_limit_observe (rate, T0, WALL, 200, "10", "6", "30", -1, 4, T0);
  g_assert_cmpint (mt_rate_limit_get_remaining (rate, T0), ==, 2);
  /* The same window: the lower count stands. */
  mt_rate_limit_observe (rate, T0 + 5 * MS, WALL + 5, 200, "10", "5", "30", -1, 0, T0);
  g_assert_cmpint (mt_rate_limit_get_remaining (rate, T0), ==, 2);
  /* A Remaining without a Limit still makes the limit known. */
  {
    g_autoptr(MtRateLimit) other = mt_rate_limit_new ();

    mt_rate_limit_observe (other, T0, WALL, 200, NULL, "3", NULL, -1, 0, T0);
    g_assert_true (mt_rate_limit_is_known (other));
    g_assert_cmpint (mt_rate_limit_get_remaining (other, T0), ==, 3);
  }
}

/* A 429 holds everything back until Retry-After has passed. */
static void
test_retry_after_blocks (void)
{
  g_autoptr(MtRateLimit) rate = mt_rate_limit_new ();
  gint64 wait;

  mt_rate_limit_observe (rate, T0, WALL, 429, NULL, NULL, NULL, 3000, 0, T0);
  wait = mt_rate_limit_admit (rate, T0 + 1 * MS);
  g_assert_cmpint (wait, ==, 3 * SECOND - 1 * MS);
  g_assert_cmpint (mt_rate_limit_get_remaining (rate, T0 + 1 * MS), ==, 0);
  /* No limit was stated: after the wait, requests go again. */
  g_assert_cmpint (mt_rate_limit_admit (rate, T0 + 3 * SECOND), ==, 0);
  g_assert_cmpint (mt_rate_limit_admit (rate, T0 + 3 * SECOND), ==, 0);
}

/* A Reset given to the second may mean up to a second later: waited for. */
static void
test_reset_to_the_second (void)
{
  g_autoptr(MtRateLimit) rate = mt_rate_limit_new ();
  gint64 wait;

  /* The window ends at WALL + 1 s, said as a date without milliseconds. */
  mt_rate_limit_observe (rate, T0, WALL, 200, "1", "0", "Mon Nov 23 2026 10:00:01 GMT+0000 (Coordinated Universal Time)", -1, 0, T0);
  wait = mt_rate_limit_admit (rate, T0);
  g_assert_cmpint (wait, >=, 2 * SECOND);
  g_assert_cmpint (wait, <=, 2 * SECOND + 500 * MS);
}

/* A server that states its limit only in the 429 that ends a window: the
 * window's length is learnt, and the next windows are kept. */
static void
test_learnt (void)
{
  g_autoptr(MtRateLimit) rate = mt_rate_limit_new ();
  gint64 now = T0, wall = WALL, wait, start;

  /* Four requests 10 ms apart; the server's window of 3 per second began
   * with the first, and the fourth meets the 429. */
  for (guint i = 0; i < 4; i++)
    g_assert_cmpint (mt_rate_limit_admit (rate, now + i * 10 * MS), ==, 0);
  now += 40 * MS;
  wall += 40;
  mt_rate_limit_observe (rate, now, wall, 429, "3", "0", "0.96", 960, 0, T0);

  /* Held until the window's end (and a margin). */
  wait = mt_rate_limit_admit (rate, now);
  g_assert_cmpint (wait, >=, 960 * MS);
  while ((wait = mt_rate_limit_admit (rate, now)) > 0)
    now += wait;
  g_assert_cmpint (now - T0, >=, 1 * SECOND);
  g_assert_cmpint (now - T0, <=, 1500 * MS);
  /* Then three go, and the fourth waits about a window (learnt: at least
   * the second it was). */
  start = now;
  for (guint i = 1; i < 3; i++)
    g_assert_cmpint (mt_rate_limit_admit (rate, now + i * MS), ==, 0);
  wait = mt_rate_limit_admit (rate, now + 3 * MS);
  g_assert_cmpint (now + 3 * MS + wait - start, >=, 1 * SECOND);
  g_assert_cmpint (now + 3 * MS + wait - start, <=, 2 * SECOND);
}

/* An answer that was on the wire when the window turned speaks of the old
 * window: it does not open a short "new" one whose end would hand out a
 * second budget within the server's window. */
static void
test_stale_answer (void)
{
  g_autoptr(MtRateLimit) rate = mt_rate_limit_new ();
  gint64 now = T0, turned, sent_before_turn;
  guint admitted = 0;

  mt_rate_limit_observe (rate, now, WALL, 200, "10", "10", "2026-11-23T10:00:01.000Z", -1, 0, T0);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpint (mt_rate_limit_admit (rate, now), ==, 0);
  sent_before_turn = now;
  /* The window turns (1 s and the margin later); ten go at once. */
  now += mt_rate_limit_admit (rate, now);
  turned = now;
  for (guint i = 0; i < 10; i++)
    g_assert_cmpint (mt_rate_limit_admit (rate, now), ==, 0);
  /* The late answer to a request of the old window: its Reset is past. */
  mt_rate_limit_observe (rate, now + 20 * MS, WALL + 1300, 200, "10", "0", "2026-11-23T10:00:01.000Z", -1, 9,
                         sent_before_turn);
  for (gint64 t = now + 20 * MS; t < turned + SECOND; t += 10 * MS)
    if (mt_rate_limit_admit (rate, t) == 0)
      admitted++;
  /* At most one request a second asks while nobody has named the end. */
  g_assert_cmpuint (admitted, <=, 1);
}

/* Requests sent just before our clock turned the window may have been the
 * first of the server's next: their answers, naming the next window, count
 * and hold the pace back. */
static void
test_early_answer_counts (void)
{
  g_autoptr(MtRateLimit) rate = mt_rate_limit_new ();
  gint64 now = T0, wait;
  guint admitted = 0;

  /* Five left, until WALL + 1 s (our clock: T0 + 1.25 s). */
  mt_rate_limit_observe (rate, now, WALL, 200, "10", "5", "2026-11-23T10:00:01.000Z", -1, 0, T0);
  /* Spent just after the server's turn, before ours. */
  for (guint i = 0; i < 5; i++)
    g_assert_cmpint (mt_rate_limit_admit (rate, T0 + 1100 * MS), ==, 0);
  /* Our turn: three more go. */
  now = T0 + 1100 * MS;
  while ((wait = mt_rate_limit_admit (rate, now)) > 0)
    now += wait;
  for (guint i = 1; i < 3; i++)
    g_assert_cmpint (mt_rate_limit_admit (rate, now), ==, 0);
  /* An answer to one of the five: the server's new window, half spent,
   * three more on the wire. */
  mt_rate_limit_observe (rate, now + 10 * MS, WALL + 1300, 200, "10", "5", "2026-11-23T10:00:02.000Z", -1, 7,
                         T0 + 1100 * MS);
  for (gint64 t = now + 10 * MS; t < T0 + 2 * SECOND; t += 10 * MS)
    if (mt_rate_limit_admit (rate, t) == 0)
      admitted++;
  /* The server has counted 5 and has 3 (at most 7) coming: nothing more. */
  g_assert_cmpuint (admitted, ==, 0);

  /* And a late answer of the old window, after that, changes nothing. */
  mt_rate_limit_observe (rate, now + 20 * MS, WALL + 1310, 200, "10", "0", "2026-11-23T10:00:01.000Z", -1, 6,
                         T0 + 900 * MS);
  g_assert_cmpint (mt_rate_limit_get_remaining (rate, now + 20 * MS), ==, 0);
  g_assert_cmpint (mt_rate_limit_admit (rate, T0 + 2300 * MS), ==, 0);
}

/* A long Retry-After is there to be read before waiting. */
static void
test_wait (void)
{
  g_autoptr(MtRateLimit) rate = mt_rate_limit_new ();

  g_assert_cmpint (mt_rate_limit_get_wait (rate, T0), ==, 0);
  mt_rate_limit_observe (rate, T0, WALL, 429, "30", "0", NULL, 3600 * 1000, 0, T0);
  g_assert_cmpint (mt_rate_limit_get_wait (rate, T0 + SECOND), >=, 3599 * SECOND);
  g_assert_cmpint (mt_rate_limit_get_wait (rate, T0 + SECOND), <=, 3599 * SECOND + 500 * MS);
  /* Reading it admits nothing: the same again. */
  g_assert_cmpint (mt_rate_limit_get_wait (rate, T0 + 2 * SECOND), >=, 3598 * SECOND);
  g_assert_cmpint (mt_rate_limit_admit (rate, T0 + 2 * SECOND), >=, 3598 * SECOND);
}

/* Spent, with no end named: one request a second asks. */
static void
test_spent_without_end (void)
{
  g_autoptr(MtRateLimit) rate = mt_rate_limit_new ();

  mt_rate_limit_observe (rate, T0, WALL, 200, "10", "0", NULL, -1, 0, T0);
  g_assert_cmpint (mt_rate_limit_admit (rate, T0), ==, 0);
  g_assert_cmpint (mt_rate_limit_admit (rate, T0 + 10 * MS), ==, SECOND - 10 * MS);
  g_assert_cmpint (mt_rate_limit_admit (rate, T0 + SECOND), ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rate-limit/moments", test_moments);
  g_test_add_func ("/rate-limit/retry-after", test_retry_after);
  g_test_add_func ("/rate-limit/unknown", test_unknown);
  g_test_add_func ("/rate-limit/announced", test_announced);
  g_test_add_func ("/rate-limit/in-flight-counted", test_in_flight_counted);
  g_test_add_func ("/rate-limit/retry-after-blocks", test_retry_after_blocks);
  g_test_add_func ("/rate-limit/reset-to-the-second", test_reset_to_the_second);
  g_test_add_func ("/rate-limit/learnt", test_learnt);
  g_test_add_func ("/rate-limit/spent-without-end", test_spent_without_end);
  g_test_add_func ("/rate-limit/stale-answer", test_stale_answer);
  g_test_add_func ("/rate-limit/wait", test_wait);
  g_test_add_func ("/rate-limit/early-answer-counts", test_early_answer_counts);

  return g_test_run ();
}
