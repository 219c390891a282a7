/* test-fault-matrix.c — the `mealtrace` binary in batch mode against
 * loopback Langfuse and S3 servers that fail in every way the fakes know
 *
 * One fault-free run over each Langfuse API generation gives the reference
 * exports. Then each case sets faults in the fakes (or breaks the network,
 * the disk, or sends SIGINT at a phase), runs the binary with a deadline,
 * and checks how it ended: status 0 with exports equal to the reference's;
 * or status 1 with a message that says what happened and exports that are
 * whole, mark the affected users incomplete and hold, for every other user,
 * what the reference holds; or status 3 (credentials or settings refused)
 * or 130 (interrupted) with nothing half-written. Never a signal, a run
 * past its deadline, a silently smaller result or a temporary file left
 * behind.
 */

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "mt-fake-langfuse.h"
#include "mt-fake-s3.h"
#include "mt-test-files.h"
#include "mt-test-scale.h"

#define PUBLIC_KEY "pk-lf-fault-matrix"
#define SECRET_KEY "sk-lf-fault-matrix-secret"
#define KEY_ID "AKIAFAULTMATRIX00000"
#define AWS_SECRET "fault-matrix-aws-secret-0123456789abcdef"
#define SESSION_TOKEN "FQoGZXIvYXdzEfaultMatrixSessionToken"
#define BUCKET "meals"
#define PREFIX "meal-images/"
/* Where the bucket is, and the region a case may wrongly configure. */
#define BUCKET_REGION "eu-west-1"
#define OTHER_REGION "us-west-2"
#define NO_SUCH_HOST "mealtrace-no-such-host.invalid"
/* 2026-10-01T00:00:00+07:00: the window is that day. */
#define DAY_START (G_GINT64_CONSTANT (1790812800000) - 7 * HOUR)
#define SECOND G_GINT64_CONSTANT (1000)
#define MINUTE (60 * SECOND)
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)
/* S3 pages: so small that each user's own listing takes several pages and
 * the whole prefix's first page covers no user but the first (each user
 * is listed on its own); or large enough to cover several users, so that
 * the whole prefix is read, page by page. */
#define PAGE_PER_USER 5
#define PAGE_WHOLE 20
/* A stall the clients wait out, and one no run waits for. */
#define SHORT_STALL_MS 2000
#define ENDLESS_STALL_MS (600 * 1000)
/* A run that lasts longer is hung; after SIGINT, it must end sooner (both
 * stretched by MT_TEST_TIME_SCALE). */
#define DEADLINE_S 120
#define INTERRUPT_DEADLINE_S 5
/* File size limits: below either export; above the CSV export and below
 * the JSON one (which are about 18 and 180 KB). */
#define FILE_SIZE_NONE_FITS 4096
#define FILE_SIZE_CSV_FITS (64 * 1024)

/* The data set */

typedef struct {
  const char *id;
  guint traces;
  guint images;       /* in the window; some after a trace, some not */
  gboolean early;     /* the images come before every trace: no pairs */
} DataUser;

/* A day of several pages of traces over both API generations (v1: 100 a
 * page; v2: 1000, and each trace has four generations) and several pages
 * of every listing. dan has photos and no traces, so is no user. */
static const DataUser data_users[] = {
  { "ana", 100, 12, FALSE },
  { "bao", 50, 0, FALSE },
  { "chi", 50, 8, FALSE },
  { "dan", 0, 3, FALSE },
  { "eve", 60, 10, FALSE },
  { "fay", 10, 3, TRUE },
};
#define GENERATIONS 4
#define ANONYMOUS_TRACES 30

static gint64
trace_time (guint user, guint i, guint n)
{
  return DAY_START + HOUR + (gint64) i * (DAY - 2 * HOUR) / n + user * SECOND;
}

static void
populate (MtLoopbackLangfuse *langfuse,
          MtLoopbackS3       *s3)
{
  g_autoptr(GBytes) photo = g_bytes_new_static ("\xff\xd8\xff\xe0 a meal", 12);

  for (guint u = 0; u < G_N_ELEMENTS (data_users); u++)
    {
      const DataUser *user = &data_users[u];
      g_autofree char *session = g_strdup_printf ("session-%s", user->id);

      for (guint i = 0; i < user->traces; i++)
        {
          g_autofree char *id = g_strdup_printf ("t-%s-%03u", user->id, i);
          g_autofree char *root = g_strconcat (id, "-root", NULL);
          g_autofree char *input = g_strdup_printf ("{\"meal\":\"%s-%u\",\"note\":\"phở, =SUM(A1)\"}", user->id, i);
          g_autofree char *output = g_strdup_printf ("{\"total_calories\":%u}", 300 + i);
          gint64 time = trace_time (u, i, user->traces);

          mt_loopback_langfuse_add_trace (langfuse, id, time, "meal-analysis", user->id, session, input, output);
          for (guint g = 0; g < GENERATIONS; g++)
            {
              g_autofree char *generation = g_strdup_printf ("g-%s-%03u-%u", user->id, i, g);

              mt_loopback_langfuse_add_observation (langfuse, id, generation, "GENERATION", time + 300 + g * 100, root,
                                                    "gpt-4o-mini", i % 2 == 0 ? "meal-analyzer" : NULL,
                                                    i % 2 == 0 ? 3 : -1,
                                                    "[{\"role\":\"system\",\"content\":\"You are a nutrition assistant.\"}]",
                                                    0.0001 * (i % 7 + g + 1));
            }
        }
      for (guint j = 0; j < user->images; j++)
        {
          g_autofree char *key = g_strdup_printf (PREFIX "%s/meal-%03u.jpg", user->id, j);
          gint64 time = user->early || user->traces == 0
                        ? DAY_START + 10 * MINUTE + j * SECOND
                        : trace_time (u, j * user->traces / user->images, user->traces) + 5 * MINUTE + j * SECOND;

          mt_loopback_s3_put (s3, BUCKET, key, time, photo, 0);
        }
    }
  for (guint i = 0; i < ANONYMOUS_TRACES; i++)
    {
      g_autofree char *id = g_strdup_printf ("t-anonymous-%03u", i);

      mt_loopback_langfuse_add_trace (langfuse, id, DAY_START + HOUR + i * HOUR / 2, "meal-analysis", NULL, NULL,
                                      "{}", NULL);
    }
  /* Outside the window, and not a photo. */
  mt_loopback_langfuse_add_trace (langfuse, "t-ana-before", DAY_START - 1, "meal-analysis", "ana", NULL, NULL, NULL);
  mt_loopback_langfuse_add_trace (langfuse, "t-ana-after", DAY_START + DAY, "meal-analysis", "ana", NULL, NULL, NULL);
  mt_loopback_s3_put (s3, BUCKET, PREFIX "ana/tomorrow.jpg", DAY_START + DAY + 1, photo, 0);
  mt_loopback_s3_put (s3, BUCKET, PREFIX "ana/notes.txt", DAY_START + 12 * HOUR, NULL, 40);
}

/* The cases */

typedef enum {
  ON_NONE,
  ON_LANGFUSE,
  ON_S3,
} Service;

typedef struct {
  Service service;
  int fault;           /* of the fake's enumeration */
  guint count;
  const char *prefix;  /* %NULL: any request */
} Fault;

typedef enum {
  EXPECT_COMPLETE,        /* 0: the reference's exports */
  EXPECT_INCOMPLETE,      /* 1: exports that say which users are incomplete */
  EXPECT_REFUSED,         /* 3: nothing written */
  EXPECT_INTERRUPTED,     /* 130: nothing written */
  EXPECT_STOPPED,         /* 130 with whole exports or none, or 0 when too late */
  EXPECT_NOT_WRITTEN,     /* 1: the exports could not be written; the files before intact */
} Expect;

typedef enum {
  TRIGGER_NONE,
  TRIGGER_LANGFUSE_REQUESTS, /* SIGINT once Langfuse has had this many requests */
  TRIGGER_STDERR,            /* SIGINT once standard error says this */
  TRIGGER_TEMPORARY_FILE,    /* SIGINT once an export's temporary file is there */
  TRIGGER_EXPORTS_WRITTEN,   /* SIGINT once both exports are in place */
} Trigger;

typedef enum {
  BREAK_NONE,
  BREAK_REGION,           /* the bucket's region is not the one configured */
  BREAK_REGION_301,       /* …and S3 answers 301 PermanentRedirect */
  BREAK_LANGFUSE_DNS,     /* Langfuse's host does not resolve */
  BREAK_S3_DNS,           /* S3's host does not resolve */
  BREAK_FILE_SIZE,        /* no file may grow past the case's file size limit */
  BREAK_FULL_DISK,        /* the output folder is a tiny tmpfs */
} Break;

typedef struct {
  const char *name;
  gboolean both_apis;       /* over v2 and v1; else v2 only */
  Fault faults[3];
  guint stall_ms;
  guint page_size;          /* 0: PAGE_PER_USER */
  const char *listing;      /* how S3 must have been listed; %NULL: either way */
  guint langfuse_rate;      /* Langfuse's rate limit a second, 0 none */
  guint s3_rate;            /* S3's, 0 none */
  Break breaks;
  Trigger trigger;
  const char *trigger_text; /* for TRIGGER_STDERR */
  guint trigger_count;      /* for TRIGGER_LANGFUSE_REQUESTS */
  guint file_size_limit;    /* for BREAK_FILE_SIZE */
  Expect expect;
  const char *incomplete;   /* EXPECT_INCOMPLETE: the users, comma-separated; %NULL: no user was read */
  const char *words[3];     /* what standard error says, in any case */
} Case;

#define LF(fault, count, prefix) { ON_LANGFUSE, MT_FAKE_LANGFUSE_FAULT_##fault, count, prefix }
#define S3(fault, count, prefix) { ON_S3, MT_FAKE_S3_FAULT_##fault, count, prefix }
#define ALL_USERS "ana,bao,chi,eve,fay"
/* Every attempt fails: more than any retry budget. */
#define ALWAYS 1000
/* All attempts but the last (five in all) fail. */
#define WITHIN 4

static const Case cases[] = {
  /* Langfuse */
  { "langfuse/429-within", TRUE, { LF (THROTTLED, 3, NULL) }, .expect = EXPECT_COMPLETE },
  { "langfuse/429-beyond", TRUE, { LF (THROTTLED, ALWAYS, NULL) }, .expect = EXPECT_INCOMPLETE,
    .words = { "rate limit", "429" } },
  { "langfuse/429-wait-an-hour", TRUE, { LF (THROTTLED_LONG, 1, NULL) }, .expect = EXPECT_INCOMPLETE,
    .words = { "rate limit", "minutes" } },
  { "langfuse/rate-limit", TRUE, .langfuse_rate = 10, .expect = EXPECT_COMPLETE },
  { "langfuse/500-within", TRUE, { LF (INTERNAL_ERROR, WITHIN, NULL) }, .expect = EXPECT_COMPLETE },
  { "langfuse/500-beyond", TRUE, { LF (INTERNAL_ERROR, ALWAYS, NULL) }, .expect = EXPECT_INCOMPLETE,
    .words = { "Langfuse answered 500" } },
  { "langfuse/503-within", TRUE, { LF (UNAVAILABLE, WITHIN, NULL) }, .expect = EXPECT_COMPLETE },
  { "langfuse/503-beyond", TRUE, { LF (UNAVAILABLE, ALWAYS, NULL) }, .expect = EXPECT_INCOMPLETE,
    .words = { "Langfuse answered 503" } },
  { "langfuse/reset-within", TRUE, { LF (RESET, WITHIN, NULL) }, .expect = EXPECT_COMPLETE },
  { "langfuse/reset-beyond", TRUE, { LF (RESET, ALWAYS, NULL) }, .expect = EXPECT_INCOMPLETE,
    .words = { "Could not reach Langfuse" } },
  { "langfuse/cut-body-within", TRUE, { LF (CUT_BODY, WITHIN, NULL) }, .stall_ms = 50, .expect = EXPECT_COMPLETE },
  { "langfuse/cut-body-beyond", TRUE, { LF (CUT_BODY, ALWAYS, NULL) }, .stall_ms = 50,
    .expect = EXPECT_INCOMPLETE, .words = { "Could not reach Langfuse" } },
  /* A page cut short whose length says it is whole: JSON that ends in the
   * middle, which Langfuse never sends; not asked again. */
  { "langfuse/truncated", TRUE, { LF (TRUNCATED, 1, NULL) }, .expect = EXPECT_INCOMPLETE,
    .words = { "cannot be read" } },
  { "langfuse/stall", TRUE, { LF (STALL, 1, NULL) }, .stall_ms = SHORT_STALL_MS, .expect = EXPECT_COMPLETE },
  { "langfuse/stall-body", TRUE, { LF (STALL_BODY, 1, NULL) }, .stall_ms = SHORT_STALL_MS,
    .expect = EXPECT_COMPLETE },
  { "langfuse/dns", TRUE, .breaks = BREAK_LANGFUSE_DNS, .expect = EXPECT_INCOMPLETE,
    .words = { "Could not reach Langfuse", NO_SUCH_HOST } },

  /* S3: faults in ana's own listing, or in the walk of the whole prefix */
  { "s3/429-within", FALSE, { S3 (THROTTLED, 3, PREFIX "ana/") }, .expect = EXPECT_COMPLETE },
  { "s3/429-beyond", FALSE, { S3 (THROTTLED, ALWAYS, PREFIX "ana/") }, .expect = EXPECT_INCOMPLETE,
    .incomplete = "ana", .words = { PREFIX "ana/", "429" } },
  { "s3/rate-limit", FALSE, .s3_rate = 5, .expect = EXPECT_COMPLETE },
  { "s3/500-within", FALSE, { S3 (INTERNAL_ERROR, WITHIN, PREFIX "ana/") }, .expect = EXPECT_COMPLETE },
  { "s3/500-beyond", FALSE, { S3 (INTERNAL_ERROR, ALWAYS, PREFIX "ana/") }, .expect = EXPECT_INCOMPLETE,
    .incomplete = "ana", .words = { PREFIX "ana/", "InternalError" } },
  { "s3/503-within", FALSE, { S3 (SLOW_DOWN, WITHIN, PREFIX "ana/") }, .expect = EXPECT_COMPLETE },
  { "s3/503-beyond", FALSE, { S3 (SLOW_DOWN, ALWAYS, PREFIX "ana/") }, .expect = EXPECT_INCOMPLETE,
    .incomplete = "ana", .words = { PREFIX "ana/", "SlowDown" } },
  { "s3/reset-within", FALSE, { S3 (RESET, WITHIN, PREFIX "ana/") }, .expect = EXPECT_COMPLETE },
  { "s3/reset-beyond", FALSE, { S3 (RESET, ALWAYS, PREFIX "ana/") }, .expect = EXPECT_INCOMPLETE,
    .incomplete = "ana", .words = { PREFIX "ana/", "Could not reach S3" } },
  { "s3/truncated-within", FALSE, { S3 (TRUNCATED, WITHIN, PREFIX "ana/") }, .expect = EXPECT_COMPLETE },
  { "s3/truncated-beyond", FALSE, { S3 (TRUNCATED, ALWAYS, PREFIX "ana/") }, .expect = EXPECT_INCOMPLETE,
    .incomplete = "ana", .words = { PREFIX "ana/" } },
  { "s3/cut-body-within", FALSE, { S3 (CUT_BODY, WITHIN, PREFIX "ana/") }, .stall_ms = 50,
    .expect = EXPECT_COMPLETE },
  { "s3/cut-body-beyond", FALSE, { S3 (CUT_BODY, ALWAYS, PREFIX "ana/") }, .stall_ms = 50,
    .expect = EXPECT_INCOMPLETE, .incomplete = "ana", .words = { PREFIX "ana/", "Could not reach S3" } },
  { "s3/stall", FALSE, { S3 (STALL, 1, PREFIX "ana/") }, .stall_ms = SHORT_STALL_MS, .expect = EXPECT_COMPLETE },
  { "s3/stall-body", FALSE, { S3 (STALL_BODY, 1, PREFIX "ana/") }, .stall_ms = SHORT_STALL_MS,
    .expect = EXPECT_COMPLETE },
  /* The whole prefix read page by page finds what each user's own listing
   * finds; when its second page cannot be read, the users' own listings
   * read what it had not. */
  { "s3/whole-prefix", FALSE, .page_size = PAGE_WHOLE, .listing = "whole_prefix", .expect = EXPECT_COMPLETE },
  { "s3/walk-fails", FALSE, { S3 (NONE, 1, PREFIX), S3 (INTERNAL_ERROR, 5, PREFIX) }, .page_size = PAGE_WHOLE,
    .listing = "per_user", .expect = EXPECT_COMPLETE },
  { "s3/expired-token-in-listing", TRUE, { S3 (NONE, 1, PREFIX "ana/"), S3 (EXPIRED_TOKEN, 1, PREFIX "ana/") },
    .expect = EXPECT_REFUSED, .words = { "expired", "credentials" } },
  { "s3/expired-token-in-walk", FALSE, { S3 (NONE, 1, PREFIX), S3 (EXPIRED_TOKEN, 1, PREFIX) },
    .page_size = PAGE_WHOLE, .expect = EXPECT_REFUSED, .words = { "expired", "credentials" } },
  { "s3/wrong-region", FALSE, .breaks = BREAK_REGION, .expect = EXPECT_COMPLETE },
  { "s3/wrong-region-301", FALSE, .breaks = BREAK_REGION_301, .expect = EXPECT_COMPLETE },
  { "s3/wrong-region-unnamed", FALSE, { S3 (WRONG_REGION, ALWAYS, NULL) }, .expect = EXPECT_REFUSED,
    .words = { "region", "AWS_REGION" } },
  { "s3/dns", FALSE, .breaks = BREAK_S3_DNS, .expect = EXPECT_INCOMPLETE, .incomplete = ALL_USERS,
    .words = { "Could not reach S3", NO_SUCH_HOST } },

  /* The disk */
  { "export/file-size-limit", FALSE, .breaks = BREAK_FILE_SIZE, .file_size_limit = FILE_SIZE_NONE_FITS,
    .expect = EXPECT_NOT_WRITTEN, .words = { "disk", "/out/json/result.json”", "/out/csv/pairs.csv”" } },
  /* The CSV export is written whole, the JSON export not at all. */
  { "export/file-size-limit-json", FALSE, .breaks = BREAK_FILE_SIZE, .file_size_limit = FILE_SIZE_CSV_FITS,
    .expect = EXPECT_NOT_WRITTEN, .words = { "Could not write the export to “", "/out/json/result.json”", "disk" } },
  { "export/full-disk", FALSE, .breaks = BREAK_FULL_DISK, .expect = EXPECT_NOT_WRITTEN,
    .words = { "disk space", "/out/json/result.json”", "/out/csv/pairs.csv”" } },

  /* SIGINT at each phase */
  { "sigint/users", TRUE, { LF (STALL, 1, NULL) }, .stall_ms = ENDLESS_STALL_MS,
    .trigger = TRIGGER_LANGFUSE_REQUESTS, .trigger_count = 1, .expect = EXPECT_INTERRUPTED,
    .words = { "Interrupted", "nothing was written" } },
  { "sigint/traces", TRUE, { LF (NONE, 2, NULL), LF (STALL, 1, NULL) }, .stall_ms = ENDLESS_STALL_MS,
    .trigger = TRIGGER_LANGFUSE_REQUESTS, .trigger_count = 3, .expect = EXPECT_INTERRUPTED,
    .words = { "Interrupted", "nothing was written" } },
  { "sigint/images", FALSE, { S3 (STALL, 1, PREFIX "eve/") }, .stall_ms = ENDLESS_STALL_MS,
    .trigger = TRIGGER_STDERR, .trigger_text = "Reading images", .expect = EXPECT_INTERRUPTED,
    .words = { "Interrupted", "nothing was written" } },
  { "sigint/matching", FALSE, .trigger = TRIGGER_STDERR, .trigger_text = "Matching", .expect = EXPECT_STOPPED },
  { "sigint/export", FALSE, .trigger = TRIGGER_TEMPORARY_FILE, .expect = EXPECT_STOPPED },
  /* Once all is written, as it cleans up and ends: it ends as it would
   * have, if the signal comes before it is gone. */
  { "sigint/after-export", FALSE, .trigger = TRIGGER_EXPORTS_WRITTEN, .expect = EXPECT_COMPLETE },
};

/* A run */

typedef struct {
  MtLoopbackLangfuse *langfuse;
  MtLoopbackS3 *s3;
  char *dir;
  char *out;   /* dir/out */
} World;

/* A run of the binary: its world, then how it ended. */
typedef struct {
  const Case *c;          /* %NULL: the fault-free reference */
  const char *api;
  World *w;
  GSubprocess *process;
  GByteArray *buffers[2]; /* standard output and error */
  GSource *readers[2];
  GSource *ticker;
  gboolean exited;
  gint64 start;
  gint64 deadline;
  gint64 last_tick;
  gboolean started;
  gboolean done;

  int status;             /* -1: not an exit (a signal) */
  gboolean signalled;
  gboolean killed;        /* past its deadline */
  gboolean interrupted;   /* SIGINT was sent */
  double interrupted_at;  /* seconds after the start */
  double seconds;
  char *out;
  char *err;
} Job;

static World *
world_new (const Case *c)
{
  World *w = g_new0 (World, 1);
  g_autoptr(GError) error = NULL;

  w->langfuse = mt_loopback_langfuse_new (PUBLIC_KEY, SECRET_KEY);
  w->s3 = mt_loopback_s3_new (BUCKET_REGION, KEY_ID, AWS_SECRET, SESSION_TOKEN);
  mt_loopback_s3_add_bucket (w->s3, BUCKET);
  mt_loopback_s3_set_page_size (w->s3, c != NULL && c->page_size != 0 ? c->page_size : PAGE_PER_USER);
  populate (w->langfuse, w->s3);
  w->dir = g_dir_make_tmp ("mealtrace-faults-XXXXXX", &error);
  g_assert_no_error (error);
  w->out = g_build_filename (w->dir, "out", NULL);
  if (c == NULL)
    return w;

  mt_fake_langfuse_set_stall_ms (w->langfuse, c->stall_ms);
  mt_fake_s3_set_stall_ms (w->s3, c->stall_ms);
  for (guint i = 0; i < G_N_ELEMENTS (c->faults); i++)
    {
      const Fault *fault = &c->faults[i];

      if (fault->service == ON_LANGFUSE)
        mt_fake_langfuse_add_fault (w->langfuse, fault->fault, fault->count, fault->prefix);
      else if (fault->service == ON_S3)
        mt_fake_s3_add_fault (w->s3, fault->fault, fault->count, fault->prefix);
    }
  if (c->langfuse_rate > 0)
    mt_fake_langfuse_set_rate_limit (w->langfuse, c->langfuse_rate, 1000, FALSE);
  if (c->s3_rate > 0)
    mt_fake_s3_set_rate_limit (w->s3, c->s3_rate);
  if (c->breaks == BREAK_REGION_301)
    mt_loopback_s3_set_wrong_region_status (w->s3, 301);
  return w;
}

static void
world_free (World *w)
{
  g_object_unref (w->langfuse);
  g_object_unref (w->s3);
  mt_test_remove_tree (w->dir);
  g_free (w->dir);
  g_free (w->out);
  g_free (w);
}

/* The environment of a run: the servers, the keys, and what the
 * sanitizers and GLib's checks read; nothing else of the test's own. */
static char **
environment (World *w, const Case *c)
{
  const char *passed[] = { "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "G_SLICE", "G_DEBUG", "PATH", NULL };
  Break breaks = c != NULL ? c->breaks : BREAK_NONE;
  char **env = g_environ_setenv (NULL, "HOME", w->dir, TRUE);

  for (guint i = 0; passed[i] != NULL; i++)
    if (g_getenv (passed[i]) != NULL)
      env = g_environ_setenv (env, passed[i], g_getenv (passed[i]), TRUE);
  env = g_environ_setenv (env, "LC_ALL", "C.UTF-8", TRUE);
  env = g_environ_setenv (env, "no_proxy", "127.0.0.1", TRUE);
  env = g_environ_setenv (env, "LANGFUSE_BASE_URL",
                          breaks == BREAK_LANGFUSE_DNS ? "http://" NO_SUCH_HOST
                                                       : mt_loopback_langfuse_get_base_url (w->langfuse), TRUE);
  env = g_environ_setenv (env, "LANGFUSE_PUBLIC_KEY", PUBLIC_KEY, TRUE);
  env = g_environ_setenv (env, "LANGFUSE_SECRET_KEY", SECRET_KEY, TRUE);
  env = g_environ_setenv (env, "AWS_ENDPOINT_URL_S3",
                          breaks == BREAK_S3_DNS ? "http://" NO_SUCH_HOST ":9000"
                                                 : mt_loopback_s3_get_endpoint (w->s3), TRUE);
  env = g_environ_setenv (env, "AWS_ACCESS_KEY_ID", KEY_ID, TRUE);
  env = g_environ_setenv (env, "AWS_SECRET_ACCESS_KEY", AWS_SECRET, TRUE);
  env = g_environ_setenv (env, "AWS_SESSION_TOKEN", SESSION_TOKEN, TRUE);
  env = g_environ_setenv (env, "AWS_REGION",
                          breaks == BREAK_REGION || breaks == BREAK_REGION_301 ? OTHER_REGION : BUCKET_REGION, TRUE);
  env = g_environ_setenv (env, "MEALTRACE_S3_BUCKET", BUCKET, TRUE);
  return env;
}

/* In the child: it dies with the test, should the test end first; no file
 * may grow past @data bytes, if not 0. */
static void
child_setup (gpointer data)
{
  rlim_t size = GPOINTER_TO_UINT (data);
  struct rlimit limit = { size, size };

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (size == 0)
    return;
  /* A write past the limit fails with EFBIG instead of killing. */
  signal (SIGXFSZ, SIG_IGN);
  setrlimit (RLIMIT_FSIZE, &limit);
}

/* The script that runs the binary in a mount namespace of its own, with a
 * tmpfs of a few KiB over the output folder holding the exports of an
 * earlier run, then writes what the folder holds after to after.txt. */
static const char full_disk_script[] =
  "mount -t tmpfs -o size=16k mealtrace-full out || exit 97\n"
  "mkdir -p out/json out/csv || exit 97\n"
  "printf before > out/json/result.json && printf before > out/csv/pairs.csv || exit 97\n"
  "\"$@\"\n"
  "status=$?\n"
  "{ ls -A out/json out/csv; cat out/json/result.json; echo; cat out/csv/pairs.csv; echo; } > after.txt\n"
  "exit $status\n";

static gboolean
has_temporary_file (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_str_has_suffix (name, ".part") || g_str_has_suffix (name, ".tmp") ||
          (g_file_test (child, G_FILE_TEST_IS_DIR) && has_temporary_file (child)))
        return TRUE;
    }
  return FALSE;
}

static char *export_path (World *w, const char *which);

/* Whether the case's moment to send SIGINT has come. */
static gboolean
trigger_due (Job *job)
{
  const Case *c = job->c;

  switch (c != NULL ? c->trigger : TRIGGER_NONE)
    {
    case TRIGGER_LANGFUSE_REQUESTS:
      return mt_loopback_langfuse_get_requests (job->w->langfuse) >= c->trigger_count;
    case TRIGGER_STDERR:
      return job->buffers[1]->len > 0 &&
             g_strstr_len ((const char *) job->buffers[1]->data, job->buffers[1]->len, c->trigger_text) != NULL;
    case TRIGGER_TEMPORARY_FILE:
      return has_temporary_file (job->w->out);
    case TRIGGER_EXPORTS_WRITTEN:
      {
        g_autofree char *json = export_path (job->w, "json");
        g_autofree char *csv = export_path (job->w, "csv");

        return g_file_test (json, G_FILE_TEST_EXISTS) && g_file_test (csv, G_FILE_TEST_EXISTS);
      }
    case TRIGGER_NONE:
    default:
      return FALSE;
    }
}

/* Runs go on at once, each against its own servers, this many at most:
 * most of a run is spent waiting between retries. */
#define MAX_RUNNING 4

static GPtrArray *jobs;    /* Job, in the order they are wanted */
static guint running;
static gboolean run_all;   /* the whole matrix, not a few cases picked */

static void pump (void);

static void
job_check_done (Job *job)
{
  if (!job->exited || job->readers[0] != NULL || job->readers[1] != NULL)
    return;
  g_clear_pointer (&job->ticker, g_source_destroy);
  job->signalled = g_subprocess_get_if_signaled (job->process);
  job->status = g_subprocess_get_if_exited (job->process) ? g_subprocess_get_exit_status (job->process) : -1;
  job->seconds = (g_get_monotonic_time () - job->start) / 1e6;
  g_byte_array_append (job->buffers[0], (const guint8 *) "", 1);
  g_byte_array_append (job->buffers[1], (const guint8 *) "", 1);
  job->out = (char *) g_byte_array_free (g_steal_pointer (&job->buffers[0]), FALSE);
  job->err = (char *) g_byte_array_free (g_steal_pointer (&job->buffers[1]), FALSE);
  g_clear_object (&job->process);
  job->done = TRUE;
  running--;
  pump ();
}

static gboolean
on_readable (GObject *stream, gpointer data)
{
  Job *job = data;
  guint k = G_INPUT_STREAM (stream) == g_subprocess_get_stdout_pipe (job->process) ? 0 : 1;
  guint8 chunk[4096];
  gssize n;

  /* Read as it comes, so that a full pipe never stalls the binary. */
  while ((n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (stream), chunk, sizeof chunk,
                                                        NULL, NULL)) > 0)
    g_byte_array_append (job->buffers[k], chunk, (guint) n);
  if (n < 0)
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&job->readers[k], g_source_unref);
  job_check_done (job);
  return G_SOURCE_REMOVE;
}

static void
on_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  Job *job = data;

  job->exited = TRUE;
  job_check_done (job);
}

/* SIGINT when the case says; killed past the deadline. */
static gboolean
on_tick (gpointer data)
{
  Job *job = data;
  gint64 now = g_get_monotonic_time ();

  /* Time the test itself was busy elsewhere is not the run's. */
  if (now - job->last_tick > G_TIME_SPAN_SECOND / 2)
    job->deadline += now - job->last_tick;
  job->last_tick = now;
  if (job->exited)
    return G_SOURCE_CONTINUE;
  if (!job->interrupted && trigger_due (job))
    {
      g_subprocess_send_signal (job->process, SIGINT);
      job->interrupted = TRUE;
      job->interrupted_at = (g_get_monotonic_time () - job->start) / 1e6;
      job->deadline = g_get_monotonic_time () + INTERRUPT_DEADLINE_S * mt_test_time_scale () * G_TIME_SPAN_SECOND;
    }
  if (!job->killed && g_get_monotonic_time () > job->deadline)
    {
      g_subprocess_force_exit (job->process);
      job->killed = TRUE;
    }
  return G_SOURCE_CONTINUE;
}

/* Starts the binary over the day with the job's API generation, against
 * servers made for its case. */
static void
job_start (Job *job)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  const char *args[] = { "--batch", "--from", "2026-10-01", "--to", "2026-10-02", "--timezone", "+07:00",
                         "--output-dir", "out", "--json", "result.json", "--csv", "pairs.csv",
                         "--langfuse-api", job->api, NULL };
  const char *in_namespace[] = { "unshare", "--map-root-user", "--mount", "sh", "-c", full_disk_script, "sh", NULL };
  const Case *c = job->c;
  Break breaks = c != NULL ? c->breaks : BREAK_NONE;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) env = NULL;
  g_autoptr(GError) error = NULL;

  job->started = TRUE;
  running++;
  job->w = world_new (c);
  env = environment (job->w, c);
  if (breaks == BREAK_FULL_DISK)
    {
      for (guint i = 0; in_namespace[i] != NULL; i++)
        g_ptr_array_add (argv, (gpointer) in_namespace[i]);
      g_assert_cmpint (g_mkdir_with_parents (job->w->out, 0755), ==, 0);
    }
  else if (breaks == BREAK_FILE_SIZE)
    {
      const char *names[] = { "json/result.json", "csv/pairs.csv" };

      /* Exports of an earlier run, which a failed one must leave alone. */
      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        {
          g_autofree char *path = g_build_filename (job->w->out, names[i], NULL);
          g_autofree char *folder = g_path_get_dirname (path);

          g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
          g_assert_true (g_file_set_contents (path, "before", -1, NULL));
        }
    }
  g_ptr_array_add (argv, (gpointer) g_getenv ("MEALTRACE_BINARY"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_set_environ (launcher, env);
  g_subprocess_launcher_set_cwd (launcher, job->w->dir);
  g_subprocess_launcher_set_child_setup (launcher, child_setup,
                                         GUINT_TO_POINTER (breaks == BREAK_FILE_SIZE ? c->file_size_limit : 0), NULL);
  job->start = g_get_monotonic_time ();
  job->deadline = job->start + DEADLINE_S * mt_test_time_scale () * G_TIME_SPAN_SECOND;
  job->last_tick = job->start;
  job->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  for (guint k = 0; k < 2; k++)
    {
      GInputStream *stream = k == 0 ? g_subprocess_get_stdout_pipe (job->process)
                                    : g_subprocess_get_stderr_pipe (job->process);

      job->buffers[k] = g_byte_array_new ();
      job->readers[k] = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (stream), NULL);
      g_source_set_callback (job->readers[k], G_SOURCE_FUNC (on_readable), job, NULL);
      g_source_attach (job->readers[k], NULL);
    }
  job->ticker = g_timeout_source_new (5);
  g_source_set_callback (job->ticker, on_tick, job, NULL);
  g_source_attach (job->ticker, NULL);
  g_source_unref (job->ticker);
  g_subprocess_wait_async (job->process, NULL, on_exited, job);
}

/* Starts the jobs not started yet, in order, while places are free; only
 * the jobs asked for when a few cases are picked. */
static void
pump (void)
{
  for (guint i = 0; run_all && running < MAX_RUNNING && i < jobs->len; i++)
    {
      Job *job = g_ptr_array_index (jobs, i);

      if (!job->started)
        job_start (job);
    }
}

static Job *
job_wait (Job *job)
{
  if (!job->started)
    job_start (job);
  while (!job->done)
    g_main_context_iteration (NULL, TRUE);
  return job;
}

static Job *
job_add (const Case *c, const char *api)
{
  Job *job = g_new0 (Job, 1);

  job->c = c;
  job->api = api;
  g_ptr_array_add (jobs, job);
  return job;
}

static void
job_free (Job *job)
{
  g_clear_pointer (&job->w, world_free);
  g_free (job->out);
  g_free (job->err);
  g_free (job);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Exports */

static char *
export_path (World *w, const char *which)
{
  return g_build_filename (w->out, which, g_str_equal (which, "json") ? "result.json" : "pairs.csv", NULL);
}

/* The file, normalised; %NULL when there is none. */
static char *
read_export (World *w, const char *which)
{
  g_autofree char *path = export_path (w, which);
  g_autofree char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  /* The way S3 was listed changes too: each user's folder when the walk
   * of the whole prefix broke. */
  return mt_test_normalise_export (contents, "\"s3_listing\": \"[a-z_]+\"",
                                   "\"s3_listing\": \"LISTING\"", NULL);
}

typedef struct {
  char *json;
  char *csv;
  JsonNode *root;
} Reference;

static Reference references[2];

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *root = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return root;
}

static JsonObject *
member (JsonNode *root, const char *name)
{
  return json_object_get_object_member (json_node_get_object (root), name);
}

/* The users of an export: id → their entry. */
static GHashTable *
users_of (JsonNode *root)
{
  const char *lists[] = { "successful_matches", "users_without_counterpart" };
  GHashTable *users = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint k = 0; k < G_N_ELEMENTS (lists); k++)
    {
      JsonArray *list = json_object_get_array_member (json_node_get_object (root), lists[k]);

      for (guint i = 0; i < json_array_get_length (list); i++)
        {
          JsonNode *entry = json_array_get_element (list, i);
          const char *id = json_object_get_string_member (json_node_get_object (entry), "user_id");

          g_assert_false (g_hash_table_contains (users, id));
          g_hash_table_insert (users, (gpointer) id, entry);
        }
    }
  return users;
}

/* Standard error says what happened, in the case's words. */
static void
assert_words (Job *job)
{
  g_autofree char *err = g_ascii_strdown (job->err, -1);

  for (guint i = 0; i < G_N_ELEMENTS (job->c->words) && job->c->words[i] != NULL; i++)
    {
      g_autofree char *word = g_ascii_strdown (job->c->words[i], -1);

      if (strstr (err, word) == NULL)
        g_error ("standard error does not say “%s”:\n%s", job->c->words[i], job->err);
    }
}

/* No key or secret anywhere in what the binary printed. */
static void
assert_no_secret (Job *job)
{
  const char *secrets[] = { SECRET_KEY, AWS_SECRET, SESSION_TOKEN };

  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      g_assert_null (strstr (job->out, secrets[i]));
      g_assert_null (strstr (job->err, secrets[i]));
    }
}

static void
assert_same_text (const char *actual, const char *expected, const char *what)
{
  gsize i = 0;

  if (g_strcmp0 (actual, expected) == 0)
    return;
  if (actual == NULL || expected == NULL)
    g_error ("%s: %s", what, actual == NULL ? "there is none" : "there is one, and should be none");
  while (actual[i] != '\0' && actual[i] == expected[i])
    i++;
  g_error ("%s differs from the reference at byte %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT "/%" G_GSIZE_FORMAT
           ":\n…%.200s\nexpected\n…%.200s", what, i, strlen (actual), strlen (expected),
           actual + MAX (i, 40) - 40, expected + MAX (i, 40) - 40);
}

static void
assert_reference (World *w, const Reference *reference)
{
  g_autofree char *json = read_export (w, "json");
  g_autofree char *csv = read_export (w, "csv");

  assert_same_text (json, reference->json, "the JSON export");
  assert_same_text (csv, reference->csv, "the CSV export");
}

/* S3 was listed as @listing says (the JSON's metadata, not normalised). */
static void
assert_listing (World *w, const char *listing)
{
  g_autofree char *path = export_path (w, "json");
  g_autofree char *json = NULL;
  g_autofree char *expected = g_strdup_printf ("\"s3_listing\": \"%s\"", listing);

  g_assert_true (g_file_get_contents (path, &json, NULL, NULL));
  g_assert_nonnull (strstr (json, expected));
}

/* The CSV rows of the reference whose user is not in @left_out; all of
 * them but the header when @left_out is %NULL (no user read). */
static char *
csv_without (const char *csv, GHashTable *left_out)
{
  g_auto(GStrv) lines = g_strsplit (csv, "\n", -1);
  GString *kept = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *user = g_strndup (lines[i], strcspn (lines[i], ","));

      if (lines[i][0] == '\0' && lines[i + 1] == NULL)
        break;
      if (i == 0 || (left_out != NULL && !g_hash_table_contains (left_out, user)))
        g_string_append_printf (kept, "%s\n", lines[i]);
    }
  return g_string_free (kept, FALSE);
}

/* Exports written with what could be read: whole, saying they are not
 * complete and why, the users affected marked so, and every other user as
 * in the reference. */
static void
assert_incomplete_exports (World *w, const Case *c, const Reference *reference)
{
  g_autofree char *json = read_export (w, "json");
  g_autofree char *csv = read_export (w, "csv");
  g_autofree char *expected_csv = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GHashTable) users = NULL;
  g_autoptr(GHashTable) reference_users = users_of (reference->root);
  g_autoptr(GHashTable) incomplete = g_hash_table_new (g_str_hash, g_str_equal);
  g_auto(GStrv) expected = c->incomplete != NULL ? g_strsplit (c->incomplete, ",", -1) : NULL;
  JsonObject *metadata, *summary;
  JsonArray *listed;
  GHashTableIter iter;
  gpointer key, value;

  g_assert_nonnull (json);
  g_assert_nonnull (csv);
  root = parse_json (json);
  metadata = member (root, "metadata");
  summary = member (root, "summary");
  g_assert_false (json_object_get_boolean_member (metadata, "complete"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (metadata, "errors")), >, 0);

  /* The users said to be incomplete are those the faults hit. */
  listed = json_object_get_array_member (summary, "incomplete_users");
  for (guint i = 0; expected != NULL && expected[i] != NULL; i++)
    g_hash_table_add (incomplete, expected[i]);
  g_assert_cmpuint (json_array_get_length (listed), ==, g_hash_table_size (incomplete));
  for (guint i = 0; i < json_array_get_length (listed); i++)
    g_assert_true (g_hash_table_contains (incomplete, json_array_get_string_element (listed, i)));

  users = users_of (root);
  if (c->incomplete == NULL)
    {
      /* The traces could not be read: no user is known, and none is
       * shown with less than it has. */
      g_assert_cmpuint (g_hash_table_size (users), ==, 0);
      g_assert_cmpint (json_object_get_int_member (summary, "total_traces"), ==, 0);
    }
  else
    {
      /* Every user is there: those hit are incomplete, the others whole. */
      g_assert_cmpuint (g_hash_table_size (users), ==, g_hash_table_size (reference_users));
      g_hash_table_iter_init (&iter, users);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          JsonObject *entry = json_node_get_object (value);

          if (g_hash_table_contains (incomplete, key))
            {
              g_assert_cmpstr (json_object_get_string_member (entry, "missing_type"), ==, "incomplete");
              g_assert_false (json_object_has_member (entry, "matched_pairs"));
            }
          else if (!json_node_equal (value, g_hash_table_lookup (reference_users, key)))
            g_error ("user %s is not as in the reference:\n%s", (const char *) key, json_to_string (value, TRUE));
        }
    }
  expected_csv = csv_without (reference->csv, c->incomplete != NULL ? incomplete : NULL);
  assert_same_text (csv, expected_csv, "the CSV export");
}

static guint
count_files (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  guint count = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      count += g_file_test (child, G_FILE_TEST_IS_DIR) ? count_files (child) : 1;
    }
  return count;
}

static void
assert_pages (World *w, const char *api)
{
  GPtrArray *log = mt_loopback_langfuse_get_log (w->langfuse);
  const char *next_page = g_str_equal (api, "v2") ? "cursor=" : "page=2";
  guint users = 0, later_pages = 0;

  for (guint i = 0; i < log->len; i++)
    later_pages += strstr (g_ptr_array_index (log, i), next_page) != NULL;
  g_assert_cmpuint (later_pages, >, 0);
  for (guint u = 0; u < G_N_ELEMENTS (data_users); u++)
    users += data_users[u].traces > 0;
  g_assert_cmpuint (mt_loopback_s3_get_requests (w->s3), >, 1 + users);
}

/* The reference of an API generation, from its fault-free run. */
static Job *reference_jobs[2];
static gboolean full_disk_possible;

static const Reference *
reference_for (const char *api)
{
  guint k = g_str_equal (api, "v1");
  Reference *reference = &references[k];
  Job *job;
  JsonObject *summary;
  guint users = 0, traces = 0, images = 0;

  if (reference->json != NULL)
    return reference;
  job = job_wait (reference_jobs[k]);
  g_test_message ("the reference over %s: exit %d after %.1f s", api, job->status, job->seconds);
  g_assert_cmpint (job->status, ==, 0);
  reference->json = read_export (job->w, "json");
  reference->csv = read_export (job->w, "csv");
  g_assert_nonnull (reference->json);
  g_assert_nonnull (reference->csv);
  reference->root = parse_json (reference->json);
  /* Several pages of everything: Langfuse was asked for a second page,
   * and S3 for more pages than the first of the whole prefix and one per
   * user; pages so small that each user's folder was listed on its own. */
  assert_pages (job->w, api);
  assert_listing (job->w, "per_user");
  g_clear_pointer (&job->w, world_free);
  g_test_message ("the reference over %s: JSON %" G_GSIZE_FORMAT " bytes, CSV %" G_GSIZE_FORMAT " bytes", api,
                  strlen (reference->json), strlen (reference->csv));

  /* It holds the whole data set. */
  for (guint u = 0; u < G_N_ELEMENTS (data_users); u++)
    if (data_users[u].traces > 0)
      {
        users++;
        traces += data_users[u].traces;
        images += data_users[u].images;
      }
  summary = member (reference->root, "summary");
  g_assert_true (json_object_get_boolean_member (member (reference->root, "metadata"), "complete"));
  g_assert_cmpint (json_object_get_int_member (summary, "total_users"), ==, users);
  g_assert_cmpint (json_object_get_int_member (summary, "total_traces"), ==, traces);
  g_assert_cmpint (json_object_get_int_member (summary, "traces_without_user"), ==, ANONYMOUS_TRACES);
  g_assert_cmpint (json_object_get_int_member (summary, "total_images"), ==, images);
  g_assert_cmpint (json_object_get_int_member (summary, "total_matched_pairs"), >, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (summary, "incomplete_users")), ==, 0);
  return reference;
}

/* Whether a tmpfs can be mounted in a namespace of our own. */
static gboolean
can_mount_tmpfs (void)
{
  const char *argv[] = { "unshare", "--map-root-user", "--mount", "sh", "-c",
                         "d=$(mktemp -d) && mount -t tmpfs -o size=16k mealtrace-probe \"$d\"", NULL };
  int status = -1;

  return g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                       G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL) &&
         g_spawn_check_wait_status (status, NULL);
}

/* The files before the run, there and unchanged, and nothing else; or,
 * when the CSV export fits under the file size limit, that export whole
 * and said to be written. */
static void
assert_not_written (Job *job, const Reference *reference)
{
  if (job->c->breaks == BREAK_FULL_DISK)
    {
      g_autofree char *path = g_build_filename (job->w->dir, "after.txt", NULL);
      g_autofree char *after = NULL;

      g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
      g_assert_cmpstr (after, ==, "out/csv:\npairs.csv\n\nout/json:\nresult.json\nbefore\nbefore\n");
    }
  else
    {
      gboolean csv_fits = job->c->file_size_limit > strlen (reference->csv);
      g_autofree char *json_path = export_path (job->w, "json");
      g_autofree char *json = NULL;
      g_autofree char *csv = read_export (job->w, "csv");

      g_assert_true (g_file_get_contents (json_path, &json, NULL, NULL));
      g_assert_cmpstr (json, ==, "before");
      assert_same_text (csv, csv_fits ? reference->csv : "before", "the CSV export");
      g_assert_true ((strstr (job->out, "  CSV:  ") != NULL) == csv_fits);
      g_assert_null (strstr (job->out, "  JSON: "));
      g_assert_cmpuint (count_files (job->w->out), ==, 2);
    }
}

/* SIGINT at the end: what it wrote is whole, or it had ended. */
static void
assert_stopped (Job *job, const Reference *reference)
{
  g_autofree char *json = read_export (job->w, "json");
  g_autofree char *csv = read_export (job->w, "csv");

  if (job->status == 0)
    {
      g_test_message ("ended complete: SIGINT came once both exports were written");
      assert_reference (job->w, reference);
      return;
    }
  g_assert_cmpint (job->status, ==, 130);
  g_test_message ("stopped with %s JSON export and %s CSV export", json != NULL ? "a" : "no",
                  csv != NULL ? "a" : "no");
  /* It says which file is there. */
  g_assert_false (json != NULL && csv != NULL);
  g_assert_nonnull (strstr (job->err, json != NULL ? "Interrupted: the JSON export was written"
                                      : csv != NULL ? "Interrupted: the CSV export was written"
                                                    : "Interrupted: nothing was written"));
  if (json != NULL)
    assert_same_text (json, reference->json, "the JSON export");
  if (csv != NULL)
    assert_same_text (csv, reference->csv, "the CSV export");
}

static void
test_without_tmpfs (gconstpointer data)
{
  g_test_skip ("no tmpfs can be mounted here (unshare --map-root-user --mount failed)");
}

static void
test_case (gconstpointer data)
{
  Job *job = (Job *) data;
  const Case *c = job->c;
  const Reference *reference;

  reference = reference_for (job->api);
  job_wait (job);
  g_test_message ("exit %d after %.1f s%s\n--- stderr\n%s", job->status, job->seconds,
                  job->interrupted ? ", SIGINT sent" : "", job->err);
  if (job->interrupted)
    g_test_message ("SIGINT after %.1f s", job->interrupted_at);

  /* Never a hang, a crash, a file half-written, a secret printed. */
  if (job->killed)
    g_error ("%s: %s", c->name, job->interrupted ? "still running well after SIGINT" : "still running past its deadline");
  if (job->signalled)
    g_error ("%s: ended by a signal", c->name);
  g_assert_false (has_temporary_file (job->w->out));
  assert_no_secret (job);
  /* SIGINT was sent when due; at the very end, the run may be gone first. */
  g_assert_true (job->interrupted == (c->trigger != TRIGGER_NONE) || c->expect == EXPECT_STOPPED ||
                 c->trigger == TRIGGER_EXPORTS_WRITTEN);

  switch (c->expect)
    {
    case EXPECT_COMPLETE:
      g_assert_cmpint (job->status, ==, 0);
      assert_reference (job->w, reference);
      if (c->listing != NULL)
        assert_listing (job->w, c->listing);
      break;
    case EXPECT_INCOMPLETE:
      g_assert_cmpint (job->status, ==, 1);
      g_assert_nonnull (strstr (job->out, "INCOMPLETE"));
      assert_words (job);
      assert_incomplete_exports (job->w, c, reference);
      break;
    case EXPECT_REFUSED:
      g_assert_cmpint (job->status, ==, 3);
      assert_words (job);
      g_assert_cmpuint (count_files (job->w->out), ==, 0);
      break;
    case EXPECT_INTERRUPTED:
      g_assert_cmpint (job->status, ==, 130);
      assert_words (job);
      g_assert_cmpuint (count_files (job->w->out), ==, 0);
      break;
    case EXPECT_STOPPED:
      assert_stopped (job, reference);
      break;
    case EXPECT_NOT_WRITTEN:
      g_assert_cmpint (job->status, ==, 1);
      assert_words (job);
      assert_not_written (job, reference);
      break;
    default:
      g_assert_not_reached ();
    }
  g_clear_pointer (&job->w, world_free);
}

int
main (int argc, char *argv[])
{
  int status;

  /* Cases picked by name run alone, one by one; the whole matrix runs a
   * few at a time. */
  run_all = TRUE;
  for (int i = 1; i < argc; i++)
    if (g_str_equal (argv[i], "-p") || g_str_equal (argv[i], "-s") || g_str_has_prefix (argv[i], "--GTestSkipCount"))
      run_all = FALSE;
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("MEALTRACE_BINARY") == NULL)
    {
      g_test_skip ("MEALTRACE_BINARY is not set");
      return 77;
    }

  jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) job_free);
  reference_jobs[0] = job_add (NULL, "v2");
  reference_jobs[1] = job_add (NULL, "v1");
  full_disk_possible = can_mount_tmpfs ();
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *apis[] = { "v2", "v1" };

      for (guint k = 0; k < (cases[i].both_apis ? 2 : 1); k++)
        {
          g_autofree char *path = g_strdup_printf ("/fault-matrix/%s/%s", cases[i].name, apis[k]);

          if (cases[i].breaks == BREAK_FULL_DISK && !full_disk_possible)
            g_test_add_data_func (path, &cases[i], test_without_tmpfs);
          else
            g_test_add_data_func (path, job_add (&cases[i], apis[k]), test_case);
        }
    }
  pump ();
  status = g_test_run ();

  /* What still runs (cases not picked) is waited for, then freed. */
  for (guint i = 0; i < jobs->len; i++)
    {
      Job *job = g_ptr_array_index (jobs, i);

      if (job->started)
        job_wait (job);
    }
  g_ptr_array_unref (jobs);
  for (guint k = 0; k < G_N_ELEMENTS (references); k++)
    {
      g_free (references[k].json);
      g_free (references[k].csv);
      g_clear_pointer (&references[k].root, json_node_unref);
    }
  return status;
}
