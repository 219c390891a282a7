/* mt-s3-xml.h — reading S3's XML answers: listing pages and error documents
 *
 * Private to src/net: the S3 client reads its answers with these, and the
 * fuzz targets (tests/fuzz/) feed them whatever bytes they like.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* S3's error document: <Error><Code/><Message/><Region/></Error>. Each
 * field is %NULL when absent, and at most 1024 bytes, as sent (not
 * necessarily UTF-8). */
typedef struct {
  char *code;
  char *message;
  char *region;
} MtS3ErrorDoc;

/* Reads what it can: a broken document still gives what came before the
 * break, and an empty body gives nothing. Never fails. */
void     mt_s3_error_doc_parse    (GBytes          *body,
                                   MtS3ErrorDoc    *doc);
void     mt_s3_error_doc_clear    (MtS3ErrorDoc    *doc);

/* One page of a ListObjectsV2 answer. */
typedef struct {
  GPtrArray *objects;   /* MtS3Object, keys decoded when the page was url-encoded */
  gboolean truncated;   /* IsTruncated: more keys follow */
  char *next_token;     /* NextContinuationToken, %NULL when absent */
} MtS3ListingPage;

/* Fills @page (which it clears first: zeroed or filled before) from
 * @body; MT_S3_ERROR_MALFORMED when it is not a listing, or an object in
 * it lacks its key, time or size. */
gboolean mt_s3_listing_page_parse (GBytes          *body,
                                   MtS3ListingPage *page,
                                   GError         **error);
void     mt_s3_listing_page_clear (MtS3ListingPage *page);

G_END_DECLS
