// Attention forward: one batched softmax(q k^T * scale) v per group of equal-width heads.
#include "model/attention.h"

#include <torch/torch.h>

namespace vitc {

AttentionImpl::AttentionImpl(int embed_dim, std::vector<HeadSpec> heads, double scale,
                             bool qkv_bias)
    : heads_(std::move(heads)), scale_(scale) {
  int q_offset = 0, v_offset = 0;
  for (size_t h = 0; h < heads_.size(); ++h) {
    const HeadSpec& spec = heads_[h];
    if (!groups_.empty() && groups_.back().qk_dim == spec.qk_dim &&
        groups_.back().v_dim == spec.v_dim) {
      groups_.back().count += 1;
    } else {
      groups_.push_back(HeadGroup{static_cast<int>(h), 1, spec.qk_dim, spec.v_dim, q_offset,
                                  v_offset});
    }
    q_offset += spec.qk_dim;
    v_offset += spec.v_dim;
  }
  qk_total_ = q_offset;
  v_total_ = v_offset;
  qkv = register_module(
      "qkv", torch::nn::Linear(
                 torch::nn::LinearOptions(embed_dim, 2 * qk_total_ + v_total_).bias(qkv_bias)));
  proj = register_module("proj", torch::nn::Linear(v_total_, embed_dim));
}

at::Tensor AttentionImpl::forward(const at::Tensor& x, const BlockMasks* masks) {
  const int64_t B = x.size(0), N = x.size(1);
  const at::Tensor qkv_out = qkv->forward(x);  // [B, N, 2*qk_total + v_total]
  at::Tensor q = qkv_out.narrow(-1, 0, qk_total_);
  at::Tensor k = qkv_out.narrow(-1, qk_total_, qk_total_);
  at::Tensor v = qkv_out.narrow(-1, 2 * qk_total_, v_total_);
  if (masks != nullptr && masks->qk.defined()) {
    q = q * masks->qk;
    k = k * masks->qk;
  }
  if (masks != nullptr && masks->v.defined()) v = v * masks->v;
  const bool head_mask = masks != nullptr && masks->heads.defined();
  // Key weights as an additive log term on the scores: [N] or [B, N] -> [B or 1, 1, 1, N].
  at::Tensor key_log_weights;
  if (masks != nullptr && masks->keys.defined()) {
    const at::Tensor& keys = masks->keys;
    key_log_weights = keys.log().view({keys.dim() == 2 ? keys.size(0) : 1, 1, 1, N});
  }

  std::vector<at::Tensor> outputs;
  outputs.reserve(groups_.size());
  for (const HeadGroup& g : groups_) {
    // [B, N, c*d] -> [B, c, N, d]
    const at::Tensor qg =
        q.narrow(-1, g.q_offset, g.count * g.qk_dim).reshape({B, N, g.count, g.qk_dim}).transpose(1, 2);
    const at::Tensor kg =
        k.narrow(-1, g.q_offset, g.count * g.qk_dim).reshape({B, N, g.count, g.qk_dim}).transpose(1, 2);
    const at::Tensor vg =
        v.narrow(-1, g.v_offset, g.count * g.v_dim).reshape({B, N, g.count, g.v_dim}).transpose(1, 2);
    at::Tensor scores = torch::matmul(qg * scale_, kg.transpose(-2, -1));
    if (key_log_weights.defined()) scores = scores + key_log_weights;
    const at::Tensor attn = scores.softmax(-1);
    at::Tensor out = torch::matmul(attn, vg);  // [B, c, N, dv]
    if (head_mask) out = out * masks->heads.narrow(0, g.first_head, g.count).view({1, g.count, 1, 1});
    outputs.push_back(out.transpose(1, 2).reshape({B, N, g.count * g.v_dim}));
  }
  const at::Tensor merged = outputs.size() == 1 ? outputs[0] : torch::cat(outputs, -1);
  return proj->forward(merged);
}

}  // namespace vitc
