// Block and MLP forward passes, with the optional masks of a masked view.
#include "model/block.h"

#include <torch/torch.h>

#include "model/families/swin/swin_windows.h"
#include "model/gelu.h"
#include "model/layer_norm_rows.h"
#include "model/linear.h"
#include "util/error.h"

namespace vitc {

MlpImpl::MlpImpl(int embed_dim, int hidden) {
  fc1 = register_module("fc1", torch::nn::Linear(embed_dim, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, embed_dim));
}

namespace {
at::Tensor hidden_of(const at::Tensor& x, const torch::nn::Linear& fc1, const at::Tensor& mask) {
  const at::Tensor h = gelu_of_linear(x, fc1);
  return mask.defined() ? h * mask : h;
}
}  // namespace

at::Tensor MlpImpl::forward(const at::Tensor& x, const at::Tensor& hidden_mask) {
  return apply_linear(fc2, hidden_of(x, fc1, hidden_mask));
}

at::Tensor MlpImpl::forward_added_to(const at::Tensor& residual, const at::Tensor& x,
                                     const at::Tensor& hidden_mask) {
  return linear_added_to(residual, hidden_of(x, fc1, hidden_mask), fc2);
}

LayerScaleImpl::LayerScaleImpl(int embed_dim) {
  gamma = register_parameter("gamma", torch::ones({embed_dim}));
}

BlockImpl::BlockImpl(int embed_dim, BlockSpec spec, double norm_eps, bool qkv_bias,
                     bool layer_scale, AttentionWindow window)
    : spec_(std::move(spec)), window_(window) {
  const auto norm_options = torch::nn::LayerNormOptions({embed_dim}).eps(norm_eps);
  if (spec_.has_attention()) {
    norm1 = register_module("norm1", torch::nn::LayerNorm(norm_options));
    attn = register_module("attn", Attention(embed_dim, spec_.heads, spec_.attn_scale, qkv_bias,
                                             window_.window));
    window_mask_ = shifted_window_mask(window_);
    if (layer_scale) ls1 = register_module("ls1", LayerScale(embed_dim));
  }
  if (spec_.has_mlp()) {
    norm2 = register_module("norm2", torch::nn::LayerNorm(norm_options));
    mlp = register_module("mlp", Mlp(embed_dim, spec_.mlp_hidden));
    if (layer_scale) ls2 = register_module("ls2", LayerScale(embed_dim));
  }
}

namespace {

at::Tensor apply_token_mask(const at::Tensor& y, const BlockMasks* masks) {
  if (masks == nullptr || !masks->tokens.defined()) return y;
  return y * masks->tokens.unsqueeze(-1);  // [N] or [B, N] -> broadcast over features
}

// Masks made on another device (Structure masks are built on the CPU) follow the activations;
// .to() keeps them differentiable, so learnable masks still receive their gradients.
bool on_device(const BlockMasks& m, const c10::Device& device) {
  for (const at::Tensor* t : {&m.heads, &m.qk, &m.v, &m.mlp, &m.attn_gate, &m.mlp_gate, &m.gate,
                              &m.tokens, &m.keys}) {
    if (t->defined() && t->device() != device) return false;
  }
  return true;
}

BlockMasks moved_to(const BlockMasks& m, const c10::Device& device) {
  const auto to = [&](const at::Tensor& t) { return t.defined() ? t.to(device) : t; };
  return {to(m.heads), to(m.qk), to(m.v), to(m.mlp), to(m.attn_gate), to(m.mlp_gate), to(m.gate),
          to(m.tokens), to(m.keys)};
}

// A per-token mask must have one value per token the block processes ([N] or [B, N]).
void check_token_mask(const at::Tensor& mask, const char* name, const at::Tensor& x) {
  if (!mask.defined()) return;
  check((mask.dim() == 1 || mask.dim() == 2) && mask.size(-1) == x.size(1), "block mask '", name,
        "' has shape ", mask.sizes(), " but the block processes ", x.size(1),
        " tokens (expected [", x.size(1), "] or [B, ", x.size(1), "])");
}

}  // namespace

at::Tensor BlockImpl::attend(const at::Tensor& normed, const BlockMasks* masks) {
  if (!window_.windowed()) return attn->forward(normed, masks);
  check(masks == nullptr || !masks->keys.defined(),
        "block mask 'keys' (token pruning) does not apply to windowed attention");
  check(normed.dim() == 3 && normed.size(1) == int64_t{window_.side} * window_.side, "a block with ",
        window_.window, "x", window_.window, " windows on a ", window_.side, "x", window_.side,
        " grid got tokens of shape ", normed.sizes());
  if (window_mask_.defined() && window_mask_.device() != normed.device()) {
    window_mask_ = window_mask_.to(normed.device());
  }
  return window_merge(attn->forward(window_partition(normed, window_), masks, window_mask_),
                      window_);
}

at::Tensor BlockImpl::forward(const at::Tensor& x, const BlockMasks* masks) {
  if (spec_.skip) return x;
  BlockMasks moved;
  if (masks != nullptr && !on_device(*masks, x.device())) {
    moved = moved_to(*masks, x.device());
    masks = &moved;
  }
  if (masks != nullptr) {
    check_token_mask(masks->tokens, "tokens", x);
    check_token_mask(masks->keys, "keys", x);
  }
  at::Tensor y = x;
  at::Tensor normed;  // norm2(y), when the attention's residual addition computed it as well
  if (spec_.has_attention()) {
    at::Tensor a = scaled_attention(
        attend(apply_token_mask(layer_norm_last_dim(x, *norm1), masks), masks));
    if (masks != nullptr && masks->attn_gate.defined()) a = a * masks->attn_gate;
    if (spec_.has_mlp()) {
      SumAndNormed s = add_then_layer_norm(y, a, *norm2);
      y = s.sum;
      normed = s.normed;
    } else {
      y = y + a;
    }
  }
  if (spec_.has_mlp()) {
    if (!normed.defined()) normed = layer_norm_last_dim(y, *norm2);
    const at::Tensor hidden_mask = masks != nullptr ? masks->mlp : at::Tensor();
    const at::Tensor input = apply_token_mask(normed, masks);
    if (!ls2 && (masks == nullptr || !masks->mlp_gate.defined())) {
      y = mlp->forward_added_to(y, input, hidden_mask);
    } else {
      at::Tensor m = scaled_mlp(mlp->forward(input, hidden_mask));
      if (masks != nullptr && masks->mlp_gate.defined()) m = m * masks->mlp_gate;
      y = y + m;
    }
  }
  if (masks != nullptr && masks->gate.defined()) y = x + masks->gate * (y - x);
  return y;
}

}  // namespace vitc
