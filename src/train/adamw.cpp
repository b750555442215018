// AdamW update, written out so that its state is explicit and serialisable.
#include "train/adamw.h"

#include <algorithm>
#include <cmath>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "util/error.h"

namespace vitc {

AdamW::AdamW(NamedParams params, AdamWOptions options, const std::vector<std::string>& no_decay)
    : params_(std::move(params)), options_(options) {
  for (const auto& [name, p] : params_) {
    const bool excluded = std::find(no_decay.begin(), no_decay.end(), name) != no_decay.end();
    decay_.push_back(!excluded && p.dim() >= 2);
    exp_avg_.push_back(torch::zeros_like(p));
    exp_avg_sq_.push_back(torch::zeros_like(p));
  }
}

void AdamW::zero_grad() {
  // Undefined, not zero (PyTorch's set_to_none): backward then hands its gradient buffers over
  // instead of adding them to zeros, two passes over every gradient fewer per step.
  for (auto& [name, p] : params_) p.mutable_grad() = at::Tensor();
}

namespace {

// The update of one float32 CPU parameter in a single pass over p, g, m and v (the tensor path
// below makes nine passes and two temporaries: a tenth of a deit_small training step is memory
// traffic of the optimizer). The same arithmetic, element by element.
struct FusedUpdate {
  float decay_factor, beta1, one_minus_beta1, beta2, one_minus_beta2, bias2_sqrt, eps, step_size;
  void operator()(float* p, const float* g, float* m, float* v, int64_t n) const {
    at::parallel_for(0, n, 1 << 15, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const float gi = g[i];
        const float mi = m[i] * beta1 + gi * one_minus_beta1;
        const float vi = v[i] * beta2 + one_minus_beta2 * (gi * gi);
        const float denom = std::sqrt(vi) / bias2_sqrt + eps;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay_factor - step_size * (mi / denom);
      }
    });
  }
};

bool fusable(const at::Tensor& p, const at::Tensor& g, const at::Tensor& m, const at::Tensor& v) {
  for (const at::Tensor* t : {&p, &g, &m, &v}) {
    if (!t->device().is_cpu() || t->scalar_type() != at::kFloat || !t->is_contiguous() ||
        t->layout() != at::kStrided)
      return false;
  }
  return g.numel() == p.numel();
}

}  // namespace

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  ++step_;
  const double bias1 = 1.0 - std::pow(options_.beta1, step_);
  const double bias2 = 1.0 - std::pow(options_.beta2, step_);
  const double step_size = lr / bias1;
  const double bias2_sqrt = std::sqrt(bias2);
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i].second;
    const at::Tensor& g = p.grad();
    if (!g.defined()) continue;
    const bool decays = decay_[i] && options_.weight_decay != 0;
    const double decay_factor = decays ? 1.0 - lr * options_.weight_decay : 1.0;
    if (fused_ && fusable(p, g, exp_avg_[i], exp_avg_sq_[i])) {
      const FusedUpdate update{static_cast<float>(decay_factor),
                               static_cast<float>(options_.beta1),
                               static_cast<float>(1.0 - options_.beta1),
                               static_cast<float>(options_.beta2),
                               static_cast<float>(1.0 - options_.beta2),
                               static_cast<float>(bias2_sqrt),
                               static_cast<float>(options_.eps),
                               static_cast<float>(step_size)};
      update(p.data_ptr<float>(), g.data_ptr<float>(), exp_avg_[i].data_ptr<float>(),
             exp_avg_sq_[i].data_ptr<float>(), p.numel());
      // Written through pointers: bump the versions as in-place tensor operations do (caches
      // keyed by them, such as the padded attention weights, must see the change).
      for (at::Tensor* t : {&p, &exp_avg_[i], &exp_avg_sq_[i]}) t->unsafeGetTensorImpl()->bump_version();
      continue;
    }
    if (decays) p.mul_(decay_factor);
    exp_avg_[i].mul_(options_.beta1).add_(g, 1.0 - options_.beta1);
    exp_avg_sq_[i].mul_(options_.beta2).addcmul_(g, g, 1.0 - options_.beta2);
    const at::Tensor denom = (exp_avg_sq_[i].sqrt() / bias2_sqrt).add_(options_.eps);
    p.addcdiv_(exp_avg_[i], denom, -step_size);
  }
}

TensorMap AdamW::state() const {
  TensorMap out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out[params_[i].first + ".exp_avg"] = exp_avg_[i];
    out[params_[i].first + ".exp_avg_sq"] = exp_avg_sq_[i];
  }
  out["step"] = torch::tensor(step_, torch::kInt64);
  return out;
}

void AdamW::load_state(const TensorMap& state, const std::string& source) {
  auto get = [&](const std::string& key, const at::Tensor& like) {
    auto it = state.find(key);
    check(it != state.end(), "optimizer state '", source, "' has no key '", key, "'");
    check(it->second.sizes() == like.sizes(), "optimizer state '", source, "': key '", key,
          "' has shape ", it->second.sizes(), ", expected ", like.sizes());
    return it->second;
  };
  for (size_t i = 0; i < params_.size(); ++i) {
    exp_avg_[i].copy_(get(params_[i].first + ".exp_avg", exp_avg_[i]));
    exp_avg_sq_[i].copy_(get(params_[i].first + ".exp_avg_sq", exp_avg_sq_[i]));
  }
  step_ = get("step", torch::tensor(int64_t{0})).item<int64_t>();
}

}  // namespace vitc
