/* mt-langfuse-page.c — reading one page of a Langfuse API answer */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "mt-langfuse-client.h"
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


/* The deepest nesting of @text, counting brackets outside strings. */
static gboolean
json_depth_ok (const char *text,
               gsize       length,
               guint       max_depth)
{
  guint depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > max_depth)
            return FALSE;
        }
      else if ((c == '}' || c == ']') && depth > 0)
        depth--;
    }
  return TRUE;
}

/* Input and output come as JSON in a string (v2): parsed when they are
 * JSON, kept as a string when they are not. */
static JsonNode *
node_from_raw (JsonNode *raw)
{
  const char *text;
  JsonNode *parsed;

  if (raw == NULL || JSON_NODE_HOLDS_NULL (raw))
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (raw) || json_node_get_value_type (raw) != G_TYPE_STRING)
    return json_node_copy (raw);
  text = json_node_get_string (raw);
  if (json_depth_ok (text, strlen (text), MAX_JSON_DEPTH) && (parsed = json_from_string (text, NULL)) != NULL)
    return parsed;
  return json_node_copy (raw);
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

/* "meal-analyzer v3", the prompt's name and version, else the system
 * message of the generation's input: v2 sends the input as raw text, read
 * only when there is no name. */
static char *
prompt_of (JsonObject *observation,
           gboolean    raw_input)
{
  const char *name = mt_langfuse_member_string (observation, "promptName");
  double version = mt_langfuse_member_number (observation, "promptVersion");
  JsonNode *input = json_object_get_member (observation, "input");
  g_autoptr(JsonNode) parsed = NULL;

  if (name != NULL && name[0] != '\0')
    return isnan (version) ? g_strdup (name) : g_strdup_printf ("%s v%.0f", name, version);
  if (raw_input)
    input = parsed = node_from_raw (input);
  return system_message (input);
}

static gboolean
member_time (JsonObject *object,
             const char *name,
             gint64     *out)
{
  const char *text = mt_langfuse_member_string (object, name);

  return text != NULL && mt_time_parse_iso8601 (text, NULL, out, NULL);
}

typedef struct {
  MtLangfuseKind kind;
  char *base_url;
  char *label;  /* "…/v2/observations, page 3": for errors */
} ParseJob;

static gboolean
malformed (GError    **error,
           ParseJob   *job,
           const char *what)
{
  g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_MALFORMED,
               _("Langfuse sent an answer that cannot be read (%s: %s). Check LANGFUSE_BASE_URL, or try again."),
               job->label, what);
  return FALSE;
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

/* Reads an item into @page, and its time into @time. An observation of
 * no trace (traceId there, and null) is counted and left out. */
static gboolean
read_item (ParseJob        *job,
           JsonObject      *item,
           MtLangfusePage  *page,
           gint64          *time_out,
           GError         **error)
{
  gint64 time;
  const char *id = mt_langfuse_member_string (item, "id");
  const char *trace_id = job->kind == MT_LANGFUSE_KIND_V1_TRACES ? id : mt_langfuse_member_string (item, "traceId");
  JsonNode *trace_node = json_object_get_member (item, "traceId");

  if (id == NULL ||
      !member_time (item, job->kind == MT_LANGFUSE_KIND_V1_TRACES ? "timestamp" : "startTime", &time))
    return malformed (error, job, _("an item without its id or time"));
  *time_out = time;
  if (trace_id == NULL && job->kind != MT_LANGFUSE_KIND_V1_TRACES &&
      trace_node != NULL && JSON_NODE_HOLDS_NULL (trace_node))
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
      generation->model = g_strdup (mt_langfuse_member_string (item, job->kind == MT_LANGFUSE_KIND_V2_GENERATIONS
                                                         ? "providedModelName" : "model"));
      generation->prompt = prompt_of (item, job->kind == MT_LANGFUSE_KIND_V2_GENERATIONS);
      generation->cost = mt_langfuse_member_number (item, job->kind == MT_LANGFUSE_KIND_V2_GENERATIONS
                                              ? "totalCost" : "calculatedTotalCost");
      g_ptr_array_add (page->generations, generation);
    }
  else
    {
      MtLangfuseRoot *root = g_new0 (MtLangfuseRoot, 1);

      root->observation_id = g_strdup (id);
      root->trace_id = g_strdup (trace_id);
      root->time = time;
      root->user_id = g_strdup (mt_langfuse_member_string (item, "userId"));
      root->session_id = g_strdup (mt_langfuse_member_string (item, "sessionId"));
      if (job->kind == MT_LANGFUSE_KIND_V2_ROOTS)
        {
          const char *project = mt_langfuse_member_string (item, "projectId");

          root->name = g_strdup (mt_langfuse_member_string (item, "traceName") != NULL ? mt_langfuse_member_string (item, "traceName")
                                                                           : mt_langfuse_member_string (item, "name"));
          root->input = node_from_raw (json_object_get_member (item, "input"));
          root->output = node_from_raw (json_object_get_member (item, "output"));
          if (project != NULL)
            root->html_url = trace_url (job->base_url, project, trace_id);
        }
      else
        {
          JsonNode *input = json_object_get_member (item, "input");
          JsonNode *output = json_object_get_member (item, "output");
          const char *path = mt_langfuse_member_string (item, "htmlPath");

          root->name = g_strdup (mt_langfuse_member_string (item, "name"));
          root->input = input != NULL && !JSON_NODE_HOLDS_NULL (input) ? json_node_copy (input) : NULL;
          root->output = output != NULL && !JSON_NODE_HOLDS_NULL (output) ? json_node_copy (output) : NULL;
          if (path != NULL && path[0] == '/')
            root->html_url = g_strconcat (job->base_url, path, NULL);
        }
      g_ptr_array_add (page->roots, root);
    }
  return TRUE;
}

/* Parses a page away from the main thread: a month of inputs and outputs
 * is a lot of JSON. */
MtLangfusePage *
mt_langfuse_page_parse (MtLangfuseKind   kind,
                        const char      *base_url,
                        const char      *label,
                        GBytes          *body,
                        GCancellable    *cancellable,
                        GError         **error)
{
  ParseJob job_data = { kind, (char *) base_url, (char *) label };
  ParseJob *job = &job_data;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(MtLangfusePage) page = g_new0 (MtLangfusePage, 1);
  g_autoptr(GError) local_error = NULL;
  gsize length = 0;
  const char *text = g_bytes_get_data (body, &length);
  JsonNode *root;
  JsonNode *data, *meta;
  JsonArray *items;
  gint64 previous = G_MAXINT64;

  page->roots = g_ptr_array_new_with_free_func (mt_langfuse_root_free);
  page->generations = g_ptr_array_new_with_free_func (mt_langfuse_generation_free);
  page->descending = TRUE;
  page->oldest = G_MAXINT64;

  if (text == NULL || !json_depth_ok (text, length, MAX_JSON_DEPTH + 8))
    return malformed (error, job, _("empty, or nested too deeply")), NULL;
  if (!json_parser_load_from_data (parser, text, (gssize) length, &local_error))
    return malformed (error, job, local_error->message), NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return malformed (error, job, _("not a JSON object")), NULL;
  data = json_object_get_member (json_node_get_object (root), "data");
  meta = json_object_get_member (json_node_get_object (root), "meta");
  if (data == NULL || !JSON_NODE_HOLDS_ARRAY (data) || meta == NULL || !JSON_NODE_HOLDS_OBJECT (meta))
    return malformed (error, job, _("no data or meta")), NULL;

  items = json_node_get_array (data);
  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonNode *item = json_array_get_element (items, i);
      gint64 time = 0;

      /* A stop asked for is heard between items, not after the page. */
      if (i % 64 == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      if (!JSON_NODE_HOLDS_OBJECT (item))
        return malformed (error, job, _("an item that is not an object")), NULL;
      if (!read_item (job, json_node_get_object (item), page, &time, error))
        return NULL;
      page->descending &= time <= previous;
      previous = time;
      page->oldest = MIN (page->oldest, time);
    }
  page->items = json_array_get_length (items);

  if (job->kind == MT_LANGFUSE_KIND_V2_ROOTS || job->kind == MT_LANGFUSE_KIND_V2_GENERATIONS)
    {
      const char *cursor = mt_langfuse_member_string (json_node_get_object (meta), "cursor");

      page->cursor = cursor != NULL && cursor[0] != '\0' ? g_strdup (cursor) : NULL;
    }
  else
    {
      double total_pages = mt_langfuse_member_number (json_node_get_object (meta), "totalPages");
      double total_items = mt_langfuse_member_number (json_node_get_object (meta), "totalItems");
      double limit = mt_langfuse_member_number (json_node_get_object (meta), "limit");

      /* The counts must agree with each other, and stay within what a
       * Langfuse holds: a page count is a promise of that many requests. */
      if (isnan (total_pages) || isnan (total_items) || isnan (limit) || total_pages < 0 || total_items < 0 ||
          total_items > MAX_V1_ITEMS || total_pages > MAX_V1_PAGES || limit < 1 || limit > MAX_V1_LIMIT || floor (total_pages) != total_pages ||
          floor (total_items) != total_items || total_pages != ceil (total_items / floor (limit)))
        return malformed (error, job, _("page counts that do not add up")), NULL;
      page->total_pages = (guint) total_pages;
      page->total_items = (gint64) total_items;
    }
  return g_steal_pointer (&page);
}

