// Batched matmul through direct cblas_sgemm calls (see batched_matmul.h).
#include "model/batched_matmul.h"

#include <algorithm>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "model/cblas_sgemm.h"
#include "model/parallel_grain.h"
#include "util/compute.h"

namespace vitc {
namespace {

// One operand as cblas sees it: matrices at data + offsets[i], each row-major (element (r, c) at
// r * ld + c) or, when transposed, column-major (at c * ld + r).
struct Operand {
  at::Tensor storage;  // keeps the memory alive (a contiguous copy when the strides did not fit)
  std::vector<int64_t> offsets;
  int64_t rows = 0, cols = 0, ld = 0;
  bool transposed = false;
};

bool fits_row_major(const at::Tensor& t, int64_t* ld) {
  const int64_t r = t.size(-2), c = t.size(-1);
  if (c > 1 && t.stride(-1) != 1) return false;
  *ld = r == 1 ? std::max<int64_t>(c, 1) : t.stride(-2);
  return *ld >= std::max<int64_t>(c, 1);
}

bool fits_column_major(const at::Tensor& t, int64_t* ld) {
  const int64_t r = t.size(-2), c = t.size(-1);
  if (r > 1 && t.stride(-2) != 1) return false;
  *ld = c == 1 ? std::max<int64_t>(r, 1) : t.stride(-1);
  return *ld >= std::max<int64_t>(r, 1);
}

Operand describe(const at::Tensor& t) {
  Operand op;
  op.storage = t;
  if (fits_row_major(t, &op.ld)) {
    op.transposed = false;
  } else if (fits_column_major(t, &op.ld)) {
    op.transposed = true;
  } else {
    op.storage = t.contiguous();
    op.transposed = false;
    op.ld = std::max<int64_t>(t.size(-1), 1);
  }
  op.rows = t.size(-2);
  op.cols = t.size(-1);
  // Offsets of every matrix, leading dimensions in row-major order, on the operand's own strides.
  const int64_t lead = op.storage.dim() - 2;
  op.offsets.assign(1, op.storage.storage_offset());
  for (int64_t d = 0; d < lead; ++d) {
    std::vector<int64_t> next;
    next.reserve(op.offsets.size() * static_cast<size_t>(op.storage.size(d)));
    for (const int64_t base : op.offsets) {
      for (int64_t i = 0; i < op.storage.size(d); ++i) next.push_back(base + i * op.storage.stride(d));
    }
    op.offsets = std::move(next);
  }
  return op;
}

// out[i] = a[i] @ b[i] for every matrix i; out is a fresh contiguous tensor.
at::Tensor blas_bmm(const at::Tensor& a_tensor, const at::Tensor& b_tensor) {
  const Operand a = describe(a_tensor), b = describe(b_tensor);
  std::vector<int64_t> shape(a_tensor.sizes().begin(), a_tensor.sizes().end());
  shape.back() = b.cols;
  at::Tensor out = at::empty(shape, a_tensor.options());
  const int64_t M = a.rows, K = a.cols, N = b.cols;
  const int64_t count = static_cast<int64_t>(a.offsets.size());
  const float* a_base = a.storage.data_ptr<float>() - a.storage.storage_offset();
  const float* b_base = b.storage.data_ptr<float>() - b.storage.storage_offset();
  float* o = out.data_ptr<float>();
  const SgemmFn gemm = cblas_sgemm_or_null();
  at::parallel_for(0, count, product_grain(M * N * K), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      gemm(kCblasRowMajor, a.transposed ? kCblasTrans : kCblasNoTrans,
           b.transposed ? kCblasTrans : kCblasNoTrans,
           static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), 1.0f,
           a_base + a.offsets[static_cast<size_t>(i)], static_cast<int>(a.ld),
           b_base + b.offsets[static_cast<size_t>(i)], static_cast<int>(b.ld), 0.0f,
           o + i * M * N, static_cast<int>(N));
    }
  });
  return out;
}

class BatchedMatmul : public torch::autograd::Function<BatchedMatmul> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& a,
                            const at::Tensor& b) {
    ctx->save_for_backward({a, b});
    return blas_bmm(a, b);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& a = saved[0];
    const at::Tensor& b = saved[1];
    const at::Tensor& grad = grads[0];
    at::Tensor grad_a, grad_b;
    if (ctx->needs_input_grad(0)) grad_a = blas_bmm(grad, b.transpose(-2, -1));
    if (ctx->needs_input_grad(1)) grad_b = blas_bmm(a.transpose(-2, -1), grad);
    return {grad_a, grad_b};
  }
};

}  // namespace

bool batched_matmul_uses_blas(const at::Tensor& a, const at::Tensor& b) {
  if (cblas_sgemm_or_null() == nullptr) return false;
  if (!a.device().is_cpu() || !b.device().is_cpu()) return false;
  if (a.scalar_type() != at::kFloat || b.scalar_type() != at::kFloat) return false;
  // Under bf16 autocast torch::matmul runs in bf16 (current_precision hides the LibTorch
  // version's autocast API).
  if (current_precision(c10::Device(c10::kCPU)) == Precision::bf16) return false;
  if (a.dim() < 3 || a.dim() != b.dim()) return false;
  for (int64_t d = 0; d + 2 < a.dim(); ++d) {
    if (a.size(d) != b.size(d)) return false;  // broadcasting: torch::matmul handles it
  }
  if (a.size(-1) != b.size(-2)) return false;  // torch::matmul reports the mismatch
  // Empty products, and sizes beyond int: torch::matmul.
  const int64_t limit = int64_t{1} << 30;
  for (const at::Tensor* t : {&a, &b}) {
    if (t->numel() == 0 || t->numel() >= limit) return false;
    for (const int64_t s : t->strides()) {
      if (s >= limit) return false;
    }
  }
  return true;
}

at::Tensor batched_matmul(const at::Tensor& a, const at::Tensor& b) {
  if (!batched_matmul_uses_blas(a, b)) return torch::matmul(a, b);
  return BatchedMatmul::apply(a, b);
}

}  // namespace vitc
