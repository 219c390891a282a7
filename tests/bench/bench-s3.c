/* bench-s3.c — listing 10,000 objects across 100 prefixes
 *
 * The S3 client against the in-process fake S3 answering after 20 ms, as a
 * nearby region would: every prefix listed at once, with 1 and with 16
 * requests in flight, and the whole prefix listed in one walk for
 * comparison. Prints requests, wall time, the most requests the fake saw
 * at once, and the floor: the sequential page steps times the latency.
 */

#include "mt-loopback-s3.h"
#include "mt-s3-client.h"

#define USERS 100
#define PER_USER 100
#define LATENCY_MS 20

typedef struct {
  guint pending;
  guint objects;
} Walk;

static void
on_listed (GObject *source, GAsyncResult *result, gpointer data)
{
  Walk *walk = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) objects = mt_s3_client_list_objects_finish (MT_S3_CLIENT (source), result, &error);

  if (objects == NULL)
    g_error ("listing failed: %s", error->message);
  walk->objects += objects->len;
  walk->pending--;
}

static double
run (MtLoopbackS3 *fake, MtAwsCredentials *credentials, guint in_flight, gboolean whole)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtS3Client) client = mt_s3_client_new (credentials, "us-east-1", mt_loopback_s3_get_endpoint (fake),
                                                   "meals", &error);
  Walk walk = { 0, 0 };
  guint steps;
  double wall, floor;
  gint64 start;
  g_autofree char *name = whole ? g_strdup ("whole_prefix")
                                : g_strdup_printf ("per_user_in_flight_%u", in_flight);

  g_assert_no_error (error);
  mt_s3_client_set_max_in_flight (client, in_flight);
  mt_loopback_s3_reset_counters (fake);

  start = g_get_monotonic_time ();
  if (whole)
    {
      walk.pending = 1;
      mt_s3_client_list_objects_async (client, "meal-images/", NULL, on_listed, &walk);
    }
  else
    for (guint u = 0; u < USERS; u++)
      {
        g_autofree char *prefix = g_strdup_printf ("meal-images/user-%03u/", u);

        walk.pending++;
        mt_s3_client_list_objects_async (client, prefix, NULL, on_listed, &walk);
      }
  while (walk.pending > 0)
    g_main_context_iteration (NULL, TRUE);
  wall = (g_get_monotonic_time () - start) / 1000.0;

  g_assert_cmpuint (walk.objects, ==, USERS * PER_USER);
  /* Sequential steps: one page per user, in waves of the in-flight limit;
   * or every page of the whole prefix one after the other. */
  steps = whole ? (USERS * PER_USER + 999) / 1000 : (USERS + in_flight - 1) / in_flight;
  floor = steps * (double) LATENCY_MS;

  g_print ("%s_objects: %u count\n", name, walk.objects);
  g_print ("%s_requests: %u count\n", name, mt_s3_client_get_requests (client));
  g_print ("%s_max_in_flight_seen: %u count\n", name, mt_loopback_s3_get_max_in_flight (fake));
  g_print ("%s_wall: %.0f ms\n", name, wall);
  g_print ("%s_floor: %.0f ms\n", name, floor);
  g_print ("%s_ratio_to_floor: %.2f x\n", name, wall / floor);
  return wall / floor;
}

int
main (int argc, char *argv[])
{
  g_autoptr(MtLoopbackS3) fake = mt_loopback_s3_new ("us-east-1", "AKIABENCHBENCHBENCH0", "bench-secret", NULL);
  g_autoptr(MtAwsCredentials) credentials = mt_aws_credentials_new ("AKIABENCHBENCHBENCH0", "bench-secret",
                                                                    NULL, "the benchmark");

  for (guint u = 0; u < USERS; u++)
    for (guint i = 0; i < PER_USER; i++)
      {
        g_autofree char *key = g_strdup_printf ("meal-images/user-%03u/%04u-lunch.jpg", u, i);

        mt_loopback_s3_put (fake, "meals", key, G_GINT64_CONSTANT (1738300000000) + i * 60000, NULL, 250000);
      }
  mt_loopback_s3_set_latency_ms (fake, LATENCY_MS);
  g_print ("latency: %u ms\n", LATENCY_MS);

  {
    double worst = run (fake, credentials, 1, FALSE);

    worst = MAX (worst, run (fake, credentials, 16, FALSE));
    worst = MAX (worst, run (fake, credentials, 16, TRUE));
    g_print ("ratio_to_floor: %.2f x\n", worst);
  }
  return 0;
}
