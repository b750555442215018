// OpenBLAS's cblas_sgemm, called directly by vitc's attention kernels (model/batched_matmul.cpp,
// model/attention_by_heads.cpp) on the tensors' own strides, and oneDNN's dnnl_sgemm, which
// model/linear.cpp prefers for the linear layers' products where the process has it.
#pragma once

#include <cstdint>

namespace vitc {

// CBLAS's enums (cblas.h), spelled here because the OpenBLAS header is not a build dependency.
inline constexpr int kCblasRowMajor = 101;
inline constexpr int kCblasNoTrans = 111;
inline constexpr int kCblasTrans = 112;

using SgemmFn = void (*)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                         const float* a, int lda, const float* b, int ldb, float beta, float* c,
                         int ldc);

// The process's cblas_sgemm (Debian's LibTorch links OpenBLAS), or null under MKL builds, whose
// at::bmm is already one batched call, and where no library provides it.
SgemmFn cblas_sgemm_or_null();

// oneDNN's row-major sgemm (C API, dnnl.h): C = alpha op(A) op(B) + beta C, transa/transb 'N' or
// 'T'; returns dnnl_status_t, 0 on success.
using DnnlSgemmFn = int (*)(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha,
                            const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                            float* c, int64_t ldc);

// dnnl_sgemm from the oneDNN library Debian's LibTorch loads (libdnnl.so.2), or null where it is
// not visible (LibTorch builds that link oneDNN statically with hidden symbols). On this CPU it
// computes the linear layers' products of fm_small and deit_small in 0.67-0.89 of OpenBLAS's time
// (docs/slicing_benchmark.md). It threads with OpenMP on its own outside a parallel region.
DnnlSgemmFn dnnl_sgemm_or_null();

}  // namespace vitc
