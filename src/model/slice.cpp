// Copying the kept rows and columns of a source model into a compact model.
#include "model/slice.h"

#include <torch/torch.h>

#include "model/model_dir.h"
#include "util/error.h"

namespace vitc {

namespace {

at::Tensor index_tensor(const std::vector<int64_t>& indices, const at::Device& device) {
  return torch::tensor(indices, torch::kLong).to(device);
}

void copy_norm(torch::nn::LayerNormImpl& dst, torch::nn::LayerNormImpl& src) {
  dst.weight.copy_(src.weight);
  dst.bias.copy_(src.bias);
}

// Every parameter and buffer outside the blocks (what the family owns and no Structure prunes: the
// stem, cls/dist tokens, pos_embed, Swin's patch merging, the final norm and the heads), copied as
// it is.
void copy_family_tensors(torch::nn::Module& dst, const torch::nn::Module& src) {
  const auto outside_blocks = [](const std::string& name) { return name.rfind("blocks.", 0) != 0; };
  const auto from_params = src.named_parameters(true);
  const auto from_buffers = src.named_buffers(true);
  for (auto& p : dst.named_parameters(true)) {
    if (outside_blocks(p.key())) p.value().copy_(from_params[p.key()]);
  }
  for (auto& b : dst.named_buffers(true)) {
    if (outside_blocks(b.key())) b.value().copy_(from_buffers[b.key()]);
  }
}

// qkv rows [q | k | v] and proj columns of the kept dims, heads in compute order.
void slice_attention(AttentionImpl& dst, AttentionImpl& src, const BlockKeep& keep) {
  const auto& heads = src.heads();
  std::vector<int64_t> q_offset(heads.size(), 0), v_offset(heads.size(), 0);
  for (size_t h = 1; h < heads.size(); ++h) {
    q_offset[h] = q_offset[h - 1] + heads[h - 1].qk_dim;
    v_offset[h] = v_offset[h - 1] + heads[h - 1].v_dim;
  }
  const int64_t qk_total = q_offset.back() + heads.back().qk_dim;
  std::vector<int64_t> q_rows, k_rows, v_rows, proj_cols;
  for (int index : head_compute_order(keep)) {
    const HeadKeep& head = keep.heads[index];
    for (int d : head.qk) q_rows.push_back(q_offset[head.source] + d);
    for (int d : head.qk) k_rows.push_back(qk_total + q_offset[head.source] + d);
    for (int d : head.v) v_rows.push_back(2 * qk_total + v_offset[head.source] + d);
    for (int d : head.v) proj_cols.push_back(v_offset[head.source] + d);
  }
  std::vector<int64_t> rows = q_rows;
  rows.insert(rows.end(), k_rows.begin(), k_rows.end());
  rows.insert(rows.end(), v_rows.begin(), v_rows.end());
  const at::Device device = src.qkv->weight.device();
  const at::Tensor row_index = index_tensor(rows, device);
  dst.qkv->weight.copy_(src.qkv->weight.index_select(0, row_index));
  if (dst.qkv->bias.defined()) dst.qkv->bias.copy_(src.qkv->bias.index_select(0, row_index));
  dst.proj->weight.copy_(src.proj->weight.index_select(1, index_tensor(proj_cols, device)));
  dst.proj->bias.copy_(src.proj->bias);
  if (dst.relative_position_bias_table.defined()) {  // Swin: one column per head, compute order
    std::vector<int64_t> columns;
    for (int index : head_compute_order(keep)) columns.push_back(keep.heads[index].source);
    dst.relative_position_bias_table.copy_(
        src.relative_position_bias_table.index_select(1, index_tensor(columns, device)));
  }
}

void slice_block(BlockImpl& dst, BlockImpl& src, const BlockKeep& keep) {
  if (keep.skip) return;
  if (dst.spec().has_attention()) {
    copy_norm(*dst.norm1, *src.norm1);
    slice_attention(*dst.attn, *src.attn, keep);
    if (dst.ls1) dst.ls1->gamma.copy_(src.ls1->gamma);  // embed_dim wide: kept whole
  }
  if (dst.spec().has_mlp()) {
    copy_norm(*dst.norm2, *src.norm2);
    std::vector<int64_t> neurons(keep.mlp.begin(), keep.mlp.end());
    const at::Tensor index = index_tensor(neurons, src.mlp->fc1->weight.device());
    dst.mlp->fc1->weight.copy_(src.mlp->fc1->weight.index_select(0, index));
    dst.mlp->fc1->bias.copy_(src.mlp->fc1->bias.index_select(0, index));
    dst.mlp->fc2->weight.copy_(src.mlp->fc2->weight.index_select(1, index));
    dst.mlp->fc2->bias.copy_(src.mlp->fc2->bias);
    if (dst.ls2) dst.ls2->gamma.copy_(src.ls2->gamma);
  }
}

}  // namespace

VisionTransformer slice_model(VisionTransformerImpl& source, const Structure& structure) {
  const ViTConfig config = compact_config(source.config(), structure);  // validates
  VisionTransformer compact(config);
  compact->to(source.device(), source.options().dtype().toScalarType());
  compact->train(source.is_training());
  torch::NoGradGuard no_grad;
  copy_family_tensors(*compact, source);
  for (int i = 0; i < config.depth(); ++i) {
    slice_block(*compact->block(i), *source.block(i), structure.blocks[i]);
  }
  return compact;
}

void save_compressed_model_dir(const std::string& dir, VisionTransformerImpl& compact,
                               const ViTConfig& source_config, const Structure& structure,
                               const nlohmann::json& extra) {
  const ViTConfig expected = compact_config(source_config, structure);
  check(expected.blocks == compact.config().blocks, "save_compressed_model_dir('", dir,
        "'): model '", compact.config().name, "' is not the compact model of this structure of '",
        source_config.name, "' (block sizes differ)");
  nlohmann::json meta = extra;
  meta["structure"] = structure_to_json(structure);
  meta["source_config"] = config_to_json(source_config);
  save_model_dir(dir, compact, meta);
}

}  // namespace vitc
