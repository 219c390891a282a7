/* fuzz-langfuse-v1.c — Langfuse's v1 API pages
 *
 * The first byte chooses the walk (odd: generations, even: traces), the
 * rest is the page; mt-fuzz-langfuse.c says what must hold.
 */

#include "mt-fuzz-langfuse.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  mt_fuzz_langfuse_input (MT_LANGFUSE_KIND_V1_TRACES, MT_LANGFUSE_KIND_V1_GENERATIONS, data, size);
  return 0;
}
