// Test helpers for structures and slicing: seeded random Structures, fully random weights, and
// the small source models the contract is checked on (plain, distilled, uneven heads, DeiT III,
// T2T-ViT, Swin).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include <torch/torch.h>

#include "model/structure.h"
#include "model/vit.h"

namespace vitc::test {

// Every parameter random (biases and LayerNorm affine included), so that a bias or a norm that
// slicing forgets changes the logits; init_weights alone leaves biases at zero.
inline void randomize_parameters(VisionTransformerImpl& model, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  for (auto& p : model.named_parameters()) {
    const bool norm = p.key().find("norm") != std::string::npos;
    const bool weight = p.key().find("weight") != std::string::npos;
    const at::Tensor noise = at::normal(0.0, norm ? 0.2 : 0.1, p.value().sizes(), gen);
    p.value().copy_(norm && weight ? 1.0 + noise : noise);
  }
}

// `count` distinct indices of [0, n), shuffled (a Structure may list kept dims in any order).
inline std::vector<int> random_subset(int n, int count, std::mt19937& rng) {
  std::vector<int> all(n);
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(count);
  return all;
}

inline int uniform_int(int lo, int hi, std::mt19937& rng) {  // in [lo, hi]
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

inline bool chance(double p, std::mt19937& rng) {
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < p;
}

// A valid random Structure of `source` (whose blocks must not be skipped): some blocks skipped,
// some attention branches skipped, some single heads, uneven and shuffled q/k and v dims, some
// MLPs removed.
inline Structure random_structure(const ViTConfig& source, uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  Structure s;
  for (const BlockSpec& src : source.blocks) {
    BlockKeep b;
    if (chance(0.15, rng)) {
      b.skip = true;
      s.blocks.push_back(b);
      continue;
    }
    b.attn_skip = chance(0.2, rng);
    if (!b.attn_skip) {
      const int num_heads = static_cast<int>(src.heads.size());
      const int kept = chance(0.3, rng) ? 1 : uniform_int(1, num_heads, rng);
      for (int h : random_subset(num_heads, kept, rng)) {
        const HeadSpec& spec = src.heads[h];
        b.heads.push_back(HeadKeep{h, random_subset(spec.qk_dim, uniform_int(1, spec.qk_dim, rng), rng),
                                   random_subset(spec.v_dim, uniform_int(1, spec.v_dim, rng), rng)});
      }
    }
    const bool remove_mlp = !b.attn_skip && chance(0.2, rng);
    if (!remove_mlp) b.mlp = random_subset(src.mlp_hidden, uniform_int(1, src.mlp_hidden, rng), rng);
    s.blocks.push_back(b);
  }
  return s;
}

// Swin stages of `depths` blocks from width `embed_dim` (doubling per stage), heads of width 8,
// MLP `mlp_ratio` x the width.
inline void set_swin_stages(ViTConfig& c, int embed_dim, const std::vector<int>& depths,
                            double mlp_ratio) {
  c.embed_dim = embed_dim;
  c.swin.depths = depths;
  c.blocks.clear();
  for (size_t s = 0; s < depths.size(); ++s) {
    const int width = embed_dim << s;
    BlockSpec b;
    b.heads.assign(static_cast<size_t>(width / 8), HeadSpec{8, 8});
    b.mlp_hidden = static_cast<int>(mlp_ratio * width);
    b.attn_scale = 1.0 / std::sqrt(8.0);
    c.blocks.insert(c.blocks.end(), static_cast<size_t>(depths[s]), b);
  }
}

// fm_tiny-like sources: plain, distilled, and one whose heads already differ in width (a model
// that was compressed before).
inline std::vector<ViTConfig> contract_sources() {
  ViTConfig plain = make_uniform_config("tiny", 28, 7, 1, 10, 64, 4, 4, 2.0, false);
  ViTConfig distilled = make_uniform_config("tiny_distilled", 28, 7, 1, 10, 64, 4, 4, 2.0, true);
  ViTConfig uneven = make_uniform_config("tiny_uneven", 28, 7, 1, 10, 48, 3, 4, 2.0, false);
  uneven.blocks[0].heads = {{8, 4}, {16, 16}, {4, 12}, {12, 12}};
  uneven.blocks[1].heads = {{6, 6}, {6, 6}, {10, 3}};
  uneven.blocks[2].mlp_hidden = 40;
  ViTConfig deit3 = make_uniform_config("tiny_deit3", 28, 7, 1, 10, 64, 4, 4, 2.0, false);
  deit3.layer_scale = true;  // DeiT III: LayerScale and no class position embedding
  deit3.no_embed_class = true;
  ViTConfig t2t = make_uniform_config("tiny_t2t", 28, 4, 1, 10, 64, 4, 4, 2.0, false);
  t2t.stem = "t2t";  // T2T-ViT: a Performer tokens-to-token stem, 28x28 -> 7x7 tokens
  t2t.t2t.token_dim = 8;
  t2t.t2t.splits = {{3, 2, 1}, {3, 1, 1}, {3, 2, 1}};
  t2t.qkv_bias = false;
  // Swin: 14x14 tokens in four 7x7 windows (block 1 shifted), merged to one 7x7 window, widths
  // 16 and 32, heads of width 8.
  ViTConfig swin = named_config("fm_swin");
  swin.name = "tiny_swin";
  set_swin_stages(swin, 16, {2, 2}, 2.0);
  return {plain, distilled, uneven, deit3, t2t, swin};
}

}  // namespace vitc::test
