// A per-allocation size limit for the corpus runner (libFuzzer's -malloc_limit_mb): one
// allocation above it is reported as an out-of-memory crash, even if the system would grant it.
#pragma once

#include <cstddef>

namespace vitc::fuzz {

// Calls `on_exceed(size)` (which must not return) for every later malloc/calloc/realloc/
// posix_memalign/aligned_alloc/memalign (operator new and LibTorch's allocator included) of more
// than `limit` bytes; 0 turns the check off. Without sanitizers the runner replaces glibc's
// allocation entry points; under ASan it uses the sanitizer's malloc hook.
void set_malloc_limit(size_t limit, void (*on_exceed)(size_t size));

}  // namespace vitc::fuzz
