// AdamW update, written out so that its state is explicit and serialisable.
#include "train/adamw.h"

#include <algorithm>
#include <cmath>

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
  for (auto& [name, p] : params_) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
}

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
    if (decay_[i] && options_.weight_decay != 0) p.mul_(1.0 - lr * options_.weight_decay);
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
