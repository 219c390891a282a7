/* mt-langfuse-client.c — every trace of a time window, from either API */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "mt-http.h"
#include "mt-langfuse-client.h"
#include "mt-rate-limit.h"
#include "mt-sigv4.h"
#include "mt-time.h"
#include "mt-trace.h"

G_DEFINE_QUARK (mt-langfuse-error-quark, mt_langfuse_error)

/* A page of 1000 observations with their inputs can be large; far larger
 * is not Langfuse. */
#define MAX_PAGE_BODY (256 * 1024 * 1024)
/* Deeper JSON than this is an attack, not an LLM call. */
#define MAX_JSON_DEPTH 512
/* Generations start after their trace's root: those of a trace near the
 * window's end may start after it. */
#define GENERATION_MARGIN_MS (60 * 60 * 1000)
/* A trace may have several roots; the earliest is the trace's. Roots are
 * read from this long before the window, so that a trace whose first root
 * is just before it is not taken for one in it. */
#define ROOT_MARGIN_MS (60 * 60 * 1000)
/* Longer than this, and the user had better come back later. */
#define MAX_RETRY_AFTER_MS (10 * 60 * 1000)
#define V2_LIMIT 1000
#define V1_LIMIT 100

const char *
mt_langfuse_api_to_string (MtLangfuseApi api)
{
  switch (api)
    {
    case MT_LANGFUSE_API_V2:
      return "v2";
    case MT_LANGFUSE_API_V1:
      return "v1";
    case MT_LANGFUSE_API_AUTO:
    default:
      return "auto";
    }
}

gboolean
mt_langfuse_api_from_string (const char    *text,
                             MtLangfuseApi *api)
{
  if (g_strcmp0 (text, "auto") == 0)
    *api = MT_LANGFUSE_API_AUTO;
  else if (g_strcmp0 (text, "v2") == 0)
    *api = MT_LANGFUSE_API_V2;
  else if (g_strcmp0 (text, "v1") == 0)
    *api = MT_LANGFUSE_API_V1;
  else
    return FALSE;
  return TRUE;
}

#define DEFAULT_BASE_URL "https://cloud.langfuse.com"

/* Frees a secret, and the memory it stood in. */
static void
wipe_string (char *text)
{
  if (text != NULL)
    memset (text, 0, strlen (text));
  g_free (text);
}

static const char *
getenv_nonempty (const char * const *environ,
                 const char         *name)
{
  const char *value = g_environ_getenv ((char **) environ, name);

  return value != NULL && value[0] != '\0' ? value : NULL;
}

void
mt_langfuse_settings_free (MtLangfuseSettings *settings)
{
  if (settings == NULL)
    return;
  g_free (settings->public_key);
  wipe_string (settings->secret_key);
  g_free (settings->base_url);
  g_free (settings->base_url_source);
  g_free (settings);
}

MtLangfuseSettings *
mt_langfuse_settings_load (const char * const  *environ,
                           GError             **error)
{
  g_auto(GStrv) own_environ = NULL;
  g_autoptr(MtLangfuseSettings) settings = g_new0 (MtLangfuseSettings, 1);
  const char *names[] = { "LANGFUSE_BASE_URL", "LANGFUSE_HOST" };
  const char *value;

  if (environ == NULL)
    environ = (const char * const *) (own_environ = g_get_environ ());

  for (guint i = 0; i < G_N_ELEMENTS (names) && settings->base_url == NULL; i++)
    if ((value = getenv_nonempty (environ, names[i])) != NULL)
      {
        settings->base_url = g_strdup (value);
        settings->base_url_source = g_strdup (names[i]);
      }
  if (settings->base_url == NULL)
    {
      settings->base_url = g_strdup (DEFAULT_BASE_URL);
      settings->base_url_source = g_strdup ("default");
    }

  value = getenv_nonempty (environ, "MEALTRACE_LANGFUSE_API");
  if (value != NULL && !mt_langfuse_api_from_string (value, &settings->api))
    {
      g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_INVALID,
                   _("MEALTRACE_LANGFUSE_API is “%s”; it may be auto, v2 or v1."), value);
      return NULL;
    }

  /* Spaces around a key are a copying slip, never part of it. */
  settings->public_key = g_strdup (getenv_nonempty (environ, "LANGFUSE_PUBLIC_KEY"));
  settings->secret_key = g_strdup (getenv_nonempty (environ, "LANGFUSE_SECRET_KEY"));
  if (settings->public_key != NULL && g_strstrip (settings->public_key)[0] == '\0')
    g_clear_pointer (&settings->public_key, g_free);
  if (settings->secret_key != NULL && g_strstrip (settings->secret_key)[0] == '\0')
    g_clear_pointer (&settings->secret_key, wipe_string);
  if (settings->public_key == NULL || settings->secret_key == NULL)
    {
      g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NOT_CONFIGURED,
                   _("%s is not set. Set it in the environment or in a .env file in the working directory; Langfuse shows the keys under Project settings → API keys."),
                   settings->public_key == NULL ? "LANGFUSE_PUBLIC_KEY" : "LANGFUSE_SECRET_KEY");
      return NULL;
    }
  return g_steal_pointer (&settings);
}

struct _MtLangfuseClient
{
  GObject parent_instance;

  char *base_url;      /* without a trailing slash */
  char *authorization; /* "Basic …" */
  char *secret_key;    /* only to keep it out of messages */
  MtHttp *http;
  MtRateLimit *rate;
  MtLangfuseApi detected;
  gboolean slicing;
  gboolean rate_limited;
  guint pages;
  guint items;
};

G_DEFINE_FINAL_TYPE (MtLangfuseClient, mt_langfuse_client, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_BASE_URL,
  PROP_REQUESTS,
  PROP_RETRIES,
  PROP_PAGES,
  PROP_ITEMS,
  PROP_RATE_LIMITED,
  N_PROPS
};

enum {
  USER_FOUND,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
mt_langfuse_client_finalize (GObject *object)
{
  MtLangfuseClient *self = MT_LANGFUSE_CLIENT (object);

  g_free (self->base_url);
  wipe_string (self->authorization);
  wipe_string (self->secret_key);
  g_clear_object (&self->http);
  g_clear_pointer (&self->rate, mt_rate_limit_free);

  G_OBJECT_CLASS (mt_langfuse_client_parent_class)->finalize (object);
}

static void
mt_langfuse_client_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  MtLangfuseClient *self = MT_LANGFUSE_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      g_value_set_string (value, self->base_url);
      break;
    case PROP_REQUESTS:
      g_value_set_uint (value, mt_http_get_requests (self->http));
      break;
    case PROP_RETRIES:
      g_value_set_uint (value, mt_http_get_retries (self->http));
      break;
    case PROP_PAGES:
      g_value_set_uint (value, self->pages);
      break;
    case PROP_ITEMS:
      g_value_set_uint (value, self->items);
      break;
    case PROP_RATE_LIMITED:
      g_value_set_boolean (value, self->rate_limited);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_langfuse_client_class_init (MtLangfuseClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = mt_langfuse_client_finalize;
  object_class->get_property = mt_langfuse_client_get_property;

  properties[PROP_BASE_URL] = g_param_spec_string ("base-url", NULL, NULL, NULL, ro);
  properties[PROP_REQUESTS] = g_param_spec_uint ("requests", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_RETRIES] = g_param_spec_uint ("retries", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_PAGES] = g_param_spec_uint ("pages", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_ITEMS] = g_param_spec_uint ("items", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_RATE_LIMITED] = g_param_spec_boolean ("rate-limited", NULL, NULL, FALSE, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* A user id seen for the first time in a page of traces. */
  signals[USER_FOUND] = g_signal_new ("user-found", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                      0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
forward_notify (GObject    *http,
                GParamSpec *pspec,
                gpointer    data)
{
  GParamSpec *own = g_object_class_find_property (G_OBJECT_GET_CLASS (data), pspec->name);

  if (own != NULL)
    g_object_notify_by_pspec (data, own);
}

static void
set_rate_limited (MtLangfuseClient *self,
                  gboolean          rate_limited)
{
  if (self->rate_limited == rate_limited)
    return;
  self->rate_limited = rate_limited;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RATE_LIMITED]);
}

/* The pace: a request goes out only while the server's window has room. */
static guint
rate_gate (gpointer data)
{
  MtLangfuseClient *self = data;
  gint64 wait = mt_rate_limit_admit (self->rate, g_get_monotonic_time ());

  set_rate_limited (self, wait > 0);
  if (wait <= 0)
    return 0;
  /* Rounded up, so as not to ask again a moment too early. */
  return (guint) MIN ((wait + 999) / 1000, G_MAXUINT32 - 1);
}

static void
mt_langfuse_client_init (MtLangfuseClient *self)
{
  self->slicing = TRUE;
  self->rate = mt_rate_limit_new ();
  self->http = mt_http_new ();
  mt_http_set_max_in_flight (self->http, 8);
  mt_http_set_gate (self->http, rate_gate, self);
  g_signal_connect_object (self->http, "notify", G_CALLBACK (forward_notify), self, 0);
}

MtLangfuseClient *
mt_langfuse_client_new (const char  *base_url,
                        const char  *public_key,
                        const char  *secret_key,
                        GError     **error)
{
  g_autoptr(MtLangfuseClient) self = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autofree char *pair = NULL;
  g_autofree char *encoded = NULL;
  const char *scheme;

  g_return_val_if_fail (public_key != NULL && secret_key != NULL, NULL);

  uri = base_url != NULL ? g_uri_parse (base_url, G_URI_FLAGS_ENCODED, NULL) : NULL;
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || scheme == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
      g_uri_get_query (uri) != NULL || g_uri_get_userinfo (uri) != NULL)
    {
      g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_INVALID,
                   _("“%s” is not a Langfuse URL. Set LANGFUSE_BASE_URL to one such as https://cloud.langfuse.com."),
                   base_url != NULL ? base_url : "");
      return NULL;
    }

  self = g_object_new (MT_TYPE_LANGFUSE_CLIENT, NULL);
  self->base_url = g_strdup (base_url);
  while (g_str_has_suffix (self->base_url, "/"))
    self->base_url[strlen (self->base_url) - 1] = '\0';
  pair = g_strconcat (public_key, ":", secret_key, NULL);
  encoded = g_base64_encode ((const guchar *) pair, strlen (pair));
  self->authorization = g_strconcat ("Basic ", encoded, NULL);
  self->secret_key = g_strdup (secret_key);
  memset (pair, 0, strlen (pair));
  memset (encoded, 0, strlen (encoded));
  return g_steal_pointer (&self);
}

const char *
mt_langfuse_client_get_base_url (MtLangfuseClient *self)
{
  g_return_val_if_fail (MT_IS_LANGFUSE_CLIENT (self), NULL);
  return self->base_url;
}

MtLangfuseApi
mt_langfuse_client_get_detected_api (MtLangfuseClient *self)
{
  g_return_val_if_fail (MT_IS_LANGFUSE_CLIENT (self), MT_LANGFUSE_API_AUTO);
  return self->detected;
}

void
mt_langfuse_client_set_max_in_flight (MtLangfuseClient *self,
                                      guint             max_in_flight)
{
  g_return_if_fail (MT_IS_LANGFUSE_CLIENT (self));
  mt_http_set_max_in_flight (self->http, max_in_flight);
}

void
mt_langfuse_client_set_max_attempts (MtLangfuseClient *self,
                                     guint             max_attempts)
{
  g_return_if_fail (MT_IS_LANGFUSE_CLIENT (self));
  mt_http_set_max_attempts (self->http, max_attempts);
}

void
mt_langfuse_client_set_retry_delay_ms (MtLangfuseClient *self,
                                       guint             retry_delay_ms)
{
  g_return_if_fail (MT_IS_LANGFUSE_CLIENT (self));
  mt_http_set_retry_delay_ms (self->http, retry_delay_ms);
}

void
mt_langfuse_client_set_slicing (MtLangfuseClient *self,
                                gboolean          slicing)
{
  g_return_if_fail (MT_IS_LANGFUSE_CLIENT (self));
  self->slicing = slicing;
}

guint
mt_langfuse_client_get_requests (MtLangfuseClient *self)
{
  g_return_val_if_fail (MT_IS_LANGFUSE_CLIENT (self), 0);
  return mt_http_get_requests (self->http);
}

guint
mt_langfuse_client_get_retries (MtLangfuseClient *self)
{
  g_return_val_if_fail (MT_IS_LANGFUSE_CLIENT (self), 0);
  return mt_http_get_retries (self->http);
}

guint
mt_langfuse_client_get_pages (MtLangfuseClient *self)
{
  g_return_val_if_fail (MT_IS_LANGFUSE_CLIENT (self), 0);
  return self->pages;
}

guint
mt_langfuse_client_get_items (MtLangfuseClient *self)
{
  g_return_val_if_fail (MT_IS_LANGFUSE_CLIENT (self), 0);
  return self->items;
}

gboolean
mt_langfuse_client_get_rate_limited (MtLangfuseClient *self)
{
  g_return_val_if_fail (MT_IS_LANGFUSE_CLIENT (self), FALSE);
  return self->rate_limited;
}

/* The rate limit as the server states it, after every answer. */
static void
update_rate_limit (MtLangfuseClient   *self,
                   SoupMessageHeaders *headers,
                   guint               status,
                   gint64              retry_after_ms)
{
  guint in_flight = mt_http_get_in_flight (self->http);

  mt_rate_limit_observe (self->rate, g_get_monotonic_time (), g_get_real_time () / 1000, status,
                         soup_message_headers_get_one (headers, "X-RateLimit-Limit"),
                         soup_message_headers_get_one (headers, "X-RateLimit-Remaining"),
                         soup_message_headers_get_one (headers, "X-RateLimit-Reset"),
                         retry_after_ms, in_flight > 0 ? in_flight - 1 : 0);
}

/* Pages */

typedef enum {
  KIND_V2_ROOTS,
  KIND_V2_GENERATIONS,
  KIND_V1_TRACES,
  KIND_V1_GENERATIONS,
} Kind;

/* The request a walk repeats, for messages: "/api/public/v2/observations?type=GENERATION". */
static const char *
kind_request (Kind kind)
{
  switch (kind)
    {
    case KIND_V2_ROOTS:
      return "/api/public/v2/observations?isRootObservation=true";
    case KIND_V2_GENERATIONS:
      return "/api/public/v2/observations?type=GENERATION";
    case KIND_V1_TRACES:
      return "/api/public/traces";
    case KIND_V1_GENERATIONS:
    default:
      return "/api/public/observations?type=GENERATION";
    }
}

static const char *
kind_endpoint (Kind kind)
{
  switch (kind)
    {
    case KIND_V2_ROOTS:
    case KIND_V2_GENERATIONS:
      return "/api/public/v2/observations";
    case KIND_V1_TRACES:
      return "/api/public/traces";
    case KIND_V1_GENERATIONS:
    default:
      return "/api/public/observations";
    }
}

/* What a trace takes from its root observation (v2) or itself (v1). */
typedef struct {
  char *observation_id; /* v2 */
  char *trace_id;
  gint64 time;
  char *name;
  char *user_id;
  char *session_id;
  char *html_url;
  JsonNode *input;
  JsonNode *output;
  double total_cost;    /* v1's own figure; NaN otherwise */
} Root;

/* What a trace takes from one of its generations. */
typedef struct {
  char *id;
  char *trace_id;
  gint64 time;
  char *model;
  char *prompt;
  double cost;
} Generation;

static void
root_free (gpointer data)
{
  Root *root = data;

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

static void
generation_free (gpointer data)
{
  Generation *generation = data;

  if (generation == NULL)
    return;
  g_free (generation->id);
  g_free (generation->trace_id);
  g_free (generation->model);
  g_free (generation->prompt);
  g_free (generation);
}

typedef struct {
  GPtrArray *roots;       /* Root */
  GPtrArray *generations; /* Generation */
  char *cursor;           /* v2: the next page's */
  guint total_pages;      /* v1 */
  guint items;
  gint64 oldest;          /* v2: the earliest start time in the page */
  gboolean descending;    /* v2: whether the page runs newest first */
} Page;

static void
page_free (Page *page)
{
  g_ptr_array_unref (page->roots);
  g_ptr_array_unref (page->generations);
  g_free (page->cursor);
  g_free (page);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Page, page_free)

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

static const char *
member_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static double
member_number (JsonObject *object,
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
      if (g_strcmp0 (member_string (object, "role"), "system") != 0)
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
                  (piece = member_string (json_node_get_object (part), "text")) == NULL)
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
  const char *name = member_string (observation, "promptName");
  double version = member_number (observation, "promptVersion");
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
  const char *text = member_string (object, name);

  return text != NULL && mt_time_parse_iso8601 (text, NULL, out, NULL);
}

typedef struct {
  Kind kind;
  char *base_url;
  char *label;  /* "…/v2/observations, page 3": for errors */
} ParseJob;

static void
parse_job_free (gpointer data)
{
  ParseJob *job = data;

  g_free (job->base_url);
  g_free (job->label);
  g_free (job);
}

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

static gboolean
read_item (ParseJob    *job,
           JsonObject  *item,
           Page        *page,
           GError     **error)
{
  gint64 time;
  const char *id = member_string (item, "id");
  const char *trace_id = job->kind == KIND_V1_TRACES ? id : member_string (item, "traceId");

  if (id == NULL || trace_id == NULL ||
      !member_time (item, job->kind == KIND_V1_TRACES ? "timestamp" : "startTime", &time))
    return malformed (error, job, _("an item without its id, trace or time"));

  if (job->kind == KIND_V2_GENERATIONS || job->kind == KIND_V1_GENERATIONS)
    {
      Generation *generation = g_new0 (Generation, 1);

      generation->id = g_strdup (id);
      generation->trace_id = g_strdup (trace_id);
      generation->time = time;
      generation->model = g_strdup (member_string (item, job->kind == KIND_V2_GENERATIONS
                                                         ? "providedModelName" : "model"));
      generation->prompt = prompt_of (item, job->kind == KIND_V2_GENERATIONS);
      generation->cost = member_number (item, job->kind == KIND_V2_GENERATIONS
                                              ? "totalCost" : "calculatedTotalCost");
      g_ptr_array_add (page->generations, generation);
    }
  else
    {
      Root *root = g_new0 (Root, 1);

      root->observation_id = g_strdup (id);
      root->trace_id = g_strdup (trace_id);
      root->time = time;
      root->user_id = g_strdup (member_string (item, "userId"));
      root->session_id = g_strdup (member_string (item, "sessionId"));
      root->total_cost = NAN;
      if (job->kind == KIND_V2_ROOTS)
        {
          const char *project = member_string (item, "projectId");

          root->name = g_strdup (member_string (item, "traceName") != NULL ? member_string (item, "traceName")
                                                                           : member_string (item, "name"));
          root->input = node_from_raw (json_object_get_member (item, "input"));
          root->output = node_from_raw (json_object_get_member (item, "output"));
          if (project != NULL)
            root->html_url = trace_url (job->base_url, project, trace_id);
        }
      else
        {
          JsonNode *input = json_object_get_member (item, "input");
          JsonNode *output = json_object_get_member (item, "output");
          const char *path = member_string (item, "htmlPath");
          double total = member_number (item, "totalCost");

          root->name = g_strdup (member_string (item, "name"));
          root->input = input != NULL && !JSON_NODE_HOLDS_NULL (input) ? json_node_copy (input) : NULL;
          root->output = output != NULL && !JSON_NODE_HOLDS_NULL (output) ? json_node_copy (output) : NULL;
          if (path != NULL && path[0] == '/')
            root->html_url = g_strconcat (job->base_url, path, NULL);
          /* -1 is what v1 says when the figure was not asked for. */
          root->total_cost = !isnan (total) && total >= 0 ? total : NAN;
        }
      g_ptr_array_add (page->roots, root);
    }
  return TRUE;
}

/* Parses a page away from the main thread: a month of inputs and outputs
 * is a lot of JSON. */
static Page *
parse_page (ParseJob  *job,
            GBytes    *body,
            GError   **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(Page) page = g_new0 (Page, 1);
  g_autoptr(GError) local_error = NULL;
  gsize length = 0;
  const char *text = g_bytes_get_data (body, &length);
  JsonNode *root;
  JsonNode *data, *meta;
  JsonArray *items;
  gint64 previous = G_MAXINT64;

  page->roots = g_ptr_array_new_with_free_func (root_free);
  page->generations = g_ptr_array_new_with_free_func (generation_free);
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
      gint64 time;

      if (!JSON_NODE_HOLDS_OBJECT (item))
        return malformed (error, job, _("an item that is not an object")), NULL;
      if (!read_item (job, json_node_get_object (item), page, error))
        return NULL;
      time = job->kind == KIND_V2_GENERATIONS || job->kind == KIND_V1_GENERATIONS
             ? ((Generation *) g_ptr_array_index (page->generations, page->generations->len - 1))->time
             : ((Root *) g_ptr_array_index (page->roots, page->roots->len - 1))->time;
      page->descending &= time <= previous;
      previous = time;
      page->oldest = MIN (page->oldest, time);
    }
  page->items = json_array_get_length (items);

  if (job->kind == KIND_V2_ROOTS || job->kind == KIND_V2_GENERATIONS)
    {
      const char *cursor = member_string (json_node_get_object (meta), "cursor");

      page->cursor = cursor != NULL && cursor[0] != '\0' ? g_strdup (cursor) : NULL;
    }
  else
    {
      double total_pages = member_number (json_node_get_object (meta), "totalPages");

      if (isnan (total_pages) || total_pages < 0 || total_pages > 1e7)
        return malformed (error, job, _("no page count")), NULL;
      page->total_pages = (guint) total_pages;
    }
  return g_steal_pointer (&page);
}

static void
parse_in_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  ParseJob *job = task_data;
  GBytes *body = g_object_get_data (G_OBJECT (task), "body");
  GError *error = NULL;
  Page *page = parse_page (job, body, &error);

  if (page == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, page, (GDestroyNotify) page_free);
}

/* A fetch: every walk of every page, and what they found. */

typedef struct {
  MtLangfuseClient *client;
  gint64 from;
  gint64 to;
  MtLangfuseApi requested;
  MtLangfuseApi used;
  GCancellable *cancellable; /* ours: stops every walk at the first error */
  GCancellable *caller_cancellable;
  gulong caller_handler;
  guint pending;
  GError *error;
  GHashTable *roots;         /* trace id → Root */
  GHashTable *generations;   /* generation id → Generation */
  GHashTable *users;         /* user ids already announced */
  gboolean v1_fields;        /* whether the server takes v1's `fields` */
  gboolean generations_asked; /* v2: the generations' walk has begun */
} Fetch;

static void
fetch_free (gpointer data)
{
  Fetch *fetch = data;

  if (fetch->caller_cancellable != NULL)
    g_cancellable_disconnect (fetch->caller_cancellable, fetch->caller_handler);
  g_clear_object (&fetch->caller_cancellable);
  g_clear_object (&fetch->cancellable);
  g_clear_error (&fetch->error);
  g_hash_table_unref (fetch->roots);
  g_hash_table_unref (fetch->generations);
  g_hash_table_unref (fetch->users);
  g_object_unref (fetch->client);
  g_free (fetch);
}

/* One page request: which walk it belongs to and where it is. */
typedef struct {
  GTask *task;      /* the fetch's; a reference */
  Kind kind;
  gint64 from;      /* the walk's slice */
  gint64 to;
  char *cursor;     /* v2 */
  guint page;       /* v1 */
  gboolean probe;   /* the walk's first page, that decides the rest */
  gboolean fields;  /* v1: asks for field groups */
  char *label;
} PageRequest;

static void
page_request_free (gpointer data)
{
  PageRequest *request = data;

  g_object_unref (request->task);
  g_free (request->cursor);
  g_free (request->label);
  g_free (request);
}

static void
append_param (GString    *query,
              const char *name,
              const char *value)
{
  if (query->len > 0)
    g_string_append_c (query, '&');
  g_string_append_printf (query, "%s=", name);
  mt_sigv4_uri_encode (query, value, -1, FALSE);
}

static void
append_time (GString    *query,
             const char *name,
             gint64      time)
{
  g_autofree char *text = mt_time_format_utc (time);

  append_param (query, name, text);
}

static SoupMessage *
page_prepare (gpointer data)
{
  PageRequest *request = data;
  Fetch *fetch = g_task_get_task_data (request->task);
  MtLangfuseClient *self = fetch->client;
  g_autoptr(GString) query = g_string_new (NULL);
  g_autofree char *url = NULL;
  g_autofree char *limit = NULL;
  SoupMessage *message;

  switch (request->kind)
    {
    case KIND_V2_ROOTS:
    case KIND_V2_GENERATIONS:
      /* Only the field groups the traces are rebuilt from. */
      append_param (query, "fields", request->kind == KIND_V2_ROOTS ? "core,basic,io,trace_context"
                                                                    : "core,io,model,usage,prompt");
      limit = g_strdup_printf ("%d", V2_LIMIT);
      append_param (query, "limit", limit);
      if (request->kind == KIND_V2_ROOTS)
        append_param (query, "isRootObservation", "true");
      else
        append_param (query, "type", "GENERATION");
      append_time (query, "fromStartTime", request->from);
      append_time (query, "toStartTime", request->to);
      if (request->cursor != NULL)
        append_param (query, "cursor", request->cursor);
      break;
    case KIND_V1_TRACES:
      {
        g_autofree char *page = g_strdup_printf ("%u", request->page);

        limit = g_strdup_printf ("%d", V1_LIMIT);
        append_param (query, "page", page);
        append_param (query, "limit", limit);
      }
      append_time (query, "fromTimestamp", request->from);
      append_time (query, "toTimestamp", request->to);
      append_param (query, "orderBy", "timestamp.asc");
      if (request->fields)
        append_param (query, "fields", "core,io,metrics");
      break;
    case KIND_V1_GENERATIONS:
    default:
      {
        g_autofree char *page = g_strdup_printf ("%u", request->page);

        limit = g_strdup_printf ("%d", V1_LIMIT);
        append_param (query, "page", page);
        append_param (query, "limit", limit);
        append_param (query, "type", "GENERATION");
        append_time (query, "fromStartTime", request->from);
        append_time (query, "toStartTime", request->to);
      }
      break;
    }

  url = g_strconcat (self->base_url, kind_endpoint (request->kind), "?", query->str, NULL);
  message = soup_message_new (SOUP_METHOD_GET, url);
  soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization",
                                self->authorization);
  soup_message_headers_replace (soup_message_get_request_headers (message), "Accept", "application/json");
  return message;
}

/* How long the server asked to wait: Retry-After, else what a JSON body
 * says ({"details": {"retryAfterSeconds": 12}}, or "retryAfter" at the top);
 * -1 when nothing says. */
static gint64
retry_after_of (SoupMessageHeaders *headers,
                GBytes             *body)
{
  g_autoptr(JsonParser) parser = NULL;
  gsize length = 0;
  const char *data = body != NULL ? g_bytes_get_data (body, &length) : NULL;
  JsonObject *object;
  JsonNode *details;
  gint64 wait_ms;
  double seconds;

  if (mt_http_get_retry_after (headers, &wait_ms))
    return wait_ms;
  if (data == NULL || length == 0 || data[0] != '{')
    return -1;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, (gssize) length, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return -1;
  object = json_node_get_object (json_parser_get_root (parser));
  details = json_object_get_member (object, "details");
  seconds = details != NULL && JSON_NODE_HOLDS_OBJECT (details)
            ? member_number (json_node_get_object (details), "retryAfterSeconds") : NAN;
  if (isnan (seconds))
    seconds = member_number (object, "retryAfter");
  if (isnan (seconds) || seconds < 0 || seconds > 1e7)
    return -1;
  return (gint64) ceil (seconds * 1000.0);
}

/* A message from the server, fit to show: short, one line, and with
 * nothing of the keys in it. */
static char *
scrub (MtLangfuseClient *self,
       GBytes           *body)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize length = 0;
  const char *data = body != NULL ? g_bytes_get_data (body, &length) : NULL;
  g_autofree char *text = NULL;
  GString *out;
  char *cut;

  if (data == NULL || length == 0)
    return g_strdup ("");
  /* {"message": …} when it is JSON, the text itself otherwise. */
  if (json_parser_load_from_data (parser, data, (gssize) length, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)) &&
      member_string (json_node_get_object (json_parser_get_root (parser)), "message") != NULL)
    text = g_utf8_make_valid (member_string (json_node_get_object (json_parser_get_root (parser)), "message"), -1);
  else
    text = g_utf8_make_valid (data, (gssize) MIN (length, 2000));

  if ((cut = strstr (text, "Basic ")) != NULL || (cut = strstr (text, "Authorization")) != NULL)
    *cut = '\0';
  out = g_string_new (text);
  g_string_replace (out, self->secret_key, "…", 0);
  g_string_replace (out, self->authorization + strlen ("Basic "), "…", 0);
  g_strdelimit (out->str, "\r\n\t", ' ');
  if (g_utf8_strlen (out->str, -1) > 200)
    {
      g_string_truncate (out, g_utf8_offset_to_pointer (out->str, 200) - out->str);
      g_string_append (out, "…");
    }
  return g_string_free (out, FALSE);
}

static MtHttpVerdict
page_judge (gpointer      data,
            SoupMessage  *message,
            GBytes       *body,
            guint        *wait_ms,
            GError      **error)
{
  PageRequest *request = data;
  Fetch *fetch = g_task_get_task_data (request->task);
  MtLangfuseClient *self = fetch->client;
  guint status = soup_message_get_status (message);
  SoupMessageHeaders *headers = soup_message_get_response_headers (message);
  gint64 retry_after;
  g_autofree char *said = NULL;

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      update_rate_limit (self, headers, status, -1);
      return MT_HTTP_DONE;
    }
  retry_after = retry_after_of (headers, body);
  update_rate_limit (self, headers, status, status == 429 ? retry_after : -1);

  said = scrub (self, body);
  switch (status)
    {
    case 400:
      /* An older server that does not take v1's field groups: ask again
       * without, and never ask it for them again. */
      if (request->kind == KIND_V1_TRACES && request->fields)
        {
          request->fields = FALSE;
          fetch->v1_fields = FALSE;
          return MT_HTTP_RESEND;
        }
      g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_FAILED,
                   _("Langfuse refused the request for %s (400): %s"), request->label, said);
      return MT_HTTP_FAIL;
    case 401:
      g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_UNAUTHORIZED,
                   _("Langfuse at %s rejected the API keys (401). Check LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY, and that they belong to this Langfuse."),
                   self->base_url);
      return MT_HTTP_FAIL;
    case 403:
      g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_FORBIDDEN,
                   _("Langfuse at %s does not let these API keys read traces (403): %s Check LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY."),
                   self->base_url, said);
      return MT_HTTP_FAIL;
    case 404:
      if (request->kind == KIND_V2_ROOTS || request->kind == KIND_V2_GENERATIONS)
        g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NOT_FOUND,
                     _("Langfuse at %s has no v2 observations API (404): self-hosted Langfuse before v4 serves only v1. Set MEALTRACE_LANGFUSE_API to v1 or auto, or check LANGFUSE_BASE_URL."),
                     self->base_url);
      else
        g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NOT_FOUND,
                     _("Langfuse at %s has no v1 API (404): Langfuse Cloud retired it on 2026-11-16. Set MEALTRACE_LANGFUSE_API to v2 or auto, or check LANGFUSE_BASE_URL."),
                     self->base_url);
      return MT_HTTP_FAIL;
    case 429:
      set_rate_limited (self, TRUE);
      if (retry_after > MAX_RETRY_AFTER_MS)
        {
          g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_RATE_LIMITED,
                       _("Langfuse’s rate limit for these API keys is reached, and it asks to wait %u minutes. Try again then."),
                       (guint) ((retry_after + 59999) / 60000));
          return MT_HTTP_FAIL;
        }
      g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_RATE_LIMITED,
                   _("Langfuse kept answering that the rate limit is reached (429). Try again in a minute."));
      *wait_ms = (guint) MAX (retry_after, 0);
      return MT_HTTP_RETRY;
    default:
      if (status >= 500)
        {
          /* 5xx and Cloudflare's 524: the server may answer next time. */
          g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_SERVER,
                       _("Langfuse answered %u for %s. Try again later."), status, request->label);
          *wait_ms = (guint) CLAMP (retry_after, 0, MAX_RETRY_AFTER_MS);
          return MT_HTTP_RETRY;
        }
      g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_FAILED,
                   _("Langfuse refused the request for %s (%u): %s"), request->label, status, said);
      return MT_HTTP_FAIL;
    }
}

static GError *
page_transport_error (gpointer  data,
                      GError   *cause,
                      gboolean  tls)
{
  PageRequest *request = data;
  Fetch *fetch = g_task_get_task_data (request->task);

  if (tls)
    return g_error_new (MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_TLS,
                        _("The TLS certificate of %s cannot be trusted (%s). Check LANGFUSE_BASE_URL and the system's certificates."),
                        fetch->client->base_url, cause->message);
  return g_error_new (MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NETWORK,
                      _("Could not reach Langfuse at %s: %s. Check the network connection and LANGFUSE_BASE_URL."),
                      fetch->client->base_url, cause->message);
}

static GError *
page_too_large (gpointer data,
                guint64  size,
                gsize    limit)
{
  PageRequest *request = data;

  return g_error_new (MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_MALFORMED,
                      _("Langfuse sent more than %" G_GSIZE_FORMAT " bytes for %s, more than any page. Check LANGFUSE_BASE_URL."),
                      limit, request->label);
}

static const MtHttpHandler page_handler = {
  page_prepare, page_judge, page_transport_error, page_too_large,
};

static void request_page (GTask *task, Kind kind, gint64 from, gint64 to,
                          const char *cursor, guint page, gboolean probe);
static void finish_fetch (GTask *task);

static void
fail_fetch (Fetch  *fetch,
            GError *error)
{
  if (fetch->error == NULL)
    {
      fetch->error = error;
      /* The other walks stop at once. */
      g_cancellable_cancel (fetch->cancellable);
    }
  else
    g_error_free (error);
}

/* A walk is done with one of its requests; the fetch ends with the last. */
static void
walk_step_done (GTask *task)
{
  Fetch *fetch = g_task_get_task_data (task);

  g_assert (fetch->pending > 0);
  if (--fetch->pending == 0)
    finish_fetch (task);
}

static void
announce_users (Fetch *fetch,
                Page  *page)
{
  for (guint i = 0; i < page->roots->len; i++)
    {
      Root *root = g_ptr_array_index (page->roots, i);

      if (root->user_id == NULL || root->user_id[0] == '\0' ||
          root->time < fetch->from || root->time >= fetch->to ||
          g_hash_table_contains (fetch->users, root->user_id))
        continue;
      g_hash_table_add (fetch->users, g_strdup (root->user_id));
      g_signal_emit (fetch->client, signals[USER_FOUND], 0, root->user_id);
    }
}

/* Keeps what a page found; a trace's earliest root is its root. */
static void
merge_page (Fetch *fetch,
            Page  *page)
{
  MtLangfuseClient *self = fetch->client;

  for (guint i = 0; i < page->roots->len; i++)
    {
      Root *root = g_ptr_array_index (page->roots, i);
      Root *known = g_hash_table_lookup (fetch->roots, root->trace_id);

      if (known != NULL && (known->time < root->time ||
                            (known->time == root->time && g_strcmp0 (known->observation_id, root->observation_id) <= 0)))
        continue;
      page->roots->pdata[i] = NULL;
      g_hash_table_replace (fetch->roots, root->trace_id, root);
    }
  for (guint i = 0; i < page->generations->len; i++)
    {
      Generation *generation = g_ptr_array_index (page->generations, i);

      if (g_hash_table_contains (fetch->generations, generation->id))
        continue;
      page->generations->pdata[i] = NULL;
      g_hash_table_insert (fetch->generations, generation->id, generation);
    }

  self->pages++;
  self->items += page->items;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAGES]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEMS]);
}

/* How many time slices to split the rest of a v2 walk into, after its
 * first page: one per expected page, as many as may run at once, and only
 * when the rate limit leaves room for them all. */
static guint
slices_for (Fetch  *fetch,
            Page   *page,
            gint64  from,
            gint64  to)
{
  MtLangfuseClient *self = fetch->client;
  double covered, rest, pages;
  guint slices;

  if (!self->slicing || page->cursor == NULL || !page->descending || page->items == 0 ||
      page->oldest <= from || page->oldest >= to)
    return 1;
  covered = (double) (to - page->oldest);
  rest = (double) (page->oldest - from);
  pages = ceil (rest / MAX (covered, 1.0));
  slices = (guint) CLAMP (pages, 1.0, (double) MAX (mt_http_get_max_in_flight (self->http) / 2, 1));
  if (mt_rate_limit_is_known (self->rate) &&
      (double) mt_rate_limit_get_remaining (self->rate, g_get_monotonic_time ()) < 2 * (pages + slices))
    return 1;
  return slices;
}

typedef struct {
  GTask *task;          /* the fetch's */
  Kind kind;
  gint64 from, to;
  guint page;
  gboolean probe;
} PageDone;

static void on_page_parsed (GObject *source, GAsyncResult *result, gpointer data);

static void
on_page_answered (GObject      *source,
                  GAsyncResult *result,
                  gpointer      data)
{
  PageDone *done = data;
  Fetch *fetch = g_task_get_task_data (done->task);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GTask) parse = NULL;
  GError *error = NULL;
  ParseJob *job;

  body = mt_http_send_finish (MT_HTTP (source), result, &error);
  if (body == NULL)
    {
      /* auto: a server without v2 answers 404 to the first request. */
      if (fetch->requested == MT_LANGFUSE_API_AUTO && fetch->used == MT_LANGFUSE_API_V2 && done->probe &&
          done->kind == KIND_V2_ROOTS && g_error_matches (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NOT_FOUND))
        {
          g_debug ("%s has no v2 API; reading v1", fetch->client->base_url);
          g_error_free (error);
          fetch->used = MT_LANGFUSE_API_V1;
          request_page (done->task, KIND_V1_TRACES, fetch->from, fetch->to, NULL, 1, TRUE);
          request_page (done->task, KIND_V1_GENERATIONS, fetch->from, fetch->to + GENERATION_MARGIN_MS,
                        NULL, 1, TRUE);
        }
      else
        fail_fetch (fetch, error);
      walk_step_done (done->task);
      g_object_unref (done->task);
      g_free (done);
      return;
    }

  job = g_new0 (ParseJob, 1);
  job->kind = done->kind;
  job->base_url = g_strdup (fetch->client->base_url);
  job->label = g_strdup_printf ("%s, page %u", kind_request (done->kind), MAX (done->page, 1));
  parse = g_task_new (NULL, fetch->cancellable, on_page_parsed, done);
  g_task_set_task_data (parse, job, parse_job_free);
  g_object_set_data_full (G_OBJECT (parse), "body", g_steal_pointer (&body), (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (parse, parse_in_thread);
}

static void
on_page_parsed (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  PageDone *done = data;
  GTask *task = done->task;
  Fetch *fetch = g_task_get_task_data (task);
  g_autoptr(Page) page = NULL;
  GError *error = NULL;

  page = g_task_propagate_pointer (G_TASK (result), &error);
  if (page == NULL)
    {
      fail_fetch (fetch, error);
      goto out;
    }
  if (fetch->error != NULL)
    goto out;

  if (done->kind == KIND_V2_ROOTS || done->kind == KIND_V1_TRACES)
    announce_users (fetch, page);
  merge_page (fetch, page);

  if (done->kind == KIND_V2_ROOTS || done->kind == KIND_V2_GENERATIONS)
    {
      guint slices = done->probe ? slices_for (fetch, page, done->from, done->to) : 1;

      if (done->probe && done->kind == KIND_V2_ROOTS && fetch->requested == MT_LANGFUSE_API_AUTO)
        fetch->client->detected = MT_LANGFUSE_API_V2;
      if (done->probe && done->kind == KIND_V2_ROOTS && !fetch->generations_asked)
        {
          /* v2 it is: the generations' walk may start. */
          fetch->generations_asked = TRUE;
          request_page (task, KIND_V2_GENERATIONS, fetch->from, fetch->to + GENERATION_MARGIN_MS, NULL, 1, TRUE);
        }

      if (slices > 1)
        {
          /* What is left is older than the page's oldest item: walk it in
           * slices at once. Items at that very instant are read again, and
           * counted once. */
          gint64 end = page->oldest + 1, span = end - done->from;

          for (guint i = 0; i < slices; i++)
            request_page (task, done->kind, done->from + span * i / slices,
                          done->from + span * (i + 1) / slices, NULL, 1, FALSE);
        }
      else if (page->cursor != NULL)
        request_page (task, done->kind, done->from, done->to, page->cursor, done->page + 1, FALSE);
    }
  else if (done->probe)
    {
      /* v1 counts its pages: all the others at once. */
      if (fetch->requested == MT_LANGFUSE_API_AUTO && done->kind == KIND_V1_TRACES)
        fetch->client->detected = MT_LANGFUSE_API_V1;
      for (guint p = 2; p <= page->total_pages; p++)
        request_page (task, done->kind, done->from, done->to, NULL, p, FALSE);
    }

out:
  walk_step_done (task);
  g_object_unref (task);
  g_free (done);
}

static void
request_page (GTask      *task,
              Kind        kind,
              gint64      from,
              gint64      to,
              const char *cursor,
              guint       page,
              gboolean    probe)
{
  Fetch *fetch = g_task_get_task_data (task);
  PageRequest *request = g_new0 (PageRequest, 1);
  PageDone *done = g_new0 (PageDone, 1);

  request->task = g_object_ref (task);
  request->kind = kind;
  request->from = from;
  request->to = to;
  request->cursor = g_strdup (cursor);
  request->page = page;
  request->probe = probe;
  request->fields = fetch->v1_fields;
  request->label = g_strdup_printf ("%s, page %u", kind_request (kind), page);

  done->task = g_object_ref (task);
  done->kind = kind;
  done->from = from;
  done->to = to;
  done->page = page;
  done->probe = probe;

  fetch->pending++;
  mt_http_send_async (fetch->client->http, &page_handler, request, page_request_free, MAX_PAGE_BODY,
                      fetch->cancellable, on_page_answered, done);
}

static int
compare_generations (gconstpointer a,
                     gconstpointer b)
{
  const Generation *x = *(const Generation * const *) a;
  const Generation *y = *(const Generation * const *) b;

  if (x->time != y->time)
    return x->time < y->time ? -1 : 1;
  return strcmp (x->id, y->id);
}

static int
compare_traces (gconstpointer a,
                gconstpointer b)
{
  MtTrace *x = *(MtTrace * const *) a;
  MtTrace *y = *(MtTrace * const *) b;
  gint64 tx = mt_trace_get_timestamp (x), ty = mt_trace_get_timestamp (y);

  if (tx != ty)
    return tx < ty ? -1 : 1;
  return strcmp (mt_trace_get_id (x), mt_trace_get_id (y));
}

/* Every trace of the window, with what its generations say. */
static GPtrArray *
build_traces (Fetch *fetch)
{
  g_autoptr(GHashTable) by_trace = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                          (GDestroyNotify) g_ptr_array_unref);
  GPtrArray *traces = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, fetch->generations);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Generation *generation = value;
      GPtrArray *list = g_hash_table_lookup (by_trace, generation->trace_id);

      if (list == NULL)
        {
          list = g_ptr_array_new ();
          g_hash_table_insert (by_trace, generation->trace_id, list);
        }
      g_ptr_array_add (list, generation);
    }

  g_hash_table_iter_init (&iter, fetch->roots);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Root *root = value;
      GPtrArray *generations = g_hash_table_lookup (by_trace, root->trace_id);
      MtTrace *trace;
      double total = 0.0;

      if (root->time < fetch->from || root->time >= fetch->to)
        continue;
      trace = mt_trace_new (root->trace_id, root->user_id != NULL && root->user_id[0] != '\0'
                                            ? root->user_id : NULL, root->time);
      mt_trace_set_name (trace, root->name);
      mt_trace_set_session_id (trace, root->session_id);
      mt_trace_set_input (trace, root->input);
      mt_trace_set_output (trace, root->output);
      mt_trace_set_html_url (trace, root->html_url);

      if (generations != NULL)
        {
          Generation *first;

          g_ptr_array_sort (generations, compare_generations);
          first = g_ptr_array_index (generations, 0);
          mt_trace_set_model_name (trace, first->model);
          mt_trace_set_prompt (trace, first->prompt);
          mt_trace_set_cost (trace, first->cost);
          for (guint i = 0; i < generations->len; i++)
            {
              double cost = ((Generation *) g_ptr_array_index (generations, i))->cost;

              if (!isnan (cost))
                total += cost;
            }
        }
      /* v1 states the trace's total; v2's is the sum of its generations'. */
      mt_trace_set_total_cost (trace, !isnan (root->total_cost) ? root->total_cost : total);
      g_ptr_array_add (traces, trace);
    }

  g_ptr_array_sort (traces, compare_traces);
  return traces;
}

static void
finish_fetch (GTask *task)
{
  Fetch *fetch = g_task_get_task_data (task);

  set_rate_limited (fetch->client, FALSE);
  if (fetch->error != NULL)
    {
      /* The caller's cancelling is what they asked for; say so plainly. */
      if (g_cancellable_is_cancelled (fetch->caller_cancellable))
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Operation was cancelled"));
      else
        g_task_return_error (task, g_steal_pointer (&fetch->error));
      return;
    }
  if (g_cancellable_is_cancelled (fetch->caller_cancellable))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Operation was cancelled"));
      return;
    }
  g_task_return_pointer (task, build_traces (fetch), (GDestroyNotify) g_ptr_array_unref);
}

static void
on_caller_cancelled (GCancellable *cancellable,
                     gpointer      data)
{
  g_cancellable_cancel (data);
}

void
mt_langfuse_client_fetch_traces_async (MtLangfuseClient    *self,
                                       gint64               from,
                                       gint64               to,
                                       MtLangfuseApi        api,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Fetch *fetch;

  g_return_if_fail (MT_IS_LANGFUSE_CLIENT (self));
  g_return_if_fail (from < to);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mt_langfuse_client_fetch_traces_async);
  fetch = g_new0 (Fetch, 1);
  fetch->client = g_object_ref (self);
  fetch->from = from;
  fetch->to = to;
  fetch->requested = api;
  fetch->v1_fields = TRUE;
  fetch->cancellable = g_cancellable_new ();
  fetch->roots = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, root_free);
  fetch->generations = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, generation_free);
  fetch->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (cancellable != NULL)
    {
      fetch->caller_cancellable = g_object_ref (cancellable);
      fetch->caller_handler = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                                     g_object_ref (fetch->cancellable), g_object_unref);
    }
  g_task_set_task_data (task, fetch, fetch_free);

  /* "auto" asks once per client: what the server answered is remembered. */
  if (api == MT_LANGFUSE_API_AUTO && self->detected != MT_LANGFUSE_API_AUTO)
    api = self->detected;
  fetch->used = api == MT_LANGFUSE_API_V1 ? MT_LANGFUSE_API_V1 : MT_LANGFUSE_API_V2;

  if (fetch->used == MT_LANGFUSE_API_V2)
    {
      request_page (task, KIND_V2_ROOTS, from - ROOT_MARGIN_MS, to, NULL, 1, TRUE);
      /* Known to be v2: both walks at once. Else the first answer tells. */
      if (api == MT_LANGFUSE_API_V2)
        {
          fetch->generations_asked = TRUE;
          request_page (task, KIND_V2_GENERATIONS, from, to + GENERATION_MARGIN_MS, NULL, 1, TRUE);
        }
    }
  else
    {
      request_page (task, KIND_V1_TRACES, from, to, NULL, 1, TRUE);
      request_page (task, KIND_V1_GENERATIONS, from, to + GENERATION_MARGIN_MS, NULL, 1, TRUE);
    }
}

GPtrArray *
mt_langfuse_client_fetch_traces_finish (MtLangfuseClient  *self,
                                        GAsyncResult      *result,
                                        MtLangfuseApi     *used,
                                        GError           **error)
{
  Fetch *fetch;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  fetch = g_task_get_task_data (G_TASK (result));
  if (used != NULL)
    *used = fetch->used;
  return g_task_propagate_pointer (G_TASK (result), error);
}
