// Per-allocation limit: glibc's allocation functions replaced by checking wrappers, or the
// sanitizer's malloc hook when ASan owns malloc.
#include "malloc_limit.h"

#include <atomic>
#include <cerrno>
#include <cstdint>

#if defined(__SANITIZE_ADDRESS__)
#define VITC_FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VITC_FUZZ_ASAN 1
#endif
#endif

namespace vitc::fuzz {
namespace {

std::atomic<size_t> g_limit{0};
std::atomic<void (*)(size_t)> g_on_exceed{nullptr};
std::atomic<bool> g_reported{false};

void check_size(size_t size) {
  const size_t limit = g_limit.load(std::memory_order_relaxed);
  if (limit == 0 || size <= limit) return;
  if (g_reported.exchange(true)) return;  // the report itself may allocate: no recursion
  g_on_exceed.load()(size);
}

}  // namespace
}  // namespace vitc::fuzz

#ifdef VITC_FUZZ_ASAN

extern "C" int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void*, size_t), void (*free_hook)(const volatile void*));

namespace vitc::fuzz {

void set_malloc_limit(size_t limit, void (*on_exceed)(size_t size)) {
  g_on_exceed = on_exceed;
  g_limit = limit;
  static const bool installed = [] {
    // The sanitizer takes the pair or nothing: a free hook that does nothing.
    __sanitizer_install_malloc_and_free_hooks(
        [](const volatile void*, size_t size) { check_size(size); }, [](const volatile void*) {});
    return true;
  }();
  (void)installed;
}

}  // namespace vitc::fuzz

#else  // glibc: the executable's definitions take precedence for every library.

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* p, size_t size);
void* __libc_memalign(size_t alignment, size_t size);

void* malloc(size_t size) noexcept {
  vitc::fuzz::check_size(size);
  return __libc_malloc(size);
}

void* calloc(size_t count, size_t size) noexcept {
  size_t total = 0;
  if (!__builtin_mul_overflow(count, size, &total)) vitc::fuzz::check_size(total);
  return __libc_calloc(count, size);
}

void* realloc(void* p, size_t size) noexcept {
  vitc::fuzz::check_size(size);
  return __libc_realloc(p, size);
}

void* memalign(size_t alignment, size_t size) noexcept {
  vitc::fuzz::check_size(size);
  return __libc_memalign(alignment, size);
}

void* aligned_alloc(size_t alignment, size_t size) noexcept {
  vitc::fuzz::check_size(size);
  return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, size_t alignment, size_t size) noexcept {
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  vitc::fuzz::check_size(size);
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
}  // extern "C"

namespace vitc::fuzz {

void set_malloc_limit(size_t limit, void (*on_exceed)(size_t size)) {
  g_on_exceed = on_exceed;
  g_limit = limit;
}

}  // namespace vitc::fuzz

#endif
