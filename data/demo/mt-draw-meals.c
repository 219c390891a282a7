/* mt-draw-meals.c — draws the demo's meal photos at build time
 *
 * Usage: mt-draw-meals COUNT OUTPUT_DIR
 * Writes meal-01.jpg … meal-COUNT.jpg (480×360) and meals.gresource.xml
 * listing them. Each is a plate seen from above on a table, with a meal of
 * rice or noodles, a protein and vegetables, drawn from a fixed seed so
 * that every build makes the same pictures.
 */

#include <cairo.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define WIDTH 480
#define HEIGHT 360

typedef struct {
  double r, g, b;
} Color;

static double
rnd (GRand *rand, double low, double high)
{
  return g_rand_double_range (rand, low, high);
}

static void
set (cairo_t *cr, Color c, double shade)
{
  cairo_set_source_rgb (cr, CLAMP (c.r * shade, 0, 1), CLAMP (c.g * shade, 0, 1), CLAMP (c.b * shade, 0, 1));
}

static void
blob (cairo_t *cr, GRand *rand, double x, double y, double rx, double ry, double wobble)
{
  const int points = 14;

  cairo_new_path (cr);
  for (int i = 0; i <= points; i++)
    {
      double a = 2 * G_PI * i / points;
      double k = 1 + (i == points ? 0 : rnd (rand, -wobble, wobble));

      if (i == 0)
        cairo_move_to (cr, x + rx * cos (a) * k, y + ry * sin (a) * k);
      else
        cairo_line_to (cr, x + rx * cos (a) * k, y + ry * sin (a) * k);
    }
  cairo_close_path (cr);
}

static void
table (cairo_t *cr, GRand *rand)
{
  static const Color woods[] = { { 0.55, 0.36, 0.22 }, { 0.66, 0.47, 0.30 }, { 0.42, 0.28, 0.18 } };
  static const Color cloths[] = { { 0.80, 0.20, 0.18 }, { 0.20, 0.42, 0.70 }, { 0.25, 0.55, 0.35 } };
  int kind = g_rand_int_range (rand, 0, 3);

  if (kind < 2)
    {
      Color wood = woods[g_rand_int_range (rand, 0, G_N_ELEMENTS (woods))];

      set (cr, wood, 1.0);
      cairo_paint (cr);
      /* Planks and grain. */
      for (int y = 0; y < HEIGHT; y += 60)
        {
          set (cr, wood, 0.8);
          cairo_rectangle (cr, 0, y, WIDTH, 2);
          cairo_fill (cr);
          for (int i = 0; i < 9; i++)
            {
              double gy = y + rnd (rand, 4, 56);

              set (cr, wood, rnd (rand, 0.88, 1.1));
              cairo_set_line_width (cr, rnd (rand, 0.6, 2.0));
              cairo_move_to (cr, 0, gy);
              cairo_curve_to (cr, WIDTH * 0.3, gy + rnd (rand, -4, 4), WIDTH * 0.7, gy + rnd (rand, -4, 4), WIDTH, gy);
              cairo_stroke (cr);
            }
        }
    }
  else
    {
      Color cloth = cloths[g_rand_int_range (rand, 0, G_N_ELEMENTS (cloths))];

      cairo_set_source_rgb (cr, 0.96, 0.95, 0.92);
      cairo_paint (cr);
      set (cr, cloth, 1.0);
      for (int x = 0; x < WIDTH; x += 40)
        for (int y = 0; y < HEIGHT; y += 40)
          if (((x + y) / 40) % 2 == 0)
            {
              cairo_rectangle (cr, x, y, 40, 40);
              cairo_fill (cr);
            }
    }
}

static void
plate (cairo_t *cr, double cx, double cy, double r)
{
  cairo_pattern_t *pattern;

  /* Shadow, rim, well. */
  cairo_set_source_rgba (cr, 0, 0, 0, 0.28);
  cairo_arc (cr, cx + 8, cy + 10, r, 0, 2 * G_PI);
  cairo_fill (cr);
  pattern = cairo_pattern_create_radial (cx - r * 0.3, cy - r * 0.3, r * 0.1, cx, cy, r);
  cairo_pattern_add_color_stop_rgb (pattern, 0, 1, 1, 1);
  cairo_pattern_add_color_stop_rgb (pattern, 0.8, 0.93, 0.93, 0.92);
  cairo_pattern_add_color_stop_rgb (pattern, 1, 0.78, 0.78, 0.77);
  cairo_set_source (cr, pattern);
  cairo_arc (cr, cx, cy, r, 0, 2 * G_PI);
  cairo_fill (cr);
  cairo_pattern_destroy (pattern);
  cairo_set_source_rgb (cr, 0.86, 0.86, 0.85);
  cairo_set_line_width (cr, 2);
  cairo_arc (cr, cx, cy, r * 0.74, 0, 2 * G_PI);
  cairo_stroke (cr);
}

static void
rice (cairo_t *cr, GRand *rand, double x, double y, double r)
{
  static const Color cream = { 0.97, 0.95, 0.88 };

  /* A mound, shaded, then grains with an edge each. */
  set (cr, cream, 0.8);
  blob (cr, rand, x + 3, y + 4, r, r * 0.85, 0.08);
  cairo_fill (cr);
  set (cr, cream, 0.97);
  blob (cr, rand, x, y, r, r * 0.85, 0.08);
  cairo_fill (cr);
  for (int i = 0; i < 420; i++)
    {
      double a = rnd (rand, 0, 2 * G_PI), d = sqrt (rnd (rand, 0, 1)) * r * 0.92;

      cairo_save (cr);
      cairo_translate (cr, x + cos (a) * d, y + sin (a) * d * 0.85);
      cairo_rotate (cr, rnd (rand, 0, G_PI));
      cairo_scale (cr, 5.0, 2.1);
      cairo_arc (cr, 0, 0, 1, 0, 2 * G_PI);
      cairo_restore (cr);
      set (cr, cream, rnd (rand, 1.0, 1.04));
      cairo_fill_preserve (cr);
      set (cr, cream, 0.78);
      cairo_set_line_width (cr, 0.6);
      cairo_stroke (cr);
    }
}

static void
noodles (cairo_t *cr, GRand *rand, double x, double y, double r)
{
  static const Color yellow = { 0.95, 0.80, 0.42 };

  set (cr, yellow, 0.85);
  blob (cr, rand, x, y, r, r * 0.8, 0.1);
  cairo_fill (cr);
  cairo_set_line_width (cr, 3.2);
  for (int i = 0; i < 40; i++)
    {
      double sx = x + rnd (rand, -r, r) * 0.8, sy = y + rnd (rand, -r, r) * 0.65;

      set (cr, yellow, rnd (rand, 0.92, 1.08));
      cairo_move_to (cr, sx, sy);
      cairo_curve_to (cr, sx + rnd (rand, -30, 30), sy + rnd (rand, -25, 25), sx + rnd (rand, -30, 30),
                      sy + rnd (rand, -25, 25), sx + rnd (rand, -35, 35), sy + rnd (rand, -20, 20));
      cairo_stroke (cr);
    }
}

static void
fish (cairo_t *cr, GRand *rand, double x, double y, double s)
{
  static const Color salmon = { 0.93, 0.52, 0.35 };

  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_rotate (cr, rnd (rand, -0.5, 0.5));
  set (cr, salmon, 1.0);
  blob (cr, rand, 0, 0, s, s * 0.55, 0.05);
  cairo_fill (cr);
  /* Grill marks and flakes. */
  set (cr, salmon, 0.55);
  cairo_set_line_width (cr, 4);
  for (int i = -2; i <= 2; i++)
    {
      cairo_move_to (cr, i * s * 0.3 - s * 0.2, -s * 0.42);
      cairo_line_to (cr, i * s * 0.3 + s * 0.2, s * 0.42);
    }
  cairo_stroke (cr);
  set (cr, salmon, 1.15);
  cairo_set_line_width (cr, 1.2);
  for (int i = 0; i < 6; i++)
    {
      double fx = rnd (rand, -s * 0.7, s * 0.7);

      cairo_move_to (cr, fx, -s * 0.35);
      cairo_curve_to (cr, fx + 6, -s * 0.1, fx - 6, s * 0.1, fx, s * 0.35);
    }
  cairo_stroke (cr);
  cairo_restore (cr);
}

static void
chicken (cairo_t *cr, GRand *rand, double x, double y, double s)
{
  static const Color golden = { 0.82, 0.58, 0.28 };

  for (int i = 0; i < 5; i++)
    {
      double px = x + rnd (rand, -s, s) * 0.7, py = y + rnd (rand, -s, s) * 0.5;
      cairo_pattern_t *pattern = cairo_pattern_create_radial (px - 5, py - 5, 2, px, py, s * 0.45);

      cairo_pattern_add_color_stop_rgb (pattern, 0, golden.r * 1.15, golden.g * 1.15, golden.b * 1.1);
      cairo_pattern_add_color_stop_rgb (pattern, 1, golden.r * 0.7, golden.g * 0.62, golden.b * 0.5);
      cairo_set_source (cr, pattern);
      blob (cr, rand, px, py, s * 0.42, s * 0.32, 0.18);
      cairo_fill (cr);
      cairo_pattern_destroy (pattern);
    }
}

static void
egg (cairo_t *cr, GRand *rand, double x, double y, double s)
{
  cairo_set_source_rgb (cr, 0.99, 0.99, 0.97);
  blob (cr, rand, x, y, s, s * 0.85, 0.16);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.98, 0.72, 0.12);
  cairo_arc (cr, x + rnd (rand, -4, 4), y + rnd (rand, -4, 4), s * 0.38, 0, 2 * G_PI);
  cairo_fill (cr);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.6);
  cairo_arc (cr, x - s * 0.1, y - s * 0.12, s * 0.1, 0, 2 * G_PI);
  cairo_fill (cr);
}

static void
broccoli (cairo_t *cr, GRand *rand, double x, double y, double s)
{
  static const Color green = { 0.22, 0.55, 0.20 };

  for (int i = 0; i < 4; i++)
    {
      double bx = x + rnd (rand, -s, s) * 0.6, by = y + rnd (rand, -s, s) * 0.5;

      cairo_set_source_rgb (cr, 0.55, 0.72, 0.38);
      cairo_set_line_width (cr, 9);
      cairo_move_to (cr, bx, by);
      cairo_line_to (cr, bx + rnd (rand, -6, 6), by + s * 0.5);
      cairo_stroke (cr);
      for (int j = 0; j < 14; j++)
        {
          set (cr, green, rnd (rand, 0.6, 1.15));
          cairo_arc (cr, bx + rnd (rand, -s * 0.3, s * 0.3), by + rnd (rand, -s * 0.25, s * 0.08),
                     rnd (rand, s * 0.11, s * 0.18), 0, 2 * G_PI);
          cairo_fill (cr);
        }
    }
}

static void
salad (cairo_t *cr, GRand *rand, double x, double y, double s)
{
  static const Color leaf = { 0.45, 0.72, 0.25 };

  for (int i = 0; i < 10; i++)
    {
      cairo_save (cr);
      cairo_translate (cr, x + rnd (rand, -s, s) * 0.6, y + rnd (rand, -s, s) * 0.5);
      cairo_rotate (cr, rnd (rand, 0, 2 * G_PI));
      set (cr, leaf, rnd (rand, 0.75, 1.2));
      blob (cr, rand, 0, 0, s * 0.45, s * 0.22, 0.2);
      cairo_fill (cr);
      set (cr, leaf, 0.6);
      cairo_set_line_width (cr, 1);
      cairo_move_to (cr, -s * 0.4, 0);
      cairo_line_to (cr, s * 0.4, 0);
      cairo_stroke (cr);
      cairo_restore (cr);
    }
}

static void
slices (cairo_t *cr, GRand *rand, double x, double y, double s, gboolean tomato)
{
  for (int i = 0; i < 4; i++)
    {
      double px = x + rnd (rand, -s, s) * 0.5, py = y + rnd (rand, -s, s) * 0.4, r = s * rnd (rand, 0.26, 0.34);

      if (tomato)
        cairo_set_source_rgb (cr, 0.86, 0.16, 0.12);
      else
        cairo_set_source_rgb (cr, 0.96, 0.52, 0.10);
      cairo_arc (cr, px, py, r, 0, 2 * G_PI);
      cairo_fill (cr);
      if (tomato)
        {
          cairo_set_source_rgb (cr, 0.95, 0.45, 0.35);
          for (int k = 0; k < 3; k++)
            {
              double a = 2 * G_PI * k / 3;

              cairo_arc (cr, px + cos (a) * r * 0.45, py + sin (a) * r * 0.45, r * 0.3, 0, 2 * G_PI);
              cairo_fill (cr);
            }
        }
      else
        {
          cairo_set_source_rgb (cr, 0.99, 0.70, 0.30);
          cairo_arc (cr, px, py, r * 0.45, 0, 2 * G_PI);
          cairo_fill (cr);
        }
    }
}

static void
chopsticks (cairo_t *cr, GRand *rand)
{
  double x = WIDTH - rnd (rand, 40, 60);

  for (int i = 0; i < 2; i++)
    {
      cairo_set_source_rgba (cr, 0, 0, 0, 0.25);
      cairo_set_line_width (cr, 8);
      cairo_move_to (cr, x + i * 14 + 4, 30 + 5);
      cairo_line_to (cr, x + i * 10 + 4, HEIGHT - 30 + 5);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0.75, 0.55, 0.32);
      cairo_move_to (cr, x + i * 14, 30);
      cairo_line_to (cr, x + i * 10, HEIGHT - 30);
      cairo_stroke (cr);
    }
}

static void
draw_meal (cairo_t *cr, GRand *rand)
{
  double cx = WIDTH / 2.0 + rnd (rand, -30, 10), cy = HEIGHT / 2.0 + rnd (rand, -10, 10), r = rnd (rand, 140, 160);
  int base = g_rand_int_range (rand, 0, 3);
  int protein = g_rand_int_range (rand, 0, 3);
  int vegetable = g_rand_int_range (rand, 0, 4);

  table (cr, rand);
  if (g_rand_boolean (rand))
    chopsticks (cr, rand);
  plate (cr, cx, cy, r);

  if (base == 0)
    rice (cr, rand, cx - r * 0.3, cy - r * 0.1, r * 0.42);
  else if (base == 1)
    noodles (cr, rand, cx - r * 0.28, cy - r * 0.08, r * 0.44);
  else
    salad (cr, rand, cx - r * 0.28, cy - r * 0.08, r * 0.48);

  if (protein == 0)
    fish (cr, rand, cx + r * 0.3, cy - r * 0.22, r * 0.36);
  else if (protein == 1)
    chicken (cr, rand, cx + r * 0.3, cy - r * 0.2, r * 0.42);
  else
    egg (cr, rand, cx + r * 0.32, cy - r * 0.22, r * 0.3);

  if (vegetable == 0)
    broccoli (cr, rand, cx + r * 0.15, cy + r * 0.36, r * 0.42);
  else if (vegetable == 1)
    slices (cr, rand, cx + r * 0.12, cy + r * 0.4, r * 0.46, TRUE);
  else if (vegetable == 2)
    slices (cr, rand, cx + r * 0.12, cy + r * 0.4, r * 0.46, FALSE);
  else
    salad (cr, rand, cx + r * 0.15, cy + r * 0.38, r * 0.4);
}

/* Cairo's premultiplied BGRA to GdkPixbuf's RGB. */
static GdkPixbuf *
to_pixbuf (cairo_surface_t *surface)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, WIDTH, HEIGHT);
  const guint8 *src = cairo_image_surface_get_data (surface);
  int src_stride = cairo_image_surface_get_stride (surface);
  guint8 *dst = gdk_pixbuf_get_pixels (pixbuf);
  int dst_stride = gdk_pixbuf_get_rowstride (pixbuf);

  cairo_surface_flush (surface);
  for (int y = 0; y < HEIGHT; y++)
    for (int x = 0; x < WIDTH; x++)
      {
        guint32 pixel = *(const guint32 *) (src + y * src_stride + x * 4);

        dst[y * dst_stride + x * 3 + 0] = (pixel >> 16) & 0xff;
        dst[y * dst_stride + x * 3 + 1] = (pixel >> 8) & 0xff;
        dst[y * dst_stride + x * 3 + 2] = pixel & 0xff;
      }
  return pixbuf;
}

int
main (int argc, char *argv[])
{
  GString *xml;
  int count;

  if (argc != 3 || (count = atoi (argv[1])) < 1)
    {
      fprintf (stderr, "Usage: %s COUNT OUTPUT_DIR\n", argv[0]);
      return 2;
    }

  xml = g_string_new ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gresources>\n"
                      "  <gresource prefix=\"/io/github/mealtrace/Mealtrace/demo\">\n");
  for (int i = 1; i <= count; i++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (0x6d65616c + i);
      cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, WIDTH, HEIGHT);
      cairo_t *cr = cairo_create (surface);
      g_autoptr(GdkPixbuf) pixbuf = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("meal-%02d.jpg", i);
      g_autofree char *path = g_build_filename (argv[2], name, NULL);

      draw_meal (cr, rand);
      cairo_destroy (cr);
      pixbuf = to_pixbuf (surface);
      cairo_surface_destroy (surface);
      if (!gdk_pixbuf_save (pixbuf, path, "jpeg", &error, "quality", "82", NULL))
        {
          fprintf (stderr, "%s: %s\n", path, error->message);
          return 1;
        }
      g_string_append_printf (xml, "    <file>%s</file>\n", name);
    }
  g_string_append (xml, "  </gresource>\n</gresources>\n");
  {
    g_autofree char *path = g_build_filename (argv[2], "meals.gresource.xml", NULL);
    g_autoptr(GError) error = NULL;

    if (!g_file_set_contents (path, xml->str, xml->len, &error))
      {
        fprintf (stderr, "%s: %s\n", path, error->message);
        return 1;
      }
  }
  g_string_free (xml, TRUE);
  return 0;
}
