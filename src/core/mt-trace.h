/* mt-trace.h — one Langfuse trace: an LLM call of one user at one instant */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define MT_TYPE_TRACE (mt_trace_get_type ())

G_DECLARE_FINAL_TYPE (MtTrace, mt_trace, MT, TRACE, GObject)

/* @timestamp is in milliseconds since the epoch. Costs start unknown (NaN). */
MtTrace    *mt_trace_new            (const char *id,
                                     const char *user_id,
                                     gint64      timestamp);

const char *mt_trace_get_id         (MtTrace    *self);

const char *mt_trace_get_name       (MtTrace    *self);
void        mt_trace_set_name       (MtTrace    *self,
                                     const char *name);

gint64      mt_trace_get_timestamp  (MtTrace    *self);
void        mt_trace_set_timestamp  (MtTrace    *self,
                                     gint64      timestamp);

/* %NULL when the trace has no user. */
const char *mt_trace_get_user_id    (MtTrace    *self);
void        mt_trace_set_user_id    (MtTrace    *self,
                                     const char *user_id);

const char *mt_trace_get_session_id (MtTrace    *self);
void        mt_trace_set_session_id (MtTrace    *self,
                                     const char *session_id);

/* The model's input and output as JSON values; %NULL when absent. */
JsonNode   *mt_trace_get_input      (MtTrace    *self);
void        mt_trace_set_input      (MtTrace    *self,
                                     JsonNode   *input);
JsonNode   *mt_trace_get_output     (MtTrace    *self);
void        mt_trace_set_output     (MtTrace    *self,
                                     JsonNode   *output);
/* The same from a JSON text of which mt_json_text_is_plain() holds, taken
 * over: it is exported as it is, and read into a tree only when asked
 * for, so a month of inputs costs little memory. */
void        mt_trace_take_input_text  (MtTrace  *self,
                                       char     *text,
                                       gsize     length);
void        mt_trace_take_output_text (MtTrace  *self,
                                       char     *text,
                                       gsize     length);

const char *mt_trace_get_model_name (MtTrace    *self);
void        mt_trace_set_model_name (MtTrace    *self,
                                     const char *model_name);

const char *mt_trace_get_prompt     (MtTrace    *self);
void        mt_trace_set_prompt     (MtTrace    *self,
                                     const char *prompt);

/* In USD; NaN when unknown. */
double      mt_trace_get_cost       (MtTrace    *self);
void        mt_trace_set_cost       (MtTrace    *self,
                                     double      cost);
double      mt_trace_get_total_cost (MtTrace    *self);
void        mt_trace_set_total_cost (MtTrace    *self,
                                     double      total_cost);

/* The trace's page in the Langfuse UI. */
const char *mt_trace_get_html_url   (MtTrace    *self);
void        mt_trace_set_html_url   (MtTrace    *self,
                                     const char *html_url);

G_END_DECLS
