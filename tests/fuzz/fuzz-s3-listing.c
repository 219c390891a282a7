/* fuzz-s3-listing.c — S3's ListObjectsV2 page parser
 *
 * What must hold: a page either reads, every object in it with a key that
 * is UTF-8, a time and a size, or fails with MT_S3_ERROR_MALFORMED and a
 * message that is UTF-8.
 */

#include <stdio.h>
#include <stdlib.h>

#include "mt-fuzz.h"
#include "mt-s3-client.h"
#include "mt-s3-xml.h"
#include "mt-time.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) body = g_bytes_new (data, size);
  g_autoptr(GError) error = NULL;
  MtS3ListingPage page = { 0 };

  if (mt_s3_listing_page_parse (body, &page, &error))
    {
      if (error != NULL || page.objects == NULL)
        abort ();
      for (guint i = 0; i < page.objects->len; i++)
        {
          MtS3Object *object = g_ptr_array_index (page.objects, i);

          if (object->key == NULL || !g_utf8_validate (object->key, -1, NULL) ||
              object->last_modified == MT_TIME_NONE || object->size < 0)
            {
              fprintf (stderr, "object %u: a key that is missing or not UTF-8, or no time or size\n", i);
              abort ();
            }
        }
      if (page.next_token != NULL && !g_utf8_validate (page.next_token, -1, NULL))
        {
          fprintf (stderr, "a continuation token that is not UTF-8\n");
          abort ();
        }
    }
  else
    {
      if (!g_error_matches (error, MT_S3_ERROR, MT_S3_ERROR_MALFORMED) || page.objects != NULL)
        abort ();
      mt_fuzz_check_message (error->message, "listing");
    }
  mt_s3_listing_page_clear (&page);
  return 0;
}
