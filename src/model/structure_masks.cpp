// 0/1 masks and gates equivalent to a Structure, laid out as the source model's qkv/proj/fc rows.
#include "model/structure_masks.h"

#include <torch/torch.h>

#include "model/token_list.h"

namespace vitc {

namespace {

at::Tensor zero_scalar() { return torch::zeros({}); }

BlockMasks block_masks(const BlockKeep& b, const BlockSpec& src) {
  BlockMasks m;
  if (b.skip) {
    if (!src.skip) m.gate = zero_scalar();
    return m;
  }
  if (b.attn_skip) {
    if (src.has_attention()) m.attn_gate = zero_scalar();
  } else {
    const int num_heads = static_cast<int>(src.heads.size());
    std::vector<int> q_offset(num_heads, 0), v_offset(num_heads, 0);
    for (int h = 1; h < num_heads; ++h) {
      q_offset[h] = q_offset[h - 1] + src.heads[h - 1].qk_dim;
      v_offset[h] = v_offset[h - 1] + src.heads[h - 1].v_dim;
    }
    m.heads = torch::zeros({num_heads});
    m.qk = torch::zeros({src.qk_total()});
    m.v = torch::zeros({src.v_total()});
    auto heads = m.heads.accessor<float, 1>();
    auto qk = m.qk.accessor<float, 1>();
    auto v = m.v.accessor<float, 1>();
    for (const HeadKeep& head : b.heads) {
      heads[head.source] = 1.0f;
      for (int d : head.qk) qk[q_offset[head.source] + d] = 1.0f;
      for (int d : head.v) v[v_offset[head.source] + d] = 1.0f;
    }
  }
  if (src.has_mlp()) {
    if (b.mlp.empty()) {
      m.mlp_gate = zero_scalar();
    } else {
      m.mlp = torch::zeros({src.mlp_hidden});
      auto mlp = m.mlp.accessor<float, 1>();
      for (int n : b.mlp) mlp[n] = 1.0f;
    }
  }
  return m;
}

at::Tensor moved(const at::Tensor& t, const at::TensorOptions& options) {
  return t.defined() ? t.to(options) : t;
}

// Dropped tokens as keys of 0 among the tokens the source block processes (cls/dist first),
// or undefined when the structure keeps all of those.
at::Tensor key_mask(const ViTConfig& source, const Structure& structure, int block) {
  const std::vector<int> reaching = source.block_patches(block);
  const std::vector<int> kept = structure_patches(structure, source, block);
  if (kept.size() == reaching.size()) return {};
  const int prefix = source.num_prefix_tokens();
  at::Tensor keys = torch::zeros({prefix + static_cast<int64_t>(reaching.size())});
  auto k = keys.accessor<float, 1>();
  for (int t = 0; t < prefix; ++t) k[t] = 1.0f;
  for (int64_t r : positions_within(kept, reaching)) k[prefix + r] = 1.0f;
  return keys;
}

}  // namespace

ModelMasks structure_masks(const ViTConfig& source, const Structure& structure) {
  validate_structure(structure, source);
  ModelMasks masks;
  for (size_t i = 0; i < structure.blocks.size(); ++i) {
    BlockMasks m = block_masks(structure.blocks[i], source.blocks[i]);
    m.keys = key_mask(source, structure, static_cast<int>(i));
    masks.blocks.push_back(m);
  }
  return masks;
}

ModelMasks masks_to(const ModelMasks& masks, const at::TensorOptions& options) {
  ModelMasks out;
  for (const BlockMasks& b : masks.blocks) {
    out.blocks.push_back(BlockMasks{moved(b.heads, options), moved(b.qk, options),
                                    moved(b.v, options), moved(b.mlp, options),
                                    moved(b.attn_gate, options), moved(b.mlp_gate, options),
                                    moved(b.gate, options), moved(b.tokens, options),
                                    moved(b.keys, options)});
  }
  return out;
}

}  // namespace vitc
