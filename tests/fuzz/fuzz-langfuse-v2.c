/* fuzz-langfuse-v2.c — Langfuse's v2 API pages
 *
 * The first byte chooses the walk (odd: generations, even: root observations), the
 * rest is the page; mt-fuzz-langfuse.c says what must hold.
 */

#include "mt-fuzz-langfuse.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  mt_fuzz_langfuse_input (MT_LANGFUSE_KIND_V2_ROOTS, MT_LANGFUSE_KIND_V2_GENERATIONS, data, size);
  return 0;
}
