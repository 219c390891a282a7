/* mt-loopback-server.h — what the loopback servers share
 *
 * A libsoup server on 127.0.0.1 in the thread-default main context, answers
 * held back as a network would hold them, the requests counted (all of
 * them, and the most on the wire at once), connections broken on purpose,
 * and a queue of faults for the requests to come.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _MtLoopbackServer MtLoopbackServer;

/* Every request goes to @callback. */
MtLoopbackServer *mt_loopback_server_new            (const char         *server_header,
                                                     SoupServerCallback  callback,
                                                     gpointer            data);
void          mt_loopback_server_free           (MtLoopbackServer       *self);

/* http://127.0.0.1:PORT */
const char   *mt_loopback_server_get_url        (MtLoopbackServer       *self);

/* Counts @msg, as on the wire until its answer is sent. */
void          mt_loopback_server_arrived        (MtLoopbackServer  *self,
                                                 SoupServerMessage *msg);
/* Holds the answer back @ms. */
void          mt_loopback_server_delay          (MtLoopbackServer  *self,
                                                 SoupServerMessage *msg,
                                                 guint              ms);
/* Takes the connection from libsoup: closes it at once, or writes @bytes
 * and keeps it open, silent, until the server goes. */
void          mt_loopback_server_break          (MtLoopbackServer  *self,
                                                 SoupServerMessage *msg,
                                                 const char        *bytes,
                                                 gsize              length);

guint         mt_loopback_server_get_requests   (MtLoopbackServer       *self);
guint         mt_loopback_server_get_max_in_flight (MtLoopbackServer    *self);
void          mt_loopback_server_reset_counters (MtLoopbackServer       *self);

/* The next @count requests whose target starts with @prefix (%NULL: any)
 * meet @fault, a value of the server's own enumeration. Faults queue up. */
void          mt_loopback_server_add_fault      (MtLoopbackServer *self,
                                                 int               fault,
                                                 guint             count,
                                                 const char       *prefix);
/* The fault due for a request to @target; FALSE when none is. */
gboolean      mt_loopback_server_take_fault     (MtLoopbackServer *self,
                                                 const char       *target,
                                                 int              *fault);
void          mt_loopback_server_clear_faults   (MtLoopbackServer       *self);

G_END_DECLS
