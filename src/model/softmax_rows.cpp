// The row kernel of softmax_last_dim, vectorised by the compiler (model/vector_math.h), for
// AVX-512, AVX2 and the baseline, chosen at run time.
#include "model/softmax_rows.h"

#include <algorithm>
#include <limits>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "model/vector_math.h"

namespace vitc {
namespace {

constexpr int kLanes = 16;

VITC_VECTOR_CLONES
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

void softmax_rows_of(const float* in, float* out, int64_t rows, int64_t n) {
  softmax_rows(in, out, rows, n);  // each element is read before it is written: in place works
}

at::Tensor softmax_last_dim(const at::Tensor& x) {
  if (!x.device().is_cpu() || x.scalar_type() != at::kFloat || x.dim() == 0 || x.numel() == 0) {
    return x.softmax(-1);
  }
  if (at::GradMode::is_enabled() && x.requires_grad()) return SoftmaxRowsFunction::apply(x);
  return softmax_by_rows(x);
}

}  // namespace vitc
