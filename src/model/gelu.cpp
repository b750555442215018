// The GELU row kernel: AVX-512 intrinsics where the CPU has them, else a version the compiler
// vectorises for AVX2 and the baseline (model/vector_math.h), chosen at run time; with ATen's
// backward (see gelu.h).
#include "model/gelu.h"

#include <algorithm>
#include <cmath>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "model/linear.h"
#include "model/vector_math.h"
#include "util/compute.h"

namespace vitc {
namespace {

// gelu(x) = x / 2 + |x| e(x), e(x) = erf(|x| / sqrt 2) / 2 = a P(a^2) / Q(a^2) for a = |x| up to
// kClampX, and 1/2 beyond it (erf(kClampX / sqrt 2) = 1 - 3e-8), so that gelu is exactly
// max(x, 0) there. P / Q: a rational of degree (6, 4) in a^2 fitted here to erf (Lawson's
// iteratively reweighted least squares towards the minimax fit on [0, 3.92] in units of x / sqrt
// 2; 4e-8 in exact arithmetic, 3.3e-7 evaluated in float32 with FMA), then rescaled to x and
// rounded to float: gelu within 2.1e-7 |x| of the truth over [-12, 12]. It takes 11 fused
// multiply-adds and a reciprocal where Abramowitz-Stegun's erfc (as ATen's vectorised erf) takes
// an exponential, 5 multiply-adds and a reciprocal; that form's GELU cost as much as fc1's product
// on fm_small (docs/slicing_benchmark.md).
constexpr float kClampX = 5.543717384338379f;
constexpr float kP0 = 0.39894214272499084f, kP1 = 0.03643626719713211f,
                kP2 = 0.004542924929410219f, kP3 = 0.00017557915998622775f,
                kP4 = 3.2921668662311276e-06f, kP5 = -2.203395332855962e-08f,
                kP6 = 1.1005014260989654e-10f;
constexpr float kQ1 = 0.2579965591430664f, kQ2 = 0.029391182586550713f,
                kQ3 = 0.0018611557316035032f, kQ4 = 6.400779238902032e-05f;
constexpr int kLanes = 16;

inline float gelu_of(float x) {
  const float a = std::fabs(x);
  const float clamped = std::min(a, kClampX);
  const float u = clamped * clamped;
  const float p = kP0 + u * (kP1 + u * (kP2 + u * (kP3 + u * (kP4 + u * (kP5 + u * kP6)))));
  const float q = 1.0f + u * (kQ1 + u * (kQ2 + u * (kQ3 + u * kQ4)));
  const float e = a > kClampX ? 0.5f : clamped * p * (1.0f / q);
  return a * e + 0.5f * x;
}

#if VITC_HAS_AVX512_KERNELS
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// The same arithmetic on 16 lanes, 1 / Q by the reciprocal estimate and one Newton step (a
// division's throughput would set the kernel's pace). NaN stays NaN (the clamp returns its
// second operand, kClampX, for NaN; x / 2 is NaN).
__attribute__((target("avx512f"))) inline __m512 gelu_avx512(__m512 x) {
  const __m512 a = _mm512_abs_ps(x);
  const __m512 clamped = _mm512_min_ps(a, _mm512_set1_ps(kClampX));
  const __m512 u = _mm512_mul_ps(clamped, clamped);
  __m512 p = _mm512_fmadd_ps(u, _mm512_set1_ps(kP6), _mm512_set1_ps(kP5));
  __m512 q = _mm512_fmadd_ps(u, _mm512_set1_ps(kQ4), _mm512_set1_ps(kQ3));
  p = _mm512_fmadd_ps(u, p, _mm512_set1_ps(kP4));
  q = _mm512_fmadd_ps(u, q, _mm512_set1_ps(kQ2));
  p = _mm512_fmadd_ps(u, p, _mm512_set1_ps(kP3));
  q = _mm512_fmadd_ps(u, q, _mm512_set1_ps(kQ1));
  p = _mm512_fmadd_ps(u, p, _mm512_set1_ps(kP2));
  q = _mm512_fmadd_ps(u, q, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(u, p, _mm512_set1_ps(kP1));
  p = _mm512_fmadd_ps(u, p, _mm512_set1_ps(kP0));
  const __m512 estimate = _mm512_rcp14_ps(q);
  const __m512 reciprocal =
      _mm512_mul_ps(estimate, _mm512_fnmadd_ps(q, estimate, _mm512_set1_ps(2.0f)));
  __m512 e = _mm512_mul_ps(_mm512_mul_ps(clamped, p), reciprocal);
  e = _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(a, _mm512_set1_ps(kClampX), _CMP_GT_OQ),
                         _mm512_set1_ps(0.5f));
  return _mm512_fmadd_ps(a, e, _mm512_mul_ps(_mm512_set1_ps(0.5f), x));
}

__attribute__((target("avx512f"))) void gelu_rows_avx512(const float* in, const float* bias,
                                                         float* out, int64_t rows, int64_t n) {
  const int64_t full = n / kLanes * kLanes;
  const __mmask16 tail = tail_lanes16(n);
  for (int64_t row = 0; row < rows; ++row) {
    const float* x = in + row * n;
    float* y = out + row * n;
    for (int64_t i = 0; i < full; i += kLanes) {
      __m512 v = _mm512_loadu_ps(x + i);
      if (bias != nullptr) v = _mm512_add_ps(v, _mm512_loadu_ps(bias + i));
      _mm512_storeu_ps(y + i, gelu_avx512(v));
    }
    if (tail != 0) {
      __m512 v = _mm512_maskz_loadu_ps(tail, x + full);
      if (bias != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(tail, bias + full));
      _mm512_mask_storeu_ps(y + full, tail, gelu_avx512(v));
    }
  }
}
#pragma GCC diagnostic pop
#endif

}  // namespace

VITC_VECTOR_CLONES
void gelu_rows_portable_of(const float* in, const float* bias, float* out, int64_t rows,
                           int64_t n) {
  for (int64_t row = 0; row < rows; ++row) {
    const float* x = in + row * n;
    float* y = out + row * n;
    if (bias != nullptr) {
      for (int64_t i = 0; i < n; ++i) y[i] = gelu_of(x[i] + bias[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) y[i] = gelu_of(x[i]);
    }
  }
}

void gelu_rows_of(const float* in, const float* bias, float* out, int64_t rows, int64_t n) {
#if VITC_HAS_AVX512_KERNELS
  if (cpu_has_avx512f()) {
    gelu_rows_avx512(in, bias, out, rows, n);
    return;
  }
#endif
  gelu_rows_portable_of(in, bias, out, rows, n);
}

namespace {

bool kernel_applies(const at::Tensor& x) {
  return x.defined() && x.device().is_cpu() && x.scalar_type() == at::kFloat && x.dim() >= 1 &&
         x.numel() > 0 && current_precision(c10::Device(c10::kCPU)) == Precision::fp32;
}

// gelu(in + bias) into out (both contiguous, in place allowed), on torch's threads (inline
// inside a parallel region).
void gelu_by_rows(const at::Tensor& in, const at::Tensor& bias, at::Tensor& out) {
  const int64_t n = in.size(-1), rows = in.numel() / n;
  const float* src = in.data_ptr<float>();
  const float* b = bias.defined() ? bias.data_ptr<float>() : nullptr;
  float* dst = out.data_ptr<float>();
  at::parallel_for(0, rows, std::max<int64_t>(1, 16384 / n), [&](int64_t begin, int64_t end) {
    gelu_rows_of(src + begin * n, b, dst + begin * n, end - begin, n);
  });
}

at::Tensor gelu_rows(const at::Tensor& x) {
  const at::Tensor in = x.contiguous();
  at::Tensor out = at::empty_like(in, at::MemoryFormat::Contiguous);
  gelu_by_rows(in, at::Tensor(), out);
  return out;
}

// With autograd: the forward by rows, the backward ATen's gelu_backward on the saved input.
struct GeluRowsFunction : public torch::autograd::Function<GeluRowsFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x) {
    at::Tensor y;
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      y = gelu_rows(x);
    }
    ctx->save_for_backward({x});
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const at::Tensor x = ctx->get_saved_variables()[0];
    return {at::gelu_backward(grads[0], x)};
  }
};

}  // namespace

at::Tensor gelu(const at::Tensor& x) {
  if (!kernel_applies(x)) return torch::gelu(x);
  if (at::GradMode::is_enabled() && x.requires_grad()) return GeluRowsFunction::apply(x);
  return gelu_rows(x);
}

at::Tensor gelu_of_linear(const at::Tensor& x, const torch::nn::Linear& layer) {
  const at::Tensor& bias = layer->bias;
  const bool graph = at::GradMode::is_enabled() &&
                     (x.requires_grad() || layer->weight.requires_grad() ||
                      (bias.defined() && bias.requires_grad()));
  if (graph || !kernel_applies(x) || !linear_adds_bias_after_product(x, layer->weight, bias)) {
    return vitc::gelu(apply_linear(layer, x));
  }
  at::Tensor product = linear(x, layer->weight, at::Tensor()).contiguous();
  gelu_by_rows(product, bias.contiguous(), product);
  return product;
}

}  // namespace vitc
