/* mt-time.h — instants, ISO 8601 and display time zones
 *
 * Mealtrace compares instants only as milliseconds since the Unix epoch (UTC);
 * a time zone only changes how an instant is written.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An instant that is not known (a missing timestamp). */
#define MT_TIME_NONE G_MININT64

/* The zone Mealtrace renders times in unless configured otherwise. */
#define MT_TIME_ZONE_DEFAULT "+07:00"

#define MT_TIME_ERROR (mt_time_error_quark ())

typedef enum {
  MT_TIME_ERROR_INVALID,       /* not an ISO 8601 instant */
  MT_TIME_ERROR_NEEDS_ZONE,    /* no offset given and no default zone */
  MT_TIME_ERROR_UNKNOWN_ZONE,  /* not an offset, not a known IANA name */
} MtTimeError;

GQuark      mt_time_error_quark       (void);

/* The current instant, in milliseconds since the epoch. */
gint64      mt_time_now_ms            (void);

/* Parses `YYYY-MM-DD[(T| )hh:mm[:ss[.fff…]]][Z|±hh[:mm]]`. Fractional seconds
 * beyond the millisecond are truncated. Text without an offset is read in
 * @default_zone; when that is %NULL it is an error. */
gboolean    mt_time_parse_iso8601     (const char  *text,
                                       GTimeZone   *default_zone,
                                       gint64      *out_ms,
                                       GError     **error);

/* `2025-01-31T16:25:00+07:00`, with `.123` when the milliseconds are not
 * zero. @zone %NULL means UTC. */
char       *mt_time_format_iso8601    (gint64       ms,
                                       GTimeZone   *zone);
void        mt_time_append_iso8601    (GString     *out,
                                       gint64       ms,
                                       GTimeZone   *zone);
/* The same into @buf, which holds MT_TIME_ISO8601_BUF bytes; returns the
 * length written. */
#define MT_TIME_ISO8601_BUF 48
gsize       mt_time_format_iso8601_buf (char       *buf,
                                       gint64       ms,
                                       GTimeZone   *zone);

/* `2025-01-31T09:25:00.000Z`: the form HTTP APIs expect in queries. */
char       *mt_time_format_utc        (gint64       ms);

/* `20250131_162500`, for file names. */
char       *mt_time_format_compact    (gint64       ms,
                                       GTimeZone   *zone);

/* `2025-01-31 16:25`, for people. */
char       *mt_time_format_display    (gint64       ms,
                                       GTimeZone   *zone);

/* A display zone from `+07:00`, `-0530`, `+7`, `Z`, `UTC`, `UTC+7` (the
 * seed tool's notation, meaning seven hours east) or an IANA name such as
 * `Asia/Ho_Chi_Minh`. Offsets get a canonical `±hh:mm` identifier. */
GTimeZone  *mt_time_zone_new          (const char  *spec,
                                       GError     **error);

/* The name a zone is recorded under in exports (`+07:00`, `Asia/Ho_Chi_Minh`). */
const char *mt_time_zone_get_name     (GTimeZone   *zone);

/* The zone's offset from UTC at @ms, in seconds. */
gint32      mt_time_zone_offset_at    (GTimeZone   *zone,
                                       gint64       ms);

G_END_DECLS
