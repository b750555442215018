// Multi-head self-attention whose heads may each have their own q/k and v widths.
#pragma once

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "model/config.h"
#include "model/masks.h"

namespace vitc {

// qkv is one Linear whose output rows are [q of every head | k of every head | v of every head]
// (timm's layout when all heads are equal); proj takes the concatenated head outputs.
// Consecutive heads with equal widths form a group computed by one batched matmul, so a dense
// block is a single group and uneven heads are computed without padding.
class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int embed_dim, std::vector<HeadSpec> heads, double scale, bool qkv_bias);
  at::Tensor forward(const at::Tensor& x, const BlockMasks* masks = nullptr);

  torch::nn::Linear qkv{nullptr};
  torch::nn::Linear proj{nullptr};

  const std::vector<HeadSpec>& heads() const { return heads_; }
  double scale() const { return scale_; }

 private:
  struct HeadGroup {
    int first_head, count, qk_dim, v_dim;
    int q_offset;  // offset of the group's first q feature within the q section
    int v_offset;  // offset within the v section
  };
  std::vector<HeadSpec> heads_;
  std::vector<HeadGroup> groups_;
  double scale_;
  int qk_total_ = 0;
  int v_total_ = 0;
};
TORCH_MODULE(Attention);

}  // namespace vitc
