/* mt-sort-private.h — a stable sort specialised per element type
 *
 * The matcher's cost is dominated by sorting each user's traces and images,
 * so the comparison is inlined instead of called through a pointer as with
 * qsort(). Input that is already in order (Langfuse pages usually are) costs
 * one pass.
 *
 * MT_DEFINE_SORT (name, Type, LESS) defines
 *   static void name (Type *items, gsize n, Type *scratch);
 * where LESS(a, b) is an expression on two `const Type *` and @scratch holds
 * at least @n items.
 */
#pragma once

#include <glib.h>
#include <string.h>

#define MT_SORT_RUN 16

#define MT_DEFINE_SORT(name, Type, LESS)                                        \
  static inline void                                                            \
  name##_insertion (Type *items, gsize n)                                       \
  {                                                                             \
    for (gsize i = 1; i < n; i++)                                               \
      {                                                                         \
        Type item = items[i];                                                   \
        gsize j = i;                                                            \
        while (j > 0 && (LESS ((&item), (&items[j - 1]))))                      \
          {                                                                     \
            items[j] = items[j - 1];                                            \
            j--;                                                                \
          }                                                                     \
        items[j] = item;                                                        \
      }                                                                         \
  }                                                                             \
                                                                                \
  static void G_GNUC_UNUSED                                                     \
  name (Type *items, gsize n, Type *scratch)                                    \
  {                                                                             \
    Type *src = items, *dst = scratch;                                          \
    gsize i;                                                                    \
                                                                                \
    for (i = 1; i < n; i++)                                                     \
      if (LESS ((&items[i]), (&items[i - 1])))                                  \
        break;                                                                  \
    if (i >= n)                                                                 \
      return;                                                                   \
                                                                                \
    for (i = 0; i < n; i += MT_SORT_RUN)                                        \
      name##_insertion (items + i, MIN ((gsize) MT_SORT_RUN, n - i));           \
                                                                                \
    for (gsize width = MT_SORT_RUN; width < n; width *= 2)                      \
      {                                                                         \
        for (i = 0; i < n; i += 2 * width)                                      \
          {                                                                     \
            gsize mid = MIN (i + width, n), end = MIN (i + 2 * width, n);       \
            gsize l = i, r = mid, o = i;                                        \
            while (l < mid && r < end)                                          \
              {                                                                 \
                if (LESS ((&src[r]), (&src[l])))                                \
                  dst[o++] = src[r++];                                          \
                else                                                            \
                  dst[o++] = src[l++];                                          \
              }                                                                 \
            if (l < mid)                                                        \
              memcpy (dst + o, src + l, (mid - l) * sizeof (Type));             \
            if (r < end)                                                        \
              memcpy (dst + o, src + r, (end - r) * sizeof (Type));             \
          }                                                                     \
        { Type *tmp = src; src = dst; dst = tmp; }                              \
      }                                                                         \
    if (src != items)                                                           \
      memcpy (items, src, n * sizeof (Type));                                   \
  }
