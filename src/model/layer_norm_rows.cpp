// The LayerNorm row kernel: AVX-512 intrinsics where the CPU has them, else a version the
// compiler vectorises for AVX2 and the baseline (model/vector_math.h), chosen at run time; with
// ATen's backward (see layer_norm_rows.h).
#include "model/layer_norm_rows.h"

#include <algorithm>
#include <cmath>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "model/vector_math.h"
#include "util/compute.h"

namespace vitc {
namespace {

constexpr int kLanes = 16;

// The sum of the lanes by halves (a tree of vector additions, not 16 dependent scalar ones).
inline float lanes_total(float (&lanes)[kLanes]) {
  for (int width = kLanes / 2; width > 0; width /= 2)
    for (int j = 0; j < width; ++j) lanes[j] += lanes[j + width];
  return lanes[0];
}

#if VITC_HAS_AVX512_KERNELS
// GCC 12 warns that the intrinsics' own "undefined" source registers may be used uninitialized
// (GCC bug 105593, inside avx512fintrin.h); nothing of ours is.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// The same arithmetic in AVX-512 registers: the lane sums reduced in registers (the portable
// version's lane arrays went through the stack, and reading a lane back from a vector store
// stalls: 1.1 ns per element on fm_small's 64-wide rows), the row's tail by masked loads.
__attribute__((target("avx512f"))) void layer_norm_rows_avx512(
    const float* in, const float* add, float* sum, float* out, const float* weight,
    const float* bias, int64_t rows, int64_t n, float eps, float* mean_out, float* rstd_out) {
  const int64_t full = n / kLanes * kLanes;
  const __mmask16 tail = tail_lanes16(n);
  const __m512 inv_n = _mm512_set1_ps(1.0f / static_cast<float>(n));
  for (int64_t row = 0; row < rows; ++row) {
    const float* x = in + row * n;
    float* y = out + row * n;
    const float* s = x;
    __m512 total = _mm512_setzero_ps();
    if (add != nullptr) {
      const float* a = add + row * n;
      float* s_out = sum != nullptr ? sum + row * n : y;
      for (int64_t i = 0; i < full; i += kLanes) {
        const __m512 v = _mm512_add_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(a + i));
        _mm512_storeu_ps(s_out + i, v);
        total = _mm512_add_ps(total, v);
      }
      if (tail != 0) {
        const __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(tail, x + full),
                                       _mm512_maskz_loadu_ps(tail, a + full));
        _mm512_mask_storeu_ps(s_out + full, tail, v);
        total = _mm512_add_ps(total, v);
      }
      s = s_out;
    } else {
      for (int64_t i = 0; i < full; i += kLanes) total = _mm512_add_ps(total, _mm512_loadu_ps(x + i));
      if (tail != 0) total = _mm512_add_ps(total, _mm512_maskz_loadu_ps(tail, x + full));
    }
    const float mean = _mm512_reduce_add_ps(total) / static_cast<float>(n);
    const __m512 m = _mm512_set1_ps(mean);
    __m512 squares = _mm512_setzero_ps();
    for (int64_t i = 0; i < full; i += kLanes) {
      const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(s + i), m);
      squares = _mm512_fmadd_ps(d, d, squares);
    }
    if (tail != 0) {
      const __m512 d = _mm512_maskz_sub_ps(tail, _mm512_maskz_loadu_ps(tail, s + full), m);
      squares = _mm512_fmadd_ps(d, d, squares);
    }
    const float variance = _mm512_reduce_add_ps(_mm512_mul_ps(squares, inv_n));
    const float rstd = 1.0f / std::sqrt(variance + eps);
    const __m512 r = _mm512_set1_ps(rstd);
    for (int64_t i = 0; i < full; i += kLanes) {
      const __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(s + i), m), r);
      _mm512_storeu_ps(y + i, _mm512_fmadd_ps(v, _mm512_loadu_ps(weight + i),
                                              _mm512_loadu_ps(bias + i)));
    }
    if (tail != 0) {
      const __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, s + full), m), r);
      _mm512_mask_storeu_ps(y + full, tail,
                            _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(tail, weight + full),
                                            _mm512_maskz_loadu_ps(tail, bias + full)));
    }
    if (mean_out != nullptr) mean_out[row] = mean;
    if (rstd_out != nullptr) rstd_out[row] = rstd;
  }
}
#pragma GCC diagnostic pop
#endif

}  // namespace

VITC_VECTOR_CLONES
void layer_norm_rows_portable_of(const float* in, const float* add, float* sum, float* out,
                                 const float* weight, const float* bias, int64_t rows, int64_t n,
                                 float eps, float* mean_out, float* rstd_out) {
  for (int64_t row = 0; row < rows; ++row) {
    const float* x = in + row * n;
    float* y = out + row * n;
    // s: the row to normalise; with `add`, x + add written to sum (or to y, normalised in place).
    const float* s = x;
    float lane_total[kLanes] = {};
    float total = 0.0f;
    int64_t i = 0;
    if (add != nullptr) {
      const float* a = add + row * n;
      float* s_out = sum != nullptr ? sum + row * n : y;
      for (; i + kLanes <= n; i += kLanes)
        for (int j = 0; j < kLanes; ++j) {
          const float v = x[i + j] + a[i + j];
          s_out[i + j] = v;
          lane_total[j] += v;
        }
      for (; i < n; ++i) {
        s_out[i] = x[i] + a[i];
        total += s_out[i];
      }
      s = s_out;
    } else {
      for (; i + kLanes <= n; i += kLanes)
        for (int j = 0; j < kLanes; ++j) lane_total[j] += x[i + j];
      for (; i < n; ++i) total += x[i];
    }
    total += lanes_total(lane_total);
    const float mean = total / static_cast<float>(n);
    float lane_squares[kLanes] = {};
    float squares = 0.0f;
    i = 0;
    for (; i + kLanes <= n; i += kLanes)
      for (int j = 0; j < kLanes; ++j) {
        const float d = s[i + j] - mean;
        lane_squares[j] += d * d;
      }
    for (; i < n; ++i) squares += (s[i] - mean) * (s[i] - mean);
    squares += lanes_total(lane_squares);
    const float rstd = 1.0f / std::sqrt(squares / static_cast<float>(n) + eps);
    for (i = 0; i < n; ++i) y[i] = (s[i] - mean) * rstd * weight[i] + bias[i];
    if (mean_out != nullptr) mean_out[row] = mean;
    if (rstd_out != nullptr) rstd_out[row] = rstd;
  }
}

void layer_norm_rows_of(const float* in, const float* add, float* sum, float* out,
                        const float* weight, const float* bias, int64_t rows, int64_t n, float eps,
                        float* mean, float* rstd) {
#if VITC_HAS_AVX512_KERNELS
  if (cpu_has_avx512f()) {
    layer_norm_rows_avx512(in, add, sum, out, weight, bias, rows, n, eps, mean, rstd);
    return;
  }
#endif
  layer_norm_rows_portable_of(in, add, sum, out, weight, bias, rows, n, eps, mean, rstd);
}

namespace {

bool kernel_applies(const at::Tensor& x, const torch::nn::LayerNormImpl& norm) {
  const auto& shape = norm.options.normalized_shape();
  return x.defined() && x.device().is_cpu() && x.scalar_type() == at::kFloat && x.dim() >= 1 &&
         shape.size() == 1 && x.size(-1) == shape[0] && norm.weight.defined() &&
         norm.bias.defined() && norm.weight.scalar_type() == at::kFloat &&
         norm.bias.scalar_type() == at::kFloat && norm.weight.device().is_cpu() &&
         current_precision(c10::Device(c10::kCPU)) == Precision::fp32;
}

// Mean and 1/std as ATen's native_layer_norm shapes them: x's leading sizes, then 1.
std::vector<int64_t> stat_shape(const at::Tensor& x) {
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = 1;
  return shape;
}

struct RowsOut {
  at::Tensor sum, normed, mean, rstd;
};

// Over all rows of x (and a), on torch's threads (inline inside a parallel region).
RowsOut normalise_rows(const at::Tensor& x_in, const at::Tensor& a_in, const at::Tensor& weight_in,
                       const at::Tensor& bias_in, double eps, bool keep_sum, bool keep_stats) {
  const at::Tensor x = x_in.contiguous();
  const at::Tensor a = a_in.defined() ? a_in.contiguous() : a_in;
  const at::Tensor weight = weight_in.contiguous(), bias = bias_in.contiguous();
  RowsOut r;
  r.normed = at::empty_like(x, at::MemoryFormat::Contiguous);
  if (keep_sum) r.sum = at::empty_like(x, at::MemoryFormat::Contiguous);
  const int64_t n = x.size(-1), rows = n == 0 ? 0 : x.numel() / n;
  if (keep_stats) {
    r.mean = at::empty(stat_shape(x), x.options());
    r.rstd = at::empty(stat_shape(x), x.options());
  }
  if (rows == 0) return r;
  const float* src = x.data_ptr<float>();
  const float* add = a.defined() ? a.data_ptr<float>() : nullptr;
  float* sum = keep_sum ? r.sum.data_ptr<float>() : nullptr;
  float* out = r.normed.data_ptr<float>();
  float* mean = keep_stats ? r.mean.data_ptr<float>() : nullptr;
  float* rstd = keep_stats ? r.rstd.data_ptr<float>() : nullptr;
  const float* w = weight.data_ptr<float>();
  const float* b = bias.data_ptr<float>();
  const float e = static_cast<float>(eps);
  at::parallel_for(0, rows, std::max<int64_t>(1, 16384 / n), [&](int64_t begin, int64_t end) {
    layer_norm_rows_of(src + begin * n, add != nullptr ? add + begin * n : nullptr,
                       sum != nullptr ? sum + begin * n : nullptr, out + begin * n, w, b,
                       end - begin, n, e, mean != nullptr ? mean + begin : nullptr,
                       rstd != nullptr ? rstd + begin : nullptr);
  });
  return r;
}

// With autograd: the forward by rows, the backward ATen's native_layer_norm_backward on the
// saved mean and 1/std.
struct LayerNormRowsFunction : public torch::autograd::Function<LayerNormRowsFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                            const at::Tensor& weight, const at::Tensor& bias, double eps) {
    RowsOut r;
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      r = normalise_rows(x, at::Tensor(), weight, bias, eps, false, true);
    }
    ctx->save_for_backward({x, weight, bias, r.mean, r.rstd});
    return r.normed;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &weight = saved[1], &bias = saved[2];
    const auto [grad_x, grad_weight, grad_bias] = at::native_layer_norm_backward(
        grads[0].contiguous(), x.contiguous(), {x.size(-1)}, saved[3], saved[4], weight, bias,
        {ctx->needs_input_grad(0), ctx->needs_input_grad(1), ctx->needs_input_grad(2)});
    return {grad_x, grad_weight, grad_bias, at::Tensor()};
  }
};

bool records_graph(const at::Tensor& t) { return t.defined() && t.requires_grad(); }

}  // namespace

at::Tensor layer_norm_last_dim(const at::Tensor& x, torch::nn::LayerNormImpl& norm) {
  if (!kernel_applies(x, norm)) return norm.forward(x);
  const double eps = norm.options.eps();
  if (at::GradMode::is_enabled() &&
      (records_graph(x) || records_graph(norm.weight) || records_graph(norm.bias))) {
    return LayerNormRowsFunction::apply(x, norm.weight, norm.bias, eps);
  }
  return normalise_rows(x, at::Tensor(), norm.weight, norm.bias, eps, false, false).normed;
}

SumAndNormed add_then_layer_norm(const at::Tensor& x, const at::Tensor& a,
                                 torch::nn::LayerNormImpl& norm) {
  const bool graph = at::GradMode::is_enabled() && (records_graph(x) || records_graph(a) ||
                                                    records_graph(norm.weight) ||
                                                    records_graph(norm.bias));
  if (graph || !kernel_applies(x, norm) || !a.defined() || a.sizes() != x.sizes() ||
      a.scalar_type() != at::kFloat || !a.device().is_cpu()) {
    const at::Tensor sum = x + a;
    return {sum, layer_norm_last_dim(sum, norm)};
  }
  RowsOut r = normalise_rows(x, a, norm.weight, norm.bias, norm.options.eps(), true, false);
  return {r.sum, r.normed};
}

}  // namespace vitc
