/* mt-fake-faults.c — a queue of faults for the requests to come */

#include "config.h"

#include "mt-fake-faults.h"

#define MET_KEY "mt-fake-fault"

typedef struct {
  int fault;
  guint count;
  char *prefix;
} Fault;

struct _MtFakeFaults
{
  GQueue queue;
  guint stall_ms;
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

void
mt_fake_faults_free (MtFakeFaults *self)
{
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
