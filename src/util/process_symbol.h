// A function the process has loaded, looked up by name (dlsym over every loaded library), or null.
//
// Why it exists: vitc reaches OpenBLAS (its thread count, its kernel set, cblas_sgemm) and oneDNN
// (dnnl_sgemm) this way rather than by linking them, so that it builds and runs with whatever BLAS
// LibTorch brought (MKL, or none visible): absent, the caller gets null and says so or takes
// another path.
#pragma once

namespace vitc {

void* process_symbol_address(const char* name);

template <class Fn>
Fn process_symbol(const char* name) {
  return reinterpret_cast<Fn>(process_symbol_address(name));
}

}  // namespace vitc
