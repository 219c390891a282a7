/* mt-json-writer.h — a streaming JSON writer with Python's json layout
 *
 * Exports are read by the seed tool's users with Python, so pretty output is
 * laid out exactly as json.dump(indent=2, ensure_ascii=False) lays it out,
 * and numbers are written as Python's repr() writes them. Compact output has
 * no spaces at all. Invalid UTF-8 becomes U+FFFD: the output is always valid.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _MtJsonWriter MtJsonWriter;

/* Appends to @buffer, which the caller owns and may drain between values. */
MtJsonWriter *mt_json_writer_new          (GString      *buffer,
                                           gboolean      pretty);
void          mt_json_writer_free         (MtJsonWriter *self);

void          mt_json_writer_begin_object (MtJsonWriter *self);
void          mt_json_writer_end_object   (MtJsonWriter *self);
void          mt_json_writer_begin_array  (MtJsonWriter *self);
void          mt_json_writer_end_array    (MtJsonWriter *self);
void          mt_json_writer_member       (MtJsonWriter *self,
                                           const char   *name);

void          mt_json_writer_null         (MtJsonWriter *self);
void          mt_json_writer_boolean      (MtJsonWriter *self,
                                           gboolean      value);
/* %NULL is written as null. */
void          mt_json_writer_string       (MtJsonWriter *self,
                                           const char   *value);
void          mt_json_writer_int          (MtJsonWriter *self,
                                           gint64        value);
/* NaN and infinities are written as null. */
void          mt_json_writer_double       (MtJsonWriter *self,
                                           double        value);
/* A number already written as JSON text. */
void          mt_json_writer_number       (MtJsonWriter *self,
                                           const char   *text);
/* A value a compact writer wrote before, copied as it is: for compact
 * writers only. */
void          mt_json_writer_compact_value (MtJsonWriter *self,
                                            const char   *text,
                                            gsize         length);
/* Milliseconds as seconds: 300000 → 300, 1500 → 1.5. */
void          mt_json_writer_seconds      (MtJsonWriter *self,
                                           gint64        ms);
/* Any JSON value, without recursion; %NULL is written as null. */
void          mt_json_writer_node         (MtJsonWriter *self,
                                           JsonNode     *node);
/* A JSON text, written as mt_json_writer_node() writes the tree it reads
 * into, without building the tree; see mt_json_text_is_plain() for the
 * texts where the two agree. FALSE, with a critical warning, when @text
 * is not JSON. */
gboolean      mt_json_writer_text         (MtJsonWriter *self,
                                           const char   *text,
                                           gsize         length);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtJsonWriter, mt_json_writer_free)

/* A double as Python's repr() writes it: the shortest text that reads back
 * as the same double (0.1, 80.0, 1e-05, 1e+16). Not for NaN or infinities. */
void          mt_format_double            (GString      *out,
                                           double        value);
void          mt_format_seconds           (GString      *out,
                                           gint64        ms);

/* @text as a JSON string literal, quotes included. */
void          mt_json_append_string       (GString      *out,
                                           const char   *text);

/* A JSON value in compact form; %NULL for a missing value. */
char         *mt_json_node_to_compact     (JsonNode     *node);
/* The same for a JSON text; %NULL when it is not JSON. */
char         *mt_json_text_to_compact     (const char   *text,
                                           gsize         length);

G_END_DECLS
