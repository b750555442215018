// How a compact attention computes heads of unequal widths: grouped (one batched matmul per run
// of equal-width heads, no wasted work) or padded (every head zero-padded to the widest q/k and v
// width, one batched matmul for all heads, exact because zero q/k dims add nothing to q.k and zero
// v dims meet zero proj columns). The choice is a pure function of the block's sizes, so the model
// and the executed-MACs count always agree.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace vitc {

struct HeadLayout {
  bool padded = false;
  int groups = 0;    // runs of consecutive equal-width heads (grouped compute)
  int qk_width = 0;  // padded widths (the widest head's)
  int v_width = 0;
};

// Padding is chosen when it saves matmul launches (more than kMaxHeadGroups groups) and its
// widths, H x (widest q/k + widest v), exceed the real ones, sum of (q/k + v), by at most
// kMaxPaddedWidthOverhead (every attention MAC term scales with these widths; measured:
// docs/slicing_benchmark.md).
inline constexpr int kMaxHeadGroups = 2;
inline constexpr double kMaxPaddedWidthOverhead = 0.25;

HeadLayout choose_head_layout(const std::vector<HeadSpec>& heads);

// The attention MACs (qkv, q k^T, attn v, proj) the compact model executes: with padded heads,
// every head counted at the widest widths; grouped, the useful MACs of complexity.h.
int64_t executed_attention_macs(const std::vector<HeadSpec>& heads, int embed_dim, int tokens);

}  // namespace vitc
