/* mt-fake-faults.h — a queue of faults for the requests to come
 *
 * What the fakes share: faults queued in order, each for the next few
 * requests whose target starts with a prefix, and the fault a request met,
 * kept on the message for the hooks that run after the server's answer.
 */
#pragma once

#include <libsoup/soup.h>

#include "mt-loopback-server.h"

G_BEGIN_DECLS

typedef struct _MtFakeFaults MtFakeFaults;

MtFakeFaults *mt_fake_faults_new    (void);
void          mt_fake_faults_free   (MtFakeFaults *self);

/* The next @count requests whose target starts with @prefix (%NULL: any)
 * meet @fault (a value of a fake's own enumeration, not 0). */
void          mt_fake_faults_add    (MtFakeFaults *self,
                                     int           fault,
                                     guint         count,
                                     const char   *prefix);
void          mt_fake_faults_clear  (MtFakeFaults *self);

/* The fault due for a request to @target, 0 when none is; it is kept on
 * @msg for mt_fake_faults_met(). */
int           mt_fake_faults_take   (MtFakeFaults      *self,
                                     SoupServerMessage *msg,
                                     const char        *target);
/* The fault @msg met, 0 for none. */
int           mt_fake_faults_met    (SoupServerMessage *msg);

/* How long an answer that stalls waits, besides the server's latency. */
void          mt_fake_faults_set_stall_ms (MtFakeFaults *self,
                                           guint         stall_ms);
guint         mt_fake_faults_get_stall_ms (MtFakeFaults *self);

/* Cuts the answer set on @msg in the middle. */
void          mt_fake_cut_answer    (SoupServerMessage *msg);

/* Sends the headers of the answer set on @msg, with its whole length, and
 * the first half of its body; after the stall time (counted from now, the
 * server's latency included), the rest (@resume) or nothing: the
 * connection closes, as a body cut in transit. */
void          mt_fake_hold_answer   (MtFakeFaults      *self,
                                     MtLoopbackServer  *server,
                                     SoupServerMessage *msg,
                                     gboolean           resume);

G_END_DECLS
