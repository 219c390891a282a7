/* mt-http.c — HTTP requests that retry, wait their turn and keep a pace */

#include "config.h"

#include <glib/gi18n-lib.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mt-http.h"
#include "mt-time.h"

/* An error document is a few hundred bytes. */
#define MAX_ERROR_BODY (64 * 1024)
#define MAX_RETRY_DELAY_MS 20000
/* The longest gap between requests a server's SlowDowns may ask for. */
#define MAX_GAP(self) (MIN (MAX ((self)->retry_delay_ms, 1) * 8, MAX_RETRY_DELAY_MS))
#define READ_CHUNK (64 * 1024)

struct _MtHttp
{
  GObject parent_instance;

  SoupSession *session;
  guint max_in_flight;
  guint max_attempts;
  guint retry_delay_ms;
  MtHttpGate gate;
  gpointer gate_data;

  guint in_flight;
  /* How many may be in flight now: max_in_flight, cut by half when the
   * server asks to slow down and grown back by one per window of answers
   * (additive increase, multiplicative decrease). */
  double window;
  gint64 last_cut;  /* monotonic µs */
  /* Still asked to slow down with one in flight: requests leave at most
   * one per gap, doubled at each SlowDown, shortened at each answer. */
  guint gap_ms;
  gint64 last_send; /* monotonic µs */
  GQueue waiting; /* Call, for a free place or the pace */
  GPtrArray *watches; /* Watch: the cancellables of the calls not on the wire */
  GSource *gate_timer;
  guint requests;
  guint retries;
};

G_DEFINE_FINAL_TYPE (MtHttp, mt_http, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MAX_IN_FLIGHT,
  PROP_MAX_ATTEMPTS,
  PROP_RETRY_DELAY_MS,
  PROP_REQUESTS,
  PROP_RETRIES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef enum {
  CALL_WAITING,   /* for a place in flight, or the pace */
  CALL_SENDING,   /* holding a place */
  CALL_SLEEPING,  /* between attempts */
  CALL_DONE,
} CallState;

/* One source watches a cancellable for all the calls that wait or sleep
 * with it, however many: a source for each would make every turn of the
 * main loop walk them all. */
typedef struct {
  MtHttp *http;
  GCancellable *cancellable;
  GSource *source;
  GQueue calls;         /* Call, through their watch_link */
  gboolean dispatching;
} Watch;

typedef struct {
  MtHttp *http;
  GTask *task;                  /* owns this */
  const MtHttpHandler *handler;
  gpointer data;
  GDestroyNotify data_free;
  gsize max_body;
  CallState state;
  guint attempt;
  gint64 sent_at;  /* monotonic µs, of the attempt on the wire */
  SoupMessage *message;
  GInputStream *stream;
  GByteArray *body;
  guint timer;
  Watch *watch;
  GList watch_link;
} Call;

static void send_attempt (Call *call);
static void pump (MtHttp *self);

static void
call_free (gpointer data)
{
  Call *call = data;

  g_assert (call->timer == 0);
  g_assert (call->watch == NULL);
  if (call->data_free != NULL)
    call->data_free (call->data);
  g_clear_object (&call->message);
  g_clear_object (&call->stream);
  g_clear_pointer (&call->body, g_byte_array_unref);
  g_object_unref (call->http);
  g_free (call);
}

static void
mt_http_dispose (GObject *object)
{
  MtHttp *self = MT_HTTP (object);

  /* Every call holds a reference, so none is left. */
  g_warn_if_fail (g_queue_is_empty (&self->waiting));
  g_warn_if_fail (self->watches == NULL || self->watches->len == 0);
  g_clear_pointer (&self->watches, g_ptr_array_unref);
  if (self->gate_timer != NULL)
    {
      g_source_destroy (self->gate_timer);
      g_clear_pointer (&self->gate_timer, g_source_unref);
    }
  if (self->session != NULL)
    soup_session_abort (self->session);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (mt_http_parent_class)->dispose (object);
}

static void
mt_http_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  MtHttp *self = MT_HTTP (object);

  switch (prop_id)
    {
    case PROP_MAX_IN_FLIGHT:
      g_value_set_uint (value, self->max_in_flight);
      break;
    case PROP_MAX_ATTEMPTS:
      g_value_set_uint (value, self->max_attempts);
      break;
    case PROP_RETRY_DELAY_MS:
      g_value_set_uint (value, self->retry_delay_ms);
      break;
    case PROP_REQUESTS:
      g_value_set_uint (value, self->requests);
      break;
    case PROP_RETRIES:
      g_value_set_uint (value, self->retries);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_http_set_property (GObject      *object,
                      guint         prop_id,
                      const GValue *value,
                      GParamSpec   *pspec)
{
  MtHttp *self = MT_HTTP (object);

  switch (prop_id)
    {
    case PROP_MAX_IN_FLIGHT:
      mt_http_set_max_in_flight (self, g_value_get_uint (value));
      break;
    case PROP_MAX_ATTEMPTS:
      mt_http_set_max_attempts (self, g_value_get_uint (value));
      break;
    case PROP_RETRY_DELAY_MS:
      mt_http_set_retry_delay_ms (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_http_class_init (MtHttpClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = mt_http_dispose;
  object_class->get_property = mt_http_get_property;
  object_class->set_property = mt_http_set_property;

  properties[PROP_MAX_IN_FLIGHT] = g_param_spec_uint ("max-in-flight", NULL, NULL, 1, 256, 16, rw);
  properties[PROP_MAX_ATTEMPTS] = g_param_spec_uint ("max-attempts", NULL, NULL, 1, 20, 5, rw);
  properties[PROP_RETRY_DELAY_MS] = g_param_spec_uint ("retry-delay-ms", NULL, NULL, 0, MAX_RETRY_DELAY_MS, 200, rw);
  properties[PROP_REQUESTS] = g_param_spec_uint ("requests", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_RETRIES] = g_param_spec_uint ("retries", NULL, NULL, 0, G_MAXUINT, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_http_init (MtHttp *self)
{
  self->max_in_flight = 16;
  self->window = 16;
  self->max_attempts = 5;
  self->retry_delay_ms = 200;
  g_queue_init (&self->waiting);
  self->watches = g_ptr_array_new ();
  /* TLS certificates are verified: libsoup does by default, and nothing
   * here turns that off. libsoup's own limit (2 per host) must not be the
   * one that binds: the limit on requests in flight keeps connections in
   * check. */
  self->session = soup_session_new_with_options ("user-agent", "Mealtrace/" PACKAGE_VERSION,
                                                 "timeout", 60,
                                                 "idle-timeout", 30,
                                                 "max-conns", 256,
                                                 "max-conns-per-host", 256,
                                                 NULL);
}

MtHttp *
mt_http_new (void)
{
  return g_object_new (MT_TYPE_HTTP, NULL);
}

SoupSession *
mt_http_get_session (MtHttp *self)
{
  g_return_val_if_fail (MT_IS_HTTP (self), NULL);
  return self->session;
}

guint
mt_http_get_max_in_flight (MtHttp *self)
{
  g_return_val_if_fail (MT_IS_HTTP (self), 0);
  return self->max_in_flight;
}

void
mt_http_set_max_in_flight (MtHttp *self,
                           guint   max_in_flight)
{
  g_return_if_fail (MT_IS_HTTP (self));

  max_in_flight = CLAMP (max_in_flight, 1, 256);
  if (self->max_in_flight == max_in_flight)
    return;
  self->max_in_flight = max_in_flight;
  self->window = max_in_flight;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_IN_FLIGHT]);
  pump (self);
}

guint
mt_http_get_max_attempts (MtHttp *self)
{
  g_return_val_if_fail (MT_IS_HTTP (self), 0);
  return self->max_attempts;
}

void
mt_http_set_max_attempts (MtHttp *self,
                          guint   max_attempts)
{
  g_return_if_fail (MT_IS_HTTP (self));

  max_attempts = CLAMP (max_attempts, 1, 20);
  if (self->max_attempts == max_attempts)
    return;
  self->max_attempts = max_attempts;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_ATTEMPTS]);
}

guint
mt_http_get_retry_delay_ms (MtHttp *self)
{
  g_return_val_if_fail (MT_IS_HTTP (self), 0);
  return self->retry_delay_ms;
}

void
mt_http_set_retry_delay_ms (MtHttp *self,
                            guint   retry_delay_ms)
{
  g_return_if_fail (MT_IS_HTTP (self));

  retry_delay_ms = MIN (retry_delay_ms, MAX_RETRY_DELAY_MS);
  if (self->retry_delay_ms == retry_delay_ms)
    return;
  self->retry_delay_ms = retry_delay_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRY_DELAY_MS]);
}

guint
mt_http_get_requests (MtHttp *self)
{
  g_return_val_if_fail (MT_IS_HTTP (self), 0);
  return self->requests;
}

guint
mt_http_get_retries (MtHttp *self)
{
  g_return_val_if_fail (MT_IS_HTTP (self), 0);
  return self->retries;
}

guint
mt_http_get_in_flight (MtHttp *self)
{
  g_return_val_if_fail (MT_IS_HTTP (self), 0);
  return self->in_flight;
}

void
mt_http_set_gate (MtHttp     *self,
                  MtHttpGate  gate,
                  gpointer    gate_data)
{
  g_return_if_fail (MT_IS_HTTP (self));

  self->gate = gate;
  self->gate_data = gate_data;
}

/* Waiting */

static void
watch_free (Watch *watch)
{
  g_ptr_array_remove_fast (watch->http->watches, watch);
  g_source_destroy (watch->source);
  g_source_unref (watch->source);
  g_object_unref (watch->cancellable);
  g_free (watch);
}

static void
unwatch_cancellation (Call *call)
{
  Watch *watch = call->watch;

  if (watch == NULL)
    return;
  g_queue_unlink (&watch->calls, &call->watch_link);
  call->watch = NULL;
  if (g_queue_is_empty (&watch->calls) && !watch->dispatching)
    watch_free (watch);
}

/* Ends the call with @error or @body; the task runs its callback. */
static void
call_finish (Call   *call,
             GError *error,
             GBytes *body)
{
  GTask *task = call->task;

  g_assert (call->state != CALL_DONE);
  call->state = CALL_DONE;
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, body, (GDestroyNotify) g_bytes_unref);
  g_object_unref (task);
}

static void
remove_timer (Call *call)
{
  GSource *source;

  if (call->timer == 0)
    return;
  source = g_main_context_find_source_by_id (g_task_get_context (call->task), call->timer);
  if (source != NULL)
    g_source_destroy (source);
  call->timer = 0;
}

/* Ends @call, waiting or sleeping, as cancelled. */
static void
cancel_idle_call (Call *call)
{
  /* Waiting for a place or sleeping between attempts: stop at once. */
  if (call->state == CALL_WAITING)
    g_queue_remove (&call->http->waiting, call);
  remove_timer (call);
  unwatch_cancellation (call);
  call_finish (call, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                          _("Operation was cancelled")), NULL);
}

static gboolean
on_watch_cancelled (GCancellable *cancellable,
                    gpointer      data)
{
  Watch *watch = data;
  Call *call;

  /* A call's callback may start others with this cancellable: they end at
   * once too, so the watch stays until none is left. */
  watch->dispatching = TRUE;
  while ((call = g_queue_peek_head (&watch->calls)) != NULL)
    cancel_idle_call (call);
  watch->dispatching = FALSE;
  watch_free (watch);
  return G_SOURCE_REMOVE;
}

static void
watch_cancellation (Call *call)
{
  MtHttp *self = call->http;
  GCancellable *cancellable = g_task_get_cancellable (call->task);
  GMainContext *context = g_task_get_context (call->task);
  Watch *watch = NULL;

  g_assert (call->watch == NULL);
  if (cancellable == NULL)
    return;
  for (guint i = 0; i < self->watches->len && watch == NULL; i++)
    {
      Watch *w = g_ptr_array_index (self->watches, i);

      if (w->cancellable == cancellable && g_source_get_context (w->source) == context)
        watch = w;
    }
  if (watch == NULL)
    {
      watch = g_new0 (Watch, 1);
      watch->http = self;
      watch->cancellable = g_object_ref (cancellable);
      g_queue_init (&watch->calls);
      watch->source = g_cancellable_source_new (cancellable);
      g_source_set_callback (watch->source, G_SOURCE_FUNC (on_watch_cancelled), watch, NULL);
      g_source_set_name (watch->source, "[mealtrace] http cancellation");
      g_source_attach (watch->source, context);
      g_ptr_array_add (self->watches, watch);
    }
  call->watch_link.data = call;
  g_queue_push_tail_link (&watch->calls, &call->watch_link);
  call->watch = watch;
}

static gboolean
on_gate_timer (gpointer data)
{
  MtHttp *self = data;

  g_clear_pointer (&self->gate_timer, g_source_unref);
  pump (self);
  return G_SOURCE_REMOVE;
}

static guint
places (MtHttp *self)
{
  return CLAMP ((guint) self->window, 1, self->max_in_flight);
}

/* The server asked @call to slow down. Halves the window, once for all
 * the answers to requests sent before the cut. Returns whether the window
 * was above one request: then the attempt is not held against the call,
 * since the server is well and only too busy for so many at once. */
static gboolean
slow_down (MtHttp *self,
           Call   *call)
{
  if (call->sent_at < self->last_cut)
    return TRUE;
  self->last_cut = g_get_monotonic_time ();
  if (self->window > 1)
    {
      self->window = MAX (self->window / 2, 1);
      g_debug ("asked to slow down: %u requests in flight at most", places (self));
      return TRUE;
    }
  /* One at a time is still too many: space them out, from the first
   * retry's pause to eight times it; beyond, attempts count again. */
  if (self->gap_ms >= MAX_GAP (self))
    return FALSE;
  self->gap_ms = self->gap_ms == 0 ? MAX (self->retry_delay_ms, 1) : MIN (self->gap_ms * 2, MAX_GAP (self));
  g_debug ("asked to slow down: a request every %u ms at most", self->gap_ms);
  return TRUE;
}

static void
speed_up (MtHttp *self)
{
  if (self->gap_ms > 0)
    self->gap_ms = self->gap_ms * 7 / 8;
  else if (self->window < self->max_in_flight)
    self->window = MIN (self->window + 1 / self->window, self->max_in_flight);
}

/* How long the next request must wait for the pace and the gap. */
static guint
wait_before_sending (MtHttp *self)
{
  guint wait_ms = self->gate != NULL ? self->gate (self->gate_data) : 0;

  if (wait_ms == 0 && self->gap_ms > 0)
    {
      gint64 due = self->last_send + (gint64) self->gap_ms * 1000, now = g_get_monotonic_time ();

      if (due > now)
        wait_ms = (guint) ((due - now + 999) / 1000);
    }
  return wait_ms;
}

/* Sends waiting calls while places are free and the pace allows. */
static void
pump (MtHttp *self)
{
  g_autoptr(MtHttp) hold G_GNUC_UNUSED = g_object_ref (self);

  while (self->in_flight < places (self) && !g_queue_is_empty (&self->waiting))
    {
      Call *next = g_queue_peek_head (&self->waiting);
      guint wait_ms;

      /* Cancelled before its watch has run: it ends here, never sent. */
      if (g_cancellable_is_cancelled (g_task_get_cancellable (next->task)))
        {
          cancel_idle_call (next);
          continue;
        }
      if (self->gate_timer != NULL)
        return;
      wait_ms = wait_before_sending (self);
      if (wait_ms > 0)
        {
          /* In the caller's context, like the calls themselves. */
          self->gate_timer = g_timeout_source_new (wait_ms);
          g_source_set_callback (self->gate_timer, on_gate_timer, self, NULL);
          g_source_set_name (self->gate_timer, "[mealtrace] http pace");
          g_source_attach (self->gate_timer, g_main_context_get_thread_default ());
          return;
        }
      self->last_send = g_get_monotonic_time ();

      g_queue_pop_head (&self->waiting);
      unwatch_cancellation (next);
      self->in_flight++;
      next->state = CALL_SENDING;
      send_attempt (next);
    }
}

static void
release_place (MtHttp *self)
{
  g_assert (self->in_flight > 0);
  self->in_flight--;
  pump (self);
}

static void
enqueue (Call *call)
{
  call->state = CALL_WAITING;
  g_queue_push_tail (&call->http->waiting, call);
  watch_cancellation (call);
  pump (call->http);
}

static gboolean
on_retry_timer (gpointer data)
{
  Call *call = data;

  call->timer = 0;
  unwatch_cancellation (call);
  enqueue (call);
  return G_SOURCE_REMOVE;
}

/* Exponential backoff with jitter: half the doubled delay, plus a random
 * part of the other half, so that many clients do not retry in step. */
static guint
retry_delay (MtHttp *self,
             guint   attempt)
{
  guint64 ceiling = (guint64) self->retry_delay_ms << MIN (MAX (attempt, 1) - 1, 16);

  ceiling = MIN (ceiling, MAX_RETRY_DELAY_MS);
  if (ceiling == 0)
    return 0;
  return (guint) (ceiling / 2 + g_random_int_range (0, (gint32) (ceiling - ceiling / 2) + 1));
}

static void
drop_attempt (Call *call)
{
  g_clear_object (&call->message);
  g_clear_object (&call->stream);
  g_clear_pointer (&call->body, g_byte_array_unref);
}

/* Another attempt may cure this: try again after a pause (at least
 * @at_least_ms) while attempts remain, else fail with @error. */
static void
retry_or_fail (Call   *call,
               GError *error,
               guint   at_least_ms)
{
  MtHttp *self = call->http;
  GSource *timer;

  drop_attempt (call);
  release_place (self);

  if (call->attempt >= self->max_attempts)
    {
      g_prefix_error (&error, ngettext ("After %u attempt: ", "After %u attempts: ", call->attempt),
                      call->attempt);
      call_finish (call, error, NULL);
      return;
    }
  g_error_free (error);

  self->retries++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRIES]);
  call->state = CALL_SLEEPING;
  /* In the context the call was made in, like everything else of it. */
  timer = g_timeout_source_new (MAX (retry_delay (self, call->attempt), at_least_ms));
  g_source_set_callback (timer, on_retry_timer, call, NULL);
  g_source_set_name (timer, "[mealtrace] http retry");
  call->timer = g_source_attach (timer, g_task_get_context (call->task));
  g_source_unref (timer);
  watch_cancellation (call);
}

static void
fail (Call   *call,
      GError *error)
{
  drop_attempt (call);
  release_place (call->http);
  call_finish (call, error, NULL);
}

/* Answers */

static void
answer_complete (Call *call)
{
  g_autoptr(GBytes) body = g_byte_array_free_to_bytes (g_steal_pointer (&call->body));
  GError *error = NULL;
  guint wait_ms = 0;

  switch (call->handler->judge (call->data, call->message, body, &wait_ms, &error))
    {
    case MT_HTTP_DONE:
      speed_up (call->http);
      drop_attempt (call);
      release_place (call->http);
      call_finish (call, NULL, g_steal_pointer (&body));
      break;
    case MT_HTTP_RETRY:
      retry_or_fail (call, error, wait_ms);
      break;
    case MT_HTTP_SLOW_DOWN:
      if (slow_down (call->http, call))
        call->attempt--;
      retry_or_fail (call, error, wait_ms);
      break;
    case MT_HTTP_RESEND:
      /* Going to the right place, or asking in words the server takes, is
       * not another attempt; it is another request, so it passes the pace
       * first, ahead of the calls still waiting. */
      call->attempt--;
      drop_attempt (call);
      call->state = CALL_WAITING;
      g_queue_push_head (&call->http->waiting, call);
      watch_cancellation (call);
      release_place (call->http);
      break;
    case MT_HTTP_FAIL:
    default:
      fail (call, error);
      break;
    }
}

/* A transport failure: cancelled, a certificate (not retried), or the
 * network (retried). */
static void
transport_failed (Call   *call,
                  GError *cause)
{
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    fail (call, g_error_copy (cause));
  else if (cause->domain == G_TLS_ERROR)
    fail (call, call->handler->transport_error (call->data, cause, TRUE));
  else
    retry_or_fail (call, call->handler->transport_error (call->data, cause, FALSE), 0);
}

static void on_body_read (GObject *source, GAsyncResult *result, gpointer data);

static void
read_more (Call *call)
{
  g_input_stream_read_bytes_async (call->stream, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (call->task), on_body_read, call);
}

static void
on_body_read (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  Call *call = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk = NULL;
  gboolean success = SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (call->message));
  gsize limit = success ? call->max_body : MAX_ERROR_BODY;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (chunk == NULL)
    {
      /* Cut off part way: the answer cannot be trusted, ask again. */
      transport_failed (call, error);
      return;
    }
  if (g_bytes_get_size (chunk) == 0)
    {
      answer_complete (call);
      return;
    }
  if (call->body->len + g_bytes_get_size (chunk) > limit)
    {
      if (success)
        {
          fail (call, call->handler->too_large (call->data, call->body->len + g_bytes_get_size (chunk), limit));
          return;
        }
      /* An error document this long is cut; what matters is at its start. */
      g_byte_array_append (call->body, g_bytes_get_data (chunk, NULL), limit - call->body->len);
      answer_complete (call);
      return;
    }
  g_byte_array_append (call->body, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
  read_more (call);
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  Call *call = data;
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *headers;

  call->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (call->stream == NULL)
    {
      transport_failed (call, error);
      return;
    }

  /* Refuse what is too large before reading a byte of it. */
  headers = soup_message_get_response_headers (call->message);
  if (SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (call->message)) &&
      soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      (guint64) soup_message_headers_get_content_length (headers) > call->max_body)
    {
      fail (call, call->handler->too_large (call->data, soup_message_headers_get_content_length (headers),
                                            call->max_body));
      return;
    }

  call->body = g_byte_array_new ();
  read_more (call);
}

/* libsoup 3.2 sends an idempotent request again on its own when a
 * connection it had used before fails ahead of the answer's first byte.
 * When that happens twice in a row (several pooled connections the server
 * has dropped), the late completion of an earlier try's read is taken for
 * the current one: the current read is lost and, when the answer is a
 * success, libsoup crashes on a null pointer.  A try that
 * libsoup restarts therefore goes out on a new connection, where a failure
 * is not restarted but reaches Mealtrace, which retries it with its own
 * backoff. */
static void
on_restarted (SoupMessage *message,
              gpointer     data)
{
  g_debug ("a connection closed before its answer; the request goes again on a new one");
  soup_message_add_flags (message, SOUP_MESSAGE_NEW_CONNECTION);
}

/* Sends one attempt; the call holds a place in flight. */
static void
send_attempt (Call *call)
{
  MtHttp *self = call->http;

  call->attempt++;
  call->sent_at = g_get_monotonic_time ();
  call->message = call->handler->prepare (call->data);
  /* Redirects are for the handler to judge and follow, signed again:
   * libsoup would carry credentials to wherever they point. */
  soup_message_add_flags (call->message, SOUP_MESSAGE_NO_REDIRECT);
  g_signal_connect (call->message, "restarted", G_CALLBACK (on_restarted), NULL);

  self->requests++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REQUESTS]);
  soup_session_send_async (self->session, call->message, G_PRIORITY_DEFAULT,
                           g_task_get_cancellable (call->task), on_sent, call);
}

void
mt_http_send_async (MtHttp              *self,
                    const MtHttpHandler *handler,
                    gpointer             data,
                    GDestroyNotify       data_free,
                    gsize                max_body,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  GTask *task;
  Call *call;

  g_return_if_fail (MT_IS_HTTP (self));
  g_return_if_fail (handler != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  call = g_new0 (Call, 1);
  call->http = g_object_ref (self);
  call->task = task;
  call->handler = handler;
  call->data = data;
  call->data_free = data_free;
  call->max_body = max_body;
  g_task_set_source_tag (task, mt_http_send_async);
  g_task_set_task_data (task, call, call_free);

  if (g_task_return_error_if_cancelled (task))
    {
      call->state = CALL_DONE;
      g_object_unref (task);
      return;
    }
  enqueue (call);
}

GBytes *
mt_http_send_finish (MtHttp        *self,
                     GAsyncResult  *result,
                     GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Header values */

static int
month_number (const char *name)
{
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

  for (int i = 0; i < 12; i++)
    if (g_ascii_strncasecmp (name, months + 3 * i, 3) == 0)
      return i + 1;
  return 0;
}

/* "Mon Nov 23 2026 10:00:00 GMT+0000 (Coordinated Universal Time)", what
 * JavaScript's Date.toString() writes; the weekday and the zone's name are
 * optional. */
static gboolean
parse_javascript_date (const char *text,
                       gint64     *unix_ms)
{
  char month[4] = "";
  int day, year, hour, minute, second, consumed = 0, offset = 0;
  g_autoptr(GDateTime) time = NULL;
  const char *p;

  if (sscanf (text, "%*3[A-Za-z] %3[A-Za-z] %d %d %d:%d:%d GMT%n",
              month, &day, &year, &hour, &minute, &second, &consumed) != 6 &&
      sscanf (text, "%3[A-Za-z] %d %d %d:%d:%d GMT%n",
              month, &day, &year, &hour, &minute, &second, &consumed) != 6)
    return FALSE;
  if (consumed == 0 || month_number (month) == 0)
    return FALSE;
  p = text + consumed;
  if ((p[0] == '+' || p[0] == '-') && g_ascii_isdigit (p[1]) && g_ascii_isdigit (p[2]) &&
      g_ascii_isdigit (p[3]) && g_ascii_isdigit (p[4]))
    {
      offset = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[3] - '0') * 10 + (p[4] - '0')) * 60;
      if (p[0] == '-')
        offset = -offset;
      p += 5;
    }
  if (*p != '\0' && *p != ' ')
    return FALSE;
  time = g_date_time_new_utc (year, month_number (month), day, hour, minute, second);
  if (time == NULL)
    return FALSE;
  *unix_ms = (g_date_time_to_unix (time) - offset) * 1000;
  return TRUE;
}

gboolean
mt_http_parse_moment (const char *text,
                      gint64     *unix_ms,
                      gboolean   *to_the_second)
{
  g_autoptr(GDateTime) date = NULL;
  gboolean whole = TRUE;
  char *end = NULL;
  double number;

  if (text == NULL)
    return FALSE;
  while (g_ascii_isspace (*text))
    text++;

  number = g_ascii_strtod (text, &end);
  if (end != text && *end == '\0' && isfinite (number) && number > 1e9)
    {
      /* Unix milliseconds, or seconds. */
      if (number > 1e12)
        {
          *unix_ms = (gint64) number;
          whole = FALSE;
        }
      else
        {
          *unix_ms = (gint64) (number * 1000.0);
          whole = floor (number) == number;
        }
    }
  else if (mt_time_parse_iso8601 (text, NULL, unix_ms, NULL))
    whole = strchr (text, '.') == NULL;
  else if ((date = soup_date_time_new_from_http_string (text)) != NULL)
    *unix_ms = g_date_time_to_unix (date) * 1000;
  else if (!parse_javascript_date (text, unix_ms))
    return FALSE;

  if (to_the_second != NULL)
    *to_the_second = whole;
  return TRUE;
}

gboolean
mt_http_get_retry_after (SoupMessageHeaders *headers,
                         gint64             *wait_ms)
{
  const char *value = soup_message_headers_get_one (headers, "Retry-After");
  g_autoptr(GDateTime) date = NULL;
  char *end = NULL;
  double seconds;

  if (value == NULL)
    return FALSE;
  while (g_ascii_isspace (*value))
    value++;
  seconds = g_ascii_strtod (value, &end);
  if (end != value && g_ascii_isdigit (*value) && isfinite (seconds))
    {
      while (g_ascii_isspace (*end))
        end++;
      if (*end != '\0' || seconds > 1e7)
        return FALSE;
      *wait_ms = (gint64) ceil (seconds * 1000.0);
      return TRUE;
    }
  if ((date = soup_date_time_new_from_http_string (value)) == NULL)
    return FALSE;
  *wait_ms = MAX (g_date_time_to_unix (date) * 1000 - g_get_real_time () / 1000, 0);
  return TRUE;
}
