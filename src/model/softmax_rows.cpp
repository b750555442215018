// The row kernel of softmax_last_dim: AVX-512 intrinsics where the CPU has them, else a version
// the compiler vectorises for AVX2 and the baseline (model/vector_math.h), chosen at run time.
#include "model/softmax_rows.h"

#include <algorithm>
#include <limits>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "model/vector_math.h"

namespace vitc {
namespace {

constexpr int kLanes = 16;

#if VITC_HAS_AVX512_KERNELS
// GCC 12 warns that the intrinsics' own "undefined" source registers may be used uninitialized
// (GCC bug 105593, inside avx512fintrin.h); nothing of ours is.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// vecmath::exp's polynomial on 16 lanes. NaN stays NaN (the clamps take x as their second
// operand, which AVX-512's min and max return when either is NaN).
__attribute__((target("avx512f"))) inline __m512 exp_avx512(__m512 x) {
  const __m512 lowest = _mm512_set1_ps(-87.33654f);
  const __m512 clamped = _mm512_min_ps(_mm512_set1_ps(88.37626f), _mm512_max_ps(lowest, x));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(clamped, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), clamped);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 e = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
  const __m512i bits = _mm512_slli_epi32(
      _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  const __mmask16 above = _mm512_cmp_ps_mask(x, lowest, _CMP_NLT_UQ);  // x >= lowest, or NaN
  return _mm512_maskz_mul_ps(above, e, _mm512_castsi512_ps(bits));
}

// The row kernel in AVX-512 registers: maxima and sums reduced in registers (the portable
// version's lane arrays go through the stack, and reading a lane back from a vector store stalls),
// the row's tail by masked loads, its exponentials included.
__attribute__((target("avx512f"))) void softmax_rows_avx512(const float* in, float* out,
                                                             int64_t rows, int64_t n, int64_t ld) {
  const int64_t full = n / kLanes * kLanes;
  const __mmask16 tail = tail_lanes16(n);
  const __m512 minus_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t row = 0; row < rows; ++row) {
    const float* x = in + row * ld;
    float* y = out + row * ld;
    __m512 highest = minus_inf;
    for (int64_t i = 0; i < full; i += kLanes) highest = _mm512_max_ps(highest, _mm512_loadu_ps(x + i));
    if (tail != 0) highest = _mm512_max_ps(highest, _mm512_mask_loadu_ps(minus_inf, tail, x + full));
    float m = _mm512_reduce_max_ps(highest);
    if (m == -std::numeric_limits<float>::infinity()) m = 0.0f;  // a row of -inf: as ATen, NaN below
    const __m512 mv = _mm512_set1_ps(m);
    __m512 total = _mm512_setzero_ps();
    for (int64_t i = 0; i < full; i += kLanes) {
      const __m512 e = exp_avx512(_mm512_sub_ps(_mm512_loadu_ps(x + i), mv));
      _mm512_storeu_ps(y + i, e);
      total = _mm512_add_ps(total, e);
    }
    if (tail != 0) {
      const __m512 e = exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + full), mv));
      _mm512_mask_storeu_ps(y + full, tail, e);
      total = _mm512_mask_add_ps(total, tail, total, e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(total));
    for (int64_t i = 0; i < full; i += kLanes) _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), inv));
    if (tail != 0) {
      _mm512_mask_storeu_ps(y + full, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, y + full), inv));
    }
  }
}
#pragma GCC diagnostic pop
#endif

}  // namespace

VITC_VECTOR_CLONES
void softmax_rows_portable_of(const float* in, float* out, int64_t rows, int64_t n, int64_t ld) {
  for (int64_t row = 0; row < rows; ++row) {
    const float* x = in + row * ld;
    float* y = out + row * ld;
    float lane_max[kLanes];
    for (float& m : lane_max) m = -std::numeric_limits<float>::infinity();
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
      for (int j = 0; j < kLanes; ++j) lane_max[j] = std::max(lane_max[j], x[i + j]);
    float m = -std::numeric_limits<float>::infinity();
    for (; i < n; ++i) m = std::max(m, x[i]);
    for (float v : lane_max) m = std::max(m, v);
    if (m == -std::numeric_limits<float>::infinity()) m = 0.0f;  // a row of -inf: as ATen, NaN below
    float lane_sum[kLanes] = {};
    i = 0;
    for (; i + kLanes <= n; i += kLanes)
      for (int j = 0; j < kLanes; ++j) {
        const float e = vecmath::exp(x[i + j] - m);
        y[i + j] = e;
        lane_sum[j] += e;
      }
    float sum = 0.0f;
    for (; i < n; ++i) {
      y[i] = vecmath::exp(x[i] - m);
      sum += y[i];
    }
    for (float s : lane_sum) sum += s;
    const float inv = 1.0f / sum;
    for (i = 0; i < n; ++i) y[i] *= inv;
  }
}

// Each element is read before it is written: in place works.
void softmax_rows_of(const float* in, float* out, int64_t rows, int64_t n, int64_t ld) {
#if VITC_HAS_AVX512_KERNELS
  if (cpu_has_avx512f()) {
    softmax_rows_avx512(in, out, rows, n, ld);
    return;
  }
#endif
  softmax_rows_portable_of(in, out, rows, n, ld);
}

namespace {

// The kernel on a float32 CPU tensor of any strides (rows made contiguous first).
at::Tensor softmax_by_rows(const at::Tensor& x) {
  const at::Tensor in = x.contiguous();
  at::Tensor out = at::empty_like(in);
  const int64_t n = in.size(-1), rows = in.numel() / n;
  const float* src = in.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  at::parallel_for(0, rows, std::max<int64_t>(1, 16384 / n), [&](int64_t begin, int64_t end) {
    softmax_rows_of(src + begin * n, dst + begin * n, end - begin, n, n);
  });
  return out;
}

// With autograd: the forward by rows, the backward ATen's own softmax backward on that output,
// so that a student in training and its teacher in inference compute the same softmax.
struct SoftmaxRowsFunction : public torch::autograd::Function<SoftmaxRowsFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x) {
    at::Tensor y;
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      y = softmax_by_rows(x);
    }
    ctx->save_for_backward({y});
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const at::Tensor y = ctx->get_saved_variables()[0];
    return {at::_softmax_backward_data(grads[0], y, -1, y.scalar_type())};
  }
};

}  // namespace


at::Tensor softmax_last_dim(const at::Tensor& x) {
  if (!x.device().is_cpu() || x.scalar_type() != at::kFloat || x.dim() == 0 || x.numel() == 0) {
    return x.softmax(-1);
  }
  if (at::GradMode::is_enabled() && x.requires_grad()) return SoftmaxRowsFunction::apply(x);
  return softmax_by_rows(x);
}

}  // namespace vitc
