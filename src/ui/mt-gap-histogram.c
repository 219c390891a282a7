/* mt-gap-histogram.c — a small bar chart of trace→photo gaps
 *
 * One bar per bin of the summary's histogram, its height the bin's share
 * of the fullest bin; hovering a bar tells its range and count. Drawn with
 * cairo in the theme's foreground and accent colours.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "mt-gap-histogram.h"

struct _MtGapHistogram
{
  GtkDrawingArea parent_instance;

  guint counts[MT_GAP_HISTOGRAM_BINS];
  guint max;
  guint total;
};

G_DEFINE_FINAL_TYPE (MtGapHistogram, mt_gap_histogram, GTK_TYPE_DRAWING_AREA)

#define BAR_GAP 2.0

GtkWidget *
mt_gap_histogram_new (void)
{
  return g_object_new (MT_TYPE_GAP_HISTOGRAM, NULL);
}

/* "10 s", "2 min", "1 h", "1 day": a bin's limit. */
static char *
format_limit (gint64 ms)
{
  if (ms >= 86400000)
    return g_strdup_printf (ngettext ("%u day", "%u days", (gulong) (ms / 86400000)), (guint) (ms / 86400000));
  if (ms >= 3600000)
    return g_strdup_printf (_("%u h"), (guint) (ms / 3600000));
  if (ms >= 60000)
    return g_strdup_printf (_("%u min"), (guint) (ms / 60000));
  return g_strdup_printf (_("%u s"), (guint) (ms / 1000));
}

/* "1 min to 2 min", "under 10 s", "1 day or more". */
static char *
bin_range (guint bin)
{
  g_autofree char *lower = bin > 0 ? format_limit (mt_match_summary_gap_bin_limit_ms (bin - 1)) : NULL;
  g_autofree char *upper = bin + 1 < MT_GAP_HISTOGRAM_BINS
                           ? format_limit (mt_match_summary_gap_bin_limit_ms (bin)) : NULL;

  if (lower == NULL)
    /* Translators: a range of gaps between a trace and its photo */
    return g_strdup_printf (_("under %s"), upper);
  if (upper == NULL)
    return g_strdup_printf (_("%s or more"), lower);
  return g_strdup_printf (_("%s to %s"), lower, upper);
}

int
mt_gap_histogram_bin_at (MtGapHistogram *self,
                         double          x)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int bin;

  g_return_val_if_fail (MT_IS_GAP_HISTOGRAM (self), -1);

  if (width <= 0 || x < 0 || x >= width)
    return -1;
  bin = (int) (x * MT_GAP_HISTOGRAM_BINS / width);
  return CLAMP (bin, 0, MT_GAP_HISTOGRAM_BINS - 1);
}

static void
draw (GtkDrawingArea *area,
      cairo_t        *cr,
      int             width,
      int             height,
      gpointer        data)
{
  MtGapHistogram *self = MT_GAP_HISTOGRAM (area);
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (area));
  GdkRGBA color, accent;
  double slot = (double) width / MT_GAP_HISTOGRAM_BINS;

  gtk_style_context_get_color (style, &color);
  if (!gtk_style_context_lookup_color (style, "accent_bg_color", &accent)
      && !gtk_style_context_lookup_color (style, "theme_selected_bg_color", &accent))
    accent = color;

  /* The baseline, faint, so that empty bins still read as bins. */
  color.alpha *= 0.25;
  gdk_cairo_set_source_rgba (cr, &color);
  cairo_rectangle (cr, 0, height - 1, width, 1);
  cairo_fill (cr);

  if (self->max == 0)
    return;
  gdk_cairo_set_source_rgba (cr, &accent);
  for (guint b = 0; b < MT_GAP_HISTOGRAM_BINS; b++)
    {
      double h;

      if (self->counts[b] == 0)
        continue;
      /* A bin with any pair is at least two pixels high. */
      h = MAX (2.0, (height - 1) * (double) self->counts[b] / self->max);
      cairo_rectangle (cr, b * slot + BAR_GAP / 2, height - 1 - h, MAX (1.0, slot - BAR_GAP), h);
    }
  cairo_fill (cr);
}

static gboolean
query_tooltip (GtkWidget  *widget,
               int         x,
               int         y,
               gboolean    keyboard,
               GtkTooltip *tooltip,
               gpointer    data)
{
  MtGapHistogram *self = MT_GAP_HISTOGRAM (widget);
  int bin = keyboard ? -1 : mt_gap_histogram_bin_at (self, x);
  g_autofree char *range = NULL;
  g_autofree char *text = NULL;

  if (self->total == 0)
    return FALSE;
  if (bin < 0)
    {
      gtk_tooltip_set_text (tooltip, _("Gaps from trace to photo, from under 10 s to a day or more"));
      return TRUE;
    }
  range = bin_range ((guint) bin);
  text = g_strdup_printf (ngettext ("%s: %u pair", "%s: %u pairs", self->counts[bin]), range, self->counts[bin]);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

void
mt_gap_histogram_set_summary (MtGapHistogram *self,
                              MtMatchSummary *summary)
{
  const guint *counts = summary != NULL ? mt_match_summary_get_gap_histogram (summary) : NULL;
  g_autoptr(GString) description = g_string_new (NULL);

  g_return_if_fail (MT_IS_GAP_HISTOGRAM (self));

  self->max = self->total = 0;
  for (guint b = 0; b < MT_GAP_HISTOGRAM_BINS; b++)
    {
      self->counts[b] = counts != NULL ? counts[b] : 0;
      self->max = MAX (self->max, self->counts[b]);
      self->total += self->counts[b];
      if (self->counts[b] > 0)
        {
          g_autofree char *range = bin_range (b);

          if (description->len > 0)
            g_string_append (description, ", ");
          g_string_append_printf (description, ngettext ("%s: %u pair", "%s: %u pairs", self->counts[b]),
                                  range, self->counts[b]);
        }
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  description->str, -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
mt_gap_histogram_class_init (MtGapHistogramClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_css_name (widget_class, "gaphistogram");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
mt_gap_histogram_init (MtGapHistogram *self)
{
  gtk_drawing_area_set_content_width (GTK_DRAWING_AREA (self), 12 * 10);
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self), 28);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self), draw, NULL, NULL);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (query_tooltip), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Gaps from trace to photo"), -1);
}
