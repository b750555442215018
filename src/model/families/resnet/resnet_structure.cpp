// ResNet structures: validation, block dropping, the compact config, slicing and JSON.
#include "model/families/resnet/resnet_structure.h"

#include <numeric>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/config_limits.h"
#include "util/error.h"
#include "util/json_read.h"

namespace vitc {
namespace {

std::vector<int> all_channels(int width) {
  std::vector<int> c(static_cast<size_t>(width));
  std::iota(c.begin(), c.end(), 0);
  return c;
}

// `dst` (a parameter or buffer of the compact model) = `src` restricted to `rows` along dim 0 and
// `cols` along dim 1 (null = all).
void copy_narrowed(at::Tensor& dst, const at::Tensor& src, const std::vector<int>* rows,
                   const std::vector<int>* cols) {
  at::Tensor t = src;
  const auto index = [&](const std::vector<int>& keep) {
    return at::tensor(std::vector<int64_t>(keep.begin(), keep.end()), at::kLong).to(src.device());
  };
  if (rows) t = t.index_select(0, index(*rows));
  if (cols) t = t.index_select(1, index(*cols));
  dst.copy_(t);
}

void copy_norm(torch::nn::BatchNorm2d& dst, const torch::nn::BatchNorm2d& src,
               const std::vector<int>* channels) {
  copy_narrowed(dst->weight, src->weight, channels, nullptr);
  copy_narrowed(dst->bias, src->bias, channels, nullptr);
  copy_narrowed(dst->running_mean, src->running_mean, channels, nullptr);
  copy_narrowed(dst->running_var, src->running_var, channels, nullptr);
  dst->num_batches_tracked.copy_(src->num_batches_tracked);
}

void copy_module(torch::nn::Module& dst, const torch::nn::Module& src) {
  const auto src_params = src.named_parameters(true);
  for (auto& p : dst.named_parameters(true)) p.value().copy_(src_params[p.key()]);
  const auto src_buffers = src.named_buffers(true);
  for (auto& b : dst.named_buffers(true)) b.value().copy_(src_buffers[b.key()]);
}

}  // namespace

ResNetStructure full_resnet_structure(const ResNetConfig& config) {
  ResNetStructure s;
  for (const auto& b : config.blocks) {
    ResNetBlockKeep keep;
    for (int width : b.inner) keep.inner.push_back(all_channels(width));
    s.blocks.push_back(keep);
  }
  return s;
}

bool resnet_block_droppable(const ResNetConfig& config, int i) { return !config.opens_stage(i); }

std::vector<int> resnet_drop_candidates(const ResNetConfig& config) {
  std::vector<int> candidates;
  for (int i = 0; i < config.depth(); ++i) {
    if (resnet_block_droppable(config, i)) candidates.push_back(i);
  }
  return candidates;
}

ResNetStructure drop_resnet_blocks(const ResNetConfig& config, ResNetStructure structure,
                                   const std::vector<int>& dropped) {
  for (int i : dropped) {
    check(i >= 0 && i < config.depth(), "model '", config.name, "' has blocks 0 to ",
          config.depth() - 1, ", cannot drop block ", i);
    structure.blocks[static_cast<size_t>(i)].kept = false;
  }
  validate_resnet_structure(structure, config);
  return structure;
}

void validate_resnet_structure(const ResNetStructure& s, const ResNetConfig& config) {
  check(static_cast<int>(s.blocks.size()) == config.depth(), "a structure of ", s.blocks.size(),
        " blocks does not fit model '", config.name, "' of ", config.depth(), " blocks");
  for (int i = 0; i < config.depth(); ++i) {
    const ResNetBlockKeep& b = s.blocks[i];
    const std::string who = str_cat("block ", config.block_name(i), " of model '", config.name, "': ");
    check(b.kept || resnet_block_droppable(config, i), who,
          "cannot be dropped: it opens stage ", config.blocks[i].stage + 1,
          config.block_downsamples(i) ? " and changes its width or resolution (downsample)"
                                      : " (the first block of a stage stays, as in PRACTISE)",
          "; droppable blocks are every block but the first of its stage");
    check(static_cast<int>(b.inner.size()) == config.inner_convs(), who, "needs ",
          config.inner_convs(), " inner channel list(s), got ", b.inner.size());
    for (size_t k = 0; k < b.inner.size(); ++k) {
      const int width = config.blocks[i].inner[k];
      check(!b.inner[k].empty(), who, "inner conv ", k + 1, " keeps no channel");
      for (size_t c = 0; c < b.inner[k].size(); ++c) {
        const int v = b.inner[k][c];
        check(v >= 0 && v < width, who, "inner conv ", k + 1, " channel ", v, " is outside [0, ",
              width - 1, "]");
        check(c == 0 || v > b.inner[k][c - 1], who, "inner conv ", k + 1,
              " channels must be ascending without repeats, got ", b.inner[k][c - 1], " then ", v);
      }
    }
  }
}

ResNetConfig compact_resnet_config(const ResNetConfig& config, const ResNetStructure& s) {
  validate_resnet_structure(s, config);
  ResNetConfig c = config;
  c.blocks.clear();
  for (int i = 0; i < config.depth(); ++i) {
    if (!s.blocks[i].kept) continue;
    ResNetBlockSpec b{config.blocks[i].stage, {}};
    for (const auto& kept : s.blocks[i].inner) b.inner.push_back(static_cast<int>(kept.size()));
    c.blocks.push_back(b);
  }
  c.validate();
  return c;
}

ResNet slice_resnet(ResNetImpl& model, const ResNetStructure& s) {
  const ResNetConfig& config = model.config();
  ResNet compact(compact_resnet_config(config, s));
  compact->to(model.device());
  at::NoGradGuard no_grad;
  copy_module(*compact->conv1, *model.conv1);
  copy_module(*compact->bn1, *model.bn1);
  copy_module(*compact->fc, *model.fc);
  int j = 0;
  for (int i = 0; i < config.depth(); ++i) {
    if (!s.blocks[i].kept) continue;
    ResNetBlock src = model.block(i), dst = compact->block(j++);
    auto src_convs = src->convs(), dst_convs = dst->convs();
    auto src_norms = src->norms(), dst_norms = dst->norms();
    const auto& inner = s.blocks[i].inner;
    for (size_t k = 0; k < src_convs.size(); ++k) {
      const std::vector<int>* rows = k < inner.size() ? &inner[k] : nullptr;
      const std::vector<int>* cols = k > 0 ? &inner[k - 1] : nullptr;
      copy_narrowed(dst_convs[k]->weight, src_convs[k]->weight, rows, cols);
      copy_norm(dst_norms[k], src_norms[k], rows);
    }
    if (src->downsample) copy_module(*dst->downsample, *src->downsample);
  }
  return compact;
}

nlohmann::json resnet_structure_to_json(const ResNetStructure& s) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& b : s.blocks) blocks.push_back({{"kept", b.kept}, {"inner", b.inner}});
  return {{"blocks", blocks}};
}

ResNetStructure resnet_structure_from_json(const nlohmann::json& j, const ResNetConfig& config,
                                           const std::string& where, const std::string& path) {
  const JsonFields f(j, where, path);
  const nlohmann::json& blocks = f.array("blocks", kMaxDepth);
  ResNetStructure s;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const std::string block_path = str_cat(path, "blocks[", i, "].");
    const JsonFields fb(blocks[i], where, block_path);
    ResNetBlockKeep keep;
    keep.kept = fb.boolean("kept");
    const nlohmann::json& inner = fb.array("inner", 2);
    for (size_t k = 0; k < inner.size(); ++k) {
      if (!inner[k].is_array()) fb.fail_value(str_cat(block_path, "inner[", k, "]"), inner[k], "a list of channel indices");
      std::vector<int> channels;
      for (const auto& v : inner[k]) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= kMaxWidth) {
          fb.fail_value(str_cat(block_path, "inner[", k, "]"), v,
                        str_cat("channel indices in [0, ", kMaxWidth - 1, "]"));
        }
        channels.push_back(v.get<int>());
      }
      keep.inner.push_back(channels);
    }
    s.blocks.push_back(keep);
  }
  try {
    validate_resnet_structure(s, config);
  } catch (const Error& e) {
    fail(where, ": ", path, "blocks: ", e.what());
  }
  return s;
}

}  // namespace vitc
