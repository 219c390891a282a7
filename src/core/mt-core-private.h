/* mt-core-private.h — what the core's own files share and nothing else sees
 *
 * The matcher and the exporters walk millions of objects; they read the
 * model's fields directly instead of through property getters.
 */
#pragma once

#include <json-glib/json-glib.h>
#include <string.h>

#include "mt-image.h"
#include "mt-match-result.h"
#include "mt-match-summary.h"
#include "mt-pair.h"
#include "mt-trace.h"
#include "mt-user-result.h"

G_BEGIN_DECLS

/* The fields the matcher reads come first, beside the object header, so
 * that reading them touches one cache line per object. */
/* A JSON value kept as a tree, or as plain text (mt_json_text_is_plain())
 * whose tree is built on first asking. */
typedef struct {
  JsonNode *node;
  char *text;
  gsize length;
} MtJsonValue;

struct _MtTrace
{
  GObject parent_instance;

  gint64 timestamp;
  double total_cost;
  char *id;
  char *name;
  char *user_id;
  char *session_id;
  char *model_name;
  char *prompt;
  char *html_url;
  MtJsonValue input;
  MtJsonValue output;
  double cost;
};

struct _MtImage
{
  GObject parent_instance;

  gint64 last_modified;
  char *key;
  const char *name; /* points into key */
  char *user_id;
  char *etag;
  char *url;
  gint64 size;
};

struct _MtPair
{
  GObject parent_instance;

  MtTrace *trace;
  MtImage *image;
};

struct _MtUserResult
{
  GObject parent_instance;

  char *user_id;
  MtUserStatus status;
  guint n_pairs;
  GPtrArray *traces;    /* MtTrace, owned, by (timestamp, id) */
  GPtrArray *images;    /* MtImage, owned, by (last_modified, key) */
  gint32 *image_trace;  /* per image: its trace's index in traces, or -1 */

  /* Built on first use, under a lock: a view may never ask for them. */
  GPtrArray *pairs;            /* MtPair, owned, by image */
  GPtrArray *unused_traces;    /* borrowed from traces */
  GPtrArray *unmatched_images; /* borrowed from images */
};

struct _MtMatchSummary
{
  GObject parent_instance;

  guint total_users;
  guint users_with_matches;
  guint total_images;
  guint total_traces;
  guint total_matched_pairs;
  guint traces_without_user;
  guint match_rate_tenths;
  guint pair_match_efficiency_tenths;
  GStrv incomplete_users;
  gboolean has_time_stats;
  gint64 time_min_ms;
  gint64 time_median_ms;
  gint64 time_mean_ms;
  gint64 time_p90_ms;
  gint64 time_max_ms;
  double matched_total_cost;
  guint gap_histogram[MT_GAP_HISTOGRAM_BINS];
};

/* Replaces *@dest with a copy of @src; TRUE when the value changed. */
gboolean       mt_set_string              (char       **dest,
                                           const char  *src);

MtPair        *mt_pair_new_internal       (MtTrace     *trace,
                                           MtImage     *image);

/* Takes ownership of everything it is given. */
MtUserResult  *mt_user_result_new_internal (char        *user_id,
                                            MtUserStatus status,
                                            GPtrArray   *traces,
                                            GPtrArray   *images,
                                            gint32      *image_trace,
                                            guint        n_pairs);

MtMatchSummary *mt_match_summary_new_internal (void);
/* The histogram bin of a gap (mt_match_summary_get_gap_histogram). */
guint           mt_match_summary_gap_bin_of   (gint64 gap_ms);

/* Takes ownership of @users (sorted by id) and @summary. */
MtMatchResult *mt_match_result_new_internal (GPtrArray      *users,
                                             MtMatchSummary *summary,
                                             gint64          window_from,
                                             gint64          window_to,
                                             guint           time_filter_days,
                                             gint64          max_gap_ms);

/* g_string_append_len() without its general case, for the many short
 * pieces JSON is read and written in. */
static inline void
mt_string_put (GString    *out,
               const char *text,
               gsize       length)
{
  if (out->len + length < out->allocated_len)
    {
      memcpy (out->str + out->len, text, length);
      out->len += length;
      out->str[out->len] = '\0';
    }
  else
    g_string_append_len (out, text, (gssize) length);
}

/* The first byte at or after @p that a JSON string cannot hold as it is: a
 * control character, `"` or `\`, or (unless @high_ok) a byte of 0x80 or
 * more; @end if none. Eight bytes at a time, as text is mostly plain. */
static inline const guchar *
mt_json_plain_end (const guchar *p,
                   const guchar *end,
                   gboolean      high_ok)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN && defined(__GNUC__)
  const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
  const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);

  while (end - p >= 8)
    {
      guint64 v, quote, slash, special;

      memcpy (&v, p, sizeof v);
      quote = v ^ (ones * '"');
      slash = v ^ (ones * '\\');
      /* A byte below 0x20, equal to either, or (unless @high_ok) with its
       * high bit. A borrow can flag a byte above a real one, never below,
       * so the lowest flagged byte is the first. */
      special = ((v - ones * 0x20) & ~v) | ((quote - ones) & ~quote) | ((slash - ones) & ~slash);
      if (!high_ok)
        special |= v;
      special &= highs;
      if (special != 0)
        return p + __builtin_ctzll (special) / 8;
      p += 8;
    }
#endif
  while (p < end && *p >= 0x20 && (high_ok || *p < 0x80) && *p != '"' && *p != '\\')
    p++;
  return p;
}

G_END_DECLS
