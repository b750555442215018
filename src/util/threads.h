// Sizes of the two CPU thread pools that matter (torch's intra-op pool and OpenBLAS's), chosen on
// purpose: see docs/threads.md and shared PLATFORM.md for the measurements behind the defaults.
#pragma once

#include <string>

namespace vitc {

struct ThreadSettings {
  int torch_threads = 1;  // at::set_num_threads; 1 measured fastest here with OpenBLAS on 2 cores
  int blas_threads = 0;   // openblas_set_num_threads; 0 = number of cores
};

// Applies the settings and returns a one-line description of what is in use, e.g.
// "torch threads 1, BLAS OpenBLAS 0.3.21 (pthread) threads 2". Warns on stderr when the BLAS in
// use is not OpenBLAS (reference BLAS is ~50x slower for GEMMs).
std::string configure_threads(const ThreadSettings& settings);

// Name and version of the BLAS library that libblas.so.3 resolves to, or "unknown BLAS".
std::string blas_description();

int hardware_cores();

}  // namespace vitc
