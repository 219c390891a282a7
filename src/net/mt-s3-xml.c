/* mt-s3-xml.c — reading S3's XML answers: listing pages and error documents */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mt-s3-client.h"
#include "mt-s3-xml.h"
#include "mt-sigv4.h"
#include "mt-text.h"
#include "mt-time.h"

/* What the error document's parser works in. */
typedef struct {
  GString *text;   /* first: doc_text appends here */
  MtS3ErrorDoc *doc;
} ErrorParser;

static void
error_doc_start (GMarkupParseContext *context,
                 const char          *element,
                 const char         **names,
                 const char         **values,
                 gpointer             data,
                 GError             **error)
{
  ErrorParser *parser = data;

  g_string_truncate (parser->text, 0);
}

static void
error_doc_end (GMarkupParseContext *context,
               const char          *element,
               gpointer             data,
               GError             **error)
{
  ErrorParser *parser = data;
  MtS3ErrorDoc *doc = parser->doc;
  char **slot = strcmp (element, "Code") == 0 ? &doc->code
              : strcmp (element, "Message") == 0 ? &doc->message
              : strcmp (element, "Region") == 0 ? &doc->region : NULL;

  if (slot != NULL && *slot == NULL)
    *slot = g_strndup (parser->text->str, MIN (parser->text->len, 1024));
  g_string_truncate (parser->text, 0);
}

static void
doc_text (GMarkupParseContext *context,
          const char          *text,
          gsize                length,
          gpointer             data,
          GError             **error)
{
  GString **buffer = data;

  /* The first member of both parsers' structs is their text buffer. */
  g_string_append_len (*buffer, text, length);
}

static const GMarkupParser error_parser = {
  error_doc_start, error_doc_end, doc_text, NULL, NULL,
};

void
mt_s3_error_doc_parse (GBytes       *body,
                       MtS3ErrorDoc *doc)
{
  g_autoptr(GMarkupParseContext) context = NULL;
  ErrorParser parser = { NULL, doc };
  gsize length = 0;
  const char *data = body != NULL ? g_bytes_get_data (body, &length) : NULL;

  memset (doc, 0, sizeof *doc);
  if (length == 0)
    return;
  parser.text = g_string_new (NULL);
  context = g_markup_parse_context_new (&error_parser, G_MARKUP_IGNORE_QUALIFIED, &parser, NULL);
  /* A broken document still gives what came before the break. */
  if (g_markup_parse_context_parse (context, data, length, NULL))
    g_markup_parse_context_end_parse (context, NULL);
  g_string_free (parser.text, TRUE);
}

void
mt_s3_error_doc_clear (MtS3ErrorDoc *doc)
{
  g_clear_pointer (&doc->code, g_free);
  g_clear_pointer (&doc->message, g_free);
  g_clear_pointer (&doc->region, g_free);
}

/* Listing */

/* What the listing's parser works in. */
typedef struct {
  GString *text;         /* first: doc_text appends here */
  MtS3ListingPage *page;
  MtS3Object *current;
  GPtrArray *path;       /* element names, outermost first */
  gboolean url_encoded;
  gboolean seen_root;
} PageParser;

static void
page_start (GMarkupParseContext *context,
            const char          *element,
            const char         **names,
            const char         **values,
            gpointer             data,
            GError             **error)
{
  PageParser *parser = data;

  if (parser->path->len == 0)
    {
      if (strcmp (element, "ListBucketResult") != 0)
        {
          g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                       "<%s> where <ListBucketResult> belongs", element);
          return;
        }
      parser->seen_root = TRUE;
    }
  if (parser->path->len == 1 && strcmp (element, "Contents") == 0)
    {
      g_clear_pointer (&parser->current, mt_s3_object_free);
      parser->current = g_new0 (MtS3Object, 1);
      parser->current->last_modified = MT_TIME_NONE;
      parser->current->size = -1;
    }
  if (parser->path->len > 8)
    {
      g_set_error_literal (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, "nested too deeply");
      return;
    }
  g_ptr_array_add (parser->path, g_strdup (element));
  g_string_truncate (parser->text, 0);
}

/* S3's url encoding is a form encoding: `+` is a space. */
static char *
form_decode (const char *text)
{
  g_autofree char *plus = g_strdup (text);

  g_strdelimit (plus, "+", ' ');
  return mt_sigv4_uri_decode (plus, -1);
}

static void
page_end (GMarkupParseContext *context,
          const char          *element,
          gpointer             data,
          GError             **error)
{
  PageParser *parser = data;
  MtS3ListingPage *page = parser->page;
  const char *text = parser->text->str;
  guint depth = parser->path->len;

  if (depth == 3 && parser->current != NULL)
    {
      MtS3Object *object = parser->current;

      if (strcmp (element, "Key") == 0)
        {
          g_free (object->key);
          object->key = g_strdup (text);
        }
      else if (strcmp (element, "LastModified") == 0)
        {
          if (!mt_time_parse_iso8601 (text, NULL, &object->last_modified, NULL))
            {
              g_autofree char *quoted = mt_text_quote (text, -1, 40);

              g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                           "LastModified “%s” is not a time", quoted);
            }
        }
      else if (strcmp (element, "Size") == 0)
        {
          guint64 size;

          if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, &size, NULL))
            {
              g_autofree char *quoted = mt_text_quote (text, -1, 40);

              g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                           "Size “%s” is not a number", quoted);
            }
          else
            object->size = (gint64) size;
        }
      else if (strcmp (element, "ETag") == 0)
        {
          g_free (object->etag);
          object->etag = g_strdup (text);
        }
    }
  else if (depth == 2 && strcmp (element, "Contents") == 0 && parser->current != NULL)
    {
      MtS3Object *object = g_steal_pointer (&parser->current);

      if (object->key == NULL || object->last_modified == MT_TIME_NONE || object->size < 0)
        {
          g_set_error_literal (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                               "an object without Key, LastModified or Size");
          mt_s3_object_free (object);
          return;
        }
      g_ptr_array_add (page->objects, object);
    }
  else if (depth == 2 && strcmp (element, "IsTruncated") == 0)
    page->truncated = strcmp (text, "true") == 0;
  else if (depth == 2 && strcmp (element, "NextContinuationToken") == 0)
    {
      g_free (page->next_token);
      page->next_token = g_strdup (text);
    }
  else if (depth == 2 && strcmp (element, "EncodingType") == 0)
    parser->url_encoded = strcmp (text, "url") == 0;

  g_ptr_array_set_size (parser->path, depth - 1);
  g_string_truncate (parser->text, 0);
}

static const GMarkupParser page_parser = {
  page_start, page_end, doc_text, NULL, NULL,
};


void
mt_s3_listing_page_clear (MtS3ListingPage *page)
{
  g_clear_pointer (&page->objects, g_ptr_array_unref);
  g_clear_pointer (&page->next_token, g_free);
  page->truncated = FALSE;
}

gboolean
mt_s3_listing_page_parse (GBytes          *body,
                          MtS3ListingPage *page,
                          GError         **error)
{
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GError) local_error = NULL;
  PageParser parser = { NULL, page, NULL, NULL, FALSE, FALSE };
  gsize length = 0;
  const char *xml = body != NULL ? g_bytes_get_data (body, &length) : NULL;
  gboolean ok;

  mt_s3_listing_page_clear (page);
  page->objects = g_ptr_array_new_with_free_func ((GDestroyNotify) mt_s3_object_free);
  parser.text = g_string_new (NULL);
  parser.path = g_ptr_array_new_with_free_func (g_free);
  context = g_markup_parse_context_new (&page_parser, G_MARKUP_IGNORE_QUALIFIED, &parser, NULL);
  ok = g_markup_parse_context_parse (context, xml != NULL ? xml : "", length, &local_error) &&
       g_markup_parse_context_end_parse (context, &local_error) && parser.seen_root;
  g_string_free (parser.text, TRUE);
  g_ptr_array_unref (parser.path);
  g_clear_pointer (&parser.current, mt_s3_object_free);
  if (!ok)
    {
      /* GMarkup's messages quote the document, whatever its bytes. */
      g_autofree char *why = local_error != NULL ? mt_text_quote (local_error->message, -1, 200) : NULL;

      g_set_error (error, MT_S3_ERROR, MT_S3_ERROR_MALFORMED,
                   _("S3 sent a page that cannot be read (%s). Check the endpoint."),
                   why != NULL ? why : _("no listing in it"));
      mt_s3_listing_page_clear (page);
      return FALSE;
    }

  /* With encoding-type=url, keys come percent-encoded. */
  for (guint i = 0; parser.url_encoded && i < page->objects->len; i++)
    {
      MtS3Object *object = g_ptr_array_index (page->objects, i);
      char *decoded = form_decode (object->key);

      /* S3's keys are UTF-8; bytes that are not come from a broken server,
       * and would name no object that could be asked for again. */
      if (!g_utf8_validate (decoded, -1, NULL))
        {
          g_autofree char *quoted = mt_text_quote (object->key, -1, 200);

          g_set_error (error, MT_S3_ERROR, MT_S3_ERROR_MALFORMED,
                       _("S3 sent a key that is not UTF-8 once decoded (“%s”). Check the endpoint."), quoted);
          g_free (decoded);
          mt_s3_listing_page_clear (page);
          return FALSE;
        }
      g_free (object->key);
      object->key = decoded;
    }
  return TRUE;
}
