// Process-wide malloc policy for large tensors. Measured (docs/slicing_benchmark.md): with glibc's
// default, every tensor above 32 MiB (deit_small at batch 64: attention scores, GELU activations)
// is a fresh mmap, and touching its pages costs a page fault each; the dense forward spent ~25%
// of its time there. Keeping freed memory in the heap makes those blocks reusable.
#pragma once

#include <string>

namespace vitc {

// reuse_freed_memory: serve every block from the heap (M_MMAP_MAX = 0) and do not return freed
// memory to the OS (M_TRIM_THRESHOLD = INT_MAX), so that the next forward pass reuses pages that
// are already mapped. The process keeps its peak heap size. false leaves glibc's defaults.
// Returns a one-line description, e.g. "glibc malloc: freed memory kept for reuse". Without glibc
// there is nothing to set and it says so.
std::string configure_allocator(bool reuse_freed_memory);

}  // namespace vitc
