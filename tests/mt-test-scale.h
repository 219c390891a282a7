/* mt-test-scale.h — how much slower than natively the tests run */

#pragma once

#include <glib.h>

/* MT_TEST_TIME_SCALE, which the valgrind test setup sets (tests/meson.build):
 * the code runs about that many times slower, so a test that waits on the
 * clock stretches its delays and bounds by it, and checks the same things.
 * 1 when unset. */
static inline guint
mt_test_time_scale (void)
{
  const char *text = g_getenv ("MT_TEST_TIME_SCALE");
  guint64 scale = 1;

  if (text != NULL && !g_ascii_string_to_unsigned (text, 10, 1, 1000, &scale, NULL))
    g_error ("MT_TEST_TIME_SCALE=%s is not a whole number from 1 to 1000", text);
  return (guint) scale;
}
