// Sizes of the two CPU thread pools that matter (torch's intra-op pool and OpenBLAS's), chosen on
// purpose: see docs/threads.md and shared PLATFORM.md for the measurements behind the defaults.
#pragma once

#include <string>

namespace vitc {

// Default: torch's pool on every core, OpenBLAS on one thread. vitc's products split their work
// over torch's threads themselves (model/linear.h, model/batched_matmul.h), so element-wise work
// and products both use every core and no idle OpenBLAS thread spins between products: fm_small
// inference 1.7x and training 1.46x, deit_small training 1.21x faster than torch 1 / OpenBLAS 2
// on 2 cores (docs/threads.md, 2026-12-07).
struct ThreadSettings {
  int torch_threads = 0;  // at::set_num_threads; 0 = one per core
  int blas_threads = 1;   // openblas_set_num_threads; 0 = one per core
};

// Applies the settings and returns a one-line description of what is in use, e.g.
// "torch threads 1, BLAS OpenBLAS 0.3.21 (pthread) threads 2". Warns on stderr when the BLAS in
// use is not OpenBLAS (reference BLAS is ~50x slower for GEMMs).
std::string configure_threads(const ThreadSettings& settings);

// Name and version of the BLAS library that libblas.so.3 resolves to, or "unknown BLAS".
std::string blas_description();

int hardware_cores();

}  // namespace vitc
