/* mt-loopback-server.c — what the loopback servers share */

#include "config.h"

#include <string.h>

#include "mt-loopback-server.h"

typedef struct {
  int fault;
  guint count;
  char *prefix;
} Fault;

typedef struct {
  MtLoopbackServer *self;
  SoupServerMessage *msg;
  GSource *timer;
} Delayed;

struct _MtLoopbackServer
{
  SoupServer *server;
  char *url;
  GQueue faults;
  GPtrArray *held;  /* broken connections kept open */
  GList *delays;    /* Delayed answers */
  guint requests;
  guint in_flight;
  guint max_in_flight;
};

static void
fault_free (gpointer data)
{
  Fault *fault = data;

  g_free (fault->prefix);
  g_free (fault);
}

static void
delayed_free (Delayed *delayed)
{
  g_source_destroy (delayed->timer);
  g_source_unref (delayed->timer);
  g_object_unref (delayed->msg);
  g_free (delayed);
}

MtLoopbackServer *
mt_loopback_server_new (const char         *server_header,
                    SoupServerCallback  callback,
                    gpointer            data)
{
  MtLoopbackServer *self = g_new0 (MtLoopbackServer, 1);
  g_autoptr(GError) error = NULL;
  GSList *uris;

  g_queue_init (&self->faults);
  self->held = g_ptr_array_new_with_free_func (g_object_unref);
  self->server = soup_server_new ("server-header", server_header, NULL);
  soup_server_add_handler (self->server, NULL, callback, data, NULL);
  if (!soup_server_listen_local (self->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    g_error ("a loopback server cannot listen: %s", error->message);
  uris = soup_server_get_uris (self->server);
  self->url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return self;
}

void
mt_loopback_server_free (MtLoopbackServer *self)
{
  /* Answers still held back are dropped with the server. */
  g_list_free_full (self->delays, (GDestroyNotify) delayed_free);
  soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  g_ptr_array_unref (self->held);
  g_queue_clear_full (&self->faults, fault_free);
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
}

void
mt_loopback_server_add_fault (MtLoopbackServer *self,
                          int           fault,
                          guint         count,
                          const char   *prefix)
{
  Fault *entry;

  if (count == 0)
    return;
  entry = g_new0 (Fault, 1);
  entry->fault = fault;
  entry->count = count;
  entry->prefix = g_strdup (prefix);
  g_queue_push_tail (&self->faults, entry);
}

gboolean
mt_loopback_server_take_fault (MtLoopbackServer *self,
                           const char   *target,
                           int          *fault)
{
  for (GList *l = self->faults.head; l != NULL; l = l->next)
    {
      Fault *entry = l->data;

      if (entry->prefix != NULL && !g_str_has_prefix (target, entry->prefix))
        continue;
      *fault = entry->fault;
      if (--entry->count == 0)
        {
          g_queue_delete_link (&self->faults, l);
          fault_free (entry);
        }
      return TRUE;
    }
  return FALSE;
}

void
mt_loopback_server_clear_faults (MtLoopbackServer *self)
{
  g_queue_clear_full (&self->faults, fault_free);
}
