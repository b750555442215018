// Flag groups and helpers shared by `vitc dcvit` and `vitc practise`: teacher/output/data, the
// few-shot set, feature-mimicking finetuning, and the interleaved latency comparison.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common.h"
#include "method_flags.h"
#include "compress/common/feature_mimic.h"
#include "compress/common/few_shot.h"
#include "model/families/resnet/resnet.h"
#include "model/vit.h"

namespace vitc::app {

// MethodFlags (without the training-subset flags: the few-shot set is chosen by --per-class /
// --few-shot) plus the few-shot set and the evaluation batch size.
struct FewShotCommonFlags : MethodFlags {
  FewShotOptions few_shot;
  int64_t eval_batch = 256;
  void add_to(CLI::App& cmd, const std::string& out_help);
};

// --epochs, --batch-size, --lr, --min-lr, --warmup-epochs, --weight-decay, --pad, --hflip/--no-hflip,
// --seed of the feature-mimicking finetuning.
struct MimicFlags {
  MimicOptions options;
  void add_to(CLI::App& cmd);
  MimicOptions get() const;  // validated
};

// The teacher, its summary for run.json, the few-shot set (labels hidden) and the test split.
struct FewShotInputs {
  std::string teacher_dir;
  VisionTransformer teacher{nullptr};  // a ViT-family teacher, or
  ResNet cnn_teacher{nullptr};         // a ResNet (commands that take one; the other is null)
  nlohmann::json teacher_info;  // dir, config, macs, params
  FewShotSet few_shot;
  std::shared_ptr<const Dataset> eval_data;
  std::shared_ptr<dist::Group> dist;  // connected from --dist-*; null = one process
};
// A ResNet teacher is refused, naming the command, unless `takes_resnet`.
FewShotInputs open_few_shot_inputs(const FewShotCommonFlags& flags, bool takes_resnet = false);

}  // namespace vitc::app
