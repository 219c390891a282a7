/* mt-loopback-server.c — what the loopback servers share */

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "mt-loopback-server.h"

/* Connections a server takes at once before accepting them. */
#define LISTEN_BACKLOG 256

typedef struct {
  MtLoopbackServer *self;
  SoupServerMessage *msg;
  GSource *timer;
} Delayed;

struct _MtLoopbackServer
{
  SoupServer *server;
  GSocketService *service;  /* accepts the connections the server serves */
  char *url;
  MtLoopbackHooks hooks;
  gpointer hook_data;
  GDestroyNotify hook_destroy;
  GPtrArray *held;  /* broken connections kept open */
  GList *delays;    /* Delayed answers */
  guint requests;
  guint in_flight;
  guint max_in_flight;
};

static void
delayed_free (Delayed *delayed)
{
  g_source_destroy (delayed->timer);
  g_source_unref (delayed->timer);
  g_object_unref (delayed->msg);
  g_free (delayed);
}

static GSocket *
listening_socket (GError **error)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocket) socket = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  /* GLib's default backlog of 10 drops the connections a client opens at
   * once beyond it, which then wait a second to try again, as no real
   * service makes them wait. */
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_bind (socket, any_port, TRUE, error) || !g_socket_listen (socket, error))
    return NULL;
  return g_steal_pointer (&socket);
}

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             gpointer           data)
{
  MtLoopbackServer *self = data;
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address (connection, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  g_autoptr(GError) error = NULL;

  if (local == NULL || remote == NULL)
    return TRUE;  /* the client is already gone */
  /* Answers go out as they are written, as libsoup's own listener sends
   * them. */
  g_socket_set_option (g_socket_connection_get_socket (connection), IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  if (!soup_server_accept_iostream (self->server, G_IO_STREAM (connection), local, remote, &error))
    g_warning ("a loopback server cannot take a connection: %s", error->message);
  return TRUE;
}

MtLoopbackServer *
mt_loopback_server_new (const char         *server_header,
                        SoupServerCallback  callback,
                        gpointer            data)
{
  MtLoopbackServer *self = g_new0 (MtLoopbackServer, 1);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) served = NULL;
  g_autoptr(GSocket) unused = NULL;
  g_autoptr(GError) error = NULL;

  self->held = g_ptr_array_new_with_free_func (g_object_unref);
  self->server = soup_server_new ("server-header", server_header, NULL);
  soup_server_add_handler (self->server, NULL, callback, data, NULL);
  /* The server's connections come through a GSocketService, not through
   * libsoup's own listener: libsoup 3.2's listener never releases a socket
   * it accepts (fixed in 3.4.0).  Yet 3.2 keeps a connection alive after
   * an answer only while the server has a listener of its own, so it gets
   * one on a port of its own that nobody is told. */
  served = listening_socket (&error);
  if (served != NULL)
    unused = listening_socket (&error);
  if (unused == NULL || !soup_server_listen_socket (self->server, unused, 0, &error) ||
      (bound = g_socket_get_local_address (served, &error)) == NULL)
    g_error ("a loopback server cannot listen: %s", error->message);
  self->service = g_socket_service_new ();
  if (!g_socket_listener_add_socket (G_SOCKET_LISTENER (self->service), served, NULL, &error))
    g_error ("a loopback server cannot listen: %s", error->message);
  g_signal_connect (self->service, "incoming", G_CALLBACK (on_incoming), self);
  self->url = g_strdup_printf ("http://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  return self;
}

void
mt_loopback_server_free (MtLoopbackServer *self)
{
  g_socket_service_stop (self->service);
  g_socket_listener_close (G_SOCKET_LISTENER (self->service));
  g_signal_handlers_disconnect_by_data (self->service, self);
  g_clear_object (&self->service);
  /* Answers still held back are dropped with the server. */
  g_list_free_full (self->delays, (GDestroyNotify) delayed_free);
  soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  g_ptr_array_unref (self->held);
  mt_loopback_server_set_hooks (self, NULL, NULL, NULL);
  g_free (self->url);
  g_free (self);
}

const char *
mt_loopback_server_get_url (MtLoopbackServer *self)
{
  return self->url;
}

static void
on_finished (SoupServerMessage *msg,
             gpointer           data)
{
  MtLoopbackServer *self = data;

  if (g_object_get_data (G_OBJECT (msg), "mt-counted") != NULL)
    {
      g_object_set_data (G_OBJECT (msg), "mt-counted", NULL);
      self->in_flight--;
    }
}

void
mt_loopback_server_arrived (MtLoopbackServer      *self,
                        SoupServerMessage *msg)
{
  self->requests++;
  self->in_flight++;
  self->max_in_flight = MAX (self->max_in_flight, self->in_flight);
  g_object_set_data (G_OBJECT (msg), "mt-counted", GINT_TO_POINTER (1));
  g_signal_connect (msg, "finished", G_CALLBACK (on_finished), self);
}

static gboolean
on_delay_done (gpointer data)
{
  Delayed *delayed = data;

  delayed->self->delays = g_list_remove (delayed->self->delays, delayed);
  soup_server_message_unpause (delayed->msg);
  delayed_free (delayed);
  return G_SOURCE_REMOVE;
}

void
mt_loopback_server_delay (MtLoopbackServer      *self,
                      SoupServerMessage *msg,
                      guint              ms)
{
  Delayed *delayed;

  if (ms == 0)
    return;
  delayed = g_new0 (Delayed, 1);
  delayed->self = self;
  delayed->msg = g_object_ref (msg);
  soup_server_message_pause (msg);
  delayed->timer = g_timeout_source_new (ms);
  g_source_set_callback (delayed->timer, on_delay_done, delayed, NULL);
  g_source_attach (delayed->timer, g_main_context_get_thread_default ());
  self->delays = g_list_prepend (self->delays, delayed);
}

void
mt_loopback_server_break (MtLoopbackServer      *self,
                      SoupServerMessage *msg,
                      const char        *bytes,
                      gsize              length)
{
  GIOStream *stream;

  on_finished (msg, self);
  stream = soup_server_message_steal_connection (msg);
  if (bytes != NULL)
    {
      g_output_stream_write_all (g_io_stream_get_output_stream (stream), bytes, length, NULL, NULL, NULL);
      g_ptr_array_add (self->held, stream);
      return;
    }
  g_io_stream_close (stream, NULL, NULL);
  g_object_unref (stream);
}

guint
mt_loopback_server_get_requests (MtLoopbackServer *self)
{
  return self->requests;
}

guint
mt_loopback_server_get_max_in_flight (MtLoopbackServer *self)
{
  return self->max_in_flight;
}

void
mt_loopback_server_reset_counters (MtLoopbackServer *self)
{
  self->requests = 0;
  self->max_in_flight = self->in_flight;
  if (self->hooks.reset != NULL)
    self->hooks.reset (self->hook_data);
}

void
mt_loopback_server_set_hooks (MtLoopbackServer      *self,
                              const MtLoopbackHooks *hooks,
                              gpointer               data,
                              GDestroyNotify         destroy)
{
  if (self->hook_destroy != NULL)
    self->hook_destroy (self->hook_data);
  memset (&self->hooks, 0, sizeof self->hooks);
  if (hooks != NULL)
    self->hooks = *hooks;
  self->hook_data = data;
  self->hook_destroy = destroy;
}

gpointer
mt_loopback_server_get_hook_data (MtLoopbackServer *self)
{
  return self->hook_data;
}

gboolean
mt_loopback_server_run_arrived (MtLoopbackServer  *self,
                                SoupServerMessage *msg,
                                const char        *target,
                                guint             *delay_ms)
{
  if (self->hooks.arrived == NULL)
    return FALSE;
  switch (self->hooks.arrived (self, msg, target, delay_ms, self->hook_data))
    {
    case MT_LOOPBACK_TAKEN:
      return TRUE;
    case MT_LOOPBACK_ANSWERED:
      mt_loopback_server_delay (self, msg, *delay_ms);
      return TRUE;
    case MT_LOOPBACK_PASS:
    default:
      return FALSE;
    }
}

gboolean
mt_loopback_server_run_admitted (MtLoopbackServer  *self,
                                 SoupServerMessage *msg,
                                 const char        *target)
{
  if (self->hooks.admitted == NULL)
    return FALSE;
  return self->hooks.admitted (self, msg, target, self->hook_data) == MT_LOOPBACK_ANSWERED;
}

gboolean
mt_loopback_server_run_answered (MtLoopbackServer  *self,
                                 SoupServerMessage *msg,
                                 const char        *target)
{
  if (self->hooks.answered == NULL)
    return FALSE;
  return self->hooks.answered (self, msg, target, self->hook_data);
}

void
mt_loopback_server_answer_text (SoupServerMessage *msg,
                                guint              status,
                                const char        *type,
                                const char        *text)
{
  soup_server_message_set_status (msg, status, NULL);
  /* set_response appends: what was there before goes first. */
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY, text, strlen (text));
}
