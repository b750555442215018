// `vitc import`: turns a timm/DeiT checkpoint (.safetensors, .pth) into a vitc model directory,
// the input every compression method takes.
#include <cstdio>
#include <filesystem>

#include "common.h"
#include "model/output_guard.h"
#include "model/complexity.h"
#include "model/model_dir.h"
#include "model/families/resnet/resnet_complexity.h"
#include "model/families/resnet/resnet_model_dir.h"
#include "model/timm_import.h"
#include "util/error.h"

namespace vitc::app {

namespace {

struct ImportFlags {
  std::string checkpoint;
  std::string out;
  bool overwrite = false;
};

int run_import(const ImportFlags& flags) {
  namespace fs = std::filesystem;
  const std::string file = fs::is_directory(flags.checkpoint)
                               ? flags.checkpoint + "/" + kWeightsFile
                               : flags.checkpoint;
  check(!fs::exists(flags.out) ||
            !fs::equivalent(fs::absolute(flags.out), fs::absolute(fs::path(file).parent_path())),
        "--out '", flags.out, "' is the checkpoint's own directory; choose another");
  check_output_dir(flags.out, "import", /*resume=*/false, flags.overwrite);
  if (is_resnet_spec(file)) {  // a timm/torchvision ResNet (docs/cnn.md)
    LoadedResNet resnet = import_resnet_checkpoint(file);
    const ResNetConfig& c = resnet.model->config();
    const ResNetCost cost = resnet_cost(c);
    save_resnet_dir(flags.out, *resnet.model, {{"imported_from", resnet.model_json["imported_from"]}});
    std::printf("imported %s as %s: ResNet, %s blocks, %d blocks, %d classes, %d px; %.3f M params, "
                "%.4f G MACs\nconfig %s\nwrote %s\n",
                file.c_str(), c.name.c_str(), c.block.c_str(), c.depth(), c.num_classes,
                c.img_size, cost.params / 1e6, cost.macs / 1e9,
                resnet.model_json["imported_from"]["config"].get<std::string>().c_str(),
                flags.out.c_str());
    return 0;
  }
  LoadedModel loaded = import_checkpoint(file);
  const ViTConfig& config = loaded.model->config();
  const Complexity complexity = compute_complexity(config);
  nlohmann::json extra = {{"imported_from", loaded.model_json["imported_from"]}};
  if (loaded.model_json.contains("preprocess")) extra["preprocess"] = loaded.model_json["preprocess"];
  save_model_dir(flags.out, *loaded.model, extra);
  std::printf("imported %s as %s: %d blocks, width %d, %zu heads, %d classes%s%s, %d px; "
              "%.3f M params, %.4f G MACs\nconfig %s\nwrote %s\n",
              file.c_str(), config.name.c_str(), config.depth(), config.embed_dim,
              config.blocks[0].heads.size(), config.num_classes,
              config.distilled ? " (distilled)" : "", config.layer_scale ? " (LayerScale)" : "",
              config.img_size, complexity.params() / 1e6,
              complexity.macs() / 1e9,
              loaded.model_json["imported_from"]["config"].get<std::string>().c_str(),
              flags.out.c_str());
  return 0;
}

}  // namespace

void add_import_command(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<ImportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "import", "turn a timm/DeiT/ResNet checkpoint (.safetensors, .pth) into a vitc model directory");
  cmd->add_option("--model", flags->checkpoint,
                  "checkpoint file, or a downloaded hub folder holding model.safetensors "
                  "(and config.json)")
      ->required();
  cmd->add_option("--out", flags->out, "model directory to write")->required();
  add_overwrite_flag(*cmd, flags->overwrite);
  cmd->callback([&run, flags] { run = [flags] { return run_import(*flags); }; });
}

}  // namespace vitc::app
