/* mt-text.h — text from outside, made fit to quote in a message */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The longest a quoted value runs, in characters, before it is cut. */
#define MT_TEXT_QUOTE_MAX 80

/* @text (@length bytes, or up to its NUL when -1) as a message may quote
 * it: valid UTF-8, every invalid byte and every control character (line
 * breaks among them) shown as U+FFFD, and cut after @max_chars characters
 * with “…”. What a server, a file or the environment gives may be any
 * bytes; a message is shown in a label and written to a terminal. */
char *mt_text_quote (const char *text,
                     gssize      length,
                     guint       max_chars);

G_END_DECLS
