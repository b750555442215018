// glibc mallopt settings behind configure_allocator.
#include "util/allocator.h"

#include <climits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "util/error.h"

namespace vitc {

std::string configure_allocator(bool reuse_freed_memory) {
  if (!reuse_freed_memory) return "malloc defaults";
#if defined(__GLIBC__)
  check(mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1,
        "configure_allocator: glibc rejected mallopt(M_MMAP_MAX / M_TRIM_THRESHOLD)");
  return "glibc malloc: freed memory kept for reuse (no mmap, no trim)";
#else
  return "malloc defaults (not glibc: nothing to configure)";
#endif
}

}  // namespace vitc
