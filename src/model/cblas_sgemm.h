// OpenBLAS's cblas_sgemm, called directly by vitc's attention kernels (model/batched_matmul.cpp,
// model/attention_by_heads.cpp) on the tensors' own strides.
#pragma once

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

}  // namespace vitc
