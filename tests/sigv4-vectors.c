/* sigv4-vectors — runs AWS Signature Version 4 test vectors
 *
 * Usage: sigv4-vectors DIR…
 *
 * Every folder below each DIR that holds a context.json and a request.txt
 * in the layout of aws-c-auth's signing test suite is a case. Each is signed
 * both ways (Authorization header and presigned query) and the canonical
 * request, string to sign, signature and signed request are compared with
 * the expected files. One line per mismatch; the last line is
 * "N passed, M failed"; the exit status is 1 when anything failed.
 */

#include <json-glib/json-glib.h>
#include <string.h>

#include "mt-sigv4.h"
#include "mt-time.h"

typedef struct {
  char *method;
  char *target;      /* path?query, as on the request line */
  char *request_line;
  GPtrArray *lines;  /* header lines, verbatim */
  GPtrArray *names;  /* header names and joined values, alternating */
  char *body;
} ParsedRequest;

static void
parsed_request_free (ParsedRequest *r)
{
  g_free (r->method);
  g_free (r->target);
  g_free (r->request_line);
  g_ptr_array_unref (r->lines);
  g_ptr_array_unref (r->names);
  g_free (r->body);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ParsedRequest, parsed_request_free)

/* "METHOD target HTTP/1.1", header lines (folded lines start with white
 * space), a blank line, the body. The target may hold spaces. */
static ParsedRequest *
parse_request (const char *text, GError **error)
{
  g_autoptr(ParsedRequest) r = g_new0 (ParsedRequest, 1);
  const char *end_of_headers = strstr (text, "\n\n");
  g_autofree char *head = end_of_headers ? g_strndup (text, end_of_headers - text) : g_strdup (text);
  g_auto(GStrv) lines = g_strsplit (head, "\n", -1);
  const char *first_space, *last_space;

  r->lines = g_ptr_array_new_with_free_func (g_free);
  r->names = g_ptr_array_new_with_free_func (g_free);
  r->body = g_strdup (end_of_headers ? end_of_headers + 2 : "");

  first_space = strchr (lines[0], ' ');
  last_space = strrchr (lines[0], ' ');
  if (first_space == NULL || last_space == first_space)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad request line “%s”", lines[0]);
      return NULL;
    }
  r->request_line = g_strdup (lines[0]);
  r->method = g_strndup (lines[0], first_space - lines[0]);
  r->target = g_strndup (first_space + 1, last_space - first_space - 1);

  for (guint i = 1; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      const char *colon;

      if (line[0] == '\0')
        continue;
      g_ptr_array_add (r->lines, g_strdup (line));
      if ((line[0] == ' ' || line[0] == '\t') && r->names->len > 0)
        {
          char **value = (char **) &r->names->pdata[r->names->len - 1];
          char *joined = g_strconcat (*value, "\n", line, NULL);

          g_free (*value);
          *value = joined;
          continue;
        }
      colon = strchr (line, ':');
      if (colon == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad header line “%s”", line);
          return NULL;
        }
      g_ptr_array_add (r->names, g_strndup (line, colon - line));
      g_ptr_array_add (r->names, g_strdup (colon + 1));
    }
  return g_steal_pointer (&r);
}

static char *
read_text (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

/* The order aws-c-auth writes a presigned request's parameters in. */
static int
crt_rank (const char *pair)
{
  static const char *const order[] = {
    "X-Amz-Algorithm=", "X-Amz-Credential=", "X-Amz-Date=", "X-Amz-SignedHeaders=",
    "X-Amz-Expires=", "X-Amz-Security-Token=", "X-Amz-Signature=",
  };

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    if (g_str_has_prefix (pair, order[i]))
      return (int) i;
  return -1;
}

static int
compare_crt (gconstpointer a, gconstpointer b)
{
  return crt_rank (*(const char * const *) a) - crt_rank (*(const char * const *) b);
}

static char *
signed_request_text (ParsedRequest *r, MtSigv4Result *result, gboolean presigned)
{
  GString *out = g_string_new (NULL);

  if (presigned)
    {
      g_autoptr(GPtrArray) params = g_ptr_array_copy (result->query, (GCopyFunc) (void (*) (void)) g_strdup, NULL);

      g_ptr_array_set_free_func (params, g_free);
      g_ptr_array_sort (params, compare_crt);
      g_string_append_printf (out, "%s %s", r->method, r->target);
      for (guint i = 0; i < params->len; i++)
        g_string_append_printf (out, "%s%s", i == 0 && strchr (r->target, '?') == NULL ? "?" : "&",
                                (const char *) g_ptr_array_index (params, i));
      g_string_append (out, strrchr (r->request_line, ' '));
      g_string_append_c (out, '\n');
    }
  else
    g_string_append_printf (out, "%s\n", r->request_line);

  for (guint i = 0; i < r->lines->len; i++)
    g_string_append_printf (out, "%s\n", (const char *) g_ptr_array_index (r->lines, i));
  if (!presigned)
    for (guint i = 0; i + 1 < result->headers->len; i += 2)
      g_string_append_printf (out, "%s:%s\n", (const char *) g_ptr_array_index (result->headers, i),
                              (const char *) g_ptr_array_index (result->headers, i + 1));
  g_string_append_c (out, '\n');
  g_string_append (out, r->body);
  return g_string_free (out, FALSE);
}

static guint
compare (const char *case_name, const char *dir, const char *form, const char *what,
         const char *file, const char *actual)
{
  g_autofree char *expected = read_text (dir, file);

  if (expected == NULL)
    {
      g_print ("%s: %s %s: %s is missing\n", case_name, form, what, file);
      return 1;
    }
  if (strcmp (expected, actual) != 0)
    {
      g_print ("%s: %s %s differs\n", case_name, form, what);
      return 1;
    }
  return 0;
}

/* Signs one case both ways; returns the number of mismatches. */
static guint
run_case (const char *dir, const char *case_name)
{
  g_autofree char *context_text = read_text (dir, "context.json");
  g_autofree char *request_text = read_text (dir, "request.txt");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(ParsedRequest) parsed = NULL;
  g_autoptr(MtSigv4Request) request = NULL;
  g_autoptr(MtSigv4Result) header = NULL;
  g_autoptr(MtSigv4Result) query = NULL;
  g_autofree char *path = NULL;
  g_autofree char *header_text = NULL, *query_text = NULL;
  JsonObject *context, *credentials;
  MtSigv4Credentials creds;
  MtSigv4Params params = { 0 };
  const char *question;
  gint64 ms = 0;
  guint failed = 0;

  if (context_text == NULL)
    {
      g_print ("%s: context.json is missing\n", case_name);
      return 1;
    }
  if (!json_parser_load_from_data (parser, context_text, -1, &error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_print ("%s: context.json is not a JSON object\n", case_name);
      return 1;
    }
  context = json_node_get_object (json_parser_get_root (parser));
  credentials = json_object_has_member (context, "credentials") &&
                JSON_NODE_HOLDS_OBJECT (json_object_get_member (context, "credentials"))
                ? json_object_get_object_member (context, "credentials") : NULL;
  /* A request written with CRLF line ends means the same request. */
  if (request_text != NULL && strstr (request_text, "\r\n") != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (request_text, "\r\n", -1);

      g_free (request_text);
      request_text = g_strjoinv ("\n", parts);
    }
  if (request_text == NULL)
    {
      g_print ("%s: request.txt is missing\n", case_name);
      return 1;
    }
  parsed = parse_request (request_text, &error);
  if (credentials == NULL || parsed == NULL ||
      !mt_time_parse_iso8601 (json_object_get_string_member_with_default (context, "timestamp", ""),
                              NULL, &ms, NULL))
    {
      g_print ("%s: cannot read the case (%s)\n", case_name,
               error != NULL ? error->message
               : credentials == NULL ? "context.json has no credentials object"
               : "context.json has no ISO 8601 timestamp");
      return 1;
    }

  creds.access_key_id = json_object_get_string_member_with_default (credentials, "access_key_id", "");
  creds.secret_access_key = json_object_get_string_member_with_default (credentials, "secret_access_key", "");
  creds.session_token = json_object_get_string_member_with_default (credentials, "token", NULL);
  params.mode = MT_SIGV4_GENERIC;
  params.region = json_object_get_string_member_with_default (context, "region", "us-east-1");
  params.service = json_object_get_string_member_with_default (context, "service", "service");
  params.time = ms / 1000;
  params.keep_path = !json_object_get_boolean_member_with_default (context, "normalize", TRUE);
  params.sign_body = json_object_get_boolean_member_with_default (context, "sign_body", FALSE);
  params.omit_session_token = json_object_get_boolean_member_with_default (context, "omit_session_token", FALSE);
  params.expires = (guint) json_object_get_int_member_with_default (context, "expiration_in_seconds", 3600);

  question = strchr (parsed->target, '?');
  path = question ? g_strndup (parsed->target, question - parsed->target) : g_strdup (parsed->target);
  request = mt_sigv4_request_new (parsed->method, path, question ? question + 1 : NULL);
  for (guint i = 0; i + 1 < parsed->names->len; i += 2)
    mt_sigv4_request_add_header (request, g_ptr_array_index (parsed->names, i),
                                 g_ptr_array_index (parsed->names, i + 1));
  mt_sigv4_request_set_body (request, (const guint8 *) parsed->body, strlen (parsed->body));

  header = mt_sigv4_sign (request, &creds, &params);
  query = mt_sigv4_presign (request, &creds, &params, &error);
  if (query == NULL)
    {
      g_print ("%s: presigning failed: %s\n", case_name, error->message);
      return 1;
    }
  header_text = signed_request_text (parsed, header, FALSE);
  query_text = signed_request_text (parsed, query, TRUE);

  failed += compare (case_name, dir, "header", "canonical request", "header-canonical-request.txt", header->canonical_request);
  failed += compare (case_name, dir, "header", "string to sign", "header-string-to-sign.txt", header->string_to_sign);
  failed += compare (case_name, dir, "header", "signature", "header-signature.txt", header->signature);
  failed += compare (case_name, dir, "header", "signed request", "header-signed-request.txt", header_text);
  failed += compare (case_name, dir, "query", "canonical request", "query-canonical-request.txt", query->canonical_request);
  failed += compare (case_name, dir, "query", "string to sign", "query-string-to-sign.txt", query->string_to_sign);
  failed += compare (case_name, dir, "query", "signature", "query-signature.txt", query->signature);
  failed += compare (case_name, dir, "query", "signed request", "query-signed-request.txt", query_text);
  return failed;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Every case folder at or below @dir, in name order. */
static void
collect_cases (const char *dir, GPtrArray *cases)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *context = g_build_filename (dir, "context.json", NULL);
  g_autofree char *request = g_build_filename (dir, "request.txt", NULL);
  const char *name;

  if (g_file_test (context, G_FILE_TEST_IS_REGULAR) && g_file_test (request, G_FILE_TEST_IS_REGULAR))
    {
      g_ptr_array_add (cases, g_strdup (dir));
      return;
    }
  if (handle == NULL)
    return;
  while ((name = g_dir_read_name (handle)) != NULL)
    g_ptr_array_add (names, g_build_filename (dir, name, NULL));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    if (g_file_test (g_ptr_array_index (names, i), G_FILE_TEST_IS_DIR))
      collect_cases (g_ptr_array_index (names, i), cases);
}

int
main (int argc, char *argv[])
{
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (g_free);
  guint passed = 0, failed = 0;

  if (argc < 2)
    {
      g_printerr ("Usage: %s DIR…\n", argv[0]);
      return 2;
    }
  for (int i = 1; i < argc; i++)
    {
      if (!g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          g_printerr ("%s: not a folder\n", argv[i]);
          return 2;
        }
      collect_cases (argv[i], cases);
    }

  for (guint i = 0; i < cases->len; i++)
    {
      const char *dir = g_ptr_array_index (cases, i);
      /* With several folders, a case is named by its path: names repeat. */
      g_autofree char *case_name = argc > 2 ? g_strdup (dir) : g_path_get_basename (dir);

      if (run_case (dir, case_name) == 0)
        passed++;
      else
        failed++;
    }

  g_print ("%u passed, %u failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
