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
// block is a single group. Heads of many different widths are instead padded with zeros to the
// widest widths and computed by one batched matmul (head_layout.h chooses; exact either way).
class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int embed_dim, std::vector<HeadSpec> heads, double scale, bool qkv_bias);
  at::Tensor forward(const at::Tensor& x, const BlockMasks* masks = nullptr);

  torch::nn::Linear qkv{nullptr};
  torch::nn::Linear proj{nullptr};

  const std::vector<HeadSpec>& heads() const { return heads_; }
  double scale() const { return scale_; }
  // Whether forward may pad the heads (heads of several widths; head_layout.h's pad_heads decides
  // per call from the batch and tokens; calls with q/k, v or head masks are always grouped).
  bool padded() const { return padded_; }
  // false: always grouped (benchmarks compare both; both compute the same values).
  void set_padded(bool padded) { padded_ = padded; }

 private:
  struct HeadGroup {
    int first_head, count, qk_dim, v_dim;
    int q_offset;  // offset of the group's first q feature within the q section
    int v_offset;  // offset within the v section
  };
  at::Tensor forward_padded(const at::Tensor& x, const at::Tensor& key_log_weights);
  // The zero-padded qkv weight/bias and proj weight, from the parameters (cached in inference
  // while the parameters are unchanged; rebuilt, differentiably, in every training step).
  struct PaddedWeights {
    at::Tensor qkv_weight, qkv_bias, proj_weight;
  };
  PaddedWeights padded_weights();

  std::vector<HeadSpec> heads_;
  std::vector<HeadGroup> groups_;
  double scale_;
  int qk_total_ = 0;
  int v_total_ = 0;
  bool padded_ = false;
  int qk_width_ = 0;          // padded widths
  int v_width_ = 0;
  at::Tensor qkv_row_map_;    // padded qkv row -> real row, or 2*qk_total + v_total (a zero row)
  at::Tensor proj_col_map_;   // padded proj column -> real column, or v_total (a zero column)
  PaddedWeights cached_;
  int64_t cached_version_ = -1;
  const void* cached_data_ = nullptr;
  const void* cached_proj_data_ = nullptr;
};
TORCH_MODULE(Attention);

}  // namespace vitc
