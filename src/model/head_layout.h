// How a compact attention computes heads of unequal widths: grouped (one batched matmul per run
// of equal-width heads, no wasted work) or padded (every head zero-padded to the widest q/k and v
// width, one batched matmul for all heads, exact because zero q/k dims add nothing to q.k and zero
// v dims meet zero proj columns). Each group costs its own reshapes, matmuls, softmax and a
// concatenation; padding costs the zero dims' multiply-adds, which grow with the batch and the
// tokens. So the choice is made per forward call, from the batch's size.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace vitc {

struct HeadLayout {
  int groups = 0;    // runs of consecutive equal-width heads (grouped compute)
  int qk_width = 0;  // padded widths (the widest head's)
  int v_width = 0;
  int64_t padded_extra_per_token = 0;       // zero-dim MACs of qkv and proj, per token
  int64_t padded_extra_per_token_pair = 0;  // zero-dim MACs of q k^T and attn v, per token pair
};

HeadLayout head_layout(const std::vector<HeadSpec>& heads, int embed_dim);

// Padding pays off when the zero dims' MACs for the whole call stay below
// kPaddingMacsPerSavedGroup for every group it saves. Measured on the 2-core CPU with 1 torch and
// 2 OpenBLAS threads (docs/slicing_benchmark.md): about 17 us per group on fm_small, where padding
// at batch 1 and 64 wins; on deit_small at batch 1 and 64 grouping wins. 3 M MACs per saved
// group separates the two. Rechecked at the new thread defaults (torch 2 / OpenBLAS 1,
// 2026-12-07): on fm_small the rule's padded choice still beats grouping, at batch 1 (x0.877
// against x1.068 of the dense model) and 64 (x0.805 against x0.823).
inline constexpr int64_t kPaddingMacsPerSavedGroup = 3'000'000;

bool pad_heads(const HeadLayout& layout, int64_t batch, int64_t tokens);

// The attention MACs (qkv, q k^T, attn v, proj) the compact model executes for one image (batch
// 1) of `windows` attention windows of `window_tokens` tokens each (1 window of every token for
// global attention): with padded heads, every head counted at the widest widths; grouped, the
// useful MACs of complexity.h.
int64_t executed_attention_macs(const std::vector<HeadSpec>& heads, int embed_dim, int windows,
                                int window_tokens);

}  // namespace vitc
