/* mt-fake-langfuse.c — faults and rate limits for the loopback Langfuse
 * server, for the tests */

#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "mt-fake-faults.h"
#include "mt-fake-langfuse.h"
#include "mt-time.h"

typedef struct {
  MtLoopbackLangfuse *langfuse;  /* not owned: the state lives in its server */
  MtFakeFaults *faults;

  guint rate_limit;
  guint rate_window_ms;
  gboolean rate_announce;
  gint64 window_start;           /* monotonic ms; 0 before the first request */
  guint window_count;
  MtFakeLangfuseReset reset_style;
  MtFakeLangfuseThrottle throttle_style;

  guint throttled;
  guint throttled_windows;       /* windows in which the limit refused a request */
  gint64 last_throttled_window;
  guint max_per_window;

  char *growth_prefix;           /* requests to this path add a trace first */
  guint growth_left;
  gint64 growth_time;
  guint grown;
} FakeLangfuse;

static void
fake_free (gpointer data)
{
  FakeLangfuse *fake = data;

  mt_fake_faults_free (fake->faults);
  g_free (fake->growth_prefix);
  g_free (fake);
}

static void
fake_reset (gpointer data)
{
  FakeLangfuse *fake = data;

  fake->throttled = 0;
  fake->throttled_windows = 0;
  fake->last_throttled_window = 0;
  fake->max_per_window = 0;
}

static void
set_json (SoupServerMessage *msg,
          guint              status,
          JsonNode          *root)
{
  g_autofree char *text = json_to_string (root, FALSE);

  mt_loopback_server_answer_text (msg, status, "application/json; charset=utf-8", text);
}

/* Rate limits */

static char *
javascript_date (gint64 unix_ms)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (unix_ms / 1000);

  return g_date_time_format (time, "%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)");
}

static void
set_rate_headers (FakeLangfuse       *fake,
                  SoupMessageHeaders *headers,
                  gint64              left_ms)
{
  g_autofree char *limit = g_strdup_printf ("%u", fake->rate_limit);
  g_autofree char *remaining = g_strdup_printf ("%u", fake->rate_limit - MIN (fake->window_count, fake->rate_limit));
  g_autofree char *reset = NULL;

  switch (fake->reset_style)
    {
    case MT_FAKE_LANGFUSE_RESET_SECONDS:
      reset = g_strdup_printf ("%" G_GINT64_FORMAT, (left_ms + 999) / 1000);
      break;
    case MT_FAKE_LANGFUSE_RESET_UNIX:
      reset = g_strdup_printf ("%" G_GINT64_FORMAT, (g_get_real_time () / 1000 + left_ms + 999) / 1000);
      break;
    case MT_FAKE_LANGFUSE_RESET_DATE:
    default:
      reset = javascript_date (g_get_real_time () / 1000 + left_ms);
      break;
    }
  soup_message_headers_replace (headers, "X-RateLimit-Limit", limit);
  soup_message_headers_replace (headers, "X-RateLimit-Remaining", remaining);
  soup_message_headers_replace (headers, "X-RateLimit-Reset", reset);
}

/* A 429, as a spent rate limit answers, asking to wait @left_ms. */
static void
throttle (FakeLangfuse      *fake,
          SoupServerMessage *msg,
          gint64             left_ms)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  gint64 seconds = MAX ((left_ms + 999) / 1000, 1);
  g_autofree char *retry_after = g_strdup_printf ("%" G_GINT64_FORMAT, seconds);

  fake->throttled++;
  if (fake->throttle_style != MT_FAKE_LANGFUSE_THROTTLE_BODY_ONLY)
    soup_message_headers_replace (headers, "Retry-After", retry_after);
  if (fake->rate_limit > 0)
    set_rate_headers (fake, headers, left_ms);

  if (fake->throttle_style == MT_FAKE_LANGFUSE_THROTTLE_TEXT)
    mt_loopback_server_answer_text (msg, 429, "text/plain; charset=utf-8", "Rate limit exceeded");
  else
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *reset = mt_time_format_utc (g_get_real_time () / 1000 + left_ms);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, "Rate limit exceeded");
      json_builder_set_member_name (builder, "code");
      json_builder_add_string_value (builder, "rate_limited");
      json_builder_set_member_name (builder, "details");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "retryAfterSeconds");
      json_builder_add_int_value (builder, seconds);
      json_builder_set_member_name (builder, "limit");
      json_builder_add_int_value (builder, fake->rate_limit);
      json_builder_set_member_name (builder, "remaining");
      json_builder_add_int_value (builder, 0);
      json_builder_set_member_name (builder, "resetAt");
      json_builder_add_string_value (builder, reset);
      json_builder_end_object (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      set_json (msg, 429, root);
    }
}

/* Counts a request against the window; FALSE (and a 429) when it is spent. */
static gboolean
admit (FakeLangfuse      *fake,
       SoupServerMessage *msg)
{
  gint64 now = g_get_monotonic_time () / 1000;
  gint64 left;

  if (fake->rate_limit == 0)
    return TRUE;
  if (fake->window_start == 0 || now >= fake->window_start + fake->rate_window_ms)
    {
      fake->window_start = now;
      fake->window_count = 0;
    }
  left = fake->window_start + fake->rate_window_ms - now;
  if (fake->window_count >= fake->rate_limit)
    {
      if (fake->last_throttled_window != fake->window_start)
        {
          fake->last_throttled_window = fake->window_start;
          fake->throttled_windows++;
        }
      throttle (fake, msg, left);
      return FALSE;
    }
  fake->window_count++;
  fake->max_per_window = MAX (fake->max_per_window, fake->window_count);
  if (fake->rate_announce)
    set_rate_headers (fake, soup_server_message_get_response_headers (msg), left);
  return TRUE;
}

/* Hooks */

static void
echo_credentials (SoupServerMessage *msg)
{
  const char *given = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                    "Authorization");
  g_autofree guchar *decoded = NULL;
  g_autofree char *pair = NULL;
  g_autofree char *message = NULL;
  gsize length = 0;

  if (given != NULL && g_str_has_prefix (given, "Basic "))
    decoded = g_base64_decode (given + strlen ("Basic "), &length);
  pair = decoded != NULL ? g_strndup ((const char *) decoded, length) : g_strdup ("");
  message = g_strdup_printf ("Project not allowed for keys %s. Authorization: %s", pair, given);
  mt_loopback_langfuse_answer_error (msg, 400, "invalid_request", message);
}

static MtLoopbackVerdict
on_arrived (MtLoopbackServer  *server,
            SoupServerMessage *msg,
            const char        *target,
            guint             *delay_ms,
            gpointer           data)
{
  FakeLangfuse *fake = data;

  switch ((MtFakeLangfuseFault) mt_fake_faults_take (fake->faults, msg, target))
    {
    case MT_FAKE_LANGFUSE_FAULT_INTERNAL_ERROR:
      mt_loopback_langfuse_answer_error (msg, 500, "internal_error", "Internal Server Error");
      return MT_LOOPBACK_ANSWERED;
    case MT_FAKE_LANGFUSE_FAULT_UNAVAILABLE:
      mt_loopback_server_answer_text (msg, 503, "text/plain", "Service Unavailable");
      return MT_LOOPBACK_ANSWERED;
    case MT_FAKE_LANGFUSE_FAULT_TIMEOUT:
      mt_loopback_server_answer_text (msg, 524, "text/html",
                "<!DOCTYPE html><html><head><title>cloud.langfuse.com | 524: A timeout occurred</title></head>"
                "<body>The origin web server timed out responding to this request.</body></html>");
      return MT_LOOPBACK_ANSWERED;
    case MT_FAKE_LANGFUSE_FAULT_RESET:
      mt_loopback_server_break (server, msg, NULL, 0);
      return MT_LOOPBACK_TAKEN;
    case MT_FAKE_LANGFUSE_FAULT_THROTTLED:
      throttle (fake, msg, 1000);
      return MT_LOOPBACK_ANSWERED;
    case MT_FAKE_LANGFUSE_FAULT_THROTTLED_LONG:
      throttle (fake, msg, 3600 * 1000);
      return MT_LOOPBACK_ANSWERED;
    case MT_FAKE_LANGFUSE_FAULT_WRONG_SHAPE:
      mt_loopback_server_answer_text (msg, 200, "application/json", "{\"data\":{\"items\":[]},\"meta\":{\"cursor\":null}}");
      return MT_LOOPBACK_ANSWERED;
    case MT_FAKE_LANGFUSE_FAULT_ECHO:
      echo_credentials (msg);
      return MT_LOOPBACK_ANSWERED;
    case MT_FAKE_LANGFUSE_FAULT_STALL:
      *delay_ms += mt_fake_faults_get_stall_ms (fake->faults);
      return MT_LOOPBACK_PASS;
    case MT_FAKE_LANGFUSE_FAULT_TRUNCATED:
    case MT_FAKE_LANGFUSE_FAULT_BAD_ITEM:
    case MT_FAKE_LANGFUSE_FAULT_STUCK_CURSOR:
    case MT_FAKE_LANGFUSE_FAULT_BAD_COUNTS:
    case MT_FAKE_LANGFUSE_FAULT_STALL_BODY:
    case MT_FAKE_LANGFUSE_FAULT_CUT_BODY:
      /* The server answers; on_answered spoils it. */
    case MT_FAKE_LANGFUSE_FAULT_NONE:
    default:
      return MT_LOOPBACK_PASS;
    }
}

static MtLoopbackVerdict
on_admitted (MtLoopbackServer  *server,
             SoupServerMessage *msg,
             const char        *target,
             gpointer           data)
{
  FakeLangfuse *fake = data;

  if (!admit (fake, msg))
    return MT_LOOPBACK_ANSWERED;
  if (fake->growth_left > 0 && g_str_has_prefix (target, fake->growth_prefix))
    {
      g_autofree char *id = g_strdup_printf ("grown-%u", fake->grown++);

      fake->growth_left--;
      mt_loopback_langfuse_add_trace (fake->langfuse, id, fake->growth_time, "meal-analysis", "user-grown",
                                      NULL, NULL, NULL);
    }
  return MT_LOOPBACK_PASS;
}

/* Rewrites a page the server answered as the fault says. */
static void
spoil_page (SoupServerMessage   *msg,
            MtFakeLangfuseFault  fault)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr(GBytes) whole = soup_message_body_flatten (body);
  g_autofree char *text = g_strndup (g_bytes_get_data (whole, NULL), g_bytes_get_size (whole));
  g_autoptr(JsonNode) root = json_from_string (text, NULL);
  JsonObject *page, *meta;

  if (soup_server_message_get_status (msg) != 200 || root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  page = json_node_get_object (root);
  meta = json_object_get_object_member (page, "meta");
  if (fault == MT_FAKE_LANGFUSE_FAULT_BAD_ITEM && json_object_has_member (page, "data"))
    {
      JsonObject *broken = json_object_new ();

      json_object_set_string_member (broken, "id", "broken");
      json_object_set_string_member (broken, "traceId", "broken");
      json_array_add_object_element (json_object_get_array_member (page, "data"), broken);
    }
  else if (fault == MT_FAKE_LANGFUSE_FAULT_STUCK_CURSOR && meta != NULL)
    {
      const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
      g_autoptr(GHashTable) params = query != NULL ? g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL) : NULL;
      const char *cursor = params != NULL ? g_hash_table_lookup (params, "cursor") : NULL;

      /* Only a page asked for with a cursor can hand the same one back. */
      if (cursor == NULL)
        return;
      json_object_set_string_member (meta, "cursor", cursor);
    }
  else if (fault == MT_FAKE_LANGFUSE_FAULT_BAD_COUNTS && meta != NULL)
    json_object_set_int_member (meta, "totalPages", 1000000);
  else
    return;
  set_json (msg, 200, root);
}

static gboolean
on_answered (MtLoopbackServer  *server,
             SoupServerMessage *msg,
             const char        *target,
             gpointer           data)
{
  FakeLangfuse *fake = data;
  MtFakeLangfuseFault fault = (MtFakeLangfuseFault) mt_fake_faults_met (msg);

  switch (fault)
    {
    case MT_FAKE_LANGFUSE_FAULT_STALL_BODY:
      mt_fake_hold_answer (fake->faults, server, msg, TRUE);
      return FALSE;
    case MT_FAKE_LANGFUSE_FAULT_CUT_BODY:
      mt_fake_hold_answer (fake->faults, server, msg, FALSE);
      return TRUE;
    case MT_FAKE_LANGFUSE_FAULT_TRUNCATED:
      mt_fake_cut_answer (msg);
      return TRUE;
    case MT_FAKE_LANGFUSE_FAULT_BAD_ITEM:
    case MT_FAKE_LANGFUSE_FAULT_STUCK_CURSOR:
    case MT_FAKE_LANGFUSE_FAULT_BAD_COUNTS:
      spoil_page (msg, fault);
      return TRUE;
    default:
      return FALSE;
    }
}

static const MtLoopbackHooks hooks = {
  .arrived = on_arrived,
  .admitted = on_admitted,
  .answered = on_answered,
  .reset = fake_reset,
};

/* The fake's state, made on first use and freed with the server. */
static FakeLangfuse *
fake_for (MtLoopbackLangfuse *langfuse)
{
  MtLoopbackServer *server = mt_loopback_langfuse_get_server (langfuse);
  FakeLangfuse *fake = mt_loopback_server_get_hook_data (server);

  if (fake == NULL)
    {
      fake = g_new0 (FakeLangfuse, 1);
      fake->langfuse = langfuse;
      fake->faults = mt_fake_faults_new ();
      mt_loopback_server_set_hooks (server, &hooks, fake, fake_free);
    }
  return fake;
}

void
mt_fake_langfuse_add_fault (MtLoopbackLangfuse  *langfuse,
                            MtFakeLangfuseFault  fault,
                            guint                count,
                            const char          *prefix)
{
  mt_fake_faults_add (fake_for (langfuse)->faults, fault, count, prefix);
}

void
mt_fake_langfuse_clear_faults (MtLoopbackLangfuse *langfuse)
{
  mt_fake_faults_clear (fake_for (langfuse)->faults);
}

void
mt_fake_langfuse_set_stall_ms (MtLoopbackLangfuse *langfuse,
                               guint               stall_ms)
{
  mt_fake_faults_set_stall_ms (fake_for (langfuse)->faults, stall_ms);
}

void
mt_fake_langfuse_set_rate_limit (MtLoopbackLangfuse *langfuse,
                                 guint               limit,
                                 guint               window_ms,
                                 gboolean            announce)
{
  FakeLangfuse *fake = fake_for (langfuse);

  fake->rate_limit = limit;
  fake->rate_window_ms = MAX (window_ms, 1);
  fake->rate_announce = announce;
  fake->window_start = 0;
  fake->window_count = 0;
}

void
mt_fake_langfuse_set_reset_style (MtLoopbackLangfuse  *langfuse,
                                  MtFakeLangfuseReset  style)
{
  fake_for (langfuse)->reset_style = style;
}

void
mt_fake_langfuse_set_throttle_style (MtLoopbackLangfuse     *langfuse,
                                     MtFakeLangfuseThrottle  style)
{
  fake_for (langfuse)->throttle_style = style;
}

void
mt_fake_langfuse_add_growth (MtLoopbackLangfuse *langfuse,
                             const char         *prefix,
                             guint               count,
                             gint64              timestamp)
{
  FakeLangfuse *fake = fake_for (langfuse);

  g_free (fake->growth_prefix);
  fake->growth_prefix = g_strdup (prefix);
  fake->growth_left = count;
  fake->growth_time = timestamp;
}

guint
mt_fake_langfuse_get_grown (MtLoopbackLangfuse *langfuse)
{
  return fake_for (langfuse)->grown;
}

guint
mt_fake_langfuse_get_throttled (MtLoopbackLangfuse *langfuse)
{
  return fake_for (langfuse)->throttled;
}

guint
mt_fake_langfuse_get_throttled_windows (MtLoopbackLangfuse *langfuse)
{
  return fake_for (langfuse)->throttled_windows;
}

guint
mt_fake_langfuse_get_max_per_window (MtLoopbackLangfuse *langfuse)
{
  return fake_for (langfuse)->max_per_window;
}
