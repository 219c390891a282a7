/* mt-fuzz-langfuse.h — the Langfuse page targets' shared check */
#pragma once

#include "mt-fuzz.h"
#include "mt-langfuse-page.h"

G_BEGIN_DECLS

/* The first byte of @data chooses the walk (even: @even, odd: @odd); the
 * rest is parsed as a page of it, and what must hold of it is checked. */
void mt_fuzz_langfuse_input (MtLangfuseKind  even,
                             MtLangfuseKind  odd,
                             const uint8_t  *data,
                             size_t          size);

G_END_DECLS
