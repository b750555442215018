// See blas_kernels.h. OpenBLAS is reached through process_symbol (dlsym), so that vitc links
// and runs with any BLAS.
#include "util/blas_kernels.h"

#include <strings.h>

#include <cstdlib>
#include <mutex>

#include "util/error.h"
#include "util/process_symbol.h"

namespace vitc {
namespace {

using CorenameFn = char* (*)();
using VoidFn = void (*)();

// The OpenBLAS kernel set this CPU's features support, best first, or null.
const char* kernels_for_this_cpu() {
#if defined(__GNUC__) && defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl")) {
    return "SkylakeX";
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return nullptr;
}

std::string select_once() {
  const auto corename = process_symbol<CorenameFn>("openblas_get_corename");
  const auto quit = process_symbol<VoidFn>("gotoblas_dynamic_quit");
  const auto init = process_symbol<VoidFn>("gotoblas_dynamic_init");
  if (corename == nullptr || quit == nullptr || init == nullptr) return "";  // not DYNAMIC_ARCH
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return "";  // the user's choice
  if (::strcasecmp(corename(), "Prescott") != 0) return "";    // the library knew this CPU
  const char* wanted = kernels_for_this_cpu();
  if (wanted == nullptr) return "";
  ::setenv("OPENBLAS_CORETYPE", wanted, 0);
  quit();
  init();
  const std::string now = corename();
  if (::strcasecmp(now.c_str(), wanted) != 0) {
    return str_cat("OpenBLAS fell back to its generic Prescott kernels on this CPU and chose ", now,
                   " when asked for ", wanted);
  }
  return str_cat("OpenBLAS fell back to its generic Prescott kernels on this CPU; using its ", now,
                 " kernels (", now == "SkylakeX" ? "AVX-512" : "AVX2/FMA", ")");
}

}  // namespace

std::string select_blas_kernels() {
  static std::once_flag once;
  static std::string done;
  std::call_once(once, [] { done = select_once(); });
  return done;
}

}  // namespace vitc
