// Softmax over the last dimension: one pass per row (max, exponentials and their
// sum, scaling) with a vectorised exponential, instead of ATen's kernel, which on attention's
// short rows (50 keys on fm_small, 49 in a Swin window) costs 2.2 ns per element on this CPU
// against 0.5 for exp alone (bench/softmax_rows.cpp, docs/threads.md). Training uses it too
// (its backward is ATen's softmax backward), so that a student and its teacher in inference
// compute the same softmax: distillation from an identical model is then exactly zero.
#pragma once

#include <cstdint>

#include <ATen/Tensor.h>

namespace vitc {

// x.softmax(-1). Float32 CPU tensors take the row kernel (within a few float ulps of ATen's;
// exp(-inf) = 0, so -inf scores, masked keys, get weight 0); other dtypes and devices (CUDA,
// bf16 autocast) go to ATen.
at::Tensor softmax_last_dim(const at::Tensor& x);

// The row kernel itself on `rows` rows of n floats, ld floats apart (in and out alike), on this
// thread: out may be in (in place). For kernels that hold their rows in their own buffers
// (attention_by_heads.h): rows that start on 64-byte boundaries (ld a multiple of 16, an aligned
// buffer) are read faster right after a matrix product wrote them (bench/softmax_rows.cpp).
void softmax_rows_of(const float* in, float* out, int64_t rows, int64_t n, int64_t ld);

// The same on the portable kernel, which CPUs without AVX-512 run (for tests on CPUs with it).
void softmax_rows_portable_of(const float* in, float* out, int64_t rows, int64_t n, int64_t ld);

}  // namespace vitc
