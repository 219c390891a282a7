/* mt-langfuse-client.c — every trace of a time window, from either API */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "mt-http.h"
#include "mt-json-scan.h"
#include "mt-langfuse-client.h"
#include "mt-langfuse-page.h"
#include "mt-rate-limit.h"
#include "mt-sigv4.h"
#include "mt-time.h"
#include "mt-trace.h"

G_DEFINE_QUARK (mt-langfuse-error-quark, mt_langfuse_error)

/* A page of 1000 observations with their inputs can be large; far larger
 * is not Langfuse. */
#define MAX_PAGE_BODY (256 * 1024 * 1024)
/* Generations start after their trace's root: those of a trace near the
 * window's end may start after it. */
#define GENERATION_MARGIN_MS (60 * 60 * 1000)
/* A trace may have several roots; the earliest is the trace's. Roots are
 * read from this long before the window, so that a trace whose first root
 * is just before it is not taken for one in it. */
#define ROOT_MARGIN_MS (60 * 60 * 1000)
/* v1 reads what is older than this as settled, and the rest apart. */
#define V1_SETTLE_MS (10 * 60 * 1000)
/* A v1 walk read again while it changes, this many times at most. */
#define MAX_WALK_ATTEMPTS 3
/* The years 1970 to 9999, in Unix milliseconds. */
#define MIN_TIME G_GINT64_CONSTANT (0)
#define MAX_TIME G_GINT64_CONSTANT (253402300800000)
/* Longer than this, and the user had better come back later. */
#define MAX_RETRY_AFTER_MS (10 * 60 * 1000)
/* An error answer nested deeper than this is not Langfuse's. */
#define MAX_ERROR_DEPTH 32
#define V2_LIMIT 1000
/* A v2 walk of more pages than this (a hundred million observations) is
 * going round in circles. */
#define MAX_V2_PAGES 100000
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
getenv_nonempty (const char * const *envp,
                 const char         *name)
{
  const char *value = g_environ_getenv ((char **) envp, name);

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
mt_langfuse_settings_load (const char * const  *envp,
                           GError             **error)
{
  g_auto(GStrv) own_environ = NULL;
  g_autoptr(MtLangfuseSettings) settings = g_new0 (MtLangfuseSettings, 1);
  const char *names[] = { "LANGFUSE_BASE_URL", "LANGFUSE_HOST" };
  const char *value;

  if (envp == NULL)
    envp = (const char * const *) (own_environ = g_get_environ ());

  for (guint i = 0; i < G_N_ELEMENTS (names) && settings->base_url == NULL; i++)
    if ((value = getenv_nonempty (envp, names[i])) != NULL)
      {
        settings->base_url = g_strdup (value);
        settings->base_url_source = g_strdup (names[i]);
      }
  if (settings->base_url == NULL)
    {
      settings->base_url = g_strdup (DEFAULT_BASE_URL);
      settings->base_url_source = g_strdup ("default");
    }

  value = getenv_nonempty (envp, "MEALTRACE_LANGFUSE_API");
  if (value != NULL && !mt_langfuse_api_from_string (value, &settings->api))
    {
      g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_INVALID,
                   _("MEALTRACE_LANGFUSE_API is “%s”; it may be auto, v2 or v1."), value);
      return NULL;
    }

  /* Spaces around a key are a copying slip, never part of it. */
  settings->public_key = g_strdup (getenv_nonempty (envp, "LANGFUSE_PUBLIC_KEY"));
  settings->secret_key = g_strdup (getenv_nonempty (envp, "LANGFUSE_SECRET_KEY"));
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
  char *public_key;    /* the keys: only to keep them out of messages */
  char *secret_key;
  MtHttp *http;
  MtRateLimit *rate;
  MtLangfuseApi detected;
  gboolean slicing;
  gboolean rate_limited;
  guint pages;
  guint items;
  guint traces;
  GPtrArray *fetches;  /* GTask, the fetches under way (not owned) */
  GSource *give_up;    /* fails them when the pace asks too long a wait */
  gint64 give_up_wait; /* that wait, in milliseconds */
};

G_DEFINE_FINAL_TYPE (MtLangfuseClient, mt_langfuse_client, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_BASE_URL,
  PROP_REQUESTS,
  PROP_RETRIES,
  PROP_PAGES,
  PROP_ITEMS,
  PROP_TRACES,
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
  g_free (self->public_key);
  wipe_string (self->secret_key);
  g_clear_object (&self->http);
  g_clear_pointer (&self->rate, mt_rate_limit_free);
  if (self->give_up != NULL)
    {
      g_source_destroy (self->give_up);
      g_clear_pointer (&self->give_up, g_source_unref);
    }
  g_ptr_array_unref (self->fetches);

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
    case PROP_TRACES:
      g_value_set_uint (value, self->traces);
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
  properties[PROP_TRACES] = g_param_spec_uint ("traces", NULL, NULL, 0, G_MAXUINT, 0, ro);
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

static gboolean give_up_waiting (gpointer data);

/* The pace: a request goes out only while the server's window has room. */
static guint
rate_gate (gpointer data)
{
  MtLangfuseClient *self = data;
  gint64 wait = mt_rate_limit_admit (self->rate, g_get_monotonic_time ());

  set_rate_limited (self, wait > 0);
  if (wait <= 0)
    return 0;
  /* A wait longer than patience lasts is said at once: the fetches fail,
   * soon after (not from inside the engine's own loop). */
  if (wait / 1000 > MAX_RETRY_AFTER_MS)
    {
      if (self->give_up == NULL)
        {
          self->give_up_wait = wait / 1000;
          self->give_up = g_idle_source_new ();
          g_source_set_callback (self->give_up, give_up_waiting, self, NULL);
          g_source_set_name (self->give_up, "[mealtrace] langfuse give up");
          g_source_attach (self->give_up, g_main_context_get_thread_default ());
        }
      return 1000;
    }
  /* Rounded up, so as not to ask again a moment too early. */
  return (guint) MIN ((wait + 999) / 1000, G_MAXUINT32 - 1);
}

static void
mt_langfuse_client_init (MtLangfuseClient *self)
{
  self->slicing = TRUE;
  self->rate = mt_rate_limit_new ();
  self->fetches = g_ptr_array_new ();
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
      g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL || g_uri_get_userinfo (uri) != NULL)
    {
      /* Never say back a URL that may have a key in it: in its user
       * part, its query or its fragment. */
      if (base_url != NULL && strpbrk (base_url, "@?#") == NULL)
        g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_INVALID,
                     _("“%s” is not a Langfuse URL. Set LANGFUSE_BASE_URL to one such as https://cloud.langfuse.com."),
                     base_url);
      else
        g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_INVALID,
                     _("The Langfuse URL is not one Mealtrace can use (keys belong in LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY, not in the URL). Set LANGFUSE_BASE_URL to one such as https://cloud.langfuse.com."));
      return NULL;
    }

  self = g_object_new (MT_TYPE_LANGFUSE_CLIENT, NULL);
  self->base_url = g_strdup (base_url);
  while (g_str_has_suffix (self->base_url, "/"))
    self->base_url[strlen (self->base_url) - 1] = '\0';
  pair = g_strconcat (public_key, ":", secret_key, NULL);
  encoded = g_base64_encode ((const guchar *) pair, strlen (pair));
  self->authorization = g_strconcat ("Basic ", encoded, NULL);
  self->public_key = g_strdup (public_key);
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

void
mt_langfuse_client_learn_from (MtLangfuseClient *self,
                               MtLangfuseClient *earlier)
{
  g_return_if_fail (MT_IS_LANGFUSE_CLIENT (self));
  g_return_if_fail (MT_IS_LANGFUSE_CLIENT (earlier));

  if (self == earlier || strcmp (self->base_url, earlier->base_url) != 0 ||
      strcmp (self->authorization, earlier->authorization) != 0)
    return;
  self->detected = earlier->detected;
  mt_rate_limit_copy_from (self->rate, earlier->rate);
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
mt_langfuse_client_get_traces (MtLangfuseClient *self)
{
  g_return_val_if_fail (MT_IS_LANGFUSE_CLIENT (self), 0);
  return self->traces;
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
                   gint64              retry_after_ms,
                   gint64              sent_at)
{
  guint in_flight = mt_http_get_in_flight (self->http);

  mt_rate_limit_observe (self->rate, g_get_monotonic_time (), g_get_real_time () / 1000, status,
                         soup_message_headers_get_one (headers, "X-RateLimit-Limit"),
                         soup_message_headers_get_one (headers, "X-RateLimit-Remaining"),
                         soup_message_headers_get_one (headers, "X-RateLimit-Reset"),
                         retry_after_ms, in_flight > 0 ? in_flight - 1 : 0, sent_at);
}

/* Pages */

/* A page to read in a worker thread. */
typedef struct {
  MtLangfuseKind kind;
  char *base_url;
  char *label;
} ParseJob;

static void
parse_job_free (gpointer data)
{
  ParseJob *job = data;

  g_free (job->base_url);
  g_free (job->label);
  g_free (job);
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
  MtLangfusePage *page = mt_langfuse_page_parse (job->kind, job->base_url, job->label, body, cancellable, &error);

  if (page == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, page, (GDestroyNotify) mt_langfuse_page_free);
}

/* A fetch: every walk of every page, and what they found. */

/* One walk: a query over a span of time, page after page (v1) or cursor
 * after cursor (v2). */
typedef struct {
  MtLangfuseKind kind;
  gint64 from;
  gint64 to;
  gboolean top;        /* v2: the whole window's, which may be sliced */
  guint attempt;       /* v1: walks of this query so far */
  gint64 total_items;  /* v1: as its first page counted; -1 before */
  gint64 received;     /* v1: items in its pages so far */
  gboolean changed;    /* v1: the pages disagreed on the count */
  guint pending;       /* its requests not yet done */
  GHashTable *cursors; /* v2: the cursors it was given, to see a loop */
} Walk;

static void
walk_free (gpointer data)
{
  Walk *walk = data;

  g_clear_pointer (&walk->cursors, g_hash_table_unref);
  g_free (walk);
}

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
  GPtrArray *walks;          /* Walk */
  GHashTable *roots;         /* trace id → MtLangfuseRoot, its earliest */
  GHashTable *generations;   /* generation id → MtLangfuseGeneration */
  GHashTable *users;         /* user ids already announced */
  gboolean v1_fields;        /* whether the server takes v1's `fields` */
  gboolean generations_asked; /* v2: the generations' walk has begun */
  guint orphans;             /* observations of no trace */
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
  g_ptr_array_unref (fetch->walks);
  g_hash_table_unref (fetch->roots);
  g_hash_table_unref (fetch->generations);
  g_hash_table_unref (fetch->users);
  g_object_unref (fetch->client);
  g_free (fetch);
}

/* One page request: which walk it belongs to and where it is. */
typedef struct {
  GTask *task;      /* the fetch's; a reference */
  Walk *walk;       /* the fetch's */
  char *cursor;     /* v2 */
  guint page;       /* v1; v2: the how-manieth of the walk */
  gboolean fields;  /* v1: asks for field groups */
  gint64 sent_at;   /* when the latest attempt left */
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
  Walk *walk = request->walk;
  g_autoptr(GString) query = g_string_new (NULL);
  g_autofree char *url = NULL;
  g_autofree char *limit = NULL;
  SoupMessage *message;

  request->sent_at = g_get_monotonic_time ();
  switch (walk->kind)
    {
    case MT_LANGFUSE_KIND_V2_ROOTS:
    case MT_LANGFUSE_KIND_V2_GENERATIONS:
      /* Only the field groups the traces are rebuilt from. */
      append_param (query, "fields", walk->kind == MT_LANGFUSE_KIND_V2_ROOTS ? "core,basic,io,trace_context"
                                                                    : "core,io,model,usage,prompt");
      limit = g_strdup_printf ("%d", V2_LIMIT);
      append_param (query, "limit", limit);
      if (walk->kind == MT_LANGFUSE_KIND_V2_ROOTS)
        append_param (query, "isRootObservation", "true");
      else
        append_param (query, "type", "GENERATION");
      append_time (query, "fromStartTime", walk->from);
      append_time (query, "toStartTime", walk->to);
      if (request->cursor != NULL)
        append_param (query, "cursor", request->cursor);
      break;
    case MT_LANGFUSE_KIND_V1_TRACES:
      {
        g_autofree char *page = g_strdup_printf ("%u", request->page);

        limit = g_strdup_printf ("%d", V1_LIMIT);
        append_param (query, "page", page);
        append_param (query, "limit", limit);
      }
      append_time (query, "fromTimestamp", walk->from);
      append_time (query, "toTimestamp", walk->to);
      append_param (query, "orderBy", "timestamp.asc");
      if (request->fields)
        append_param (query, "fields", "core,io");
      break;
    case MT_LANGFUSE_KIND_V1_GENERATIONS:
    default:
      {
        g_autofree char *page = g_strdup_printf ("%u", request->page);

        limit = g_strdup_printf ("%d", V1_LIMIT);
        append_param (query, "page", page);
        append_param (query, "limit", limit);
        append_param (query, "type", "GENERATION");
        append_time (query, "fromStartTime", walk->from);
        append_time (query, "toStartTime", walk->to);
      }
      break;
    }

  url = g_strconcat (self->base_url, mt_langfuse_kind_endpoint (walk->kind), "?", query->str, NULL);
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
  g_autoptr(JsonNode) root = NULL;
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
  root = mt_json_parse_text (data, length, MAX_ERROR_DEPTH);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return -1;
  object = json_node_get_object (root);
  details = json_object_get_member (object, "details");
  seconds = details != NULL && JSON_NODE_HOLDS_OBJECT (details)
            ? mt_langfuse_member_number (json_node_get_object (details), "retryAfterSeconds") : NAN;
  if (isnan (seconds))
    seconds = mt_langfuse_member_number (object, "retryAfter");
  if (isnan (seconds) || seconds < 0 || seconds > 1e7)
    return -1;
  return (gint64) ceil (seconds * 1000.0);
}

/* A message from the server, fit to show: short, one line, and with
 * nothing of the keys in it (the public key neither: it is half of the
 * credentials). */
static char *
scrub (MtLangfuseClient *self,
       GBytes           *body)
{
  g_autoptr(JsonNode) root = NULL;
  gsize length = 0;
  const char *data = body != NULL ? g_bytes_get_data (body, &length) : NULL;
  g_autofree char *text = NULL;
  GString *out;
  char *cut;

  if (data == NULL || length == 0)
    return g_strdup ("");
  /* {"message": …} when it is JSON, the text itself otherwise. */
  root = mt_json_parse_text (data, length, MAX_ERROR_DEPTH);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root) &&
      mt_langfuse_member_string (json_node_get_object (root), "message") != NULL)
    text = g_utf8_make_valid (mt_langfuse_member_string (json_node_get_object (root), "message"), -1);
  else
    text = g_utf8_make_valid (data, (gssize) MIN (length, 2000));

  if ((cut = strstr (text, "Basic ")) != NULL || (cut = strstr (text, "Authorization")) != NULL)
    *cut = '\0';
  out = g_string_new (text);
  g_string_replace (out, self->secret_key, "…", 0);
  if (self->public_key[0] != '\0')
    g_string_replace (out, self->public_key, "…", 0);
  g_string_replace (out, self->authorization + strlen ("Basic "), "…", 0);
  g_strdelimit (out->str, "\r\n\t", ' ');
  if (g_utf8_strlen (out->str, -1) > 200)
    {
      g_string_truncate (out, g_utf8_offset_to_pointer (out->str, 200) - out->str);
      g_string_append (out, "…");
    }
  return g_string_free (out, FALSE);
}

static void
set_long_wait_error (GError **error,
                     gint64   wait_ms)
{
  guint minutes = (guint) MIN ((wait_ms + 59999) / 60000, G_MAXUINT);

  g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_RATE_LIMITED,
               ngettext ("Langfuse’s rate limit for these API keys is reached, and it asks to wait %u minute. Try again then.",
                         "Langfuse’s rate limit for these API keys is reached, and it asks to wait %u minutes. Try again then.",
                         minutes),
               minutes);
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
      update_rate_limit (self, headers, status, -1, request->sent_at);
      return MT_HTTP_DONE;
    }
  retry_after = retry_after_of (headers, body);
  update_rate_limit (self, headers, status, status == 429 ? retry_after : -1, request->sent_at);

  said = scrub (self, body);
  switch (status)
    {
    case 400:
      /* An older server that does not take v1's field groups: ask again
       * without, and never ask it for them again. */
      if (request->walk->kind == MT_LANGFUSE_KIND_V1_TRACES && request->fields)
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
      if (request->walk->kind == MT_LANGFUSE_KIND_V2_ROOTS || request->walk->kind == MT_LANGFUSE_KIND_V2_GENERATIONS)
        g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NOT_FOUND,
                     _("Langfuse at %s has no v2 observations API (404): self-hosted Langfuse before v4 serves only v1. Set MEALTRACE_LANGFUSE_API to v1 or auto, or check LANGFUSE_BASE_URL."),
                     self->base_url);
      else if (fetch->requested == MT_LANGFUSE_API_AUTO)
        g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NOT_FOUND,
                     _("Langfuse at %s answers neither the v2 nor the v1 API (404). Check LANGFUSE_BASE_URL: it is the address of Langfuse itself, such as https://cloud.langfuse.com."),
                     self->base_url);
      else
        g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NOT_FOUND,
                     _("Langfuse at %s has no v1 API (404): Langfuse Cloud retired it on 2026-11-16. Set MEALTRACE_LANGFUSE_API to v2 or auto, or check LANGFUSE_BASE_URL."),
                     self->base_url);
      return MT_HTTP_FAIL;
    case 429:
      {
        /* As long as the server said, or as its window's end says. */
        gint64 wait = MAX (retry_after, mt_rate_limit_get_wait (self->rate, g_get_monotonic_time ()) / 1000);

        set_rate_limited (self, TRUE);
        if (wait > MAX_RETRY_AFTER_MS)
          {
            set_long_wait_error (error, wait);
            return MT_HTTP_FAIL;
          }
        g_set_error (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_RATE_LIMITED,
                     _("Langfuse kept answering that the rate limit is reached (429). Try again in a minute."));
        *wait_ms = (guint) MAX (wait, 0);
        return MT_HTTP_RETRY;
      }
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
  /* A number as text: a format macro cannot stand in a translatable string. */
  g_autofree char *limit_text = g_strdup_printf ("%" G_GSIZE_FORMAT, limit);

  /* Translators: a number of bytes, then the request ("/api/public/traces, page 2"). */
  return g_error_new (MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_MALFORMED,
                      _("Langfuse sent more than %s bytes for %s, more than any page. Check LANGFUSE_BASE_URL."),
                      limit_text, request->label);
}

static const MtHttpHandler page_handler = {
  page_prepare, page_judge, page_transport_error, page_too_large,
};

static void request_page (GTask *task, Walk *walk, const char *cursor, guint page);
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

static gboolean
give_up_waiting (gpointer data)
{
  MtLangfuseClient *self = data;
  g_autoptr(GPtrArray) fetches = g_ptr_array_new_with_free_func (g_object_unref);

  g_clear_pointer (&self->give_up, g_source_unref);
  for (guint i = 0; i < self->fetches->len; i++)
    g_ptr_array_add (fetches, g_object_ref (g_ptr_array_index (self->fetches, i)));
  for (guint i = 0; i < fetches->len; i++)
    {
      GError *error = NULL;

      set_long_wait_error (&error, self->give_up_wait);
      fail_fetch (g_task_get_task_data (g_ptr_array_index (fetches, i)), error);
    }
  return G_SOURCE_REMOVE;
}

static Walk *
walk_new (Fetch          *fetch,
          MtLangfuseKind  kind,
          gint64          from,
          gint64          to,
          gboolean        top)
{
  Walk *walk = g_new0 (Walk, 1);

  walk->kind = kind;
  walk->from = from;
  walk->to = to;
  walk->top = top;
  walk->total_items = -1;
  walk->cursors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_ptr_array_add (fetch->walks, walk);
  return walk;
}

/* A window's end plus a margin, without running past the representable. */
static gint64
later (gint64 time,
       gint64 margin)
{
  return time < G_MAXINT64 - margin ? time + margin : G_MAXINT64;
}

static gint64
earlier (gint64 time,
         gint64 margin)
{
  return time > G_MININT64 + margin ? time - margin : G_MININT64;
}

/* v2's generations: from the window's start to an hour after its end. */
static void
start_v2_generations (GTask *task)
{
  Fetch *fetch = g_task_get_task_data (task);

  fetch->generations_asked = TRUE;
  request_page (task, walk_new (fetch, MT_LANGFUSE_KIND_V2_GENERATIONS, fetch->from,
                                later (fetch->to, GENERATION_MARGIN_MS), TRUE), NULL, 1);
}

static void
start_v2 (GTask    *task,
          gboolean  both)
{
  Fetch *fetch = g_task_get_task_data (task);

  request_page (task, walk_new (fetch, MT_LANGFUSE_KIND_V2_ROOTS, earlier (fetch->from, ROOT_MARGIN_MS),
                                fetch->to, TRUE), NULL, 1);
  if (both)
    start_v2_generations (task);
}

/* v1 pages by number: a query whose items shift while it is read loses
 * some. What is older than a few minutes has settled; the rest of the
 * window is a walk of its own, small, read again if it moves. */
static void
start_v1_walks (GTask          *task,
                MtLangfuseKind  kind,
                gint64          from,
                gint64          to)
{
  Fetch *fetch = g_task_get_task_data (task);
  gint64 settled = g_get_real_time () / 1000 - V1_SETTLE_MS;

  if (from < settled && settled < to)
    {
      request_page (task, walk_new (fetch, kind, from, settled, TRUE), NULL, 1);
      request_page (task, walk_new (fetch, kind, settled, to, TRUE), NULL, 1);
    }
  else
    request_page (task, walk_new (fetch, kind, from, to, TRUE), NULL, 1);
}

static void
start_v1 (GTask *task)
{
  Fetch *fetch = g_task_get_task_data (task);

  start_v1_walks (task, MT_LANGFUSE_KIND_V1_TRACES, fetch->from, fetch->to);
  start_v1_walks (task, MT_LANGFUSE_KIND_V1_GENERATIONS, fetch->from, later (fetch->to, GENERATION_MARGIN_MS));
}

/* A v1 walk whose pages disagreed on the count, or do not add up to it,
 * read a moving query: it is read again, a few times at most. */
static void
walk_done (GTask *task,
           Walk  *walk)
{
  Fetch *fetch = g_task_get_task_data (task);

  if (fetch->error != NULL || g_cancellable_is_cancelled (fetch->cancellable) ||
      (walk->kind != MT_LANGFUSE_KIND_V1_TRACES && walk->kind != MT_LANGFUSE_KIND_V1_GENERATIONS))
    return;
  if (!walk->changed && walk->received == walk->total_items)
    return;
  if (++walk->attempt >= MAX_WALK_ATTEMPTS)
    {
      fail_fetch (fetch, g_error_new (MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_FAILED,
                                      _("Langfuse’s answers to %s kept changing while they were read, %u times. Try again, or end the window a few minutes earlier."),
                                      mt_langfuse_kind_request (walk->kind), walk->attempt));
      return;
    }
  g_debug ("%s changed while it was read; reading it again", mt_langfuse_kind_request (walk->kind));
  walk->total_items = -1;
  walk->received = 0;
  walk->changed = FALSE;
  request_page (task, walk, NULL, 1);
}

/* A request is done; its walk, and the fetch, end with their last. */
static void
step_done (GTask *task,
           Walk  *walk)
{
  Fetch *fetch = g_task_get_task_data (task);

  g_assert (walk->pending > 0 && fetch->pending > 0);
  if (--walk->pending == 0)
    walk_done (task, walk);
  if (--fetch->pending == 0)
    finish_fetch (task);
}

/* Keeps what a page found; a trace's earliest root is its root, and its
 * user is announced when that root is in the window. */
static void
merge_page (Fetch          *fetch,
            MtLangfusePage *page)
{
  MtLangfuseClient *self = fetch->client;

  for (guint i = 0; i < page->roots->len; i++)
    {
      MtLangfuseRoot *root = g_ptr_array_index (page->roots, i);
      MtLangfuseRoot *known = g_hash_table_lookup (fetch->roots, root->trace_id);

      if (known != NULL && (known->time < root->time ||
                            (known->time == root->time && g_strcmp0 (known->observation_id, root->observation_id) <= 0)))
        continue;
      /* Traces so far: those whose earliest root is in the window. */
      if (known != NULL && known->time >= fetch->from && known->time < fetch->to)
        self->traces--;
      if (root->time >= fetch->from && root->time < fetch->to)
        self->traces++;
      page->roots->pdata[i] = NULL;
      g_hash_table_replace (fetch->roots, root->trace_id, root);

      if (root->user_id != NULL && root->user_id[0] != '\0' && root->time >= fetch->from && root->time < fetch->to &&
          !g_hash_table_contains (fetch->users, root->user_id))
        {
          g_hash_table_add (fetch->users, g_strdup (root->user_id));
          g_signal_emit (self, signals[USER_FOUND], 0, root->user_id);
        }
    }
  for (guint i = 0; i < page->generations->len; i++)
    {
      MtLangfuseGeneration *generation = g_ptr_array_index (page->generations, i);

      if (g_hash_table_contains (fetch->generations, generation->id))
        continue;
      page->generations->pdata[i] = NULL;
      g_hash_table_insert (fetch->generations, generation->id, generation);
    }
  fetch->orphans += page->orphans;

  self->pages++;
  self->items += page->items;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAGES]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEMS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRACES]);
}

/* How many time slices to split the rest of a v2 walk into, after its
 * first page: one per expected page, as many as may run at once, and only
 * when the rate limit leaves room for them all. */
static guint
slices_for (Fetch          *fetch,
            MtLangfusePage *page,
            Walk           *walk)
{
  MtLangfuseClient *self = fetch->client;
  double covered, rest, pages;
  guint slices;

  if (!self->slicing || !walk->top || page->cursor == NULL || !page->descending || page->items == 0 ||
      page->oldest <= walk->from || page->oldest >= walk->to)
    return 1;
  covered = (double) (walk->to - page->oldest);
  rest = (double) (page->oldest - walk->from);
  pages = ceil (rest / MAX (covered, 1.0));
  slices = (guint) CLAMP (pages, 1.0, (double) MAX (mt_http_get_max_in_flight (self->http) / 2, 1));
  if (mt_rate_limit_is_known (self->rate) &&
      (double) mt_rate_limit_get_remaining (self->rate, g_get_monotonic_time ()) < 2 * (pages + slices))
    return 1;
  return slices;
}

typedef struct {
  GTask *task;          /* the fetch's */
  Walk *walk;
  char *cursor;         /* the one the page was asked with */
  guint page;
} PageDone;

static void
page_done_free (PageDone *done)
{
  g_object_unref (done->task);
  g_free (done->cursor);
  g_free (done);
}

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
      if (fetch->requested == MT_LANGFUSE_API_AUTO && fetch->used == MT_LANGFUSE_API_V2 &&
          done->walk->top && done->page == 1 && done->walk->kind == MT_LANGFUSE_KIND_V2_ROOTS &&
          !fetch->generations_asked && g_error_matches (error, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_NOT_FOUND))
        {
          g_debug ("%s has no v2 API; reading v1", fetch->client->base_url);
          g_error_free (error);
          fetch->used = MT_LANGFUSE_API_V1;
          start_v1 (done->task);
        }
      else
        fail_fetch (fetch, error);
      step_done (done->task, done->walk);
      page_done_free (done);
      return;
    }

  job = g_new0 (ParseJob, 1);
  job->kind = done->walk->kind;
  job->base_url = g_strdup (fetch->client->base_url);
  job->label = g_strdup_printf ("%s, page %u", mt_langfuse_kind_request (done->walk->kind), done->page);
  parse = g_task_new (NULL, fetch->cancellable, on_page_parsed, done);
  g_task_set_task_data (parse, job, parse_job_free);
  g_object_set_data_full (G_OBJECT (parse), "body", g_steal_pointer (&body), (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (parse, parse_in_thread);
}

static void
next_v2 (GTask          *task,
         PageDone       *done,
         MtLangfusePage *page)
{
  Fetch *fetch = g_task_get_task_data (task);
  Walk *walk = done->walk;
  guint slices = done->page == 1 ? slices_for (fetch, page, walk) : 1;

  if (done->page == 1 && walk->top && walk->kind == MT_LANGFUSE_KIND_V2_ROOTS)
    {
      if (fetch->requested == MT_LANGFUSE_API_AUTO)
        fetch->client->detected = MT_LANGFUSE_API_V2;
      /* v2 it is: the generations' walk may start. */
      if (!fetch->generations_asked)
        start_v2_generations (task);
    }

  if (page->cursor == NULL || page->items == 0)
    /* The end (a cursor after an empty page leads nowhere). */
    return;
  /* A cursor met before leads round in a circle; more pages than any
   * Langfuse holds lead nowhere. */
  if (!g_hash_table_add (walk->cursors, g_strdup (page->cursor)) || done->page >= MAX_V2_PAGES)
    {
      fail_fetch (fetch, g_error_new (MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_MALFORMED,
                                      _("Langfuse sent an answer that cannot be read (%s, page %u: a cursor that leads back, or nowhere). Check LANGFUSE_BASE_URL, or try again."),
                                      mt_langfuse_kind_request (walk->kind), done->page));
      return;
    }
  if (slices > 1)
    {
      /* What is left is older than the page's oldest item: walked in
       * slices at once. Items at that very instant are read again, and
       * counted once. */
      gint64 end = page->oldest + 1, span = end - walk->from;

      for (guint i = 0; i < slices; i++)
        request_page (task, walk_new (fetch, walk->kind, walk->from + span * i / slices,
                                      walk->from + span * (i + 1) / slices, FALSE), NULL, 1);
    }
  else
    request_page (task, walk, page->cursor, done->page + 1);
}

static void
next_v1 (GTask          *task,
         PageDone       *done,
         MtLangfusePage *page)
{
  Fetch *fetch = g_task_get_task_data (task);
  Walk *walk = done->walk;

  walk->received += page->items;
  if (done->page > 1)
    {
      walk->changed |= page->total_items != walk->total_items;
      return;
    }
  if (fetch->requested == MT_LANGFUSE_API_AUTO && walk->kind == MT_LANGFUSE_KIND_V1_TRACES)
    fetch->client->detected = MT_LANGFUSE_API_V1;
  /* v1 counts its pages: all the others at once. */
  walk->total_items = page->total_items;
  for (guint64 p = 2; p <= page->total_pages; p++)
    request_page (task, walk, NULL, (guint) p);
}

static void
on_page_parsed (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  PageDone *done = data;
  GTask *task = done->task;
  Fetch *fetch = g_task_get_task_data (task);
  g_autoptr(MtLangfusePage) page = NULL;
  GError *error = NULL;

  page = g_task_propagate_pointer (G_TASK (result), &error);
  if (page == NULL)
    fail_fetch (fetch, error);
  else if (fetch->error == NULL)
    {
      merge_page (fetch, page);
      if (done->walk->kind == MT_LANGFUSE_KIND_V2_ROOTS || done->walk->kind == MT_LANGFUSE_KIND_V2_GENERATIONS)
        next_v2 (task, done, page);
      else
        next_v1 (task, done, page);
    }
  step_done (task, done->walk);
  page_done_free (done);
}

static void
request_page (GTask      *task,
              Walk       *walk,
              const char *cursor,
              guint       page)
{
  Fetch *fetch = g_task_get_task_data (task);
  PageRequest *request = g_new0 (PageRequest, 1);
  PageDone *done = g_new0 (PageDone, 1);

  request->task = g_object_ref (task);
  request->walk = walk;
  request->cursor = g_strdup (cursor);
  request->page = page;
  request->fields = fetch->v1_fields;
  request->label = g_strdup_printf ("%s, page %u", mt_langfuse_kind_request (walk->kind), page);

  done->task = g_object_ref (task);
  done->walk = walk;
  done->cursor = g_strdup (cursor);
  done->page = page;

  walk->pending++;
  fetch->pending++;
  mt_http_send_async (fetch->client->http, &page_handler, request, page_request_free, MAX_PAGE_BODY,
                      fetch->cancellable, on_page_answered, done);
}

static int
compare_generations (gconstpointer a,
                     gconstpointer b)
{
  const MtLangfuseGeneration *x = *(const MtLangfuseGeneration * const *) a;
  const MtLangfuseGeneration *y = *(const MtLangfuseGeneration * const *) b;

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
      MtLangfuseGeneration *generation = value;
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
      MtLangfuseRoot *root = value;
      GPtrArray *generations = g_hash_table_lookup (by_trace, root->trace_id);
      MtTrace *trace;
      double total = 0.0;

      if (root->time < fetch->from || root->time >= fetch->to)
        continue;
      trace = mt_trace_new (root->trace_id, root->user_id != NULL && root->user_id[0] != '\0'
                                            ? root->user_id : NULL, root->time);
      mt_trace_set_name (trace, root->name);
      mt_trace_set_session_id (trace, root->session_id);
      if (root->input_text != NULL)
        mt_trace_take_input_text (trace, g_steal_pointer (&root->input_text), root->input_length);
      else
        mt_trace_set_input (trace, root->input);
      if (root->output_text != NULL)
        mt_trace_take_output_text (trace, g_steal_pointer (&root->output_text), root->output_length);
      else
        mt_trace_set_output (trace, root->output);
      mt_trace_set_html_url (trace, root->html_url);

      if (generations != NULL)
        {
          MtLangfuseGeneration *first;

          g_ptr_array_sort (generations, compare_generations);
          first = g_ptr_array_index (generations, 0);
          mt_trace_set_model_name (trace, first->model);
          mt_trace_set_prompt (trace, first->prompt);
          mt_trace_set_cost (trace, first->cost);
          for (guint i = 0; i < generations->len; i++)
            {
              double cost = ((MtLangfuseGeneration *) g_ptr_array_index (generations, i))->cost;

              if (!isnan (cost))
                total += cost;
            }
        }
      /* The sum of its generations' costs, over either API. */
      mt_trace_set_total_cost (trace, total);
      g_ptr_array_add (traces, trace);
    }

  g_ptr_array_sort (traces, compare_traces);
  return traces;
}

static void
finish_fetch (GTask *task)
{
  Fetch *fetch = g_task_get_task_data (task);

  g_ptr_array_remove (fetch->client->fetches, task);
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
  if (fetch->orphans > 0)
    g_debug ("%u observations of no trace were left out", fetch->orphans);
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
  gint64 wait;

  g_return_if_fail (MT_IS_LANGFUSE_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mt_langfuse_client_fetch_traces_async);
  fetch = g_new0 (Fetch, 1);
  fetch->client = g_object_ref (self);
  fetch->from = from;
  fetch->to = to;
  fetch->requested = api;
  fetch->v1_fields = TRUE;
  fetch->cancellable = g_cancellable_new ();
  fetch->walks = g_ptr_array_new_with_free_func (walk_free);
  fetch->roots = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, mt_langfuse_root_free);
  fetch->generations = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, mt_langfuse_generation_free);
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

  if (from < MIN_TIME || to > MAX_TIME || from >= to)
    {
      g_task_return_new_error (task, MT_LANGFUSE_ERROR, MT_LANGFUSE_ERROR_INVALID,
                               _("The time window to read from Langfuse is empty, or outside the years 1970 to 9999."));
      return;
    }
  /* A wait the server asked for that outlasts patience is said now. */
  wait = mt_rate_limit_get_wait (self->rate, g_get_monotonic_time ()) / 1000;
  if (wait > MAX_RETRY_AFTER_MS)
    {
      GError *error = NULL;

      set_long_wait_error (&error, wait);
      g_task_return_error (task, error);
      return;
    }

  g_ptr_array_add (self->fetches, task);
  /* Progress is the fetch's own. */
  self->pages = self->items = self->traces = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAGES]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEMS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRACES]);
  if (fetch->used == MT_LANGFUSE_API_V2)
    /* Known to be v2: both walks at once. Else the first answer tells. */
    start_v2 (task, api == MT_LANGFUSE_API_V2);
  else
    start_v1 (task);
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
