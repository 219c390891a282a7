/* mt-loopback-langfuse.c — a Langfuse server in the process */

#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "mt-loopback-langfuse.h"
#include "mt-loopback-server.h"
#include "mt-json-scan.h"
#include "mt-json-writer.h"
#include "mt-time.h"

#define V2_PATH "/api/public/v2/observations"
#define V1_TRACES_PATH "/api/public/traces"
#define V1_OBSERVATIONS_PATH "/api/public/observations"
#define V2_MAX_LIMIT 1000
#define V1_MAX_LIMIT 100
#define DEFAULT_LIMIT 50

typedef struct _StoredTrace StoredTrace;

/* Raw text as the SDK sent it, and the JSON it reads as (v1 answers with
 * the JSON, v2 with the text). */
typedef struct {
  char *text;
  JsonNode *json;  /* the text parsed, or the text as a JSON string */
  gboolean plain;  /* the text is JSON that can be written as it is */
} Payload;

/* An item as one kind of answer writes it (compact JSON), kept while the
 * data does not change: pages are then mostly copies, so the server is not
 * what a client waits for. */
typedef struct {
  char *text;
  gsize length;
  guint key;          /* the answer and its field groups */
  guint64 generation; /* of the data it was written from; 0: none */
} Cached;

typedef struct {
  char *id;
  StoredTrace *trace;
  char *type;
  gint64 start;
  char *parent_id;
  char *name;
  char *model;
  char *prompt_name;
  int prompt_version;
  Payload input;
  Payload output;
  double cost;
  Cached v1;
  Cached v2;
} StoredObservation;

struct _StoredTrace {
  char *id;
  gint64 timestamp;
  char *name;
  char *user_id;
  char *session_id;
  GPtrArray *observations; /* StoredObservation, by (start, id) once sorted */
  double total_cost;
  Cached v1;
};

struct _MtLoopbackLangfuse
{
  GObject parent_instance;

  MtLoopbackServer *server;
  char *authorization;
  char *project_id;
  gboolean v1;
  gboolean v2;
  gboolean v1_fields;

  GPtrArray *traces;        /* StoredTrace, owned; by (timestamp, id) when sorted */
  GHashTable *trace_ids;    /* id → StoredTrace */
  GPtrArray *observations;  /* StoredObservation, owned; by (start, id) when sorted */
  GPtrArray *generations;   /* the GENERATIONs of the above, in its order */
  GPtrArray *roots;         /* the roots of the above, in its order */
  gboolean sorted;
  guint64 generation;       /* counts the changes to the data */

  guint latency_ms;

  guint repeated_pages;
  GHashTable *served;       /* "path?query" of the pages answered */
  guint repeated_items;
  GHashTable *served_items; /* ids of the items handed out */
  GPtrArray *log;
};

G_DEFINE_FINAL_TYPE (MtLoopbackLangfuse, mt_loopback_langfuse, G_TYPE_OBJECT)

static void
payload_clear (Payload *payload)
{
  g_clear_pointer (&payload->text, g_free);
  g_clear_pointer (&payload->json, json_node_unref);
}

static void
payload_set (Payload    *payload,
             const char *text)
{
  payload_clear (payload);
  if (text == NULL)
    return;
  payload->text = g_strdup (text);
  payload->plain = mt_json_text_is_plain (text, strlen (text), 512);
  payload->json = json_from_string (text, NULL);
  if (payload->json == NULL)
    {
      payload->json = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (payload->json, text);
    }
}

static void
observation_free (gpointer data)
{
  StoredObservation *observation = data;

  g_free (observation->id);
  g_free (observation->type);
  g_free (observation->parent_id);
  g_free (observation->name);
  g_free (observation->model);
  g_free (observation->prompt_name);
  payload_clear (&observation->input);
  payload_clear (&observation->output);
  g_free (observation->v1.text);
  g_free (observation->v2.text);
  g_free (observation);
}

static void
trace_free (gpointer data)
{
  StoredTrace *trace = data;

  g_free (trace->id);
  g_free (trace->name);
  g_free (trace->user_id);
  g_free (trace->session_id);
  g_ptr_array_unref (trace->observations);
  g_free (trace->v1.text);
  g_free (trace);
}

static void
mt_loopback_langfuse_finalize (GObject *object)
{
  MtLoopbackLangfuse *self = MT_LOOPBACK_LANGFUSE (object);

  g_clear_pointer (&self->server, mt_loopback_server_free);
  g_free (self->authorization);
  g_free (self->project_id);
  g_ptr_array_unref (self->generations);
  g_ptr_array_unref (self->roots);
  g_ptr_array_unref (self->observations);
  g_hash_table_unref (self->trace_ids);
  g_ptr_array_unref (self->traces);
  g_hash_table_unref (self->served);
  g_hash_table_unref (self->served_items);
  g_ptr_array_unref (self->log);

  G_OBJECT_CLASS (mt_loopback_langfuse_parent_class)->finalize (object);
}

static void
mt_loopback_langfuse_class_init (MtLoopbackLangfuseClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_loopback_langfuse_finalize;
}

static void
mt_loopback_langfuse_init (MtLoopbackLangfuse *self)
{
  self->v1 = TRUE;
  self->v2 = TRUE;
  self->v1_fields = TRUE;
  self->generation = 1;
  self->project_id = g_strdup ("cm-mealtrace-local");
  self->traces = g_ptr_array_new_with_free_func (trace_free);
  self->trace_ids = g_hash_table_new (g_str_hash, g_str_equal);
  self->observations = g_ptr_array_new_with_free_func (observation_free);
  self->generations = g_ptr_array_new ();
  self->roots = g_ptr_array_new ();
  self->served = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->served_items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->log = g_ptr_array_new_with_free_func (g_free);
  self->sorted = TRUE;
}

/* Order */

static int
compare_times (gint64      a_time,
               const char *a_id,
               gint64      b_time,
               const char *b_id)
{
  if (a_time != b_time)
    return a_time < b_time ? -1 : 1;
  return strcmp (a_id, b_id);
}

static int
compare_observations (gconstpointer a,
                      gconstpointer b)
{
  const StoredObservation *x = *(const StoredObservation * const *) a;
  const StoredObservation *y = *(const StoredObservation * const *) b;

  return compare_times (x->start, x->id, y->start, y->id);
}

static int
compare_traces (gconstpointer a,
                gconstpointer b)
{
  const StoredTrace *x = *(const StoredTrace * const *) a;
  const StoredTrace *y = *(const StoredTrace * const *) b;

  return compare_times (x->timestamp, x->id, y->timestamp, y->id);
}

/* Sorts what was added since the last question, and sums each trace's
 * cost in the order of its observations. */
static void
ensure_sorted (MtLoopbackLangfuse *self)
{
  if (self->sorted)
    return;
  g_ptr_array_sort (self->traces, compare_traces);
  g_ptr_array_sort (self->observations, compare_observations);
  g_ptr_array_set_size (self->generations, 0);
  g_ptr_array_set_size (self->roots, 0);
  for (guint i = 0; i < self->observations->len; i++)
    {
      StoredObservation *observation = g_ptr_array_index (self->observations, i);

      if (strcmp (observation->type, "GENERATION") == 0)
        g_ptr_array_add (self->generations, observation);
      if (observation->parent_id == NULL)
        g_ptr_array_add (self->roots, observation);
    }
  for (guint i = 0; i < self->traces->len; i++)
    {
      StoredTrace *trace = g_ptr_array_index (self->traces, i);

      g_ptr_array_sort (trace->observations, compare_observations);
      trace->total_cost = 0.0;
      for (guint j = 0; j < trace->observations->len; j++)
        {
          StoredObservation *observation = g_ptr_array_index (trace->observations, j);

          if (!isnan (observation->cost))
            trace->total_cost += observation->cost;
        }
    }
  self->sorted = TRUE;
}

/* The first index of @array (by time) whose time is at least @time. */
static guint
lower_bound (GPtrArray *array,
             gint64     time,
             gboolean   traces)
{
  guint low = 0, high = array->len;

  while (low < high)
    {
      guint middle = low + (high - low) / 2;
      gpointer item = g_ptr_array_index (array, middle);
      gint64 t = traces ? ((StoredTrace *) item)->timestamp : ((StoredObservation *) item)->start;

      if (t < time)
        low = middle + 1;
      else
        high = middle;
    }
  return low;
}

/* The first index of observations at or after (@time, @id). */
static guint
lower_bound_id (GPtrArray  *array,
                gint64      time,
                const char *id)
{
  guint low = 0, high = array->len;

  while (low < high)
    {
      guint middle = low + (high - low) / 2;
      StoredObservation *item = g_ptr_array_index (array, middle);

      if (compare_times (item->start, item->id, time, id) < 0)
        low = middle + 1;
      else
        high = middle;
    }
  return low;
}

/* Answers */

static void
set_json (SoupServerMessage *msg,
          guint              status,
          GString           *json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json; charset=utf-8", SOUP_MEMORY_COPY,
                                    json->str, json->len);
}

/* {"message": …, "code": …}, as Langfuse's public API errors. */
static void
set_error (SoupServerMessage *msg,
           guint              status,
           const char        *code,
           const char        *message)
{
  g_autoptr(GString) json = g_string_new (NULL);
  g_autoptr(MtJsonWriter) writer = mt_json_writer_new (json, FALSE);

  mt_json_writer_begin_object (writer);
  mt_json_writer_member (writer, "message");
  mt_json_writer_string (writer, message);
  mt_json_writer_member (writer, "code");
  mt_json_writer_string (writer, code);
  mt_json_writer_end_object (writer);
  set_json (msg, status, json);
}

static void
write_time (MtJsonWriter *writer,
            gint64        ms)
{
  g_autofree char *text = mt_time_format_utc (ms);

  mt_json_writer_string (writer, text);
}

static void
write_member_string (MtJsonWriter *writer,
                     const char   *name,
                     const char   *value)
{
  mt_json_writer_member (writer, name);
  mt_json_writer_string (writer, value);
}

static void
write_member_null (MtJsonWriter *writer,
                   const char   *name)
{
  mt_json_writer_member (writer, name);
  mt_json_writer_null (writer);
}

/* Every bit of the double, so that sums compare exactly; NaN is null. */
static void
write_double (MtJsonWriter *writer,
              double        value)
{
  char text[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (value))
    mt_json_writer_null (writer);
  else
    mt_json_writer_number (writer, g_ascii_formatd (text, sizeof text, "%.17g", value));
}

static void
write_member_double (MtJsonWriter *writer,
                     const char   *name,
                     double        value)
{
  mt_json_writer_member (writer, name);
  write_double (writer, value);
}

static void
write_member_json (MtJsonWriter  *writer,
                   const char    *name,
                   const Payload *payload)
{
  mt_json_writer_member (writer, name);
  if (payload->plain)
    mt_json_writer_text (writer, payload->text, strlen (payload->text));
  else
    mt_json_writer_node (writer, payload->json);
}

static void
write_usage (MtJsonWriter      *writer,
             const char        *name,
             StoredObservation *observation,
             gboolean           unit)
{
  gint64 input = observation->input.text != NULL ? (gint64) strlen (observation->input.text) / 4 : 0;

  mt_json_writer_member (writer, name);
  mt_json_writer_begin_object (writer);
  mt_json_writer_member (writer, "input");
  mt_json_writer_int (writer, input);
  mt_json_writer_member (writer, "output");
  mt_json_writer_int (writer, 42);
  mt_json_writer_member (writer, "total");
  mt_json_writer_int (writer, input + 42);
  if (unit)
    write_member_string (writer, "unit", "TOKENS");
  mt_json_writer_end_object (writer);
}

static void
write_cost_details (MtJsonWriter      *writer,
                    StoredObservation *observation)
{
  mt_json_writer_member (writer, "costDetails");
  mt_json_writer_begin_object (writer);
  if (!isnan (observation->cost))
    write_member_double (writer, "total", observation->cost);
  mt_json_writer_end_object (writer);
}

static char *
prompt_id (StoredObservation *observation)
{
  if (observation->prompt_name == NULL)
    return NULL;
  return g_strdup_printf ("prompt-%s-%d", observation->prompt_name, observation->prompt_version);
}

/* The v2 field groups. */
enum {
  GROUP_CORE = 1 << 0,
  GROUP_BASIC = 1 << 1,
  GROUP_TIME = 1 << 2,
  GROUP_IO = 1 << 3,
  GROUP_METADATA = 1 << 4,
  GROUP_MODEL = 1 << 5,
  GROUP_USAGE = 1 << 6,
  GROUP_PROMPT = 1 << 7,
  GROUP_METRICS = 1 << 8,
  GROUP_TRACE_CONTEXT = 1 << 9,
  /* v1's traces */
  GROUP_SCORES = 1 << 10,
  GROUP_OBSERVATIONS = 1 << 11,
};

typedef struct {
  const char *name;
  guint group;
} Group;

static const Group v2_groups[] = {
  { "core", GROUP_CORE }, { "basic", GROUP_BASIC }, { "time", GROUP_TIME }, { "io", GROUP_IO },
  { "metadata", GROUP_METADATA }, { "model", GROUP_MODEL }, { "usage", GROUP_USAGE },
  { "prompt", GROUP_PROMPT }, { "metrics", GROUP_METRICS }, { "trace_context", GROUP_TRACE_CONTEXT },
  { NULL, 0 },
};

static const Group v1_groups[] = {
  { "core", GROUP_CORE }, { "io", GROUP_IO }, { "scores", GROUP_SCORES },
  { "observations", GROUP_OBSERVATIONS }, { "metrics", GROUP_METRICS },
  { NULL, 0 },
};

/* "core,io" → the groups; FALSE for a group that does not exist. */
static gboolean
parse_groups (const char  *text,
              const Group *known,
              guint       *groups)
{
  g_auto(GStrv) names = g_strsplit (text, ",", -1);

  *groups = GROUP_CORE;
  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *name = g_strstrip (names[i]);
      guint j;

      if (name[0] == '\0')
        continue;
      for (j = 0; known[j].name != NULL && strcmp (known[j].name, name) != 0; j++)
        ;
      if (known[j].name == NULL)
        return FALSE;
      *groups |= known[j].group;
    }
  return TRUE;
}

static void
write_observation_v2 (MtLoopbackLangfuse *self,
                      MtJsonWriter       *writer,
                      StoredObservation  *observation,
                      guint               groups)
{
  StoredTrace *trace = observation->trace;

  mt_json_writer_begin_object (writer);
  write_member_string (writer, "id", observation->id);
  write_member_string (writer, "traceId", trace != NULL ? trace->id : NULL);
  mt_json_writer_member (writer, "startTime");
  write_time (writer, observation->start);
  mt_json_writer_member (writer, "endTime");
  write_time (writer, observation->start + 1500);
  write_member_string (writer, "projectId", self->project_id);
  write_member_string (writer, "parentObservationId", observation->parent_id);
  write_member_string (writer, "type", observation->type);

  if (groups & GROUP_BASIC)
    {
      write_member_string (writer, "name", observation->name);
      write_member_string (writer, "level", "DEFAULT");
      write_member_null (writer, "statusMessage");
      write_member_null (writer, "version");
      write_member_string (writer, "environment", "default");
      mt_json_writer_member (writer, "bookmarked");
      mt_json_writer_boolean (writer, FALSE);
      mt_json_writer_member (writer, "public");
      mt_json_writer_boolean (writer, FALSE);
      write_member_string (writer, "userId", trace != NULL ? trace->user_id : NULL);
      write_member_string (writer, "sessionId", trace != NULL ? trace->session_id : NULL);
      mt_json_writer_member (writer, "isRootObservation");
      mt_json_writer_boolean (writer, observation->parent_id == NULL);
    }
  if (groups & GROUP_TIME)
    {
      write_member_null (writer, "completionStartTime");
      mt_json_writer_member (writer, "createdAt");
      write_time (writer, observation->start + 2000);
      mt_json_writer_member (writer, "updatedAt");
      write_time (writer, observation->start + 2000);
    }
  if (groups & GROUP_IO)
    {
      /* Always the raw text, whatever it is. */
      write_member_string (writer, "input", observation->input.text);
      write_member_string (writer, "output", observation->output.text);
    }
  if (groups & GROUP_METADATA)
    write_member_string (writer, "metadata", "{}");
  if (groups & GROUP_MODEL)
    {
      write_member_string (writer, "providedModelName", observation->model);
      write_member_null (writer, "internalModelId");
      write_member_null (writer, "modelParameters");
      write_member_null (writer, "modelId");
      write_member_null (writer, "inputPrice");
      write_member_null (writer, "outputPrice");
      write_member_null (writer, "totalPrice");
    }
  if (groups & GROUP_USAGE)
    {
      if (strcmp (observation->type, "GENERATION") == 0)
        write_usage (writer, "usageDetails", observation, FALSE);
      else
        write_member_null (writer, "usageDetails");
      write_cost_details (writer, observation);
      write_member_double (writer, "totalCost", observation->cost);
      write_member_null (writer, "usagePricingTierName");
    }
  if (groups & GROUP_PROMPT)
    {
      g_autofree char *id = prompt_id (observation);

      write_member_string (writer, "promptId", id);
      write_member_string (writer, "promptName", observation->prompt_name);
      mt_json_writer_member (writer, "promptVersion");
      if (observation->prompt_name != NULL && observation->prompt_version >= 0)
        mt_json_writer_int (writer, observation->prompt_version);
      else
        mt_json_writer_null (writer);
    }
  if (groups & GROUP_METRICS)
    {
      mt_json_writer_member (writer, "latency");
      mt_json_writer_seconds (writer, 1500);
      write_member_null (writer, "timeToFirstToken");
    }
  if (groups & GROUP_TRACE_CONTEXT)
    {
      mt_json_writer_member (writer, "tags");
      mt_json_writer_begin_array (writer);
      mt_json_writer_end_array (writer);
      write_member_null (writer, "release");
      write_member_string (writer, "traceName", trace != NULL ? trace->name : NULL);
    }
  mt_json_writer_end_object (writer);
}

static void
write_observation_v1 (MtJsonWriter      *writer,
                      StoredObservation *observation)
{
  g_autofree char *id = prompt_id (observation);

  mt_json_writer_begin_object (writer);
  write_member_string (writer, "id", observation->id);
  write_member_string (writer, "traceId", observation->trace != NULL ? observation->trace->id : NULL);
  write_member_string (writer, "type", observation->type);
  write_member_string (writer, "name", observation->name);
  mt_json_writer_member (writer, "startTime");
  write_time (writer, observation->start);
  mt_json_writer_member (writer, "endTime");
  write_time (writer, observation->start + 1500);
  write_member_null (writer, "completionStartTime");
  write_member_string (writer, "model", observation->model);
  mt_json_writer_member (writer, "modelParameters");
  mt_json_writer_begin_object (writer);
  mt_json_writer_end_object (writer);
  write_member_json (writer, "input", &observation->input);
  write_member_null (writer, "version");
  write_member_null (writer, "metadata");
  write_member_json (writer, "output", &observation->output);
  write_usage (writer, "usage", observation, TRUE);
  write_member_string (writer, "level", "DEFAULT");
  write_member_null (writer, "statusMessage");
  write_member_string (writer, "parentObservationId", observation->parent_id);
  write_member_string (writer, "promptId", id);
  write_member_string (writer, "promptName", observation->prompt_name);
  mt_json_writer_member (writer, "promptVersion");
  if (observation->prompt_name != NULL && observation->prompt_version >= 0)
    mt_json_writer_int (writer, observation->prompt_version);
  else
    mt_json_writer_null (writer);
  write_usage (writer, "usageDetails", observation, FALSE);
  write_cost_details (writer, observation);
  write_member_string (writer, "environment", "default");
  write_member_null (writer, "modelId");
  write_member_null (writer, "inputPrice");
  write_member_null (writer, "outputPrice");
  write_member_null (writer, "totalPrice");
  write_member_null (writer, "calculatedInputCost");
  write_member_null (writer, "calculatedOutputCost");
  write_member_double (writer, "calculatedTotalCost", observation->cost);
  mt_json_writer_member (writer, "latency");
  mt_json_writer_seconds (writer, 1500);
  write_member_null (writer, "timeToFirstToken");
  mt_json_writer_end_object (writer);
}

static void
write_trace_v1 (MtLoopbackLangfuse *self,
                MtJsonWriter       *writer,
                StoredTrace        *trace,
                guint               groups)
{
  StoredObservation *root = g_ptr_array_index (trace->observations, 0);
  g_autofree char *path = g_strdup_printf ("/project/%s/traces/%s", self->project_id, trace->id);

  mt_json_writer_begin_object (writer);
  write_member_string (writer, "id", trace->id);
  mt_json_writer_member (writer, "timestamp");
  write_time (writer, trace->timestamp);
  write_member_string (writer, "name", trace->name);
  write_member_string (writer, "sessionId", trace->session_id);
  write_member_null (writer, "release");
  write_member_null (writer, "version");
  write_member_string (writer, "userId", trace->user_id);
  mt_json_writer_member (writer, "tags");
  mt_json_writer_begin_array (writer);
  mt_json_writer_end_array (writer);
  mt_json_writer_member (writer, "public");
  mt_json_writer_boolean (writer, FALSE);
  write_member_string (writer, "environment", "default");
  write_member_string (writer, "htmlPath", path);
  if (groups & GROUP_IO)
    {
      write_member_json (writer, "input", &root->input);
      write_member_json (writer, "output", &root->output);
      write_member_null (writer, "metadata");
    }
  mt_json_writer_member (writer, "observations");
  mt_json_writer_begin_array (writer);
  if (groups & GROUP_OBSERVATIONS)
    for (guint i = 0; i < trace->observations->len; i++)
      mt_json_writer_string (writer, ((StoredObservation *) g_ptr_array_index (trace->observations, i))->id);
  mt_json_writer_end_array (writer);
  mt_json_writer_member (writer, "scores");
  mt_json_writer_begin_array (writer);
  mt_json_writer_end_array (writer);
  /* Without the metrics group, v1 says -1. */
  mt_json_writer_member (writer, "latency");
  if (groups & GROUP_METRICS)
    mt_json_writer_seconds (writer, 1500);
  else
    mt_json_writer_int (writer, -1);
  mt_json_writer_member (writer, "totalCost");
  if (groups & GROUP_METRICS)
    write_double (writer, trace->total_cost);
  else
    mt_json_writer_int (writer, -1);
  mt_json_writer_end_object (writer);
}

/* Cached items */

typedef void (*WriteItem) (MtLoopbackLangfuse *self,
                           MtJsonWriter       *writer,
                           gpointer            item,
                           guint               groups);

/* Writes @item as @write does, from @cached when it holds the same answer
 * (@key) of the data as it is now. */
static void
write_cached (MtLoopbackLangfuse *self,
              MtJsonWriter       *writer,
              Cached             *cached,
              guint               key,
              WriteItem           write,
              gpointer            item,
              guint               groups)
{
  if (cached->generation != self->generation || cached->key != key)
    {
      GString *text = g_string_new (NULL);
      MtJsonWriter *item_writer = mt_json_writer_new (text, FALSE);

      write (self, item_writer, item, groups);
      mt_json_writer_free (item_writer);
      g_free (cached->text);
      cached->length = text->len;
      cached->text = g_string_free (text, FALSE);
      cached->key = key;
      cached->generation = self->generation;
    }
  mt_json_writer_compact_value (writer, cached->text, cached->length);
}

static void
write_any_observation_v2 (MtLoopbackLangfuse *self,
                          MtJsonWriter       *writer,
                          gpointer            item,
                          guint               groups)
{
  write_observation_v2 (self, writer, item, groups);
}

static void
write_any_observation_v1 (MtLoopbackLangfuse *self,
                          MtJsonWriter       *writer,
                          gpointer            item,
                          guint               groups)
{
  write_observation_v1 (writer, item);
}

static void
write_any_trace_v1 (MtLoopbackLangfuse *self,
                    MtJsonWriter       *writer,
                    gpointer            item,
                    guint               groups)
{
  write_trace_v1 (self, writer, item, groups);
}

/* Query parameters */

static const char *
param (GHashTable *query,
       const char *name)
{
  return query != NULL ? g_hash_table_lookup (query, name) : NULL;
}

/* An integer parameter within [@min, @max], @fallback when absent. */
static gboolean
int_param (GHashTable *query,
           const char *name,
           guint64     min,
           guint64     max,
           guint64     fallback,
           guint64    *value)
{
  const char *text = param (query, name);

  if (text == NULL)
    {
      *value = fallback;
      return TRUE;
    }
  return g_ascii_string_to_unsigned (text, 10, min, max, value, NULL);
}

static gboolean
time_param (GHashTable *query,
            const char *name,
            gint64      fallback,
            gint64     *value)
{
  const char *text = param (query, name);

  if (text == NULL)
    {
      *value = fallback;
      return TRUE;
    }
  return mt_time_parse_iso8601 (text, NULL, value, NULL);
}

static char *
encode_cursor (StoredObservation *last)
{
  g_autofree char *text = g_strdup_printf ("{\"lastStartTime\":%" G_GINT64_FORMAT ",\"lastId\":\"%s\"}",
                                           last->start, last->id);

  return g_base64_encode ((const guchar *) text, strlen (text));
}

static gboolean
decode_cursor (const char  *cursor,
               gint64      *start,
               char       **id)
{
  g_autofree guchar *raw = NULL;
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *object;
  gsize length = 0;

  raw = g_base64_decode (cursor, &length);
  if (raw == NULL || length == 0)
    return FALSE;
  text = g_strndup ((const char *) raw, length);
  node = json_from_string (text, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  object = json_node_get_object (node);
  if (!json_object_has_member (object, "lastStartTime") || json_object_get_string_member_with_default (object, "lastId", NULL) == NULL)
    return FALSE;
  *start = json_object_get_int_member (object, "lastStartTime");
  *id = g_strdup (json_object_get_string_member (object, "lastId"));
  return TRUE;
}

/* A request's filters on observations, looked up once. */
typedef struct {
  const char *type;
  const char *root;
  const char *trace_id;
  const char *user_id;
  GPtrArray *base;  /* the observations they pick from, already in order */
  gboolean exact;   /* the base is just what they pick */
} Filter;

static void
filter_init (Filter             *filter,
             MtLoopbackLangfuse *self,
             GHashTable         *query)
{
  filter->type = param (query, "type");
  filter->root = param (query, "isRootObservation");
  filter->trace_id = param (query, "traceId");
  filter->user_id = param (query, "userId");
  if (g_strcmp0 (filter->type, "GENERATION") == 0)
    {
      filter->base = self->generations;
      filter->exact = filter->root == NULL;
    }
  else if (filter->type == NULL && g_strcmp0 (filter->root, "true") == 0)
    {
      filter->base = self->roots;
      filter->exact = TRUE;
    }
  else
    {
      filter->base = self->observations;
      filter->exact = filter->type == NULL && filter->root == NULL;
    }
  filter->exact &= filter->trace_id == NULL && filter->user_id == NULL;
}

static gboolean
filter_matches (Filter            *filter,
                StoredObservation *observation)
{
  if (filter->exact)
    return TRUE;
  if (filter->type != NULL && strcmp (filter->type, observation->type) != 0)
    return FALSE;
  if (filter->root != NULL && (strcmp (filter->root, "true") == 0) != (observation->parent_id == NULL))
    return FALSE;
  if (filter->trace_id != NULL && (observation->trace == NULL || strcmp (filter->trace_id, observation->trace->id) != 0))
    return FALSE;
  if (filter->user_id != NULL && (observation->trace == NULL || g_strcmp0 (filter->user_id, observation->trace->user_id) != 0))
    return FALSE;
  return TRUE;
}

static void
serve_v2 (MtLoopbackLangfuse *self,
          SoupServerMessage  *msg,
          GHashTable         *query,
          GPtrArray          *handed)
{
  g_autoptr(GString) json = g_string_new (NULL);
  g_autoptr(MtJsonWriter) writer = mt_json_writer_new (json, FALSE);
  g_autoptr(GPtrArray) page = g_ptr_array_new ();
  g_autofree char *cursor_id = NULL;
  g_autofree char *next = NULL;
  Filter filter;
  GPtrArray *base;
  guint groups, low, high;
  guint64 limit;
  gint64 from, to, cursor_start = 0;

  if (!parse_groups (param (query, "fields") != NULL ? param (query, "fields") : "core,basic", v2_groups, &groups))
    {
      set_error (msg, 400, "invalid_query", "Invalid field group in fields. Available groups: core, basic, time, io, metadata, model, usage, prompt, metrics, trace_context");
      return;
    }
  if (!int_param (query, "limit", 1, V2_MAX_LIMIT, DEFAULT_LIMIT, &limit))
    {
      set_error (msg, 400, "invalid_query", "limit must be an integer between 1 and 1000");
      return;
    }
  if (g_strcmp0 (param (query, "parseIoAsJson"), "true") == 0)
    {
      set_error (msg, 400, "invalid_query", "parseIoAsJson is no longer supported; input and output are returned as raw strings");
      return;
    }
  if (!time_param (query, "fromStartTime", G_MININT64, &from) || !time_param (query, "toStartTime", G_MAXINT64, &to))
    {
      set_error (msg, 400, "invalid_query", "fromStartTime and toStartTime must be ISO 8601 datetimes");
      return;
    }
  if (param (query, "cursor") != NULL && !decode_cursor (param (query, "cursor"), &cursor_start, &cursor_id))
    {
      set_error (msg, 400, "invalid_query", "Invalid cursor");
      return;
    }

  /* Newest first: walk down from the window's end, or from the cursor. */
  filter_init (&filter, self, query);
  base = filter.base;
  low = lower_bound (base, from, FALSE);
  high = to == G_MAXINT64 ? base->len : lower_bound (base, to, FALSE);
  if (cursor_id != NULL)
    high = MIN (high, lower_bound_id (base, cursor_start, cursor_id));
  for (guint i = high; i > low && page->len <= limit; i--)
    {
      StoredObservation *observation = g_ptr_array_index (base, i - 1);

      if (filter_matches (&filter, observation))
        g_ptr_array_add (page, observation);
    }
  /* A cursor only when there is more. */
  if (page->len > limit)
    {
      g_ptr_array_set_size (page, (guint) limit);
      next = encode_cursor (g_ptr_array_index (page, page->len - 1));
    }

  mt_json_writer_begin_object (writer);
  mt_json_writer_member (writer, "data");
  mt_json_writer_begin_array (writer);
  for (guint i = 0; i < page->len; i++)
    {
      StoredObservation *observation = g_ptr_array_index (page, i);

      g_ptr_array_add (handed, observation->id);
      write_cached (self, writer, &observation->v2, groups, write_any_observation_v2, observation, groups);
    }
  mt_json_writer_end_array (writer);
  mt_json_writer_member (writer, "meta");
  mt_json_writer_begin_object (writer);
  write_member_string (writer, "cursor", next);
  mt_json_writer_end_object (writer);
  mt_json_writer_end_object (writer);
  set_json (msg, 200, json);
}

static void
write_meta_v1 (MtJsonWriter *writer,
               guint64       page,
               guint64       limit,
               guint         total)
{
  mt_json_writer_member (writer, "meta");
  mt_json_writer_begin_object (writer);
  mt_json_writer_member (writer, "page");
  mt_json_writer_int (writer, (gint64) page);
  mt_json_writer_member (writer, "limit");
  mt_json_writer_int (writer, (gint64) limit);
  mt_json_writer_member (writer, "totalItems");
  mt_json_writer_int (writer, total);
  mt_json_writer_member (writer, "totalPages");
  mt_json_writer_int (writer, (gint64) ((total + limit - 1) / limit));
  mt_json_writer_end_object (writer);
}

static gboolean
v1_paging (SoupServerMessage *msg,
           GHashTable        *query,
           guint64           *page,
           guint64           *limit)
{
  if (!int_param (query, "page", 1, G_MAXINT32, 1, page))
    {
      set_error (msg, 400, "invalid_query", "page must be a positive integer");
      return FALSE;
    }
  if (!int_param (query, "limit", 1, V1_MAX_LIMIT, DEFAULT_LIMIT, limit))
    {
      set_error (msg, 400, "invalid_query", "limit must be an integer between 1 and 100");
      return FALSE;
    }
  return TRUE;
}

static void
serve_v1_traces (MtLoopbackLangfuse *self,
                 SoupServerMessage  *msg,
                 GHashTable         *query,
                 GPtrArray          *handed)
{
  g_autoptr(GString) json = g_string_new (NULL);
  g_autoptr(MtJsonWriter) writer = mt_json_writer_new (json, FALSE);
  g_autoptr(GPtrArray) selected = NULL;
  const char *order = param (query, "orderBy");
  const char *user_id = param (query, "userId");
  guint groups = ~0u;
  guint64 page, limit, first;
  gint64 from, to;
  gboolean ascending;
  guint low, high, total;

  if (!v1_paging (msg, query, &page, &limit))
    return;
  if (param (query, "fields") != NULL &&
      (!self->v1_fields || !parse_groups (param (query, "fields"), v1_groups, &groups)))
    {
      set_error (msg, 400, "invalid_query", "Invalid request data");
      return;
    }
  if (order != NULL && strcmp (order, "timestamp.asc") != 0 && strcmp (order, "timestamp.desc") != 0)
    {
      set_error (msg, 400, "invalid_query", "orderBy must be [field].[asc/desc]");
      return;
    }
  ascending = g_strcmp0 (order, "timestamp.asc") == 0;
  if (!time_param (query, "fromTimestamp", G_MININT64, &from) || !time_param (query, "toTimestamp", G_MAXINT64, &to))
    {
      set_error (msg, 400, "invalid_query", "fromTimestamp and toTimestamp must be ISO 8601 datetimes");
      return;
    }

  low = lower_bound (self->traces, from, TRUE);
  high = to == G_MAXINT64 ? self->traces->len : lower_bound (self->traces, to, TRUE);
  if (user_id != NULL)
    {
      selected = g_ptr_array_new ();
      for (guint i = low; i < high; i++)
        if (g_strcmp0 (user_id, ((StoredTrace *) g_ptr_array_index (self->traces, i))->user_id) == 0)
          g_ptr_array_add (selected, g_ptr_array_index (self->traces, i));
    }
  total = selected != NULL ? selected->len : high - low;

  mt_json_writer_begin_object (writer);
  mt_json_writer_member (writer, "data");
  mt_json_writer_begin_array (writer);
  first = (page - 1) * limit;
  for (guint64 i = first; i < first + limit && i < total; i++)
    {
      guint k = (guint) (ascending ? i : total - 1 - i);

      StoredTrace *trace = selected != NULL ? g_ptr_array_index (selected, k) : g_ptr_array_index (self->traces, low + k);

      g_ptr_array_add (handed, trace->id);
      write_cached (self, writer, &trace->v1, groups, write_any_trace_v1, trace, groups);
    }
  mt_json_writer_end_array (writer);
  write_meta_v1 (writer, page, limit, total);
  mt_json_writer_end_object (writer);
  set_json (msg, 200, json);
}

static void
serve_v1_observations (MtLoopbackLangfuse *self,
                       SoupServerMessage  *msg,
                       GHashTable         *query,
                       GPtrArray          *handed)
{
  g_autoptr(GString) json = g_string_new (NULL);
  g_autoptr(MtJsonWriter) writer = mt_json_writer_new (json, FALSE);
  g_autoptr(GPtrArray) selected = NULL;
  Filter filter;
  guint64 page, limit, first;
  gint64 from, to;
  guint low, high, total;

  if (!v1_paging (msg, query, &page, &limit))
    return;
  if (!time_param (query, "fromStartTime", G_MININT64, &from) || !time_param (query, "toStartTime", G_MAXINT64, &to))
    {
      set_error (msg, 400, "invalid_query", "fromStartTime and toStartTime must be ISO 8601 datetimes");
      return;
    }

  /* Newest first; counted directly when the order holds just what the
   * filters pick. */
  filter_init (&filter, self, query);
  low = lower_bound (filter.base, from, FALSE);
  high = to == G_MAXINT64 ? filter.base->len : lower_bound (filter.base, to, FALSE);
  if (!filter.exact)
    {
      selected = g_ptr_array_new ();
      for (guint i = high; i > low; i--)
        if (filter_matches (&filter, g_ptr_array_index (filter.base, i - 1)))
          g_ptr_array_add (selected, g_ptr_array_index (filter.base, i - 1));
    }
  total = selected != NULL ? selected->len : high - low;

  mt_json_writer_begin_object (writer);
  mt_json_writer_member (writer, "data");
  mt_json_writer_begin_array (writer);
  first = (page - 1) * limit;
  for (guint64 i = first; i < first + limit && i < total; i++)
    {
      StoredObservation *observation = selected != NULL ? g_ptr_array_index (selected, i)
                                                      : g_ptr_array_index (filter.base, high - 1 - i);

      g_ptr_array_add (handed, observation->id);
      write_cached (self, writer, &observation->v1, 0, write_any_observation_v1, observation, 0);
    }
  mt_json_writer_end_array (writer);
  write_meta_v1 (writer, page, limit, total);
  mt_json_writer_end_object (writer);
  set_json (msg, 200, json);
}

/* Rate limit */

/* "Mon Nov 23 2026 10:00:00 GMT+0000 (Coordinated Universal Time)" */
/* Requests */

static gboolean
authorized (MtLoopbackLangfuse *self,
            SoupServerMessage  *msg)
{
  const char *given = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                    "Authorization");

  return given != NULL && strcmp (given, self->authorization) == 0;
}

/* Counts a page and its items as served, to see any handed out twice. */
static void
note_served (MtLoopbackLangfuse *self,
             SoupServerMessage  *msg,
             const char         *path,
             GPtrArray          *handed)
{
  const char *raw = g_uri_get_query (soup_server_message_get_uri (msg));
  char *key = g_strconcat (path, "?", raw != NULL ? raw : "", NULL);

  if (!g_hash_table_add (self->served, key))
    self->repeated_pages++;
  for (guint i = 0; i < handed->len; i++)
    if (!g_hash_table_add (self->served_items, g_strdup (g_ptr_array_index (handed, i))))
      self->repeated_items++;
}

static void
handle (SoupServer        *server,
        SoupServerMessage *msg,
        const char        *path,
        GHashTable        *query,
        gpointer           data)
{
  MtLoopbackLangfuse *self = data;
  const char *raw_query = g_uri_get_query (soup_server_message_get_uri (msg));
  guint wait_ms = self->latency_ms;
  gboolean v2 = strcmp (path, V2_PATH) == 0;
  gboolean v1_traces = strcmp (path, V1_TRACES_PATH) == 0;
  gboolean v1_observations = strcmp (path, V1_OBSERVATIONS_PATH) == 0;
  g_autoptr(GPtrArray) handed = g_ptr_array_new ();
  gboolean served = FALSE;

  mt_loopback_server_arrived (self->server, msg);
  g_ptr_array_add (self->log, g_strconcat (path, raw_query != NULL ? "?" : "", raw_query, NULL));

  if (mt_loopback_server_run_arrived (self->server, msg, path, &wait_ms))
    return;

  if (strcmp (soup_server_message_get_method (msg), SOUP_METHOD_GET) != 0)
    set_error (msg, 405, "method_not_allowed", "Method not allowed");
  else if ((v2 && !self->v2) || ((v1_traces || v1_observations) && !self->v1) ||
           (!v2 && !v1_traces && !v1_observations))
    /* A route the server does not have: Next.js's own page. */
    mt_loopback_server_answer_text (msg, 404, "text/html", "<!DOCTYPE html><html><body><h1>404</h1>This page could not be found.</body></html>");
  else if (!authorized (self, msg))
    set_error (msg, 401, "authentication_failed", "Invalid credentials. Confirm that you've configured the correct host.");
  else if (!mt_loopback_server_run_admitted (self->server, msg, path))
    {
      ensure_sorted (self);
      if (v2)
        serve_v2 (self, msg, query, handed);
      else if (v1_traces)
        serve_v1_traces (self, msg, query, handed);
      else
        serve_v1_observations (self, msg, query, handed);
      served = soup_server_message_get_status (msg) == 200;
    }

  /* An answer a hook spoilt does not count as served. */
  if (!mt_loopback_server_run_answered (self->server, msg, path) && served)
    note_served (self, msg, path, handed);
  mt_loopback_server_delay (self->server, msg, wait_ms);
}

/* Setup */

MtLoopbackLangfuse *
mt_loopback_langfuse_new (const char *public_key,
                          const char *secret_key)
{
  MtLoopbackLangfuse *self = g_object_new (MT_TYPE_LOOPBACK_LANGFUSE, NULL);
  g_autofree char *pair = g_strconcat (public_key, ":", secret_key, NULL);
  g_autofree char *encoded = g_base64_encode ((const guchar *) pair, strlen (pair));

  self->authorization = g_strconcat ("Basic ", encoded, NULL);
  self->server = mt_loopback_server_new ("Langfuse", handle, self);
  return self;
}

MtLoopbackServer *
mt_loopback_langfuse_get_server (MtLoopbackLangfuse *self)
{
  return self->server;
}

void
mt_loopback_langfuse_answer_error (SoupServerMessage *msg,
                                   guint              status,
                                   const char        *code,
                                   const char        *message)
{
  set_error (msg, status, code, message);
}

const char *
mt_loopback_langfuse_get_base_url (MtLoopbackLangfuse *self)
{
  return mt_loopback_server_get_url (self->server);
}

const char *
mt_loopback_langfuse_get_project_id (MtLoopbackLangfuse *self)
{
  return self->project_id;
}

void
mt_loopback_langfuse_set_apis (MtLoopbackLangfuse *self,
                               gboolean            v1,
                               gboolean            v2)
{
  self->v1 = v1;
  self->v2 = v2;
}

void
mt_loopback_langfuse_set_v1_fields (MtLoopbackLangfuse *self,
                                    gboolean            accepted)
{
  self->v1_fields = accepted;
}

static StoredObservation *
observation_new (StoredTrace *trace,
                 const char  *id,
                 const char  *type,
                 gint64       start,
                 const char  *parent_id,
                 const char  *name)
{
  StoredObservation *observation = g_new0 (StoredObservation, 1);

  observation->id = g_strdup (id);
  observation->trace = trace;
  observation->type = g_strdup (type);
  observation->start = start;
  observation->parent_id = g_strdup (parent_id);
  observation->name = g_strdup (name);
  observation->prompt_version = -1;
  observation->cost = NAN;
  return observation;
}

void
mt_loopback_langfuse_add_trace (MtLoopbackLangfuse *self,
                                const char         *id,
                                gint64              timestamp,
                                const char         *name,
                                const char         *user_id,
                                const char         *session_id,
                                const char         *input,
                                const char         *output)
{
  StoredTrace *trace = g_new0 (StoredTrace, 1);
  g_autofree char *root_id = g_strconcat (id, "-root", NULL);
  StoredObservation *root;

  g_return_if_fail (!g_hash_table_contains (self->trace_ids, id));

  trace->id = g_strdup (id);
  trace->timestamp = timestamp;
  trace->name = g_strdup (name);
  trace->user_id = g_strdup (user_id);
  trace->session_id = g_strdup (session_id);
  trace->observations = g_ptr_array_new ();
  g_ptr_array_add (self->traces, trace);
  g_hash_table_insert (self->trace_ids, trace->id, trace);

  root = observation_new (trace, root_id, "SPAN", timestamp, NULL, name);
  payload_set (&root->input, input);
  payload_set (&root->output, output);
  g_ptr_array_add (trace->observations, root);
  g_ptr_array_add (self->observations, root);
  self->sorted = FALSE;
  self->generation++;
}

void
mt_loopback_langfuse_add_observation (MtLoopbackLangfuse *self,
                                      const char         *trace_id,
                                      const char         *id,
                                      const char         *type,
                                      gint64              start,
                                      const char         *parent_id,
                                      const char         *model,
                                      const char         *prompt_name,
                                      int                 prompt_version,
                                      const char         *input,
                                      double              cost)
{
  StoredTrace *trace = g_hash_table_lookup (self->trace_ids, trace_id);
  StoredObservation *observation;

  g_return_if_fail (trace != NULL);

  observation = observation_new (trace, id, type, start, parent_id, type);
  observation->model = g_strdup (model);
  observation->prompt_name = g_strdup (prompt_name);
  observation->prompt_version = prompt_version;
  observation->cost = cost;
  payload_set (&observation->input, input);
  payload_set (&observation->output, model != NULL ? "{\"role\":\"assistant\",\"content\":\"ok\"}" : NULL);
  g_ptr_array_add (trace->observations, observation);
  g_ptr_array_add (self->observations, observation);
  self->sorted = FALSE;
  self->generation++;
}

void
mt_loopback_langfuse_add_orphan (MtLoopbackLangfuse *self,
                                 const char         *id,
                                 const char         *type,
                                 gint64              start)
{
  StoredObservation *observation = observation_new (NULL, id, type, start, NULL, type);

  g_ptr_array_add (self->observations, observation);
  self->sorted = FALSE;
  self->generation++;
}

void
mt_loopback_langfuse_set_latency_ms (MtLoopbackLangfuse *self,
                                     guint               latency_ms)
{
  self->latency_ms = latency_ms;
}

guint
mt_loopback_langfuse_get_requests (MtLoopbackLangfuse *self)
{
  return mt_loopback_server_get_requests (self->server);
}

guint
mt_loopback_langfuse_get_max_in_flight (MtLoopbackLangfuse *self)
{
  return mt_loopback_server_get_max_in_flight (self->server);
}

guint
mt_loopback_langfuse_get_repeated_items (MtLoopbackLangfuse *self)
{
  return self->repeated_items;
}

guint
mt_loopback_langfuse_get_repeated_pages (MtLoopbackLangfuse *self)
{
  return self->repeated_pages;
}

GPtrArray *
mt_loopback_langfuse_get_log (MtLoopbackLangfuse *self)
{
  return self->log;
}

void
mt_loopback_langfuse_reset_counters (MtLoopbackLangfuse *self)
{
  mt_loopback_server_reset_counters (self->server);
  self->repeated_pages = 0;
  g_hash_table_remove_all (self->served);
  self->repeated_items = 0;
  g_hash_table_remove_all (self->served_items);
  g_ptr_array_set_size (self->log, 0);
}
