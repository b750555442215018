// OpenBLAS's choice of kernels, corrected where it fell back to generic ones.
//
// Why it exists: Debian's OpenBLAS (0.3.21, DYNAMIC_ARCH) picks its kernels from the CPU's model
// number when it is loaded. A model it does not know (seen on 2026-12-07: an "Intel(R) Xeon(R)
// Processor" with AVX-512, AVX512-FP16 and AMX, i.e. newer than the library) gets its generic
// fallback, the SSE3 "Prescott" kernels: sgemm ~3x slower than its AVX-512 SkylakeX kernels on
// the same CPU, and vitc's training step (ATen's products go to OpenBLAS) ~1.9x slower
// (docs/threads.md). OpenBLAS only reads OPENBLAS_CORETYPE when it is loaded, before main.
//
// select_blas_kernels(): when OpenBLAS reports the Prescott fallback, OPENBLAS_CORETYPE is not
// set, and the CPU has the features of a kernel set OpenBLAS has (AVX-512 F/CD/BW/DQ/VL:
// SkylakeX; else AVX2 and FMA: Haswell), it sets OPENBLAS_CORETYPE to that set and has OpenBLAS
// choose again (gotoblas_dynamic_quit, then gotoblas_dynamic_init, the library's own selection
// with the variable honoured). Kernels chosen by the library itself, or by the user through
// OPENBLAS_CORETYPE, are left alone. Runs once per process (later calls return the first
// result); call it before any BLAS work starts, as configure_threads does.
#pragma once

#include <string>

namespace vitc {

// What was done, for the run's description: "" when nothing changed, else e.g. "OpenBLAS fell
// back to its generic Prescott kernels on this CPU; using its SkylakeX kernels (AVX-512)".
std::string select_blas_kernels();

}  // namespace vitc
