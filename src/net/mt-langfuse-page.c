/* mt-langfuse-page.c — reading one page of a Langfuse API answer */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "mt-langfuse-client.h"
#include "mt-json-scan.h"
#include "mt-langfuse-page.h"
#include "mt-sigv4.h"
#include "mt-time.h"

/* Deeper JSON than this is an attack, not an LLM call. */
#define MAX_JSON_DEPTH 512
/* More traces or generations in a window than this is not a meal tracker's
 * Langfuse: ten million is 100,000 pages of v1. */
#define MAX_V1_ITEMS 10000000.0
#define MAX_V1_PAGES 100000.0
/* v1 pages hold 100 at most. */
#define MAX_V1_LIMIT 100.0

/* The request a walk repeats, for messages: "/api/public/v2/observations?type=GENERATION". */
const char *
mt_langfuse_kind_request (MtLangfuseKind kind)
{
  switch (kind)
    {
    case MT_LANGFUSE_KIND_V2_ROOTS:
      return "/api/public/v2/observations?isRootObservation=true";
    case MT_LANGFUSE_KIND_V2_GENERATIONS:
      return "/api/public/v2/observations?type=GENERATION";
    case MT_LANGFUSE_KIND_V1_TRACES:
      return "/api/public/traces";
    case MT_LANGFUSE_KIND_V1_GENERATIONS:
    default:
      return "/api/public/observations?type=GENERATION";
    }
}

const char *
mt_langfuse_kind_endpoint (MtLangfuseKind kind)
{
  switch (kind)
    {
    case MT_LANGFUSE_KIND_V2_ROOTS:
    case MT_LANGFUSE_KIND_V2_GENERATIONS:
      return "/api/public/v2/observations";
    case MT_LANGFUSE_KIND_V1_TRACES:
      return "/api/public/traces";
    case MT_LANGFUSE_KIND_V1_GENERATIONS:
    default:
      return "/api/public/observations";
    }
}



void
mt_langfuse_root_free (gpointer data)
{
  MtLangfuseRoot *root = data;

  /* Pages hand the roots they give away over as holes. */
  if (root == NULL)
    return;
  g_free (root->observation_id);
  g_free (root->trace_id);
  g_free (root->name);
  g_free (root->user_id);
  g_free (root->session_id);
  g_free (root->html_url);
  g_free (root->input_text);
  g_free (root->output_text);
  g_clear_pointer (&root->input, json_node_unref);
  g_clear_pointer (&root->output, json_node_unref);
  g_free (root);
}

void
mt_langfuse_generation_free (gpointer data)
{
  MtLangfuseGeneration *generation = data;

  if (generation == NULL)
    return;
  g_free (generation->id);
  g_free (generation->trace_id);
  g_free (generation->model);
  g_free (generation->prompt);
  g_free (generation);
}


void
mt_langfuse_page_free (MtLangfusePage *page)
{
  g_ptr_array_unref (page->roots);
  g_ptr_array_unref (page->generations);
  g_free (page->cursor);
  g_free (page);
}


/* Input and output come as JSON in a string (v2): parsed when they are
 * JSON, kept as a string when they are not. */
static JsonNode *
node_from_text (const char *text,
                gsize       length)
{
  JsonNode *parsed = mt_json_parse_text (text, length, MAX_JSON_DEPTH);

  if (parsed == NULL)
    {
      parsed = json_node_alloc ();
      json_node_init_string (parsed, text);
    }
  return parsed;
}

const char *
mt_langfuse_member_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

double
mt_langfuse_member_number (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NAN;
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_DOUBLE:
      return json_node_get_double (node);
    case G_TYPE_INT64:
      return (double) json_node_get_int (node);
    default:
      return NAN;
    }
}

/* The first system message of a chat-style input: an array of messages,
 * or an object holding one under "messages"; content a string or parts. */
static char *
system_message (JsonNode *input)
{
  JsonArray *messages = NULL;

  if (input == NULL)
    return NULL;
  if (JSON_NODE_HOLDS_ARRAY (input))
    messages = json_node_get_array (input);
  else if (JSON_NODE_HOLDS_OBJECT (input))
    {
      JsonNode *inner = json_object_get_member (json_node_get_object (input), "messages");

      if (inner != NULL && JSON_NODE_HOLDS_ARRAY (inner))
        messages = json_node_get_array (inner);
    }
  if (messages == NULL)
    return NULL;

  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonNode *message = json_array_get_element (messages, i);
      JsonNode *content;
      JsonObject *object;

      if (!JSON_NODE_HOLDS_OBJECT (message))
        continue;
      object = json_node_get_object (message);
      if (g_strcmp0 (mt_langfuse_member_string (object, "role"), "system") != 0)
        continue;
      content = json_object_get_member (object, "content");
      if (content == NULL)
        return NULL;
      if (JSON_NODE_HOLDS_VALUE (content) && json_node_get_value_type (content) == G_TYPE_STRING)
        return g_strdup (json_node_get_string (content));
      if (JSON_NODE_HOLDS_ARRAY (content))
        {
          GString *text = g_string_new (NULL);
          JsonArray *parts = json_node_get_array (content);

          for (guint j = 0; j < json_array_get_length (parts); j++)
            {
              JsonNode *part = json_array_get_element (parts, j);
              const char *piece;

              if (!JSON_NODE_HOLDS_OBJECT (part) ||
                  (piece = mt_langfuse_member_string (json_node_get_object (part), "text")) == NULL)
                continue;
              if (text->len > 0)
                g_string_append_c (text, '\n');
              g_string_append (text, piece);
            }
          return g_string_free (text, text->len == 0);
        }
      return NULL;
    }
  return NULL;
}


typedef struct {
  MtLangfuseKind kind;
  const char *base_url;
  const char *label;  /* "…/v2/observations, page 3": for errors */
} ParseJob;

static gboolean
malformed (GError        **error,
           const ParseJob *job,
           const char     *what)
{
  g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_MALFORMED,
               _("Langfuse sent an answer that cannot be read (%s: %s). Check LANGFUSE_BASE_URL, or try again."),
               job->label, what);
  return FALSE;
}

static gboolean
malformed_json (GError        **error,
                const ParseJob *job,
                MtJsonScan     *scan)
{
  g_autofree char *what = mt_json_scan_error (scan);

  return malformed (error, job, what != NULL ? what : _("not JSON"));
}

static char *
trace_url (const char *base_url,
           const char *project_id,
           const char *trace_id)
{
  GString *url = g_string_new (base_url);

  g_string_append (url, "/project/");
  mt_sigv4_uri_encode (url, project_id, -1, FALSE);
  g_string_append (url, "/traces/");
  mt_sigv4_uri_encode (url, trace_id, -1, FALSE);
  return g_string_free (url, FALSE);
}

/* The members of an item Mealtrace reads; the rest are skipped. */
typedef enum {
  FIELD_ID,
  FIELD_TRACE_ID,
  FIELD_TIME,
  FIELD_USER,
  FIELD_SESSION,
  FIELD_NAME,
  FIELD_TRACE_NAME,
  FIELD_PROJECT,
  FIELD_HTML_PATH,
  FIELD_MODEL,
  FIELD_PROMPT_NAME,
  N_TEXT_FIELDS,
  FIELD_PROMPT_VERSION = N_TEXT_FIELDS,
  FIELD_COST,
  FIELD_INPUT,
  FIELD_OUTPUT,
  FIELD_OTHER,
} Field;

typedef struct {
  const char *name;
  Field field;
} FieldName;

/* Each kind's names. */
static const FieldName v2_root_fields[] = {
  { "id", FIELD_ID }, { "traceId", FIELD_TRACE_ID }, { "startTime", FIELD_TIME }, { "userId", FIELD_USER },
  { "sessionId", FIELD_SESSION }, { "name", FIELD_NAME }, { "traceName", FIELD_TRACE_NAME },
  { "projectId", FIELD_PROJECT }, { "input", FIELD_INPUT }, { "output", FIELD_OUTPUT }, { NULL, FIELD_OTHER },
};
static const FieldName v2_generation_fields[] = {
  { "id", FIELD_ID }, { "traceId", FIELD_TRACE_ID }, { "startTime", FIELD_TIME },
  { "providedModelName", FIELD_MODEL }, { "promptName", FIELD_PROMPT_NAME },
  { "promptVersion", FIELD_PROMPT_VERSION }, { "totalCost", FIELD_COST }, { "input", FIELD_INPUT },
  { NULL, FIELD_OTHER },
};
static const FieldName v1_trace_fields[] = {
  { "id", FIELD_ID }, { "timestamp", FIELD_TIME }, { "userId", FIELD_USER }, { "sessionId", FIELD_SESSION },
  { "name", FIELD_NAME }, { "htmlPath", FIELD_HTML_PATH }, { "input", FIELD_INPUT }, { "output", FIELD_OUTPUT },
  { NULL, FIELD_OTHER },
};
static const FieldName v1_generation_fields[] = {
  { "id", FIELD_ID }, { "traceId", FIELD_TRACE_ID }, { "startTime", FIELD_TIME }, { "model", FIELD_MODEL },
  { "promptName", FIELD_PROMPT_NAME }, { "promptVersion", FIELD_PROMPT_VERSION },
  { "calculatedTotalCost", FIELD_COST }, { "input", FIELD_INPUT }, { NULL, FIELD_OTHER },
};

static Field
field_of (const FieldName *names,
          const GString   *name)
{
  for (guint i = 0; names[i].name != NULL; i++)
    if (names[i].name[0] == name->str[0] && strcmp (names[i].name, name->str) == 0)
      return names[i].field;
  return FIELD_OTHER;
}

/* One item as read: a member given twice counts by its last value, as in
 * a JSON object. */
typedef struct {
  GString *text[N_TEXT_FIELDS];
  gboolean is_text[N_TEXT_FIELDS];  /* the member is there, a string */
  gboolean trace_id_null;           /* "traceId": null */
  double prompt_version;
  double cost;
  const char *input;                /* raw JSON text in the page */
  gsize input_length;
  const char *output;
  gsize output_length;
} Item;

static void
item_reset (Item *item)
{
  memset (item->is_text, 0, sizeof item->is_text);
  item->trace_id_null = FALSE;
  item->prompt_version = item->cost = NAN;
  item->input = item->output = NULL;
}

static const char *
item_text (const Item *item,
           Field       field)
{
  return item->is_text[field] ? item->text[field]->str : NULL;
}

/* A number member: NaN when it is not a number. */
static gboolean
read_number (MtJsonScan *scan,
             double     *out)
{
  *out = NAN;
  if (mt_json_scan_peek (scan) == MT_JSON_SCAN_NUMBER)
    return mt_json_scan_number (scan, out, NULL, NULL);
  return mt_json_scan_skip (scan, NULL, NULL);
}

/* The raw text of a value, or %NULL for null. */
static gboolean
read_raw (MtJsonScan  *scan,
          const char **raw,
          gsize       *length)
{
  *raw = NULL;
  if (mt_json_scan_peek (scan) == MT_JSON_SCAN_NULL)
    return mt_json_scan_literal (scan);
  return mt_json_scan_skip (scan, raw, length);
}

static gboolean
read_item_members (MtJsonScan      *scan,
                   const FieldName *names,
                   Item            *item,
                   GString         *name)
{
  guint count = 0;
  int more;

  item_reset (item);
  if (!mt_json_scan_begin_object (scan))
    return FALSE;
  while ((more = mt_json_scan_member (scan, &count, name)) == 1)
    {
      Field field = field_of (names, name);
      gboolean ok;

      switch (field)
        {
        case FIELD_PROMPT_VERSION:
          ok = read_number (scan, &item->prompt_version);
          break;
        case FIELD_COST:
          ok = read_number (scan, &item->cost);
          break;
        case FIELD_INPUT:
          ok = read_raw (scan, &item->input, &item->input_length);
          break;
        case FIELD_OUTPUT:
          ok = read_raw (scan, &item->output, &item->output_length);
          break;
        case FIELD_OTHER:
          ok = mt_json_scan_skip (scan, NULL, NULL);
          break;
        default:
          {
            MtJsonScanToken token = mt_json_scan_peek (scan);

            item->is_text[field] = token == MT_JSON_SCAN_STRING;
            if (field == FIELD_TRACE_ID)
              item->trace_id_null = token == MT_JSON_SCAN_NULL;
            ok = token == MT_JSON_SCAN_STRING ? mt_json_scan_string (scan, item->text[field])
                                              : mt_json_scan_skip (scan, NULL, NULL);
          }
          break;
        }
      if (!ok)
        return FALSE;
    }
  return more == 0;
}

/* The text a v2 string value holds, or %NULL when @raw is not a string. */
static GString *
string_value (const char *raw,
              gsize       length)
{
  g_autoptr(GString) text = g_string_new (NULL);
  MtJsonScan scan;

  mt_json_scan_init (&scan, raw, length, 1);
  if (!mt_json_scan_string (&scan, text))
    return NULL;
  return g_steal_pointer (&text);
}

/* Input or output as a trace shows it: v2 sends the text the SDK sent,
 * JSON or not, as a string; v1 sends JSON. As a tree, for the few places
 * that look inside. */
static JsonNode *
node_of (const char *raw,
         gsize       length,
         gboolean    raw_text)
{
  JsonNode *node;

  if (raw == NULL)
    return NULL;
  if (raw_text && raw[0] == '"')
    {
      g_autoptr(GString) text = string_value (raw, length);

      return text != NULL ? node_from_text (text->str, text->len) : NULL;
    }
  /* Checked once already, within the page's depth. */
  node = mt_json_parse_text (raw, length, MAX_JSON_DEPTH + 8);
  g_return_val_if_fail (node != NULL, NULL);
  return node;
}

/* The same value as a trace keeps it: as plain text, which costs a copy
 * and no tree, whenever the text reads into a tree with nothing lost;
 * else as the tree node_of() gives. */
static void
keep_value (const char  *raw,
            gsize        length,
            gboolean     raw_text,
            char       **text_out,
            gsize       *length_out,
            JsonNode   **node_out)
{
  if (raw == NULL)
    return;
  if (raw_text && raw[0] == '"')
    {
      g_autoptr(GString) text = string_value (raw, length);

      if (text == NULL)
        return;
      if (mt_json_text_is_plain (text->str, text->len, MAX_JSON_DEPTH))
        {
          *length_out = text->len;
          *text_out = g_string_free (g_steal_pointer (&text), FALSE);
          return;
        }
      *node_out = mt_json_parse_text (text->str, text->len, MAX_JSON_DEPTH);
      if (*node_out != NULL)
        return;
      /* Not JSON: the string itself, whose literal is plain JSON. */
    }
  else if (!mt_json_text_is_plain (raw, length, MAX_JSON_DEPTH + 8))
    {
      *node_out = node_of (raw, length, FALSE);
      return;
    }
  *text_out = g_strndup (raw, length);
  *length_out = length;
}

/* "meal-analyzer v3", the prompt's name and version, else the system
 * message of the generation's input: read only when there is no name. */
static char *
prompt_of (const Item *item,
           gboolean    raw_text)
{
  const char *name = item_text (item, FIELD_PROMPT_NAME);
  g_autoptr(JsonNode) input = NULL;

  if (name != NULL && name[0] != '\0')
    return isnan (item->prompt_version) ? g_strdup (name) : g_strdup_printf ("%s v%.0f", name, item->prompt_version);
  input = node_of (item->input, item->input_length, raw_text);
  return system_message (input);
}

/* Keeps an item in @page, and its time in @time. An observation of no
 * trace (traceId there, and null) is counted and left out. */
static gboolean
keep_item (const ParseJob  *job,
           const Item      *item,
           MtLangfusePage  *page,
           gint64          *time_out,
           GError         **error)
{
  gboolean v2 = job->kind == MT_LANGFUSE_KIND_V2_ROOTS || job->kind == MT_LANGFUSE_KIND_V2_GENERATIONS;
  const char *id = item_text (item, FIELD_ID);
  const char *trace_id = job->kind == MT_LANGFUSE_KIND_V1_TRACES ? id : item_text (item, FIELD_TRACE_ID);
  const char *time_text = item_text (item, FIELD_TIME);
  gint64 time;

  if (id == NULL || time_text == NULL || !mt_time_parse_iso8601 (time_text, NULL, &time, NULL))
    return malformed (error, job, _("an item without its id or time"));
  *time_out = time;
  if (trace_id == NULL && item->trace_id_null)
    {
      page->orphans++;
      return TRUE;
    }
  if (trace_id == NULL || trace_id[0] == '\0')
    return malformed (error, job, _("an item whose trace is not a string"));

  if (job->kind == MT_LANGFUSE_KIND_V2_GENERATIONS || job->kind == MT_LANGFUSE_KIND_V1_GENERATIONS)
    {
      MtLangfuseGeneration *generation = g_new0 (MtLangfuseGeneration, 1);

      generation->id = g_strdup (id);
      generation->trace_id = g_strdup (trace_id);
      generation->time = time;
      generation->model = g_strdup (item_text (item, FIELD_MODEL));
      generation->prompt = prompt_of (item, v2);
      generation->cost = item->cost;
      g_ptr_array_add (page->generations, generation);
    }
  else
    {
      MtLangfuseRoot *root = g_new0 (MtLangfuseRoot, 1);

      root->observation_id = g_strdup (id);
      root->trace_id = g_strdup (trace_id);
      root->time = time;
      root->user_id = g_strdup (item_text (item, FIELD_USER));
      root->session_id = g_strdup (item_text (item, FIELD_SESSION));
      keep_value (item->input, item->input_length, v2, &root->input_text, &root->input_length, &root->input);
      keep_value (item->output, item->output_length, v2, &root->output_text, &root->output_length, &root->output);
      if (v2)
        {
          const char *project = item_text (item, FIELD_PROJECT);

          root->name = g_strdup (item_text (item, FIELD_TRACE_NAME) != NULL ? item_text (item, FIELD_TRACE_NAME)
                                                                           : item_text (item, FIELD_NAME));
          if (project != NULL)
            root->html_url = trace_url (job->base_url, project, trace_id);
        }
      else
        {
          const char *path = item_text (item, FIELD_HTML_PATH);

          root->name = g_strdup (item_text (item, FIELD_NAME));
          if (path != NULL && path[0] == '/')
            root->html_url = g_strconcat (job->base_url, path, NULL);
        }
      g_ptr_array_add (page->roots, root);
    }
  return TRUE;
}

static gboolean
read_items (const ParseJob  *job,
            MtJsonScan      *scan,
            MtLangfusePage  *page,
            GCancellable    *cancellable,
            GError         **error)
{
  static const FieldName *const names[] = {
    [MT_LANGFUSE_KIND_V2_ROOTS] = v2_root_fields,
    [MT_LANGFUSE_KIND_V2_GENERATIONS] = v2_generation_fields,
    [MT_LANGFUSE_KIND_V1_TRACES] = v1_trace_fields,
    [MT_LANGFUSE_KIND_V1_GENERATIONS] = v1_generation_fields,
  };
  g_autoptr(GString) name = g_string_new (NULL);
  gint64 previous = G_MAXINT64;
  guint count = 0;
  gboolean ok = TRUE;
  Item item;
  int more;

  for (guint i = 0; i < N_TEXT_FIELDS; i++)
    item.text[i] = g_string_new (NULL);
  if (!mt_json_scan_begin_array (scan))
    ok = malformed (error, job, _("no data or meta"));
  while (ok && (more = mt_json_scan_element (scan, &count)) == 1)
    {
      gint64 time = 0;

      /* A stop asked for is heard between items, not after the page. */
      if (count % 64 == 1 && g_cancellable_set_error_if_cancelled (cancellable, error))
        ok = FALSE;
      else if (mt_json_scan_peek (scan) != MT_JSON_SCAN_OBJECT)
        ok = scan->error != NULL ? malformed_json (error, job, scan)
                                 : malformed (error, job, _("an item that is not an object"));
      else if (!read_item_members (scan, names[job->kind], &item, name))
        ok = malformed_json (error, job, scan);
      else if (keep_item (job, &item, page, &time, error))
        {
          page->descending &= time <= previous;
          previous = time;
          page->oldest = MIN (page->oldest, time);
          page->items++;
        }
      else
        ok = FALSE;
    }
  if (ok && scan->error != NULL)
    ok = malformed_json (error, job, scan);
  for (guint i = 0; i < N_TEXT_FIELDS; i++)
    g_string_free (item.text[i], TRUE);
  return ok;
}

typedef struct {
  char *cursor;
  double total_pages;
  double total_items;
  double limit;
} Meta;

static gboolean
read_meta (MtJsonScan *scan,
           Meta       *meta,
           GString    *name)
{
  guint count = 0;
  int more;

  g_clear_pointer (&meta->cursor, g_free);
  meta->total_pages = meta->total_items = meta->limit = NAN;
  if (!mt_json_scan_begin_object (scan))
    return FALSE;
  while ((more = mt_json_scan_member (scan, &count, name)) == 1)
    {
      gboolean ok;

      if (strcmp (name->str, "cursor") == 0 && mt_json_scan_peek (scan) == MT_JSON_SCAN_STRING)
        {
          g_autoptr(GString) cursor = g_string_new (NULL);

          ok = mt_json_scan_string (scan, cursor);
          g_free (meta->cursor);
          meta->cursor = g_string_free (g_steal_pointer (&cursor), FALSE);
        }
      else if (strcmp (name->str, "cursor") == 0)
        {
          g_clear_pointer (&meta->cursor, g_free);
          ok = mt_json_scan_skip (scan, NULL, NULL);
        }
      else if (strcmp (name->str, "totalPages") == 0)
        ok = read_number (scan, &meta->total_pages);
      else if (strcmp (name->str, "totalItems") == 0)
        ok = read_number (scan, &meta->total_items);
      else if (strcmp (name->str, "limit") == 0)
        ok = read_number (scan, &meta->limit);
      else
        ok = mt_json_scan_skip (scan, NULL, NULL);
      if (!ok)
        return FALSE;
    }
  return more == 0;
}

/* Reads a page in one pass over its text, keeping only what Mealtrace
 * shows: away from the main thread, as a month of inputs and outputs is a
 * lot of JSON. */
MtLangfusePage *
mt_langfuse_page_parse (MtLangfuseKind   kind,
                        const char      *base_url,
                        const char      *label,
                        GBytes          *body,
                        GCancellable    *cancellable,
                        GError         **error)
{
  const ParseJob job_data = { kind, base_url, label };
  const ParseJob *job = &job_data;
  g_autoptr(MtLangfusePage) page = g_new0 (MtLangfusePage, 1);
  g_autoptr(GString) name = g_string_new (NULL);
  Meta meta = { NULL, NAN, NAN, NAN };
  gboolean seen_data = FALSE, seen_meta = FALSE;
  gsize length = 0;
  const char *text = g_bytes_get_data (body, &length);
  MtJsonScan scan;
  guint count = 0;
  int more;

  page->roots = g_ptr_array_new_with_free_func (mt_langfuse_root_free);
  page->generations = g_ptr_array_new_with_free_func (mt_langfuse_generation_free);
  page->descending = TRUE;
  page->oldest = G_MAXINT64;

  mt_json_scan_init (&scan, text != NULL ? text : "", text != NULL ? length : 0, MAX_JSON_DEPTH + 8);
  if (mt_json_scan_peek (&scan) != MT_JSON_SCAN_OBJECT)
    return scan.error != NULL ? malformed_json (error, job, &scan) : malformed (error, job, _("not a JSON object")),
           NULL;
  mt_json_scan_begin_object (&scan);
  while ((more = mt_json_scan_member (&scan, &count, name)) == 1)
    {
      if (strcmp (name->str, "data") == 0)
        {
          /* Items are kept as they are read: twice would be two pages. */
          if (seen_data || mt_json_scan_peek (&scan) != MT_JSON_SCAN_ARRAY)
            break;
          seen_data = TRUE;
          if (!read_items (job, &scan, page, cancellable, error))
            {
              g_free (meta.cursor);
              return NULL;
            }
        }
      else if (strcmp (name->str, "meta") == 0)
        {
          if (mt_json_scan_peek (&scan) != MT_JSON_SCAN_OBJECT)
            break;
          seen_meta = TRUE;
          if (!read_meta (&scan, &meta, name))
            break;
        }
      else if (!mt_json_scan_skip (&scan, NULL, NULL))
        break;
    }
  if (scan.error == NULL && more == 0)
    mt_json_scan_end (&scan);
  if (scan.error != NULL)
    {
      g_free (meta.cursor);
      return malformed_json (error, job, &scan), NULL;
    }
  if (!seen_data || !seen_meta || more != 0)
    {
      g_free (meta.cursor);
      return malformed (error, job, _("no data or meta")), NULL;
    }

  if (job->kind == MT_LANGFUSE_KIND_V2_ROOTS || job->kind == MT_LANGFUSE_KIND_V2_GENERATIONS)
    {
      page->cursor = meta.cursor != NULL && meta.cursor[0] != '\0' ? g_steal_pointer (&meta.cursor) : NULL;
      g_free (meta.cursor);
    }
  else
    {
      g_free (meta.cursor);
      /* The counts must agree with each other, and stay within what a
       * Langfuse holds: a page count is a promise of that many requests. */
      if (isnan (meta.total_pages) || isnan (meta.total_items) || isnan (meta.limit) || meta.total_pages < 0 ||
          meta.total_items < 0 || meta.total_items > MAX_V1_ITEMS || meta.total_pages > MAX_V1_PAGES ||
          meta.limit < 1 || meta.limit > MAX_V1_LIMIT || floor (meta.total_pages) != meta.total_pages ||
          floor (meta.total_items) != meta.total_items ||
          meta.total_pages != ceil (meta.total_items / floor (meta.limit)))
        return malformed (error, job, _("page counts that do not add up")), NULL;
      page->total_pages = (guint) meta.total_pages;
      page->total_items = (gint64) meta.total_items;
    }
  return g_steal_pointer (&page);
}
