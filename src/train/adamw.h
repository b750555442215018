// AdamW (Loshchilov & Hutter) with its state keyed by parameter name, so that it can be saved
// to safetensors and resumed exactly. Numerically the same update as torch::optim::AdamW.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <ATen/Tensor.h>

#include "io/safetensors.h"

namespace vitc {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.05;
};

// Parameters named in `no_decay` (and every parameter with fewer than 2 dimensions: biases,
// LayerNorm weights) get no weight decay, as timm does for ViTs.
class AdamW {
 public:
  using NamedParams = std::vector<std::pair<std::string, at::Tensor>>;
  AdamW(NamedParams params, AdamWOptions options,
        const std::vector<std::string>& no_decay = {"cls_token", "dist_token", "pos_embed"});

  // One update with learning rate `lr`; parameters without a gradient are left alone. Float32
  // CPU parameters are updated in one fused pass each, others (CUDA, bf16) by tensor operations.
  void step(double lr);
  // Whether float32 CPU parameters take the fused pass (default) or the tensor operations:
  // for tests and bench/adamw_step.cpp, which compare the two.
  void set_fused(bool fused) { fused_ = fused; }
  // Drops every gradient (PyTorch's zero_grad(set_to_none=True)): a parameter that then gets no
  // gradient is left alone by the next step.
  void zero_grad();

  const NamedParams& params() const { return params_; }
  // exp_avg / exp_avg_sq per parameter ("<name>.exp_avg", "<name>.exp_avg_sq") and "step".
  TensorMap state() const;
  // Restores state(); `source` names the file in errors (missing keys, wrong shapes).
  void load_state(const TensorMap& state, const std::string& source);

 private:
  NamedParams params_;
  std::vector<bool> decay_;
  std::vector<at::Tensor> exp_avg_;
  std::vector<at::Tensor> exp_avg_sq_;
  int64_t step_ = 0;
  AdamWOptions options_;
  bool fused_ = true;
};

// Named trainable parameters (requires_grad) of a module, in registration order.
template <typename Module>
AdamW::NamedParams trainable_parameters(const Module& module) {
  AdamW::NamedParams out;
  for (const auto& item : module.named_parameters(true)) {
    if (item.value().requires_grad()) out.emplace_back(item.key(), item.value());
  }
  return out;
}

}  // namespace vitc
