// Multi-head self-attention whose heads may each have their own q/k and v widths.
#pragma once

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "model/attention_by_heads.h"
#include "model/config.h"
#include "model/head_layout.h"
#include "model/masks.h"

namespace vitc {

// qkv is one Linear whose output rows are [q of every head | k of every head | v of every head]
// (timm's layout when all heads are equal); proj takes the concatenated head outputs.
// On the CPU in float32 (training and inference) every head is computed at its own widths,
// straight from qkv's output (attention_by_heads.h), unless the scores carry a bias or key
// weights. Elsewhere consecutive heads with equal widths form a group computed by one batched
// matmul, so a dense block is a single group, and heads of many different widths are instead
// padded with zeros to the widest widths and computed by one batched matmul (head_layout.h
// chooses; exact either way).
//
// With `window` > 0 (Swin) the inputs are windows of window^2 tokens and every head adds its
// column of relative_position_bias_table ([(2 window - 1)^2, heads], timm's name) to its scores;
// the table's columns are the heads in compute order, so it is sliced with them.
class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int embed_dim, std::vector<HeadSpec> heads, double scale, bool qkv_bias,
                int window = 0);
  // x: [B, N, embed_dim]. window_mask (optional, Swin's shifted windows): [W, N, N] added to the
  // scores of every head, x's batch being B/W images of W consecutive windows each.
  at::Tensor forward(const at::Tensor& x, const BlockMasks* masks = nullptr,
                     const at::Tensor& window_mask = {});

  torch::nn::Linear qkv{nullptr};
  torch::nn::Linear proj{nullptr};
  at::Tensor relative_position_bias_table;  // Swin only

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
  // attention_by_heads on qkv's output (masked by width masks), head masks on its output.
  at::Tensor forward_by_heads(const at::Tensor& x, const BlockMasks* masks);
  at::Tensor forward_padded(const at::Tensor& x, const at::Tensor& score_bias,
                            const at::Tensor& key_log_weights);
  // What every head adds to its scores: the relative position bias of its column and the window
  // mask, [W, heads, N, N] (W = 1 without a mask), or undefined.
  at::Tensor score_bias(const at::Tensor& window_mask);
  // The zero-padded qkv weight/bias and proj weight, from the parameters (cached in inference
  // while the parameters are unchanged; rebuilt, differentiably, in every training step).
  struct PaddedWeights {
    at::Tensor qkv_weight, qkv_bias, proj_weight;
  };
  PaddedWeights padded_weights();

  std::vector<HeadSpec> heads_;
  std::vector<HeadGroup> groups_;
  std::vector<HeadColumns> head_columns_;  // every head's columns, for attention_by_heads
  at::Tensor head_of_v_column_;           // v column -> its head (head masks on that path)
  double scale_;
  int qk_total_ = 0;
  int v_total_ = 0;
  HeadLayout layout_;         // grouping and padded widths (head_layout.h)
  bool padded_ = false;
  int window_ = 0;            // Swin: the window side; 0: global attention
  at::Tensor bias_index_;     // Swin: relative_position_index(window_), flattened
  at::Tensor qkv_row_map_;    // padded qkv row -> real row, or 2*qk_total + v_total (a zero row)
  at::Tensor proj_col_map_;   // padded proj column -> real column, or v_total (a zero column)
  PaddedWeights cached_;
  int64_t cached_version_ = -1;
  const void* cached_data_ = nullptr;
  const void* cached_proj_data_ = nullptr;
};
TORCH_MODULE(Attention);

}  // namespace vitc
