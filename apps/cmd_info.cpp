// `vitc info`: parameters and MACs of a config or model directory, total and per block; for a
// compressed model, what each block kept next to its source.
#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

#include "common.h"
#include "model/complexity.h"
#include "model/families/resnet/resnet_complexity.h"
#include "model/families/resnet/resnet_model_dir.h"
#include "model/families/resnet/resnet_structure.h"
#include "model/model_dir.h"
#include "model/structure.h"
#include "util/error.h"

namespace vitc::app {

namespace {

struct InfoFlags {
  std::string model;
  bool list = false;
  bool json = false;
};

std::string describe_heads(const BlockSpec& b) {
  if (b.skip) return "skipped";
  if (b.attn_skip) return "attention skipped";
  bool uniform = true;
  for (const auto& h : b.heads) uniform = uniform && h == b.heads.front();
  if (uniform) {
    return str_cat(b.heads.size(), " x (qk ", b.heads.front().qk_dim, ", v ", b.heads.front().v_dim, ")");
  }
  std::vector<std::string> parts;
  for (const auto& h : b.heads) parts.push_back(str_cat(h.qk_dim, "/", h.v_dim));
  return str_cat(b.heads.size(), " heads qk/v: ", join(parts, " "));
}

// The family and its options, for the summary line: "Swin (stages 2/2/6/2, window 7), ",
// "T2T stem (performer), ", "distilled, ", "LayerScale, ".
std::string describe_family(const ViTConfig& config) {
  std::string out;
  if (config.is_swin()) {
    std::vector<std::string> depths;
    for (int d : config.swin.depths) depths.push_back(std::to_string(d));
    out += str_cat("Swin (stages ", join(depths, "/"), ", window ", config.swin.window_size, "), ");
  }
  if (config.is_t2t()) out += str_cat("T2T stem (", config.t2t.attention, "), ");
  if (config.distilled) out += "distilled, ";
  if (config.layer_scale) out += "LayerScale, ";
  return out;
}

nlohmann::json info_json(const ViTConfig& config, const Complexity& c) {
  nlohmann::json blocks = nlohmann::json::array();
  for (int i = 0; i < config.depth(); ++i) {
    const BlockSpec& b = config.blocks[i];
    blocks.push_back({{"index", i}, {"skip", b.skip}, {"attn_skip", b.attn_skip},
                      {"heads", b.heads.size()}, {"qk_total", b.qk_total()}, {"v_total", b.v_total()},
                      {"mlp_hidden", b.mlp_hidden}, {"tokens", config.block_tokens(i)},
                      {"dim", config.block_dim(i)}, {"keys", config.block_keys(i)},
                      {"macs", c.blocks[i].macs()}, {"executed_macs", c.blocks[i].executed_macs()},
                      {"params", c.blocks[i].params()}});
  }
  return {{"name", config.name}, {"params", c.params()}, {"macs", c.macs()},
          {"executed_macs", c.executed_macs()},
          {"embed_macs", c.embed_macs}, {"stage_macs", c.stage_macs}, {"head_macs", c.head_macs},
          {"tokens", config.num_tokens()},
          {"embed_dim", config.embed_dim}, {"blocks", blocks}};
}

// "h5 3/2, h1 1/4": source head index and kept q/k / v widths, or "all 6 heads" when nothing of
// the attention was removed.
std::string describe_kept_heads(const BlockKeep& b, const BlockSpec& src) {
  if (b.skip) return "skipped";
  if (b.attn_skip) return "attention skipped";
  bool full = b.heads.size() == src.heads.size();
  std::vector<std::string> parts;
  for (const HeadKeep& h : b.heads) {
    const HeadSpec& s = src.heads[h.source];
    full = full && static_cast<int>(h.qk.size()) == s.qk_dim && static_cast<int>(h.v.size()) == s.v_dim;
    parts.push_back(str_cat("h", h.source, " ", h.qk.size(), "/", h.v.size()));
  }
  if (full) return str_cat("all ", src.heads.size(), " heads");
  return join(parts, ", ");
}

void print_compressed(const CompressedInfo& info, const ViTConfig& config, const Complexity& c) {
  const Complexity src = compute_complexity(info.source);
  std::printf("compressed from %s: MACs %.4f G of %.4f G (%.3f), params %.3f M of %.3f M (%.3f)\n",
              info.source.name.c_str(), c.macs() / 1e9, src.macs() / 1e9,
              static_cast<double>(c.macs()) / src.macs(), c.params() / 1e6, src.params() / 1e6,
              static_cast<double>(c.params()) / src.params());
  std::printf("\n%5s  %-62s %9s %9s %11s %11s %6s\n", "block", "kept heads (source qk/v)", "qk/v",
              "mlp", "MACs (M)", "source (M)", "ratio");
  for (int i = 0; i < config.depth(); ++i) {
    const BlockSpec& b = config.blocks[i];
    const BlockSpec& s = info.source.blocks[i];
    const int64_t kept = c.blocks[i].macs(), full = src.blocks[i].macs();
    std::printf("%5d  %-62s %9s %4d/%-4d %11.3f %11.3f %6.3f\n", i,
                describe_kept_heads(info.structure.blocks[i], s).c_str(),
                str_cat(b.qk_total(), "/", b.v_total()).c_str(), b.has_mlp() ? b.mlp_hidden : 0,
                s.has_mlp() ? s.mlp_hidden : 0, kept / 1e6, full / 1e6,
                full > 0 ? static_cast<double>(kept) / full : 0.0);
  }
  std::printf("%5s  %-62s %9s %9s %11.3f %11.3f %6.3f\n", "total", "", "", "", c.macs() / 1e6,
              src.macs() / 1e6, static_cast<double>(c.macs()) / src.macs());
}

// A ResNet: totals, then stem, blocks (timm names, inner widths, output width and side) and head.
int run_resnet_info(const InfoFlags& flags) {
  LoadedResNet loaded = load_resnet_spec(flags.model, 0);
  const ResNetConfig& config = loaded.model->config();
  const ResNetCost total = resnet_cost(config);
  if (flags.json) {
    nlohmann::json blocks = nlohmann::json::array();
    for (int i = 0; i < config.depth(); ++i) {
      const ResNetCost b = resnet_block_cost(config, i);
      blocks.push_back({{"name", config.block_name(i)}, {"inner", config.blocks[i].inner},
                        {"out", config.block_out(i)}, {"side", config.block_side_out(i)},
                        {"droppable", resnet_block_droppable(config, i)},
                        {"macs", b.macs}, {"params", b.params}});
    }
    nlohmann::json j = {{"family", kResNetFamily}, {"config", resnet_config_to_json(config)},
                        {"params", total.params}, {"macs", total.macs}, {"blocks", blocks}};
    if (loaded.model_json.contains("structure")) j["structure"] = loaded.model_json["structure"];
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%s (%s): ResNet, %s blocks, %d blocks in %d stages, %s stem, %d classes\n",
              loaded.source.c_str(), config.name.c_str(), config.block.c_str(), config.depth(),
              config.num_stages(), config.stem.c_str(), config.num_classes);
  std::printf("params %lld (%.3f M)   MACs %lld (%.4f G)\n", static_cast<long long>(total.params),
              total.params / 1e6, static_cast<long long>(total.macs), total.macs / 1e9);
  std::printf("\n%-9s %-12s %6s %6s %9s %12s %12s\n", "block", "inner", "out", "side", "droppable",
              "MACs (M)", "params (K)");
  const ResNetCost stem = resnet_stem_cost(config), head = resnet_head_cost(config);
  std::printf("%-9s %-12s %6d %6d %9s %12.3f %12.1f\n", "stem", "", config.stem_width,
              config.stem_side(), "", stem.macs / 1e6, stem.params / 1e3);
  for (int i = 0; i < config.depth(); ++i) {
    const ResNetCost b = resnet_block_cost(config, i);
    std::printf("%-9s %-12s %6d %6d %9s %12.3f %12.1f\n", config.block_name(i).c_str(),
                join(config.blocks[i].inner, "/").c_str(), config.block_out(i),
                config.block_side_out(i), resnet_block_droppable(config, i) ? "yes" : "no",
                b.macs / 1e6, b.params / 1e3);
  }
  std::printf("%-9s %-12s %6d %6s %9s %12.3f %12.1f\n", "head", "", config.num_classes, "", "",
              head.macs / 1e6, head.params / 1e3);
  return 0;
}

int run_info(const InfoFlags& flags) {
  if (flags.list) {
    for (const auto& name : named_config_names()) {
      const Complexity c = compute_complexity(named_config(name));
      std::printf("%-36s %9.3f M params %10.2f M MACs\n", name.c_str(), c.params() / 1e6, c.macs() / 1e6);
    }
    for (const auto& name : named_resnet_config_names()) {
      const ResNetCost c = resnet_cost(named_resnet_config(name));
      std::printf("%-36s %9.3f M params %10.2f M MACs\n", name.c_str(), c.params / 1e6, c.macs / 1e6);
    }
    return 0;
  }
  check(!flags.model.empty(), "give --model NAME_OR_DIR, or --list");
  if (is_resnet_spec(flags.model)) return run_resnet_info(flags);
  check_model_spec(flags.model);
  ViTConfig config;
  std::string source;
  std::optional<CompressedInfo> compressed;
  if (is_named_config(flags.model)) {
    config = named_config(flags.model);
    source = "config " + flags.model;
  } else {
    LoadedModel loaded = load_model_dir(flags.model);  // validates a compressed model's structure
    config = loaded.model->config();
    source = flags.model;
    compressed = read_compressed_info(loaded.model_json, config, flags.model + "/" + kModelJsonFile);
  }
  const Complexity c = compute_complexity(config);
  if (flags.json) {
    nlohmann::json j = info_json(config, c);
    if (compressed) {
      j["source"] = info_json(compressed->source, compute_complexity(compressed->source));
      j["structure"] = structure_to_json(compressed->structure);
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%s (%s): %d blocks, embed_dim %d, %d tokens, %s%d classes\n", source.c_str(),
              config.name.c_str(), config.depth(), config.embed_dim, config.num_tokens(),
              describe_family(config).c_str(), config.num_classes);
  std::printf("params %lld (%.3f M)   MACs %lld (%.4f G)\n", static_cast<long long>(c.params()),
              c.params() / 1e6, static_cast<long long>(c.macs()), c.macs() / 1e9);
  if (c.executed_macs() != c.macs()) {
    std::printf("executed MACs %lld (%.4f G, +%.1f%%) at batch 1 where heads of several widths are "
                "computed padded to the widest in one matmul, when that is faster (head_layout.h: "
                "training, CUDA, windowed attention); CPU inference of global attention computes "
                "every head at its own widths (attention_by_heads.h)\n",
                static_cast<long long>(c.executed_macs()), c.executed_macs() / 1e9,
                100.0 * (c.executed_macs() - c.macs()) / c.macs());
  }
  std::printf("\n%5s  %-40s %5s %8s %7s %12s %12s\n", "block", "heads", "dim", "mlp", "tokens",
              "MACs (M)", "params (K)");
  std::printf("%5s  %-40s %5s %8s %7s %12.3f %12.1f\n", "embed", "", "", "", "",
              c.embed_macs / 1e6, c.embed_params / 1e3);
  for (int i = 0; i < config.depth(); ++i) {
    const BlockSpec& b = config.blocks[i];
    std::printf("%5d  %-40s %5d %8d %7d %12.3f %12.1f\n", i, describe_heads(b).c_str(),
                config.block_dim(i), b.has_mlp() ? b.mlp_hidden : 0, config.block_tokens(i),
                c.blocks[i].macs() / 1e6, c.blocks[i].params() / 1e3);
  }
  if (config.is_swin()) {
    std::printf("%5s  %-40s %5s %8s %7s %12.3f %12.1f\n", "merge", "patch merging (all stages)", "",
                "", "", c.stage_macs / 1e6, c.stage_params / 1e3);
  }
  std::printf("%5s  %-40s %5s %8s %7s %12.3f %12.1f\n", "head", "", "", "", "", c.head_macs / 1e6,
              c.head_params / 1e3);
  if (compressed) {
    std::printf("\n");
    print_compressed(*compressed, config, c);
  }
  return 0;
}

}  // namespace

void add_info_command(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<InfoFlags>();
  CLI::App* cmd = app.add_subcommand("info", "parameters and MACs of a model, total and per block");
  cmd->add_option("--model", flags->model, "config name, model directory or checkpoint (ViT family or ResNet)");
  cmd->add_flag("--list", flags->list, "list the named configs");
  cmd->add_flag("--json", flags->json, "print JSON instead of a table");
  cmd->callback([&run, flags] { run = [flags] { return run_info(*flags); }; });
}

}  // namespace vitc::app
