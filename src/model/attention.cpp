// Attention forward: on the CPU in float32 every head at its own widths (attention_by_heads.h),
// elsewhere one batched softmax(q k^T * scale) v per group of equal-width heads or padded heads.
#include "model/attention.h"

#include <mutex>

#include <torch/torch.h>

#include "model/attention_by_heads.h"
#include "model/batched_matmul.h"
#include "model/linear.h"
#include "model/softmax_rows.h"
#include "model/families/swin/swin_windows.h"

namespace vitc {

AttentionImpl::AttentionImpl(int embed_dim, std::vector<HeadSpec> heads, double scale,
                             bool qkv_bias, int window)
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
  std::vector<int64_t> head_of_v_column;
  for (const HeadGroup& g : groups_) {
    for (int j = 0; j < g.count; ++j) {
      head_columns_.push_back(
          {g.q_offset + j * g.qk_dim, g.qk_dim, g.v_offset + j * g.v_dim, g.v_dim});
      head_of_v_column.insert(head_of_v_column.end(), static_cast<size_t>(g.v_dim),
                              g.first_head + j);
    }
  }
  head_of_v_column_ = torch::tensor(head_of_v_column, torch::kLong);
  layout_ = head_layout(heads_, embed_dim);
  padded_ = layout_.groups > 1;  // padding allowed; pad_heads decides per call
  const int64_t qk_width_ = layout_.qk_width, v_width_ = layout_.v_width;
  // Padded layout: [q of head 0 | ... | q of head H-1 | k ... | v ...], each head at full width.
  const int64_t H = static_cast<int64_t>(heads_.size());
  const int64_t zero_row = 2 * int64_t{qk_total_} + v_total_;
  std::vector<int64_t> rows(static_cast<size_t>(H * (2 * qk_width_ + v_width_)), zero_row);
  std::vector<int64_t> cols(static_cast<size_t>(H * v_width_), v_total_);
  int64_t q_real = 0, v_real = 0;
  for (int64_t h = 0; h < H; ++h) {
    const HeadSpec& spec = heads_[static_cast<size_t>(h)];
    for (int64_t d = 0; d < spec.qk_dim; ++d) {
      rows[static_cast<size_t>(h * qk_width_ + d)] = q_real + d;                                // q
      rows[static_cast<size_t>(H * qk_width_ + h * qk_width_ + d)] = qk_total_ + q_real + d;  // k
    }
    for (int64_t d = 0; d < spec.v_dim; ++d) {
      rows[static_cast<size_t>(2 * H * qk_width_ + h * v_width_ + d)] = 2 * qk_total_ + v_real + d;
      cols[static_cast<size_t>(h * v_width_ + d)] = v_real + d;
    }
    q_real += spec.qk_dim;
    v_real += spec.v_dim;
  }
  qkv_row_map_ = torch::tensor(rows, torch::kLong);
  proj_col_map_ = torch::tensor(cols, torch::kLong);
  qkv = register_module(
      "qkv", torch::nn::Linear(
                 torch::nn::LinearOptions(embed_dim, 2 * qk_total_ + v_total_).bias(qkv_bias)));
  proj = register_module("proj", torch::nn::Linear(v_total_, embed_dim));
  if (window > 0) {
    relative_position_bias_table = register_parameter(
        "relative_position_bias_table", torch::zeros({(2 * window - 1) * (2 * window - 1), H}));
    window_ = window;
    bias_index_ = relative_position_index(window).flatten();
  }
}

at::Tensor AttentionImpl::score_bias(const at::Tensor& window_mask) {
  at::Tensor bias;
  if (relative_position_bias_table.defined()) {
    if (bias_index_.device() != relative_position_bias_table.device()) {
      bias_index_ = bias_index_.to(relative_position_bias_table.device());
    }
    const int64_t N = int64_t{window_} * window_;
    bias = relative_position_bias_table.index_select(0, bias_index_)
               .view({N, N, -1})
               .permute({2, 0, 1})
               .unsqueeze(0);  // [1, heads, N, N]
  }
  if (window_mask.defined()) {
    const at::Tensor mask = window_mask.to(qkv->weight.options()).unsqueeze(1);  // [W, 1, N, N]
    bias = bias.defined() ? bias + mask : mask;
  }
  return bias;
}

namespace {

// scores [B*W, c, N, N] + bias [W, heads, N, N] narrowed to heads [first, first + c).
at::Tensor add_score_bias(const at::Tensor& scores, const at::Tensor& bias, int64_t first,
                          int64_t count) {
  if (!bias.defined()) return scores;
  const at::Tensor b = bias.size(1) == 1 ? bias : bias.narrow(1, first, count);
  const int64_t W = bias.size(0), N = scores.size(-1);
  if (W == 1) return scores + b;
  return (scores.view({-1, W, count, N, N}) + b).view({-1, count, N, N});
}

}  // namespace

AttentionImpl::PaddedWeights AttentionImpl::padded_weights() {
  // Inference may run one block on several slices of a batch at once (batch_chunks.h).
  static std::mutex cache_mutex;
  const std::lock_guard<std::mutex> lock(cache_mutex);
  const bool cacheable = !is_training() && !at::GradMode::is_enabled();
  const at::Tensor& w = qkv->weight;
  const at::Tensor& pw = proj->weight;
  // Versions only grow, so their sum changes whenever any of the three tensors is written.
  const int64_t version = static_cast<int64_t>(w._version() + pw._version() +
                                               (qkv->bias.defined() ? qkv->bias._version() : 0));
  if (cacheable && cached_.qkv_weight.defined() && cached_data_ == w.data_ptr() &&
      cached_proj_data_ == pw.data_ptr() && cached_version_ == version) {
    return cached_;
  }
  if (qkv_row_map_.device() != w.device()) {
    qkv_row_map_ = qkv_row_map_.to(w.device());
    proj_col_map_ = proj_col_map_.to(w.device());
  }
  PaddedWeights p;
  p.qkv_weight =
      torch::cat({w, torch::zeros({1, w.size(1)}, w.options())}).index_select(0, qkv_row_map_);
  if (qkv->bias.defined()) {
    p.qkv_bias = torch::cat({qkv->bias, torch::zeros({1}, w.options())}).index_select(0, qkv_row_map_);
  }
  p.proj_weight = torch::cat({pw, torch::zeros({pw.size(0), 1}, pw.options())}, 1)
                      .index_select(1, proj_col_map_);
  cached_ = cacheable ? p : PaddedWeights{};
  cached_data_ = w.data_ptr();
  cached_proj_data_ = pw.data_ptr();
  cached_version_ = version;
  return p;
}

at::Tensor AttentionImpl::forward_padded(const at::Tensor& x, const at::Tensor& score_bias,
                                         const at::Tensor& key_log_weights) {
  const int64_t B = x.size(0), N = x.size(1), H = static_cast<int64_t>(heads_.size());
  const int64_t qk_width_ = layout_.qk_width, v_width_ = layout_.v_width;
  const PaddedWeights p = padded_weights();
  const at::Tensor qkv_out = linear(x, p.qkv_weight, p.qkv_bias);  // [B, N, H*(2qk+v)]
  const auto heads_of = [&](int64_t offset, int64_t width) {  // [B, N, H*w] -> [B, H, N, w]
    return qkv_out.narrow(-1, offset, H * width).reshape({B, N, H, width}).transpose(1, 2);
  };
  const at::Tensor q = heads_of(0, qk_width_);
  const at::Tensor k = heads_of(H * qk_width_, qk_width_);
  const at::Tensor v = heads_of(2 * H * qk_width_, v_width_);
  at::Tensor scores =
      add_score_bias(batched_matmul(q * scale_, k.transpose(-2, -1)), score_bias, 0, H);
  if (key_log_weights.defined()) scores = scores + key_log_weights;
  const at::Tensor out = batched_matmul(softmax_last_dim(scores), v);  // [B, H, N, v_width]
  return linear(out.transpose(1, 2).reshape({B, N, H * v_width_}), p.proj_weight, proj->bias);
}

at::Tensor AttentionImpl::forward_by_heads(const at::Tensor& x, const BlockMasks* masks) {
  at::Tensor qkv_out = apply_linear(qkv, x);  // [B, N, 2*qk_total + v_total]
  if (masks != nullptr && (masks->qk.defined() || masks->v.defined())) {
    at::Tensor q = qkv_out.narrow(-1, 0, qk_total_);
    at::Tensor k = qkv_out.narrow(-1, qk_total_, qk_total_);
    at::Tensor v = qkv_out.narrow(-1, 2 * qk_total_, v_total_);
    if (masks->qk.defined()) {
      q = q * masks->qk;
      k = k * masks->qk;
    }
    if (masks->v.defined()) v = v * masks->v;
    qkv_out = torch::cat({q, k, v}, -1);
  }
  at::Tensor out = attention_by_heads(qkv_out, head_columns_, scale_, qk_total_, v_total_);
  if (masks != nullptr && masks->heads.defined()) {  // each head's mask over its output columns
    if (head_of_v_column_.device() != out.device()) {
      head_of_v_column_ = head_of_v_column_.to(out.device());
    }
    out = out * masks->heads.index_select(0, head_of_v_column_);
  }
  return apply_linear(proj, out);
}

at::Tensor AttentionImpl::forward(const at::Tensor& x, const BlockMasks* masks,
                                  const at::Tensor& window_mask) {
  const int64_t B = x.size(0), N = x.size(1);
  // Key weights as an additive log term on the scores: [N] or [B, N] -> [B or 1, 1, 1, N].
  at::Tensor key_log_weights;
  if (masks != nullptr && masks->keys.defined()) {
    const at::Tensor& keys = masks->keys;
    key_log_weights = keys.log().view({keys.dim() == 2 ? keys.size(0) : 1, 1, 1, N});
  }
  const at::Tensor bias = score_bias(window_mask);
  const bool width_masks = masks != nullptr && (masks->qk.defined() || masks->v.defined() ||
                                                masks->heads.defined());
  if (!bias.defined() && !key_log_weights.defined() && attention_by_heads_applies(x)) {
    return forward_by_heads(x, masks);
  }
  if (padded_ && !width_masks && pad_heads(layout_, B, N)) {
    return forward_padded(x, bias, key_log_weights);
  }

  const at::Tensor qkv_out = apply_linear(qkv, x);  // [B, N, 2*qk_total + v_total]
  at::Tensor q = qkv_out.narrow(-1, 0, qk_total_);
  at::Tensor k = qkv_out.narrow(-1, qk_total_, qk_total_);
  at::Tensor v = qkv_out.narrow(-1, 2 * qk_total_, v_total_);
  if (masks != nullptr && masks->qk.defined()) {
    q = q * masks->qk;
    k = k * masks->qk;
  }
  if (masks != nullptr && masks->v.defined()) v = v * masks->v;
  const bool head_mask = masks != nullptr && masks->heads.defined();

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
    at::Tensor scores = add_score_bias(batched_matmul(qg * scale_, kg.transpose(-2, -1)), bias,
                                       g.first_head, g.count);
    if (key_log_weights.defined()) scores = scores + key_log_weights;
    const at::Tensor attn = softmax_last_dim(scores);
    at::Tensor out = batched_matmul(attn, vg);  // [B, c, N, dv]
    if (head_mask) out = out * masks->heads.narrow(0, g.first_head, g.count).view({1, g.count, 1, 1});
    outputs.push_back(out.transpose(1, 2).reshape({B, N, g.count * g.v_dim}));
  }
  const at::Tensor merged = outputs.size() == 1 ? outputs[0] : torch::cat(outputs, -1);
  return apply_linear(proj, merged);
}

}  // namespace vitc
