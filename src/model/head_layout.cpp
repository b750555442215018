// The grouped-or-padded rule for a compact attention's heads, and the MACs padding executes.
#include "model/head_layout.h"

#include <algorithm>

namespace vitc {

HeadLayout head_layout(const std::vector<HeadSpec>& heads, int embed_dim) {
  HeadLayout layout;
  int64_t qk = 0, v = 0;
  for (size_t h = 0; h < heads.size(); ++h) {
    if (h == 0 || !(heads[h] == heads[h - 1])) layout.groups += 1;
    layout.qk_width = std::max(layout.qk_width, heads[h].qk_dim);
    layout.v_width = std::max(layout.v_width, heads[h].v_dim);
    qk += heads[h].qk_dim;
    v += heads[h].v_dim;
  }
  const int64_t H = static_cast<int64_t>(heads.size()), D = embed_dim;
  const int64_t extra_qk = H * layout.qk_width - qk, extra_v = H * layout.v_width - v;
  layout.padded_extra_per_token = D * (2 * extra_qk + extra_v) + extra_v * D;
  layout.padded_extra_per_token_pair = extra_qk + extra_v;
  return layout;
}

// Since global attention on the CPU (training and inference) computes every head at its own
// widths (model/attention_by_heads.h), this rule decides for CUDA, windowed attention and
// attention with key weights.
bool pad_heads(const HeadLayout& layout, int64_t batch, int64_t tokens) {
  if (layout.groups < 2) return false;
  const int64_t extra = batch * tokens *
                        (layout.padded_extra_per_token + tokens * layout.padded_extra_per_token_pair);
  return extra < (layout.groups - 1) * kPaddingMacsPerSavedGroup;
}

int64_t executed_attention_macs(const std::vector<HeadSpec>& heads, int embed_dim, int windows,
                                int window_tokens) {
  const HeadLayout layout = head_layout(heads, embed_dim);
  int64_t qk = 0, v = 0;
  for (const HeadSpec& h : heads) {
    qk += h.qk_dim;
    v += h.v_dim;
  }
  const int64_t D = embed_dim, K = window_tokens, N = int64_t{windows} * window_tokens;
  const int64_t useful = N * D * (2 * qk + v) + N * K * qk + N * K * v + N * v * D;
  if (!pad_heads(layout, windows, window_tokens)) return useful;
  return useful + N * layout.padded_extra_per_token + N * K * layout.padded_extra_per_token_pair;
}

}  // namespace vitc
