/* fuzz-iso8601.c — ISO 8601 instants and display zones
 *
 * The first byte chooses: 0–2 parse an instant (without a default zone, in
 * +07:00, in UTC), 3 reads a display zone. What must hold: an instant
 * that reads is written back in ISO 8601 and reads back to the same
 * millisecond in the zones; one that does not fails with MT_TIME_ERROR
 * and a UTF-8 message. A zone that reads has a name that reads back to
 * the same offsets.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt-fuzz.h"
#include "mt-time.h"

static GTimeZone *zones[3];

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  mt_fuzz_setup ();
  zones[0] = NULL;
  zones[1] = mt_time_zone_new ("+07:00", NULL);
  zones[2] = g_time_zone_new_utc ();
  if (zones[1] == NULL)
    abort ();
  return 0;
}

static void
check_round_trip (gint64 ms)
{
  for (guint i = 1; i < G_N_ELEMENTS (zones); i++)
    {
      g_autofree char *text = mt_time_format_iso8601 (ms, zones[i]);
      g_autoptr(GError) error = NULL;
      char buf[MT_TIME_ISO8601_BUF];
      gint64 again;

      if (!mt_time_parse_iso8601 (text, NULL, &again, &error) || again != ms)
        {
          fprintf (stderr, "%" G_GINT64_FORMAT " wrote “%s”, which reads back as %" G_GINT64_FORMAT "\n",
                   ms, text, again);
          abort ();
        }
      if (mt_time_format_iso8601_buf (buf, ms, zones[i]) != strlen (text) || strcmp (buf, text) != 0)
        abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  guint choice;

  if (size == 0)
    return 0;
  choice = data[0] % 4;
  text = mt_fuzz_take_part (data + 1, size - 1, NULL, NULL);

  if (choice < 3)
    {
      gint64 ms = 0;

      if (mt_time_parse_iso8601 (text, zones[choice], &ms, &error))
        {
          if (error != NULL || ms == MT_TIME_NONE)
            abort ();
          check_round_trip (ms);
        }
      else
        {
          if (error == NULL || error->domain != MT_TIME_ERROR)
            abort ();
          mt_fuzz_check_message (error->message, "ISO 8601");
        }
    }
  else
    {
      g_autoptr(GTimeZone) zone = mt_time_zone_new (text, &error);

      if (zone != NULL)
        {
          g_autoptr(GTimeZone) again = mt_time_zone_new (mt_time_zone_get_name (zone), NULL);

          if (error != NULL || again == NULL)
            abort ();
          /* The offsets agree at a few instants over the years. */
          for (gint64 ms = G_GINT64_CONSTANT (-2208988800000); ms < G_GINT64_CONSTANT (4102444800000);
               ms += G_GINT64_CONSTANT (15778800000))
            if (mt_time_zone_offset_at (zone, ms) != mt_time_zone_offset_at (again, ms))
              abort ();
        }
      else
        {
          if (error == NULL || error->domain != MT_TIME_ERROR)
            abort ();
          mt_fuzz_check_message (error->message, "time zone");
        }
    }
  return 0;
}
