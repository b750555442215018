// Per-head and per-neuron L2 norms from the qkv/proj and fc1/fc2 weights.
#include "compress/common/group_norms.h"

#include <cmath>

#include <torch/torch.h>

namespace vitc {

namespace {

// Sum of squares of rows [begin, begin + count) of a [rows, cols] weight (and of its bias).
double rows_sq(const at::Tensor& weight, const at::Tensor& bias, int64_t begin, int64_t count) {
  double s = weight.narrow(0, begin, count).pow(2).sum().item<double>();
  if (bias.defined()) s += bias.narrow(0, begin, count).pow(2).sum().item<double>();
  return s;
}

// An output weight [embed_dim, in] as the residual sees it: rows times the LayerScale gamma
// where the block has one (DeiT III), so the norms measure what a group adds to the stream.
at::Tensor residual_scaled(const at::Tensor& weight, const LayerScale& scale) {
  const at::Tensor w = weight.detach().to(at::kDouble);
  return scale ? w * scale->gamma.detach().to(at::kDouble).unsqueeze(1) : w;
}

}  // namespace

std::vector<BlockGroupNorms> group_norms(VisionTransformerImpl& model) {
  torch::NoGradGuard no_grad;
  const ViTConfig& config = model.config();
  std::vector<BlockGroupNorms> norms(config.blocks.size());
  for (size_t b = 0; b < config.blocks.size(); ++b) {
    const BlockSpec& spec = config.blocks[b];
    Block block = model.block(static_cast<int>(b));
    if (spec.has_attention()) {
      const at::Tensor qkv_w = block->attn->qkv->weight.detach().to(at::kDouble);
      const at::Tensor qkv_b =
          block->attn->qkv->bias.defined() ? block->attn->qkv->bias.detach().to(at::kDouble)
                                           : at::Tensor();
      const at::Tensor proj_w = residual_scaled(block->attn->proj->weight, block->ls1);
      const int64_t qk_total = spec.qk_total();
      int64_t q_offset = 0, v_offset = 0;
      for (const HeadSpec& head : spec.heads) {
        double s = rows_sq(qkv_w, qkv_b, q_offset, head.qk_dim) +
                   rows_sq(qkv_w, qkv_b, qk_total + q_offset, head.qk_dim) +
                   rows_sq(qkv_w, qkv_b, 2 * qk_total + v_offset, head.v_dim) +
                   proj_w.narrow(1, v_offset, head.v_dim).pow(2).sum().item<double>();
        norms[b].heads.push_back(std::sqrt(s));
        q_offset += head.qk_dim;
        v_offset += head.v_dim;
      }
    }
    if (spec.has_mlp()) {
      const at::Tensor fc1 = block->mlp->fc1->weight.detach().to(at::kDouble);
      const at::Tensor fc1_b = block->mlp->fc1->bias.detach().to(at::kDouble);
      const at::Tensor fc2 = residual_scaled(block->mlp->fc2->weight, block->ls2);
      const at::Tensor per_neuron =
          fc1.pow(2).sum(1) + fc1_b.pow(2) + fc2.pow(2).sum(0);  // [hidden]
      const at::Tensor n = per_neuron.sqrt().contiguous();
      norms[b].mlp.assign(n.data_ptr<double>(), n.data_ptr<double>() + n.numel());
    }
  }
  return norms;
}

}  // namespace vitc
