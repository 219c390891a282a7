/* mt-trace.c — one Langfuse trace */

#include "config.h"

#include <math.h>

#include "mt-core-private.h"
#include "mt-json-scan.h"
#include "mt-time.h"
#include "mt-trace.h"

G_DEFINE_FINAL_TYPE (MtTrace, mt_trace, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_TIMESTAMP,
  PROP_USER_ID,
  PROP_SESSION_ID,
  PROP_INPUT,
  PROP_OUTPUT,
  PROP_MODEL_NAME,
  PROP_PROMPT,
  PROP_COST,
  PROP_TOTAL_COST,
  PROP_HTML_URL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

gboolean
mt_set_string (char       **dest,
               const char  *src)
{
  if (g_strcmp0 (*dest, src) == 0)
    return FALSE;
  g_free (*dest);
  *dest = g_strdup (src);
  return TRUE;
}

static void
json_value_clear (MtJsonValue *value)
{
  g_clear_pointer (&value->node, json_node_unref);
  g_clear_pointer (&value->text, g_free);
  value->length = 0;
}

static gboolean
set_node (MtJsonValue *dest,
          JsonNode    *src)
{
  if (dest->text == NULL && dest->node == src)
    return FALSE;
  if (src != NULL)
    json_node_ref (src);
  json_value_clear (dest);
  dest->node = src;
  return TRUE;
}

/* The tree of a value, built from its text on first asking; the first of
 * two threads asking at once gives its tree to both. */
static JsonNode *
json_value_get_node (MtJsonValue *value)
{
  JsonNode *node = g_atomic_pointer_get (&value->node);

  if (node != NULL || value->text == NULL)
    return node;
  node = mt_json_parse_text (value->text, value->length, G_MAXUINT);
  g_return_val_if_fail (node != NULL, NULL);
  if (!g_atomic_pointer_compare_and_exchange (&value->node, NULL, node))
    {
      json_node_unref (node);
      node = g_atomic_pointer_get (&value->node);
    }
  return node;
}

static void
json_value_take_text (MtJsonValue *value,
                      char        *text,
                      gsize        length)
{
  json_value_clear (value);
  value->text = text;
  value->length = length;
}

/* NaN means unknown, so two NaNs are the same value. */
static gboolean
set_cost (double *dest,
          double  src)
{
  if (*dest == src || (isnan (*dest) && isnan (src)))
    return FALSE;
  *dest = src;
  return TRUE;
}

static void
mt_trace_finalize (GObject *object)
{
  MtTrace *self = MT_TRACE (object);

  g_free (self->id);
  g_free (self->name);
  g_free (self->user_id);
  g_free (self->session_id);
  g_free (self->model_name);
  g_free (self->prompt);
  g_free (self->html_url);
  json_value_clear (&self->input);
  json_value_clear (&self->output);

  G_OBJECT_CLASS (mt_trace_parent_class)->finalize (object);
}

static void
mt_trace_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  MtTrace *self = MT_TRACE (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_TIMESTAMP:
      g_value_set_int64 (value, self->timestamp);
      break;
    case PROP_USER_ID:
      g_value_set_string (value, self->user_id);
      break;
    case PROP_SESSION_ID:
      g_value_set_string (value, self->session_id);
      break;
    case PROP_INPUT:
      g_value_set_boxed (value, json_value_get_node (&self->input));
      break;
    case PROP_OUTPUT:
      g_value_set_boxed (value, json_value_get_node (&self->output));
      break;
    case PROP_MODEL_NAME:
      g_value_set_string (value, self->model_name);
      break;
    case PROP_PROMPT:
      g_value_set_string (value, self->prompt);
      break;
    case PROP_COST:
      g_value_set_double (value, self->cost);
      break;
    case PROP_TOTAL_COST:
      g_value_set_double (value, self->total_cost);
      break;
    case PROP_HTML_URL:
      g_value_set_string (value, self->html_url);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_trace_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  MtTrace *self = MT_TRACE (object);

  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_dup_string (value);
      break;
    case PROP_NAME:
      mt_trace_set_name (self, g_value_get_string (value));
      break;
    case PROP_TIMESTAMP:
      mt_trace_set_timestamp (self, g_value_get_int64 (value));
      break;
    case PROP_USER_ID:
      mt_trace_set_user_id (self, g_value_get_string (value));
      break;
    case PROP_SESSION_ID:
      mt_trace_set_session_id (self, g_value_get_string (value));
      break;
    case PROP_INPUT:
      mt_trace_set_input (self, g_value_get_boxed (value));
      break;
    case PROP_OUTPUT:
      mt_trace_set_output (self, g_value_get_boxed (value));
      break;
    case PROP_MODEL_NAME:
      mt_trace_set_model_name (self, g_value_get_string (value));
      break;
    case PROP_PROMPT:
      mt_trace_set_prompt (self, g_value_get_string (value));
      break;
    case PROP_COST:
      mt_trace_set_cost (self, g_value_get_double (value));
      break;
    case PROP_TOTAL_COST:
      mt_trace_set_total_cost (self, g_value_get_double (value));
      break;
    case PROP_HTML_URL:
      mt_trace_set_html_url (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_trace_class_init (MtTraceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = mt_trace_finalize;
  object_class->get_property = mt_trace_get_property;
  object_class->set_property = mt_trace_set_property;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, rw);
  properties[PROP_TIMESTAMP] =
    g_param_spec_int64 ("timestamp", NULL, NULL, G_MININT64, G_MAXINT64, MT_TIME_NONE, rw);
  properties[PROP_USER_ID] = g_param_spec_string ("user-id", NULL, NULL, NULL, rw);
  properties[PROP_SESSION_ID] = g_param_spec_string ("session-id", NULL, NULL, NULL, rw);
  properties[PROP_INPUT] = g_param_spec_boxed ("input", NULL, NULL, JSON_TYPE_NODE, rw);
  properties[PROP_OUTPUT] = g_param_spec_boxed ("output", NULL, NULL, JSON_TYPE_NODE, rw);
  properties[PROP_MODEL_NAME] = g_param_spec_string ("model-name", NULL, NULL, NULL, rw);
  properties[PROP_PROMPT] = g_param_spec_string ("prompt", NULL, NULL, NULL, rw);
  properties[PROP_COST] =
    g_param_spec_double ("cost", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0.0, rw);
  properties[PROP_TOTAL_COST] =
    g_param_spec_double ("total-cost", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0.0, rw);
  properties[PROP_HTML_URL] = g_param_spec_string ("html-url", NULL, NULL, NULL, rw);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_trace_init (MtTrace *self)
{
  self->timestamp = MT_TIME_NONE;
  self->cost = NAN;
  self->total_cost = NAN;
}

MtTrace *
mt_trace_new (const char *id,
              const char *user_id,
              gint64      timestamp)
{
  MtTrace *self;

  g_return_val_if_fail (id != NULL, NULL);

  /* Set fields directly: a month of data is a million of these. */
  self = g_object_new (MT_TYPE_TRACE, NULL);
  self->id = g_strdup (id);
  self->user_id = g_strdup (user_id);
  self->timestamp = timestamp;
  return self;
}

const char *
mt_trace_get_id (MtTrace *self)
{
  g_return_val_if_fail (MT_IS_TRACE (self), NULL);
  return self->id;
}

#define STRING_ACCESSORS(field, PROP)                                 \
  const char *                                                        \
  mt_trace_get_##field (MtTrace *self)                                \
  {                                                                   \
    g_return_val_if_fail (MT_IS_TRACE (self), NULL);                  \
    return self->field;                                               \
  }                                                                   \
  void                                                                \
  mt_trace_set_##field (MtTrace *self, const char *value)             \
  {                                                                   \
    g_return_if_fail (MT_IS_TRACE (self));                            \
    if (mt_set_string (&self->field, value))                          \
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP]);   \
  }

STRING_ACCESSORS (name, PROP_NAME)
STRING_ACCESSORS (user_id, PROP_USER_ID)
STRING_ACCESSORS (session_id, PROP_SESSION_ID)
STRING_ACCESSORS (model_name, PROP_MODEL_NAME)
STRING_ACCESSORS (prompt, PROP_PROMPT)
STRING_ACCESSORS (html_url, PROP_HTML_URL)

gint64
mt_trace_get_timestamp (MtTrace *self)
{
  g_return_val_if_fail (MT_IS_TRACE (self), MT_TIME_NONE);
  return self->timestamp;
}

void
mt_trace_set_timestamp (MtTrace *self,
                        gint64   timestamp)
{
  g_return_if_fail (MT_IS_TRACE (self));
  if (self->timestamp == timestamp)
    return;
  self->timestamp = timestamp;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMESTAMP]);
}

JsonNode *
mt_trace_get_input (MtTrace *self)
{
  g_return_val_if_fail (MT_IS_TRACE (self), NULL);
  return json_value_get_node (&self->input);
}

void
mt_trace_set_input (MtTrace  *self,
                    JsonNode *input)
{
  g_return_if_fail (MT_IS_TRACE (self));
  if (set_node (&self->input, input))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INPUT]);
}

JsonNode *
mt_trace_get_output (MtTrace *self)
{
  g_return_val_if_fail (MT_IS_TRACE (self), NULL);
  return json_value_get_node (&self->output);
}

void
mt_trace_set_output (MtTrace  *self,
                     JsonNode *output)
{
  g_return_if_fail (MT_IS_TRACE (self));
  if (set_node (&self->output, output))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OUTPUT]);
}

void
mt_trace_take_input_text (MtTrace *self,
                          char    *text,
                          gsize    length)
{
  g_return_if_fail (MT_IS_TRACE (self));
  g_return_if_fail (text != NULL);
  json_value_take_text (&self->input, text, length);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INPUT]);
}

void
mt_trace_take_output_text (MtTrace *self,
                           char    *text,
                           gsize    length)
{
  g_return_if_fail (MT_IS_TRACE (self));
  g_return_if_fail (text != NULL);
  json_value_take_text (&self->output, text, length);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OUTPUT]);
}

double
mt_trace_get_cost (MtTrace *self)
{
  g_return_val_if_fail (MT_IS_TRACE (self), NAN);
  return self->cost;
}

void
mt_trace_set_cost (MtTrace *self,
                   double   cost)
{
  g_return_if_fail (MT_IS_TRACE (self));
  if (set_cost (&self->cost, cost))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COST]);
}

double
mt_trace_get_total_cost (MtTrace *self)
{
  g_return_val_if_fail (MT_IS_TRACE (self), NAN);
  return self->total_cost;
}

void
mt_trace_set_total_cost (MtTrace *self,
                         double   total_cost)
{
  g_return_if_fail (MT_IS_TRACE (self));
  if (set_cost (&self->total_cost, total_cost))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL_COST]);
}
