/* test-time.c — ISO 8601 instants and display zones */

#include "mt-core.h"

static gint64
parse_ok (const char *text,
          GTimeZone  *zone)
{
  g_autoptr(GError) error = NULL;
  gint64 ms = 0;

  g_assert_true (mt_time_parse_iso8601 (text, zone, &ms, &error));
  g_assert_no_error (error);
  return ms;
}

/* GLib's GDateTime is an independent oracle for whole seconds. */
static gint64
oracle_ms (int year, int month, int day, int hour, int minute, int second, const char *zone_id)
{
  g_autoptr(GTimeZone) zone = g_time_zone_new_identifier (zone_id);
  g_autoptr(GDateTime) dt = g_date_time_new (zone, year, month, day, hour, minute, second);

  return g_date_time_to_unix (dt) * 1000;
}

static void
test_parse_utc_and_offsets (void)
{
  g_assert_cmpint (parse_ok ("2000-01-01T00:00:00Z", NULL), ==, G_GINT64_CONSTANT (946684800000));
  g_assert_cmpint (parse_ok ("1970-01-01T00:00:00Z", NULL), ==, 0);
  g_assert_cmpint (parse_ok ("1969-12-31T23:59:59.999Z", NULL), ==, -1);
  g_assert_cmpint (parse_ok ("2025-01-31t09:25:00z", NULL), ==,
                   oracle_ms (2025, 1, 31, 9, 25, 0, "UTC"));
  g_assert_cmpint (parse_ok ("2025-01-31 09:25:00Z", NULL), ==,
                   oracle_ms (2025, 1, 31, 9, 25, 0, "UTC"));

  /* The same instant written in four offsets. */
  g_assert_cmpint (parse_ok ("2025-01-31T16:25:00+07:00", NULL), ==,
                   oracle_ms (2025, 1, 31, 9, 25, 0, "UTC"));
  g_assert_cmpint (parse_ok ("2025-01-31T16:25:00+0700", NULL), ==,
                   oracle_ms (2025, 1, 31, 9, 25, 0, "UTC"));
  g_assert_cmpint (parse_ok ("2025-01-31T16:25:00+07", NULL), ==,
                   oracle_ms (2025, 1, 31, 9, 25, 0, "UTC"));
  g_assert_cmpint (parse_ok ("2025-01-31T03:55:00-05:30", NULL), ==,
                   oracle_ms (2025, 1, 31, 9, 25, 0, "UTC"));
  g_assert_cmpint (parse_ok ("1890-01-01T10:36:20+10:36:20", NULL), ==,
                   oracle_ms (1890, 1, 1, 0, 0, 0, "UTC"));

  /* Leap day, and a minute without seconds. */
  g_assert_cmpint (parse_ok ("2024-02-29T12:00Z", NULL), ==,
                   oracle_ms (2024, 2, 29, 12, 0, 0, "UTC"));
  /* 24:00 is the end of the day, the next day's start. */
  g_assert_cmpint (parse_ok ("2024-12-31T24:00:00Z", NULL), ==,
                   oracle_ms (2025, 1, 1, 0, 0, 0, "UTC"));
}

static void
test_parse_fractions (void)
{
  gint64 base = parse_ok ("2025-01-31T09:25:00Z", NULL);

  g_assert_cmpint (parse_ok ("2025-01-31T09:25:00.1Z", NULL), ==, base + 100);
  g_assert_cmpint (parse_ok ("2025-01-31T09:25:00.12Z", NULL), ==, base + 120);
  g_assert_cmpint (parse_ok ("2025-01-31T09:25:00.123Z", NULL), ==, base + 123);
  g_assert_cmpint (parse_ok ("2025-01-31T09:25:00,5Z", NULL), ==, base + 500);
  /* Microseconds and nanoseconds are truncated to the millisecond. */
  g_assert_cmpint (parse_ok ("2025-01-31T09:25:00.123999Z", NULL), ==, base + 123);
  g_assert_cmpint (parse_ok ("2025-01-31T09:25:00.999999999Z", NULL), ==, base + 999);
  g_assert_cmpint (parse_ok ("2025-01-31T16:25:00.250+07:00", NULL), ==, base + 250);
}

static void
test_parse_in_zone (void)
{
  g_autoptr(GTimeZone) plus7 = mt_time_zone_new ("+07:00", NULL);
  g_autoptr(GTimeZone) new_york = mt_time_zone_new ("America/New_York", NULL);
  g_autoptr(GError) error = NULL;
  gint64 ms;

  g_assert_nonnull (plus7);
  g_assert_nonnull (new_york);

  g_assert_cmpint (parse_ok ("2025-01-31T16:25:00", plus7), ==,
                   oracle_ms (2025, 1, 31, 9, 25, 0, "UTC"));
  g_assert_cmpint (parse_ok ("2025-01-31T16:25:00.5", plus7), ==,
                   oracle_ms (2025, 1, 31, 9, 25, 0, "UTC") + 500);
  g_assert_cmpint (parse_ok ("2025-01-31", plus7), ==,
                   oracle_ms (2025, 1, 30, 17, 0, 0, "UTC"));
  /* Winter and summer time in one named zone. */
  g_assert_cmpint (parse_ok ("2025-01-15T12:00:00", new_york), ==,
                   oracle_ms (2025, 1, 15, 17, 0, 0, "UTC"));
  g_assert_cmpint (parse_ok ("2025-07-15T12:00:00", new_york), ==,
                   oracle_ms (2025, 7, 15, 16, 0, 0, "UTC"));
  /* An explicit offset wins over the default zone. */
  g_assert_cmpint (parse_ok ("2025-01-31T09:25:00Z", plus7), ==,
                   oracle_ms (2025, 1, 31, 9, 25, 0, "UTC"));

  g_assert_false (mt_time_parse_iso8601 ("2025-01-31T16:25:00", NULL, &ms, &error));
  g_assert_error (error, MT_TIME_ERROR, MT_TIME_ERROR_NEEDS_ZONE);
  g_assert_nonnull (strstr (error->message, "2025-01-31T16:25:00"));
}

static void
test_parse_invalid (void)
{
  static const char *const bad[] = {
    "", "yesterday", "2025", "2025-01", "2025-1-31T00:00:00Z", "2025-01-31T9:25:00Z",
    "2025-02-29T00:00:00Z", "2025-02-30T00:00:00Z", "2025-13-01T00:00:00Z",
    "2025-00-10T00:00:00Z", "2025-01-00T00:00:00Z", "2025-01-31T25:00:00Z",
    "2025-01-31T24:00:01Z", "2025-01-31T23:60:00Z", "2025-01-31T23:59:61Z",
    "2025-01-31T23:59:59.Z", "2025-01-31T23:59:59+24:00", "2025-01-31T23:59:59+07:60",
    "2025-01-31T23:59:59+7", "2025-01-31T23:59:59Z ", " 2025-01-31T23:59:59Z",
    "2025-01-31T23:59:59ZZ", "2025-01-31X23:59:59Z", "2025-01-31T23:59:59+07:00:60", "2025-01-31T23:59:59+07:00:",
    "+2025-01-31T23:59:59Z", "2025-01-31T23:59:59\xff",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      gint64 ms = 42;
      g_autofree char *shown = g_strescape (bad[i], NULL);

      g_test_message ("rejecting “%s”", shown);
      g_assert_false (mt_time_parse_iso8601 (bad[i], NULL, &ms, &error));
      g_assert_error (error, MT_TIME_ERROR, MT_TIME_ERROR_INVALID);
      g_assert_cmpint (ms, ==, 42);
    }
}

static char *
format (gint64 ms, const char *zone_spec)
{
  g_autoptr(GTimeZone) zone = mt_time_zone_new (zone_spec, NULL);

  g_assert_nonnull (zone);
  return mt_time_format_iso8601 (ms, zone);
}

static void
test_format (void)
{
  gint64 t = oracle_ms (2025, 1, 31, 9, 25, 0, "UTC");
  struct { gint64 ms; const char *zone; const char *expected; } cases[] = {
    { t, "+07:00", "2025-01-31T16:25:00+07:00" },
    { t + 123, "+07:00", "2025-01-31T16:25:00.123+07:00" },
    { t + 5, "+07:00", "2025-01-31T16:25:00.005+07:00" },
    { t, "UTC", "2025-01-31T09:25:00+00:00" },
    { t, "-05:30", "2025-01-31T03:55:00-05:30" },
    { t, "Asia/Ho_Chi_Minh", "2025-01-31T16:25:00+07:00" },
    { t, "America/New_York", "2025-01-31T04:25:00-05:00" },
    { oracle_ms (2025, 7, 1, 12, 0, 0, "UTC"), "America/New_York", "2025-07-01T08:00:00-04:00" },
    /* Crossing midnight, a month end and a year end into the next day. */
    { oracle_ms (2024, 12, 31, 20, 0, 0, "UTC"), "+07:00", "2025-01-01T03:00:00+07:00" },
    { oracle_ms (2024, 2, 28, 20, 0, 0, "UTC"), "+07:00", "2024-02-29T03:00:00+07:00" },
    { -1, "UTC", "1969-12-31T23:59:59.999+00:00" },
    { 0, "+07:00", "1970-01-01T07:00:00+07:00" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = format (cases[i].ms, cases[i].zone);

      g_assert_cmpstr (text, ==, cases[i].expected);
    }
}

static void
test_round_trip (void)
{
  static const char *const zones[] = { "+07:00", "UTC", "-09:30", "+14:00", "Europe/Paris",
                                       "America/Los_Angeles", "Australia/Lord_Howe" };
  GRand *rand = g_rand_new_with_seed (20250131);

  for (guint i = 0; i < 20000; i++)
    {
      /* Years 1 to 9999. */
      gint64 ms = g_rand_int_range (rand, -62135596, 253402300) * G_GINT64_CONSTANT (1000000) +
                  g_rand_int_range (rand, 0, 1000000);
      const char *zone_spec = zones[i % G_N_ELEMENTS (zones)];
      g_autoptr(GTimeZone) zone = mt_time_zone_new (zone_spec, NULL);
      g_autofree char *text = mt_time_format_iso8601 (ms, zone);
      g_autoptr(GDateTime) oracle = g_date_time_new_from_unix_utc (ms / 1000 - (ms % 1000 < 0));
      g_autoptr(GDateTime) local = NULL;
      g_autofree char *oracle_text = NULL;
      gint64 back = 0;

      if (oracle == NULL)
        continue;
      local = g_date_time_to_timezone (oracle, zone);
      oracle_text = g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02d",
                                     g_date_time_get_year (local), g_date_time_get_month (local),
                                     g_date_time_get_day_of_month (local), g_date_time_get_hour (local),
                                     g_date_time_get_minute (local), g_date_time_get_second (local));
      if (!g_str_has_prefix (text, oracle_text))
        g_error ("%" G_GINT64_FORMAT " in %s: %s, GLib says %s", ms, zone_spec, text, oracle_text);

      back = parse_ok (text, NULL);
      g_assert_cmpint (back, ==, ms);
    }
  g_rand_free (rand);
}

static void
test_other_formats (void)
{
  g_autoptr(GTimeZone) plus7 = mt_time_zone_new (NULL, NULL);
  gint64 t = oracle_ms (2025, 1, 31, 9, 25, 7, "UTC") + 42;
  g_autofree char *utc = mt_time_format_utc (t);
  g_autofree char *compact = NULL;
  g_autofree char *display = NULL;

  g_assert_null (plus7);
  plus7 = mt_time_zone_new (MT_TIME_ZONE_DEFAULT, NULL);
  compact = mt_time_format_compact (t, plus7);
  display = mt_time_format_display (t, plus7);

  g_assert_cmpstr (utc, ==, "2025-01-31T09:25:07.042Z");
  g_assert_cmpstr (compact, ==, "20250131_162507");
  g_assert_cmpstr (display, ==, "2025-01-31 16:25");
}

static void
test_zones (void)
{
  struct { const char *spec; const char *name; int offset; } good[] = {
    { "+07:00", "+07:00", 25200 },
    { " +07:00 ", "+07:00", 25200 },
    { "+0700", "+07:00", 25200 },
    { "+07", "+07:00", 25200 },
    { "+7", "+07:00", 25200 },
    { "-05:30", "-05:30", -19800 },
    { "-530", "-05:30", -19800 },
    { "Z", "+00:00", 0 },
    { "UTC", "+00:00", 0 },
    { "utc", "+00:00", 0 },
    /* The seed tool writes UTC+7 for seven hours east; POSIX would read it
     * as seven hours west. Mealtrace follows its users. */
    { "UTC+7", "+07:00", 25200 },
    { "UTC+07:00", "+07:00", 25200 },
    { "GMT-3", "-03:00", -10800 },
    { "Asia/Ho_Chi_Minh", "Asia/Ho_Chi_Minh", 25200 },
    { "Asia/Bangkok", "Asia/Bangkok", 25200 },
  };
  static const char *const bad[] = {
    "", "   ", "Mars/Olympus_Mons", "+25:00", "+07:61", "+07:0", "7", "UTC+",
    "../../etc/passwd", "/etc/passwd", "+07:00:00", "Asia/../etc",
  };
  gint64 winter = oracle_ms (2025, 1, 15, 0, 0, 0, "UTC");

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GTimeZone) zone = mt_time_zone_new (good[i].spec, &error);

      g_assert_no_error (error);
      g_assert_nonnull (zone);
      g_assert_cmpstr (mt_time_zone_get_name (zone), ==, good[i].name);
      g_assert_cmpint (mt_time_zone_offset_at (zone, winter), ==, good[i].offset);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GTimeZone) zone = mt_time_zone_new (bad[i], &error);

      g_test_message ("rejecting zone “%s”", bad[i]);
      g_assert_null (zone);
      g_assert_error (error, MT_TIME_ERROR, MT_TIME_ERROR_UNKNOWN_ZONE);
      g_assert_nonnull (strstr (error->message, "+07:00"));
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/time/parse/utc-and-offsets", test_parse_utc_and_offsets);
  g_test_add_func ("/time/parse/fractions", test_parse_fractions);
  g_test_add_func ("/time/parse/in-zone", test_parse_in_zone);
  g_test_add_func ("/time/parse/invalid", test_parse_invalid);
  g_test_add_func ("/time/format/iso8601", test_format);
  g_test_add_func ("/time/format/round-trip", test_round_trip);
  g_test_add_func ("/time/format/other", test_other_formats);
  g_test_add_func ("/time/zones", test_zones);

  return g_test_run ();
}
