/* mt-json-scan.h — a strict, fast JSON reader over a buffer
 *
 * Reads RFC 8259 JSON in place, value by value, without building a tree:
 * a caller walks the objects and arrays it wants, takes the members it
 * needs, and skips the rest (skipped values are still checked). Where a
 * part of the text is wanted as a tree, it builds a JsonNode with the
 * types json-glib's parser gives: integers that fit in 64 bits as
 * G_TYPE_INT64, other numbers as G_TYPE_DOUBLE, the last of duplicate
 * members kept.
 *
 * Strict: no comments, no trailing commas, no leading zeros, no control
 * characters in strings, valid UTF-8 only, nesting at most the depth given.
 * A lone UTF-16 surrogate in a \u escape becomes U+FFFD. The first error
 * stops the reader; mt_json_scan_error() says what and where.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  MT_JSON_SCAN_ERROR_TOKEN,  /* the text is not JSON (or is cut short) */
  MT_JSON_SCAN_NULL,
  MT_JSON_SCAN_FALSE,
  MT_JSON_SCAN_TRUE,
  MT_JSON_SCAN_NUMBER,
  MT_JSON_SCAN_STRING,
  MT_JSON_SCAN_OBJECT,
  MT_JSON_SCAN_ARRAY,
} MtJsonScanToken;

typedef struct {
  const char *start;
  const char *p;
  const char *end;
  guint depth;
  guint max_depth;
  const char *error;   /* a static message; %NULL while all is well */
  gsize error_offset;
} MtJsonScan;

void            mt_json_scan_init     (MtJsonScan   *scan,
                                       const char   *text,
                                       gsize         length,
                                       guint         max_depth);

/* What the next value is, after any white space; nothing is consumed. */
MtJsonScanToken mt_json_scan_peek     (MtJsonScan   *scan);

/* Consumes '{' (or '['); FALSE, with the error set, when it is not there
 * or the nesting is too deep. */
gboolean        mt_json_scan_begin_object (MtJsonScan *scan);
gboolean        mt_json_scan_begin_array  (MtJsonScan *scan);

/* Inside an object: 1 when a member follows, its name (unescaped) put in
 * @name and the colon consumed, so that the caller reads or skips its
 * value; 0 when the object ends ('}' consumed); -1 on an error. @count is
 * the caller's count of the object's members so far, 0 before the first. */
int             mt_json_scan_member   (MtJsonScan   *scan,
                                       guint        *count,
                                       GString      *name);
/* Inside an array: 1 when an element follows, 0 when it ends (']'
 * consumed), -1 on an error. */
int             mt_json_scan_element  (MtJsonScan   *scan,
                                       guint        *count);

/* Reads a string value, unescaped, into @out (cleared first). */
gboolean        mt_json_scan_string   (MtJsonScan   *scan,
                                       GString      *out);
/* Reads a number: its value as a double, and whether it is an integer that
 * fits in 64 bits (then @integer holds it). Either pointer may be %NULL. */
gboolean        mt_json_scan_number   (MtJsonScan   *scan,
                                       double       *value,
                                       gboolean     *is_integer,
                                       gint64       *integer);
/* Consumes null, true or false. */
gboolean        mt_json_scan_literal  (MtJsonScan   *scan);
/* Checks and passes over any value; @raw and @raw_length (may be %NULL)
 * get its text. */
gboolean        mt_json_scan_skip     (MtJsonScan   *scan,
                                       const char  **raw,
                                       gsize        *raw_length);
/* Reads any value as a tree; %NULL on an error. */
JsonNode       *mt_json_scan_node     (MtJsonScan   *scan);

/* After the top-level value: only white space may follow. */
gboolean        mt_json_scan_end      (MtJsonScan   *scan);

/* The first error: "an unexpected character at offset 1234"; %NULL if
 * none. Free with g_free(). */
char           *mt_json_scan_error    (MtJsonScan   *scan);

/* A whole text as one tree, as json_from_string() but strict and faster:
 * %NULL when @text is not one JSON value or nests deeper than @max_depth. */
JsonNode       *mt_json_parse_text    (const char   *text,
                                       gsize         length,
                                       guint         max_depth);

/* Whether @text is one JSON value whose tree keeps every member: no name
 * repeated in an object (as a tree compares names, up to any U+0000), and
 * at most 64 members to an object. Such a text can be written straight
 * from the text (mt_json_writer_text()) as its tree would be written. */
gboolean        mt_json_text_is_plain (const char   *text,
                                       gsize         length,
                                       guint         max_depth);

G_END_DECLS
