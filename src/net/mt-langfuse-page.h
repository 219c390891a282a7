/* mt-langfuse-page.h — reading one page of a Langfuse API answer
 *
 * Private to src/net: what the Langfuse client takes from each page of
 * v2 observations, v1 traces or v1 generations, read defensively (a size
 * and depth limit, every field checked) away from the main thread.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The four walks of a fetch. */
typedef enum {
  MT_LANGFUSE_KIND_V2_ROOTS,
  MT_LANGFUSE_KIND_V2_GENERATIONS,
  MT_LANGFUSE_KIND_V1_TRACES,
  MT_LANGFUSE_KIND_V1_GENERATIONS,
} MtLangfuseKind;

/* The request a walk repeats, for messages
 * ("/api/public/v2/observations?type=GENERATION"), and its endpoint. */
const char *mt_langfuse_kind_request  (MtLangfuseKind kind);
const char *mt_langfuse_kind_endpoint (MtLangfuseKind kind);

/* What a trace takes from its root observation (v2) or itself (v1). */
typedef struct {
  char *observation_id; /* v2 */
  char *trace_id;
  gint64 time;
  char *name;
  char *user_id;
  char *session_id;
  char *html_url;
  /* Input and output: plain JSON text (mt_json_text_is_plain()) when they
   * can be kept so, else a tree. */
  char *input_text;
  gsize input_length;
  JsonNode *input;
  char *output_text;
  gsize output_length;
  JsonNode *output;
} MtLangfuseRoot;

void        mt_langfuse_root_free     (gpointer data);

/* What a trace takes from one of its generations. */
typedef struct {
  char *id;
  char *trace_id;
  gint64 time;
  char *model;
  char *prompt;
  double cost;
} MtLangfuseGeneration;

void        mt_langfuse_generation_free (gpointer data);

/* A page: what it holds, and where the walk goes next. */
typedef struct {
  GPtrArray *roots;       /* MtLangfuseRoot */
  GPtrArray *generations; /* MtLangfuseGeneration */
  char *cursor;           /* v2: the next page's */
  guint total_pages;      /* v1: at most 100,000 */
  gint64 total_items;     /* v1: in the whole query, as this page counted */
  guint items;            /* in this page */
  guint orphans;          /* observations of no trace, left out */
  gint64 oldest;          /* v2: the earliest start time in the page */
  gboolean descending;    /* v2: whether the page runs newest first */
} MtLangfusePage;

void        mt_langfuse_page_free     (MtLangfusePage *page);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtLangfusePage, mt_langfuse_page_free)

/* Reads a page of @kind; @label ("/api/public/traces, page 3") names it in
 * errors (MT_LANGFUSE_ERROR_MALFORMED). Stops early when @cancellable is. */
MtLangfusePage *mt_langfuse_page_parse (MtLangfuseKind   kind,
                                        const char      *base_url,
                                        const char      *label,
                                        GBytes          *body,
                                        GCancellable    *cancellable,
                                        GError         **error);

/* A member of @object when it is a string (a number), else %NULL (NaN). */
const char *mt_langfuse_member_string (JsonObject     *object,
                                       const char     *name);
double      mt_langfuse_member_number (JsonObject     *object,
                                       const char     *name);

G_END_DECLS
