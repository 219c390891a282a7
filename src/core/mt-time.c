/* mt-time.c — instants, ISO 8601 and display time zones */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mt-text.h"
#include "mt-time.h"

G_DEFINE_QUARK (mt-time-error-quark, mt_time_error)

#define MS_PER_DAY (G_GINT64_CONSTANT (86400000))

gint64
mt_time_now_ms (void)
{
  return g_get_real_time () / 1000;
}

static gint64
floor_div (gint64 a, gint64 b)
{
  gint64 q = a / b;

  if ((a % b != 0) && ((a < 0) != (b < 0)))
    q--;
  return q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static gint64
days_from_civil (gint64 y, int m, int d)
{
  gint64 era;
  gint64 yoe, doy, doe;

  y -= m <= 2;
  era = floor_div (y, 400);
  yoe = y - era * 400;
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void
civil_from_days (gint64 z, gint64 *y, int *m, int *d)
{
  gint64 era, doe, yoe, doy, mp;

  z += 719468;
  era = floor_div (z, 146097);
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int) (doy - (153 * mp + 2) / 5 + 1);
  *m = (int) (mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int
days_in_month (int y, int m)
{
  static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
    return 29;
  return days[m - 1];
}

static gboolean
read_digits (const char **p, int n, int *out)
{
  int v = 0;

  for (int i = 0; i < n; i++)
    {
      char c = (*p)[i];

      if (c < '0' || c > '9')
        return FALSE;
      v = v * 10 + (c - '0');
    }
  *p += n;
  *out = v;
  return TRUE;
}

static gboolean
invalid (const char *text, GError **error)
{
  g_autofree char *quoted = mt_text_quote (text, -1, MT_TEXT_QUOTE_MAX);

  g_set_error (error, MT_TIME_ERROR, MT_TIME_ERROR_INVALID,
               _("“%s” is not a date and time. Write it as ISO 8601, for example 2025-01-31T16:25:00+07:00."),
               quoted);
  return FALSE;
}

gboolean
mt_time_parse_iso8601 (const char  *text,
                       GTimeZone   *default_zone,
                       gint64      *out_ms,
                       GError     **error)
{
  const char *p = text;
  int year, month, day, hour = 0, minute = 0, second = 0, msec = 0;
  gboolean has_offset = FALSE;
  int offset_s = 0;
  gint64 days, ms;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (out_ms != NULL, FALSE);

  if (!read_digits (&p, 4, &year) || *p++ != '-' ||
      !read_digits (&p, 2, &month) || *p++ != '-' ||
      !read_digits (&p, 2, &day))
    return invalid (text, error);
  if (month < 1 || month > 12 || day < 1 || day > days_in_month (year, month))
    return invalid (text, error);

  if (*p == 'T' || *p == 't' || *p == ' ')
    {
      p++;
      if (!read_digits (&p, 2, &hour) || *p++ != ':' || !read_digits (&p, 2, &minute))
        return invalid (text, error);
      if (*p == ':')
        {
          p++;
          if (!read_digits (&p, 2, &second))
            return invalid (text, error);
          if (*p == '.' || *p == ',')
            {
              int n = 0;

              p++;
              if (*p < '0' || *p > '9')
                return invalid (text, error);
              /* Keep the milliseconds; later digits are truncated. */
              for (; *p >= '0' && *p <= '9'; p++, n++)
                if (n < 3)
                  msec = msec * 10 + (*p - '0');
              for (; n < 3; n++)
                msec *= 10;
            }
        }
      if (hour > 24 || minute > 59 || second > 60 ||
          (hour == 24 && (minute != 0 || second != 0 || msec != 0)))
        return invalid (text, error);

      if (*p == 'Z' || *p == 'z')
        {
          p++;
          has_offset = TRUE;
        }
      else if (*p == '+' || *p == '-')
        {
          int sign = *p++ == '-' ? -1 : 1;
          int oh, om = 0, os = 0;

          if (!read_digits (&p, 2, &oh))
            return invalid (text, error);

          if (*p == ':')
            {
              p++;
              if (!read_digits (&p, 2, &om))
                return invalid (text, error);
              /* Historical zones have offsets with seconds (+10:36:20). */
              if (*p == ':' && (p++, !read_digits (&p, 2, &os)))
                return invalid (text, error);
            }
          else if (*p >= '0' && *p <= '9')
            {
              if (!read_digits (&p, 2, &om))
                return invalid (text, error);
            }
          if (oh > 23 || om > 59 || os > 59)
            return invalid (text, error);
          offset_s = sign * (oh * 3600 + om * 60 + os);
          has_offset = TRUE;
        }
    }

  if (*p != '\0')
    return invalid (text, error);

  days = days_from_civil (year, month, day);
  if (hour == 24)
    {
      hour = 0;
      days++;
    }

  if (!has_offset)
    {
      g_autoptr(GDateTime) dt = NULL;
      gint64 y;
      int m, d;

      if (default_zone == NULL)
        {
          g_autofree char *quoted = mt_text_quote (text, -1, MT_TEXT_QUOTE_MAX);

          g_set_error (error, MT_TIME_ERROR, MT_TIME_ERROR_NEEDS_ZONE,
                       _("“%s” has no time zone. Add one, for example Z or +07:00."),
                       quoted);
          return FALSE;
        }
      civil_from_days (days, &y, &m, &d);
      /* A leap second has no local representation; it is the next second. */
      dt = g_date_time_new (default_zone, (int) y, m, d, hour, minute, MIN (second, 59));
      if (dt == NULL)
        return invalid (text, error);
      ms = (g_date_time_to_unix (dt) + (second == 60)) * 1000 + msec;
    }
  else
    ms = ((days * 86400 + hour * 3600 + minute * 60 + second) - offset_s) * G_GINT64_CONSTANT (1000) + msec;

  /* An instant that some zone would put before year 1 or after 9999 has
   * no ISO 8601 form of four-digit years: it is written nowhere, and read
   * from nowhere either. */
  if (ms < days_from_civil (1, 1, 2) * MS_PER_DAY || ms >= days_from_civil (9999, 12, 31) * MS_PER_DAY)
    return invalid (text, error);
  *out_ms = ms;
  return TRUE;
}

gint32
mt_time_zone_offset_at (GTimeZone *zone,
                        gint64     ms)
{
  int interval;

  if (zone == NULL)
    return 0;
  interval = g_time_zone_find_interval (zone, G_TIME_TYPE_UNIVERSAL, floor_div (ms, 1000));
  if (interval < 0)
    return 0;
  return g_time_zone_get_offset (zone, interval);
}

typedef struct {
  gint64 year;
  int month, day, hour, minute, second, msec;
  gint32 offset;
} Civil;

static void
to_civil (gint64 ms, GTimeZone *zone, Civil *c)
{
  gint64 local, days, rem;

  c->offset = mt_time_zone_offset_at (zone, ms);
  local = ms + (gint64) c->offset * 1000;
  days = floor_div (local, MS_PER_DAY);
  rem = local - days * MS_PER_DAY;
  civil_from_days (days, &c->year, &c->month, &c->day);
  c->hour = (int) (rem / 3600000);
  c->minute = (int) (rem / 60000 % 60);
  c->second = (int) (rem / 1000 % 60);
  c->msec = (int) (rem % 1000);
}

/* @value (0 ≤ @value < 10^@width) in exactly @width digits. */
static gsize
put_digits (char   *buf,
            gint64  value,
            int     width)
{
  for (int i = width - 1; i >= 0; i--, value /= 10)
    buf[i] = (char) ('0' + value % 10);
  return (gsize) width;
}

gsize
mt_time_format_iso8601_buf (char      *buf,
                            gint64     ms,
                            GTimeZone *zone)
{
  Civil c;
  gint32 off;
  gsize n;

  to_civil (ms, zone, &c);
  if (c.year >= 0 && c.year <= 9999)
    {
      /* Exports write two times a trace: digit by digit, not through printf. */
      n = put_digits (buf, c.year, 4);
      buf[n++] = '-';
      n += put_digits (buf + n, c.month, 2);
      buf[n++] = '-';
      n += put_digits (buf + n, c.day, 2);
      buf[n++] = 'T';
      n += put_digits (buf + n, c.hour, 2);
      buf[n++] = ':';
      n += put_digits (buf + n, c.minute, 2);
      buf[n++] = ':';
      n += put_digits (buf + n, c.second, 2);
      buf[n] = '\0';
    }
  else
    n = g_snprintf (buf, MT_TIME_ISO8601_BUF, "%04" G_GINT64_FORMAT "-%02d-%02dT%02d:%02d:%02d",
                    c.year, c.month, c.day, c.hour, c.minute, c.second);
  if (c.msec != 0)
    {
      buf[n++] = '.';
      n += put_digits (buf + n, c.msec, 3);
    }

  off = ABS (c.offset);
  buf[n++] = c.offset < 0 ? '-' : '+';
  n += put_digits (buf + n, off / 3600, 2);
  buf[n++] = ':';
  n += put_digits (buf + n, off / 60 % 60, 2);
  buf[n] = '\0';
  /* Historical zones have offsets with seconds; keep them rather than lie. */
  if (off % 60 != 0)
    n += g_snprintf (buf + n, MT_TIME_ISO8601_BUF - n, ":%02d", off % 60);
  return n;
}

void
mt_time_append_iso8601 (GString   *out,
                        gint64     ms,
                        GTimeZone *zone)
{
  char buf[MT_TIME_ISO8601_BUF];
  gsize n = mt_time_format_iso8601_buf (buf, ms, zone);

  g_string_append_len (out, buf, n);
}

char *
mt_time_format_iso8601 (gint64     ms,
                        GTimeZone *zone)
{
  GString *s = g_string_sized_new (32);

  mt_time_append_iso8601 (s, ms, zone);
  return g_string_free (s, FALSE);
}

char *
mt_time_format_utc (gint64 ms)
{
  Civil c;

  to_civil (ms, NULL, &c);
  return g_strdup_printf ("%04" G_GINT64_FORMAT "-%02d-%02dT%02d:%02d:%02d.%03dZ",
                          c.year, c.month, c.day, c.hour, c.minute, c.second, c.msec);
}

char *
mt_time_format_compact (gint64     ms,
                        GTimeZone *zone)
{
  Civil c;

  to_civil (ms, zone, &c);
  return g_strdup_printf ("%04" G_GINT64_FORMAT "%02d%02d_%02d%02d%02d",
                          c.year, c.month, c.day, c.hour, c.minute, c.second);
}

char *
mt_time_format_display (gint64     ms,
                        GTimeZone *zone)
{
  Civil c;

  to_civil (ms, zone, &c);
  return g_strdup_printf ("%04" G_GINT64_FORMAT "-%02d-%02d %02d:%02d",
                          c.year, c.month, c.day, c.hour, c.minute);
}

/* `±h`, `±hh`, `±hhmm`, `±hh:mm` or `±h:mm` → seconds east of UTC. */
static gboolean
parse_offset (const char *p, int *out_seconds)
{
  int sign, h = 0, m = 0, hd = 0;

  if (*p != '+' && *p != '-')
    return FALSE;
  sign = *p++ == '-' ? -1 : 1;
  for (; *p >= '0' && *p <= '9' && hd < 4; p++, hd++)
    h = h * 10 + (*p - '0');
  if (hd == 0)
    return FALSE;
  if (hd == 3 || hd == 4)
    {
      if (*p == ':')
        return FALSE;
      m = h % 100;
      h /= 100;
      if (hd == 3 && h > 9)
        return FALSE;
    }
  else if (*p == ':')
    {
      p++;
      if (!read_digits (&p, 2, &m))
        return FALSE;
    }
  if (*p != '\0' || h > 23 || m > 59)
    return FALSE;
  *out_seconds = sign * (h * 3600 + m * 60);
  return TRUE;
}

/* `Area/Location` names: letters first, no `..`, nothing GLib would read as
 * a path or a bare number. */
static gboolean
looks_like_zone_name (const char *s)
{
  if (!g_ascii_isalpha (s[0]) || strstr (s, "..") != NULL)
    return FALSE;
  for (const char *p = s; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("/_+-", *p) == NULL)
      return FALSE;
  return s[strlen (s) - 1] != '/';
}

/* g_time_zone_new_offset() names zones `+07:00:00`; exports want `+07:00`. */
static GTimeZone *
zone_new_offset (int seconds)
{
  g_autofree char *name = g_strdup_printf ("%c%02d:%02d", seconds < 0 ? '-' : '+',
                                           ABS (seconds) / 3600, ABS (seconds) / 60 % 60);
  GTimeZone *zone = g_time_zone_new_identifier (name);

  return zone != NULL ? zone : g_time_zone_new_offset (seconds);
}

GTimeZone *
mt_time_zone_new (const char  *spec,
                  GError     **error)
{
  g_autofree char *s = NULL;
  g_autofree char *quoted = NULL;
  const char *offset = NULL;
  int seconds;
  GTimeZone *zone;

  s = g_strstrip (g_strdup (spec != NULL ? spec : ""));

  if (g_ascii_strcasecmp (s, "Z") == 0 || g_ascii_strcasecmp (s, "UTC") == 0 ||
      g_ascii_strcasecmp (s, "GMT") == 0)
    return zone_new_offset (0);

  if (s[0] == '+' || s[0] == '-')
    offset = s;
  else if (g_ascii_strncasecmp (s, "UTC", 3) == 0 || g_ascii_strncasecmp (s, "GMT", 3) == 0)
    offset = s + 3;

  if (offset != NULL)
    {
      if (parse_offset (offset, &seconds))
        return zone_new_offset (seconds);
    }
  else if (looks_like_zone_name (s))
    {
      zone = g_time_zone_new_identifier (s);
      if (zone != NULL)
        return zone;
    }

  quoted = mt_text_quote (s, -1, MT_TEXT_QUOTE_MAX);
  g_set_error (error, MT_TIME_ERROR, MT_TIME_ERROR_UNKNOWN_ZONE,
               _("“%s” is not a time zone. Use an offset such as +07:00 or a name such as Asia/Ho_Chi_Minh."),
               quoted);
  return NULL;
}

const char *
mt_time_zone_get_name (GTimeZone *zone)
{
  if (zone == NULL)
    return "+00:00";
  return g_time_zone_get_identifier (zone);
}
