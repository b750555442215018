// Thread pool configuration. OpenBLAS is reached through process_symbol (dlsym) so that vitc also
// links where the BLAS is something else (then there is nothing to size, and we say so).
#include "util/threads.h"

#include <cstdio>
#include <thread>

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include "util/blas_kernels.h"
#include "util/error.h"
#include "util/process_symbol.h"

namespace vitc {
namespace {

using SetThreadsFn = void (*)(int);
using GetConfigFn = char* (*)();

}  // namespace

int hardware_cores() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::string blas_description() {
  if (auto get_config = process_symbol<GetConfigFn>("openblas_get_config")) {
    return get_config();  // e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..."
  }
  // pip/conda LibTorch builds carry MKL, whose threads follow torch's (--threads).
  if (at::globalContext().hasMKL()) return "MKL (bundled with LibTorch)";
  return "unknown BLAS (not OpenBLAS)";
}

std::string configure_threads(const ThreadSettings& settings) {
  check(settings.torch_threads >= 0, "--threads must be 0 (all cores) or more, got ",
        settings.torch_threads);
  check(settings.blas_threads >= 0, "--blas-threads must be 0 (all cores) or more, got ",
        settings.blas_threads);
  const auto one_per_core_if_zero = [](int n) { return n == 0 ? hardware_cores() : n; };
  at::set_num_threads(one_per_core_if_zero(settings.torch_threads));
  const int blas_threads = one_per_core_if_zero(settings.blas_threads);
  const std::string kernels = select_blas_kernels();  // before any product (blas_kernels.h)
  std::string blas = blas_description();
  if (!kernels.empty()) blas += " (" + kernels + ")";
  if (auto set_threads = process_symbol<SetThreadsFn>("openblas_set_num_threads")) {
    set_threads(blas_threads);
    return str_cat("torch threads ", at::get_num_threads(), ", BLAS ", blas, ", BLAS threads ",
                   blas_threads);
  }
  if (!at::globalContext().hasMKL()) {
    std::fprintf(stderr,
                 "warning: the BLAS in use is neither OpenBLAS nor MKL; GEMMs may be ~50x slower. "
                 "Install libopenblas0-pthread (scripts/setup.sh does).\n");
  }
  return str_cat("torch threads ", at::get_num_threads(), ", BLAS ", blas, " (--blas-threads ignored)");
}

}  // namespace vitc
