/* mt-fake-s3.c — faults for the loopback S3 server, for the tests */

#include "config.h"

#include "mt-fake-faults.h"
#include "mt-fake-s3.h"

static MtLoopbackVerdict
on_arrived (MtLoopbackServer  *server,
            SoupServerMessage *msg,
            const char        *target,
            guint             *delay_ms,
            gpointer           data)
{
  static const char huge[] = "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n"
                             "Content-Length: 4294967296\r\n\r\n\xff\xd8\xff\xe0";
  MtFakeFaults *faults = data;
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
      /* The server answers; on_answered spoils it. */
    case MT_FAKE_S3_FAULT_NONE:
    default:
      return MT_LOOPBACK_PASS;
    }
}

static gboolean
on_answered (MtLoopbackServer  *server,
             SoupServerMessage *msg,
             const char        *target,
             gpointer           data)
{
  switch ((MtFakeS3Fault) mt_fake_faults_met (msg))
    {
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

/* The fake's faults, made on first use and freed with the server. */
static MtFakeFaults *
faults_for (MtLoopbackS3 *s3)
{
  MtLoopbackServer *server = mt_loopback_s3_get_server (s3);
  MtFakeFaults *faults = mt_loopback_server_get_hook_data (server);

  if (faults == NULL)
    {
      faults = mt_fake_faults_new ();
      mt_loopback_server_set_hooks (server, &hooks, faults, (GDestroyNotify) mt_fake_faults_free);
    }
  return faults;
}

void
mt_fake_s3_add_fault (MtLoopbackS3  *s3,
                      MtFakeS3Fault  fault,
                      guint          count,
                      const char    *prefix)
{
  mt_fake_faults_add (faults_for (s3), fault, count, prefix);
}

void
mt_fake_s3_clear_faults (MtLoopbackS3 *s3)
{
  mt_fake_faults_clear (faults_for (s3));
}

void
mt_fake_s3_set_stall_ms (MtLoopbackS3 *s3,
                         guint         stall_ms)
{
  mt_fake_faults_set_stall_ms (faults_for (s3), stall_ms);
}
