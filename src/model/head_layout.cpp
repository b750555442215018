// The grouped-or-padded rule for a compact attention's heads, and the MACs padding executes.
#include "model/head_layout.h"

#include <algorithm>

namespace vitc {

HeadLayout choose_head_layout(const std::vector<HeadSpec>& heads) {
  HeadLayout layout;
  int64_t real_width = 0;
  for (size_t h = 0; h < heads.size(); ++h) {
    if (h == 0 || !(heads[h] == heads[h - 1])) layout.groups += 1;
    layout.qk_width = std::max(layout.qk_width, heads[h].qk_dim);
    layout.v_width = std::max(layout.v_width, heads[h].v_dim);
    real_width += heads[h].qk_dim + heads[h].v_dim;
  }
  const int64_t padded_width =
      static_cast<int64_t>(heads.size()) * (layout.qk_width + layout.v_width);
  layout.padded = layout.groups > kMaxHeadGroups &&
                  static_cast<double>(padded_width) <=
                      (1.0 + kMaxPaddedWidthOverhead) * static_cast<double>(real_width);
  return layout;
}

int64_t executed_attention_macs(const std::vector<HeadSpec>& heads, int embed_dim, int tokens) {
  const HeadLayout layout = choose_head_layout(heads);
  const int64_t D = embed_dim, N = tokens;
  int64_t qk = 0, v = 0;
  for (const HeadSpec& h : heads) {
    qk += layout.padded ? layout.qk_width : h.qk_dim;
    v += layout.padded ? layout.v_width : h.v_dim;
  }
  return N * D * (2 * qk + v) + N * N * qk + N * N * v + N * v * D;
}

}  // namespace vitc
