/* mt-fake-server.h — what the fake services share
 *
 * A libsoup server on 127.0.0.1 in the thread-default main context, answers
 * held back as a network would hold them, the requests counted (all of
 * them, and the most on the wire at once), connections broken on purpose,
 * and a queue of faults for the requests to come.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _MtFakeServer MtFakeServer;

/* Every request goes to @callback. */
MtFakeServer *mt_fake_server_new            (const char         *server_header,
                                             SoupServerCallback  callback,
                                             gpointer            data);
void          mt_fake_server_free           (MtFakeServer       *self);

/* http://127.0.0.1:PORT */
const char   *mt_fake_server_get_url        (MtFakeServer       *self);

/* Counts @msg, as on the wire until its answer is sent. */
void          mt_fake_server_arrived        (MtFakeServer       *self,
                                             SoupServerMessage  *msg);
/* Holds the answer back @ms. */
void          mt_fake_server_delay          (MtFakeServer       *self,
                                             SoupServerMessage  *msg,
                                             guint               ms);
/* Takes the connection from libsoup: closes it at once, or writes @bytes
 * and keeps it open, silent, until the server goes. */
void          mt_fake_server_break          (MtFakeServer       *self,
                                             SoupServerMessage  *msg,
                                             const char         *bytes,
                                             gsize               length);

guint         mt_fake_server_get_requests   (MtFakeServer       *self);
guint         mt_fake_server_get_max_in_flight (MtFakeServer    *self);
void          mt_fake_server_reset_counters (MtFakeServer       *self);

/* The next @count requests whose target starts with @prefix (%NULL: any)
 * meet @fault, a value of the fake's own enumeration. Faults queue up. */
void          mt_fake_server_add_fault      (MtFakeServer       *self,
                                             int                 fault,
                                             guint               count,
                                             const char         *prefix);
/* The fault due for a request to @target; FALSE when none is. */
gboolean      mt_fake_server_take_fault     (MtFakeServer       *self,
                                             const char         *target,
                                             int                *fault);
void          mt_fake_server_clear_faults   (MtFakeServer       *self);

G_END_DECLS
