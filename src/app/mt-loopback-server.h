/* mt-loopback-server.h — what the loopback servers share
 *
 * A libsoup server on 127.0.0.1 in the thread-default main context, answers
 * held back as a network would hold them, the requests counted (all of
 * them, and the most on the wire at once), and hooks through which a test
 * can step in (tests/fakes/ injects faults and rate limits with them).
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _MtLoopbackServer MtLoopbackServer;

/* What a hook made of a request. */
typedef enum {
  MT_LOOPBACK_PASS,     /* the server goes on */
  MT_LOOPBACK_ANSWERED, /* the hook set the answer; the server sends it */
  MT_LOOPBACK_TAKEN,    /* the hook took the connection; nothing is sent */
} MtLoopbackVerdict;

/* @target is what a request is about, in the server's own terms (a path,
 * an S3 key or listing prefix). Any hook may be %NULL. */
typedef struct {
  /* As the request arrives, before anything is checked; may add to the
   * time the answer is held back. */
  MtLoopbackVerdict (*arrived)  (MtLoopbackServer  *server,
                                 SoupServerMessage *msg,
                                 const char        *target,
                                 guint             *delay_ms,
                                 gpointer           data);
  /* Once the request is known good (authenticated, a route the server
   * has), before the server reads its data; may answer, not take. */
  MtLoopbackVerdict (*admitted) (MtLoopbackServer  *server,
                                 SoupServerMessage *msg,
                                 const char        *target,
                                 gpointer           data);
  /* The server's answer is set, not yet sent; TRUE when the hook spoilt
   * it, so that the server does not count it as served. */
  gboolean          (*answered) (MtLoopbackServer  *server,
                                 SoupServerMessage *msg,
                                 const char        *target,
                                 gpointer           data);
  /* The counters are reset. */
  void              (*reset)    (gpointer           data);
} MtLoopbackHooks;

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

/* One set of hooks at a time; @destroy frees @data with the server or
 * when other hooks replace these. */
void          mt_loopback_server_set_hooks      (MtLoopbackServer      *self,
                                                 const MtLoopbackHooks *hooks,
                                                 gpointer               data,
                                                 GDestroyNotify         destroy);
gpointer      mt_loopback_server_get_hook_data  (MtLoopbackServer      *self);

/* What the servers call at each point. run_arrived may lengthen
 * @delay_ms; TRUE: the hook dealt with the request, and any answer is on
 * its way after @delay_ms. TRUE from run_admitted: the hook answered. */
gboolean      mt_loopback_server_run_arrived    (MtLoopbackServer  *self,
                                                 SoupServerMessage *msg,
                                                 const char        *target,
                                                 guint             *delay_ms);
gboolean      mt_loopback_server_run_admitted   (MtLoopbackServer  *self,
                                                 SoupServerMessage *msg,
                                                 const char        *target);
gboolean      mt_loopback_server_run_answered   (MtLoopbackServer  *self,
                                                 SoupServerMessage *msg,
                                                 const char        *target);
/* Sets @msg's status and a body of @text. */
void          mt_loopback_server_answer_text    (SoupServerMessage *msg,
                                                 guint              status,
                                                 const char        *type,
                                                 const char        *text);

G_END_DECLS
