// The row kernel of softmax_last_dim: Cephes' single-precision exponential (degree-6 polynomial
// on [-ln2/2, ln2/2], about 1 ulp) written so that the compiler vectorises it; GCC and Clang
// compile it for AVX-512, AVX2 and the baseline and pick one at run time (target_clones).
#include "model/softmax_rows.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace vitc {
namespace {

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__INTEL_COMPILER)
#define VITC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VITC_CLONES
#endif

constexpr int kLanes = 16;

inline float exp_cephes(float x) {
  const float lowest = -87.33654f;  // below: the result is 0 (exp(-inf) included)
  const float clamped = std::min(std::max(x, lowest), 88.37626f);
  // n = round(x / ln 2) by the 1.5 * 2^23 trick (round to nearest, no library call).
  const float shifter = 12582912.0f;
  const float n = (clamped * 1.44269504088896341f + shifter) - shifter;
  float r = clamped - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return x < lowest ? 0.0f : e * scale;
}

VITC_CLONES
void softmax_rows(const float* in, float* out, int64_t rows, int64_t n) {
  for (int64_t row = 0; row < rows; ++row) {
    const float* x = in + row * n;
    float* y = out + row * n;
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
        const float e = exp_cephes(x[i + j] - m);
        y[i + j] = e;
        lane_sum[j] += e;
      }
    float sum = 0.0f;
    for (; i < n; ++i) {
      y[i] = exp_cephes(x[i] - m);
      sum += y[i];
    }
    for (float s : lane_sum) sum += s;
    const float inv = 1.0f / sum;
    for (i = 0; i < n; ++i) y[i] *= inv;
  }
}

// The kernel on a float32 CPU tensor of any strides (rows made contiguous first).
at::Tensor softmax_by_rows(const at::Tensor& x) {
  const at::Tensor in = x.contiguous();
  at::Tensor out = at::empty_like(in);
  const int64_t n = in.size(-1), rows = in.numel() / n;
  const float* src = in.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  at::parallel_for(0, rows, std::max<int64_t>(1, 16384 / n), [&](int64_t begin, int64_t end) {
    softmax_rows(src + begin * n, dst + begin * n, end - begin, n);
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
