/* mt-fake-s3.c — faults for the loopback S3 server, for the tests */

#include "config.h"

#include "mt-fake-faults.h"
#include "mt-fake-s3.h"

typedef struct {
  MtFakeFaults *faults;
  guint per_second;    /* 0: no limit */
  gint64 second;       /* the current second, monotonic */
  guint in_second;     /* requests admitted in it */
  guint slowed;        /* SlowDown answers sent for the limit */
} FakeS3;

static void
fake_free (gpointer data)
{
  FakeS3 *fake = data;

  mt_fake_faults_free (fake->faults);
  g_free (fake);
}

/* S3 answers SlowDown to a request rate over what a prefix allows. */
static gboolean
over_rate (FakeS3 *fake)
{
  gint64 second = g_get_monotonic_time () / G_USEC_PER_SEC;

  if (fake->per_second == 0)
    return FALSE;
  if (second != fake->second)
    {
      fake->second = second;
      fake->in_second = 0;
    }
  if (fake->in_second >= fake->per_second)
    {
      fake->slowed++;
      return TRUE;
    }
  fake->in_second++;
  return FALSE;
}

static MtLoopbackVerdict
on_arrived (MtLoopbackServer  *server,
            SoupServerMessage *msg,
            const char        *target,
            guint             *delay_ms,
            gpointer           data)
{
  static const char huge[] = "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n"
                             "Content-Length: 4294967296\r\n\r\n\xff\xd8\xff\xe0";
  FakeS3 *fake = data;
  MtFakeFaults *faults = fake->faults;
  SoupMessageHeaders *out = soup_server_message_get_response_headers (msg);

  switch ((MtFakeS3Fault) mt_fake_faults_take (faults, msg, target))
    {
    case MT_FAKE_S3_FAULT_INTERNAL_ERROR:
      mt_loopback_s3_answer_error (msg, 500, "InternalError", "We encountered an internal error. Please try again.");
      return MT_LOOPBACK_ANSWERED;
    case MT_FAKE_S3_FAULT_SLOW_DOWN:
      mt_loopback_s3_answer_error (msg, 503, "SlowDown", "Please reduce your request rate.");
      return MT_LOOPBACK_ANSWERED;
    case MT_FAKE_S3_FAULT_EXPIRED_TOKEN:
      mt_loopback_s3_answer_error (msg, 400, "ExpiredToken", "The provided token has expired.");
      return MT_LOOPBACK_ANSWERED;
    case MT_FAKE_S3_FAULT_ACCESS_DENIED:
      mt_loopback_s3_answer_error (msg, 403, "AccessDenied", "Access Denied");
      return MT_LOOPBACK_ANSWERED;
    case MT_FAKE_S3_FAULT_THROTTLED:
      mt_loopback_s3_answer_error (msg, 429, "TooManyRequests", "Please slow down.");
      soup_message_headers_replace (out, "Retry-After", "1");
      return MT_LOOPBACK_ANSWERED;
    case MT_FAKE_S3_FAULT_REDIRECT:
      {
        g_autofree char *location = g_uri_to_string (soup_server_message_get_uri (msg));

        mt_loopback_s3_answer_error (msg, 307, "TemporaryRedirect",
                                     "Please re-send this request to the specified temporary endpoint.");
        soup_message_headers_replace (out, "Location", location);
        return MT_LOOPBACK_ANSWERED;
      }
    case MT_FAKE_S3_FAULT_WRONG_REGION:
      /* As S3 answers a request to the wrong regional endpoint, without
       * the x-amz-bucket-region that would say where to go. */
      mt_loopback_s3_answer_error (msg, 301, "PermanentRedirect",
                                   "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.");
      return MT_LOOPBACK_ANSWERED;
    case MT_FAKE_S3_FAULT_ECHO:
      {
        SoupMessageHeaders *in = soup_server_message_get_request_headers (msg);
        g_autofree char *echo = g_strdup_printf ("Bad request from token %s with Authorization %s",
                                                 soup_message_headers_get_one (in, "x-amz-security-token"),
                                                 soup_message_headers_get_one (in, "Authorization"));

        mt_loopback_s3_answer_error (msg, 400, "InvalidRequest", echo);
        return MT_LOOPBACK_ANSWERED;
      }
    case MT_FAKE_S3_FAULT_RESET:
      mt_loopback_server_break (server, msg, NULL, 0);
      return MT_LOOPBACK_TAKEN;
    case MT_FAKE_S3_FAULT_HUGE_OBJECT:
      /* The headers and a first few bytes; the 4 GiB never follow. */
      mt_loopback_server_break (server, msg, huge, sizeof huge - 1);
      return MT_LOOPBACK_TAKEN;
    case MT_FAKE_S3_FAULT_STALL:
      *delay_ms += mt_fake_faults_get_stall_ms (faults);
      return MT_LOOPBACK_PASS;
    case MT_FAKE_S3_FAULT_TRUNCATED:
    case MT_FAKE_S3_FAULT_CHUNKED:
    case MT_FAKE_S3_FAULT_STALL_BODY:
    case MT_FAKE_S3_FAULT_CUT_BODY:
      /* The server answers; on_answered spoils it. */
    case MT_FAKE_S3_FAULT_NONE:
    default:
      if (over_rate (fake))
        {
          mt_loopback_s3_answer_error (msg, 503, "SlowDown", "Please reduce your request rate.");
          return MT_LOOPBACK_ANSWERED;
        }
      return MT_LOOPBACK_PASS;
    }
}

static gboolean
on_answered (MtLoopbackServer  *server,
             SoupServerMessage *msg,
             const char        *target,
             gpointer           data)
{
  FakeS3 *fake = data;

  switch ((MtFakeS3Fault) mt_fake_faults_met (msg))
    {
    case MT_FAKE_S3_FAULT_STALL_BODY:
      mt_fake_hold_answer (fake->faults, server, msg, TRUE);
      return FALSE;
    case MT_FAKE_S3_FAULT_CUT_BODY:
      mt_fake_hold_answer (fake->faults, server, msg, FALSE);
      return TRUE;
    case MT_FAKE_S3_FAULT_CHUNKED:
      soup_message_headers_set_encoding (soup_server_message_get_response_headers (msg), SOUP_ENCODING_CHUNKED);
      return TRUE;
    case MT_FAKE_S3_FAULT_TRUNCATED:
      mt_fake_cut_answer (msg);
      return TRUE;
    default:
      return FALSE;
    }
}

static const MtLoopbackHooks hooks = {
  .arrived = on_arrived,
  .answered = on_answered,
};

/* The fake's state, made on first use and freed with the server. */
static FakeS3 *
fake_for (MtLoopbackS3 *s3)
{
  MtLoopbackServer *server = mt_loopback_s3_get_server (s3);
  FakeS3 *fake = mt_loopback_server_get_hook_data (server);

  if (fake == NULL)
    {
      fake = g_new0 (FakeS3, 1);
      fake->faults = mt_fake_faults_new ();
      mt_loopback_server_set_hooks (server, &hooks, fake, fake_free);
    }
  return fake;
}

void
mt_fake_s3_add_fault (MtLoopbackS3  *s3,
                      MtFakeS3Fault  fault,
                      guint          count,
                      const char    *prefix)
{
  mt_fake_faults_add (fake_for (s3)->faults, fault, count, prefix);
}

void
mt_fake_s3_clear_faults (MtLoopbackS3 *s3)
{
  mt_fake_faults_clear (fake_for (s3)->faults);
}

void
mt_fake_s3_set_stall_ms (MtLoopbackS3 *s3,
                         guint         stall_ms)
{
  mt_fake_faults_set_stall_ms (fake_for (s3)->faults, stall_ms);
}

void
mt_fake_s3_set_rate_limit (MtLoopbackS3 *s3,
                           guint         per_second)
{
  FakeS3 *fake = fake_for (s3);

  fake->per_second = per_second;
  fake->second = 0;
  fake->in_second = 0;
}

guint
mt_fake_s3_get_slowed (MtLoopbackS3 *s3)
{
  return fake_for (s3)->slowed;
}
