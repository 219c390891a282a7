/* mt-fuzz-langfuse.c — the Langfuse page targets' shared check
 *
 * What must hold of a page: it reads, or fails with a UTF-8 message. A
 * page that reads has every item with its ids and a time; an input or
 * output kept as text is JSON that reads back (it is copied into exports
 * as it is), and one kept as a tree is a tree; the counts agree.
 */

#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

#include "mt-fuzz-langfuse.h"
#include "mt-time.h"

static void
check_value (const char *text,
             gsize       length,
             JsonNode   *node)
{
  g_autoptr(JsonParser) parser = NULL;

  if (text != NULL && node != NULL)
    abort ();
  if (text == NULL)
    return;
  if (strlen (text) != length || !g_utf8_validate (text, length, NULL))
    abort ();
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, length, NULL))
    abort ();
}

static void
check_text (const char *text)
{
  if (text != NULL && !g_utf8_validate (text, -1, NULL))
    abort ();
}

void
mt_fuzz_langfuse_input (MtLangfuseKind  even,
                        MtLangfuseKind  odd,
                        const uint8_t  *data,
                        size_t          size)
{
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MtLangfusePage) page = NULL;

  if (size == 0)
    return;
  body = g_bytes_new (data + 1, size - 1);
  page = mt_langfuse_page_parse (data[0] & 1 ? odd : even, "https://langfuse.example", "the fuzzed page", body,
                                 NULL, &error);
  if (page == NULL)
    {
      if (error == NULL)
        abort ();
      mt_fuzz_check_message (error->message, "Langfuse page");
      return;
    }
  if (error != NULL || page->roots == NULL || page->generations == NULL)
    abort ();
  if (page->roots->len + page->generations->len + page->orphans != page->items)
    abort ();
  check_text (page->cursor);
  for (guint i = 0; i < page->roots->len; i++)
    {
      MtLangfuseRoot *root = g_ptr_array_index (page->roots, i);

      if (root->trace_id == NULL || root->trace_id[0] == '\0' || root->time == MT_TIME_NONE)
        abort ();
      check_text (root->trace_id);
      check_text (root->name);
      check_text (root->user_id);
      check_text (root->session_id);
      check_text (root->html_url);
      check_value (root->input_text, root->input_length, root->input);
      check_value (root->output_text, root->output_length, root->output);
    }
  for (guint i = 0; i < page->generations->len; i++)
    {
      MtLangfuseGeneration *generation = g_ptr_array_index (page->generations, i);

      if (generation->id == NULL || generation->trace_id == NULL || generation->trace_id[0] == '\0' ||
          generation->time == MT_TIME_NONE)
        abort ();
      check_text (generation->model);
      check_text (generation->prompt);
    }
}
