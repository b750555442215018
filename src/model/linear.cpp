// Row-band linear layers on torch's intra-op threads (see linear.h).
#include "model/linear.h"

#include <algorithm>
#include <limits>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "model/cblas_sgemm.h"
#include "model/parallel_grain.h"
#include "model/vector_math.h"
#include "util/compute.h"

namespace vitc {
namespace {

// out[r] = residual[r] + (product[r] + bias) for `rows` rows of n floats: linear_added_to's
// pass. out may be product.
#if VITC_HAS_AVX512_KERNELS
__attribute__((target("avx512f"))) void add_bias_and_residual_rows_avx512(
    const float* product, const float* bias, const float* residual, float* out, int64_t rows,
    int64_t n) {
  const int64_t full = n / 16 * 16;
  const __mmask16 tail = tail_lanes16(n);
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = product + r * n;
    const float* y = residual + r * n;
    float* o = out + r * n;
    for (int64_t i = 0; i < full; i += 16) {
      const __m512 a = _mm512_add_ps(_mm512_loadu_ps(p + i), _mm512_loadu_ps(bias + i));
      _mm512_storeu_ps(o + i, _mm512_add_ps(_mm512_loadu_ps(y + i), a));
    }
    if (tail != 0) {
      const __m512 a = _mm512_add_ps(_mm512_maskz_loadu_ps(tail, p + full),
                                     _mm512_maskz_loadu_ps(tail, bias + full));
      const __m512 sum = _mm512_add_ps(_mm512_maskz_loadu_ps(tail, y + full), a);
      _mm512_mask_storeu_ps(o + full, tail, sum);
    }
  }
}
#endif

void add_bias_and_residual_rows(const float* product, const float* bias, const float* residual,
                                float* out, int64_t rows, int64_t n) {
#if VITC_HAS_AVX512_KERNELS
  if (cpu_has_avx512f()) {
    add_bias_and_residual_rows_avx512(product, bias, residual, out, rows, n);
    return;
  }
#endif
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < n; ++i) {
      out[r * n + i] = residual[r * n + i] + (product[r * n + i] + bias[i]);
    }
}

// The bias added to every one of `rows` rows of n floats at out. (The product used to be added
// onto the bias copied into its rows, one std::copy per row: a memmove call per row, 6.4% of a
// 30%-MACs fm_small model's inference by perf; the rows' first write then fell to that copy.)
#if VITC_HAS_AVX512_KERNELS
__attribute__((target("avx512f"))) void add_bias_rows_avx512(float* out, const float* bias,
                                                             int64_t rows, int64_t n) {
  const int64_t full = n / 16 * 16;
  const __mmask16 tail = tail_lanes16(n);
  const __m512 tail_bias = _mm512_maskz_loadu_ps(tail, bias + full);
  for (int64_t r = 0; r < rows; ++r) {
    float* o = out + r * n;
    for (int64_t i = 0; i < full; i += 16) {
      _mm512_storeu_ps(o + i, _mm512_add_ps(_mm512_loadu_ps(o + i), _mm512_loadu_ps(bias + i)));
    }
    if (tail != 0) {
      _mm512_mask_storeu_ps(o + full, tail,
                            _mm512_add_ps(_mm512_maskz_loadu_ps(tail, o + full), tail_bias));
    }
  }
}
#endif

void add_bias_rows(float* out, const float* bias, int64_t rows, int64_t n) {
#if VITC_HAS_AVX512_KERNELS
  if (cpu_has_avx512f()) {
    add_bias_rows_avx512(out, bias, rows, n);
    return;
  }
#endif
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < n; ++i) out[r * n + i] += bias[i];
}

// out [rows, out_features] = x [rows, in_features] W^T + bias by one product on this thread, and
// then the bias added row by row in cache (so gelu_of_linear, model/gelu.h, can leave the bias to
// its own pass and compute the same floats). Without ATen's addmm dispatch, its transposed view
// and its strided broadcast copy of the bias (7% of a 30% model's inference). The product is
// oneDNN's dnnl_sgemm where the process has it and the call runs on one thread (inside a parallel
// region: a batch slice or a row band; or torch on one thread), else OpenBLAS's. The two round
// differently (1e-6), so training goes through here as well: on one thread a model's training and
// inference forward passes agree bit for bit (tests/model/linear_test.cpp,
// training_inference_agree_test.cpp).
void sgemm_rows(SgemmFn gemm, float* out, const float* x, int64_t rows, const float* weight,
                int64_t out_features, int64_t in_features, const float* bias) {
  const DnnlSgemmFn dnnl = dnnl_sgemm_or_null();
  const bool by_dnnl =
      dnnl != nullptr && (at::in_parallel_region() || at::get_num_threads() == 1) &&
      dnnl('N', 'T', rows, out_features, in_features, 1.0f, x, in_features, weight, in_features,
           0.0f, out, out_features) == 0;
  if (!by_dnnl) {
    gemm(kCblasRowMajor, kCblasNoTrans, kCblasTrans, static_cast<int>(rows),
         static_cast<int>(out_features), static_cast<int>(in_features), 1.0f, x,
         static_cast<int>(in_features), weight, static_cast<int>(in_features), 0.0f, out,
         static_cast<int>(out_features));
  }
  if (bias != nullptr) add_bias_rows(out, bias, rows, out_features);
}

// Whether x W^T + b can go to sgemm_rows: float32 CPU operands outside bf16 autocast, OpenBLAS's
// cblas_sgemm present, sizes CBLAS's ints hold, and nothing empty (ATen handles those).
SgemmFn sgemm_for(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  const SgemmFn gemm = cblas_sgemm_or_null();
  if (gemm == nullptr || !x.device().is_cpu() || !weight.device().is_cpu()) return nullptr;
  if (x.scalar_type() != at::kFloat || weight.scalar_type() != at::kFloat) return nullptr;
  if (bias.defined() && (bias.scalar_type() != at::kFloat || !bias.device().is_cpu() ||
                         bias.dim() != 1 || bias.size(0) != weight.size(0))) {
    return nullptr;
  }
  if (current_precision(c10::Device(c10::kCPU)) == Precision::bf16) return nullptr;
  if (x.dim() < 1 || weight.dim() != 2 || x.size(-1) != weight.size(1)) return nullptr;
  const int64_t limit = std::numeric_limits<int>::max();
  const int64_t rows = x.numel() / std::max<int64_t>(1, x.size(-1));
  if (x.numel() == 0 || weight.numel() == 0 || rows > limit || weight.size(0) > limit ||
      weight.size(1) > limit || rows * weight.size(0) > limit) {
    return nullptr;
  }
  return gemm;
}

// out[r] = a[r] @ b (+ bias) for bands of rows r of a, one band per intra-op thread.
// Operands are detached: the intra-op threads do not inherit the caller's grad mode, and an out=
// product refuses inputs that require grad (the autograd function records the graph itself).
void mm_by_row_bands(at::Tensor& out, const at::Tensor& a_in, const at::Tensor& b_in,
                     const at::Tensor& bias_in) {
  const at::Tensor a = a_in.detach(), b = b_in.detach();
  const at::Tensor bias = bias_in.defined() ? bias_in.detach() : bias_in;
  const int64_t rows = a.size(0);
  // The forward product x W^T (b is W's transposed view) goes to sgemm_rows band by band.
  const at::Tensor weight = b.t();
  const SgemmFn gemm = weight.is_contiguous() && a.is_contiguous() && out.is_contiguous()
                           ? sgemm_for(a, weight, bias)
                           : nullptr;
  if (gemm != nullptr) {
    const at::Tensor bias_rows = bias.defined() ? bias.contiguous() : bias;
    at::parallel_for(0, rows, product_grain(a.size(1) * b.size(1)), [&](int64_t begin, int64_t end) {
      sgemm_rows(gemm, out.data_ptr<float>() + begin * weight.size(0),
                 a.data_ptr<float>() + begin * a.size(1), end - begin, weight.data_ptr<float>(),
                 weight.size(0), weight.size(1),
                 bias_rows.defined() ? bias_rows.data_ptr<float>() : nullptr);
    });
    return;
  }
  at::parallel_for(0, rows, product_grain(a.size(1) * b.size(1)), [&](int64_t begin, int64_t end) {
    at::Tensor band = out.narrow(0, begin, end - begin);
    if (bias.defined()) {
      at::addmm_out(band, bias, a.narrow(0, begin, end - begin), b);
    } else {
      at::mm_out(band, a.narrow(0, begin, end - begin), b);
    }
  });
}

std::vector<int64_t> with_last(at::IntArrayRef sizes, int64_t last) {
  std::vector<int64_t> shape(sizes.begin(), sizes.end());
  shape.back() = last;
  return shape;
}

// Whether `residual` has x W^T's shape: x's sizes with the last one W's output features.
bool has_sizes_of_product(const at::Tensor& residual, const at::Tensor& x,
                          const at::Tensor& weight) {
  if (x.dim() < 1 || residual.dim() != x.dim()) return false;
  for (int64_t d = 0; d + 1 < x.dim(); ++d) {
    if (residual.size(d) != x.size(d)) return false;
  }
  return residual.size(-1) == weight.size(0);
}

// `bias` is an empty tensor for a layer without one (autograd functions take no undefined inputs).
class RowBandLinear : public torch::autograd::Function<RowBandLinear> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                            const at::Tensor& weight, const at::Tensor& bias) {
    const bool has_bias = bias.numel() > 0;
    const at::Tensor rows = x.reshape({-1, x.size(-1)}).contiguous();
    at::Tensor out = at::empty({rows.size(0), weight.size(0)}, x.options());
    // W made contiguous, as inference does, so that both reach sgemm_rows with the same operands.
    mm_by_row_bands(out, rows, weight.contiguous().t(), has_bias ? bias : at::Tensor());
    ctx->save_for_backward({rows, weight});
    ctx->saved_data["bias"] = has_bias;
    return out.view(with_last(x.sizes(), weight.size(0)));
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& rows = saved[0];  // x as [M, in]
    const at::Tensor& weight = saved[1];
    const at::Tensor grad = grads[0].reshape({-1, weight.size(0)}).contiguous();  // [M, out]
    at::Tensor grad_x, grad_weight, grad_bias;
    if (ctx->needs_input_grad(0)) {
      grad_x = at::empty_like(rows);
      mm_by_row_bands(grad_x, grad, weight, at::Tensor());
      grad_x = grad_x.view(with_last(grads[0].sizes(), weight.size(1)));
    }
    if (ctx->needs_input_grad(1)) {
      // grad_weight[o] = sum over rows of grad[:, o] x: bands of W's rows (output features).
      grad_weight = at::empty_like(weight);
      mm_by_row_bands(grad_weight, grad.t(), rows, at::Tensor());
    }
    if (ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2)) grad_bias = grad.sum(0);
    return {grad_x, grad_weight, grad_bias};
  }
};

}  // namespace

bool linear_splits_rows(const at::Tensor& x, const at::Tensor& weight) {
  if (at::get_num_threads() < 2 || at::in_parallel_region()) return false;
  if (!x.device().is_cpu() || !weight.device().is_cpu()) return false;
  if (x.scalar_type() != at::kFloat || weight.scalar_type() != at::kFloat) return false;
  if (current_precision(c10::Device(c10::kCPU)) == Precision::bf16) return false;
  if (x.dim() < 2 || weight.dim() != 2 || x.size(-1) != weight.size(1)) return false;  // ATen reports
  const int64_t rows = x.numel() / std::max<int64_t>(1, x.size(-1));
  // Worth splitting only when there are at least two bands.
  return x.numel() > 0 && weight.numel() > 0 && rows >= 2 * product_grain(weight.numel());
}

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (bias.defined() && (bias.scalar_type() != at::kFloat || !bias.device().is_cpu())) {
    return torch::linear(x, weight, bias);
  }
  const SgemmFn gemm = sgemm_for(x, weight, bias);
  const bool splits = linear_splits_rows(x, weight);
  if (gemm == nullptr && !splits) return torch::linear(x, weight, bias);
  const bool graph = at::GradMode::is_enabled() &&
                     (x.requires_grad() || weight.requires_grad() ||
                      (bias.defined() && bias.requires_grad()));
  // Training takes sgemm_rows too (one band when it does not split), so that it computes what
  // inference computes.
  if (splits || graph) {
    return RowBandLinear::apply(x, weight, bias.defined() ? bias : at::empty({0}, x.options()));
  }
  // Inference in one band (one thread, or inside a parallel region: a batch slice).
  const at::Tensor rows = x.reshape({-1, x.size(-1)}).contiguous();
  const at::Tensor w = weight.contiguous();
  const at::Tensor b = bias.defined() ? bias.contiguous() : bias;
  at::Tensor out = at::empty({rows.size(0), w.size(0)}, x.options());
  sgemm_rows(gemm, out.data_ptr<float>(), rows.data_ptr<float>(), rows.size(0), w.data_ptr<float>(),
             w.size(0), w.size(1), b.defined() ? b.data_ptr<float>() : nullptr);
  return out.view(with_last(x.sizes(), w.size(0)));
}

bool linear_adds_bias_after_product(const at::Tensor& x, const at::Tensor& weight,
                                    const at::Tensor& bias) {
  return bias.defined() && sgemm_for(x, weight, bias) != nullptr;
}

at::Tensor linear_added_to(const at::Tensor& residual, const at::Tensor& x,
                           const torch::nn::Linear& layer) {
  const at::Tensor& weight = layer->weight;
  const at::Tensor& bias = layer->bias;
  const bool graph = at::GradMode::is_enabled() &&
                     (residual.requires_grad() || x.requires_grad() || weight.requires_grad() ||
                      (bias.defined() && bias.requires_grad()));
  // The add pass below is single-threaded, so a product linear() cuts into bands is left to ATen.
  const bool fused = !graph && linear_adds_bias_after_product(x, weight, bias) &&
                     !linear_splits_rows(x, weight) && residual.scalar_type() == at::kFloat &&
                     residual.device().is_cpu() && has_sizes_of_product(residual, x, weight);
  if (!fused) return residual + apply_linear(layer, x);
  at::Tensor out = linear(x, weight, at::Tensor()).contiguous();
  const at::Tensor y = residual.contiguous(), b = bias.contiguous();
  const int64_t n = weight.size(0);
  add_bias_and_residual_rows(out.data_ptr<float>(), b.data_ptr<float>(), y.data_ptr<float>(),
                             out.data_ptr<float>(), out.numel() / n, n);
  return out;
}

}  // namespace vitc
