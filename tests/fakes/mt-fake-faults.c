/* mt-fake-faults.c — a queue of faults for the requests to come */

#include "config.h"

#include "mt-fake-faults.h"

#define MET_KEY "mt-fake-fault"

typedef struct {
  int fault;
  guint count;
  char *prefix;
} Fault;

/* An answer sent in part, the rest held back. */
typedef struct {
  MtFakeFaults *faults;
  MtLoopbackServer *server;
  SoupServerMessage *msg;
  GBytes *rest;        /* %NULL: the connection closes instead */
  GSource *timer;
  gulong finished_handler;
} Held;

struct _MtFakeFaults
{
  GQueue queue;
  guint stall_ms;
  GList *held;         /* Held answers */
};

static void
fault_free (gpointer data)
{
  Fault *fault = data;

  g_free (fault->prefix);
  g_free (fault);
}

MtFakeFaults *
mt_fake_faults_new (void)
{
  MtFakeFaults *self = g_new0 (MtFakeFaults, 1);

  g_queue_init (&self->queue);
  return self;
}

static void
held_free (Held *held)
{
  held->faults->held = g_list_remove (held->faults->held, held);
  g_clear_signal_handler (&held->finished_handler, held->msg);
  g_source_destroy (held->timer);
  g_source_unref (held->timer);
  g_clear_pointer (&held->rest, g_bytes_unref);
  g_object_unref (held->msg);
  g_free (held);
}

void
mt_fake_faults_free (MtFakeFaults *self)
{
  /* Answers still held back are dropped with the server. */
  while (self->held != NULL)
    held_free (self->held->data);
  mt_fake_faults_clear (self);
  g_free (self);
}

void
mt_fake_faults_add (MtFakeFaults *self,
                    int           fault,
                    guint         count,
                    const char   *prefix)
{
  Fault *entry;

  g_return_if_fail (fault != 0);

  if (count == 0)
    return;
  entry = g_new0 (Fault, 1);
  entry->fault = fault;
  entry->count = count;
  entry->prefix = g_strdup (prefix);
  g_queue_push_tail (&self->queue, entry);
}

void
mt_fake_faults_clear (MtFakeFaults *self)
{
  g_queue_clear_full (&self->queue, fault_free);
}

int
mt_fake_faults_take (MtFakeFaults      *self,
                     SoupServerMessage *msg,
                     const char        *target)
{
  for (GList *l = self->queue.head; l != NULL; l = l->next)
    {
      Fault *entry = l->data;
      int fault = entry->fault;

      if (entry->prefix != NULL && !g_str_has_prefix (target, entry->prefix))
        continue;
      if (--entry->count == 0)
        {
          g_queue_delete_link (&self->queue, l);
          fault_free (entry);
        }
      g_object_set_data (G_OBJECT (msg), MET_KEY, GINT_TO_POINTER (fault));
      return fault;
    }
  return 0;
}

int
mt_fake_faults_met (SoupServerMessage *msg)
{
  return GPOINTER_TO_INT (g_object_get_data (G_OBJECT (msg), MET_KEY));
}

void
mt_fake_faults_set_stall_ms (MtFakeFaults *self,
                             guint         stall_ms)
{
  self->stall_ms = stall_ms;
}

guint
mt_fake_faults_get_stall_ms (MtFakeFaults *self)
{
  return self->stall_ms;
}

void
mt_fake_cut_answer (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr(GBytes) whole = soup_message_body_flatten (body);

  soup_message_body_truncate (body);
  soup_message_body_append (body, SOUP_MEMORY_COPY, g_bytes_get_data (whole, NULL), g_bytes_get_size (whole) / 2);
}

static gboolean
on_held_done (gpointer data)
{
  Held *held = data;

  /* What follows may finish the message at once: this is no longer the
   * client going away. */
  g_clear_signal_handler (&held->finished_handler, held->msg);
  if (held->rest != NULL)
    {
      soup_message_body_append_bytes (soup_server_message_get_response_body (held->msg), held->rest);
      soup_server_message_unpause (held->msg);
    }
  else
    mt_loopback_server_break (held->server, held->msg, NULL, 0);
  held_free (held);
  return G_SOURCE_REMOVE;
}

/* The client went away first: nothing more to send. */
static void
on_held_finished (SoupServerMessage *msg,
                  gpointer           data)
{
  held_free (data);
}

void
mt_fake_hold_answer (MtFakeFaults      *self,
                     MtLoopbackServer  *server,
                     SoupServerMessage *msg,
                     gboolean           resume)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr(GBytes) whole = soup_message_body_flatten (body);
  gsize size = g_bytes_get_size (whole), half = size / 2;
  Held *held = g_new0 (Held, 1);

  /* The whole length is announced; libsoup sends what the body holds and
   * waits for the rest. */
  soup_message_headers_set_content_length (soup_server_message_get_response_headers (msg), (goffset) size);
  soup_message_body_truncate (body);
  soup_message_body_append (body, SOUP_MEMORY_COPY, g_bytes_get_data (whole, NULL), half);

  held->faults = self;
  held->server = server;
  held->msg = g_object_ref (msg);
  held->rest = resume ? g_bytes_new_from_bytes (whole, half, size - half) : NULL;
  held->finished_handler = g_signal_connect (msg, "finished", G_CALLBACK (on_held_finished), held);
  held->timer = g_timeout_source_new (self->stall_ms);
  g_source_set_callback (held->timer, on_held_done, held, NULL);
  g_source_attach (held->timer, g_main_context_get_thread_default ());
  self->held = g_list_prepend (self->held, held);
}
