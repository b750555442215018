// Registration and validation of the flag groups shared by `vitc dcvit` and `vitc practise`.
#include "dcvit_flags.h"

#include "setting_flags.h"

#include <cstdio>
#include <filesystem>

#include "model/complexity.h"
#include "model/families/resnet/resnet_complexity.h"
#include "model/families/resnet/resnet_model_dir.h"
#include "model/model_dir.h"
#include "report/latency.h"
#include "train/evaluate.h"
#include "util/error.h"
#include "util/files.h"
#include "util/run_info.h"

namespace vitc::app {

void FewShotCommonFlags::add_to(CLI::App& cmd, const std::string& out_help) {
  MethodFlags::add_to(cmd, out_help, /*with_teacher=*/true, /*with_train_subset=*/false);
  cmd.add_option("--per-class", few_shot.per_class,
                 "few-shot set: this many training images of every class (labels then hidden)");
  cmd.add_option("--few-shot", few_shot.total,
                 "few-shot set: this many training images drawn from the whole training set");
  cmd.add_option("--few-shot-seed", few_shot.seed, "seed of the few-shot subset")
      ->capture_default_str();
  cmd.add_option("--eval-batch-size", eval_batch, "batch size of evaluation")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

void MimicFlags::add_to(CLI::App& cmd) { add_setting_flags(cmd, options); }

MimicOptions MimicFlags::get() const {
  options.validate();
  return options;
}

namespace {

// FNV-1a of the weights file: stages and rankings computed from another teacher at the same path
// are not reused by --resume.
std::string weights_fingerprint(const std::string& path) {
  uint64_t h = 1469598103934665603ull;
  for (const char ch : read_file(path)) {
    h ^= static_cast<unsigned char>(ch);
    h *= 1099511628211ull;
  }
  char text[20];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

}  // namespace

FewShotInputs open_few_shot_inputs(const FewShotCommonFlags& flags, bool takes_resnet) {
  flags.few_shot.validate();
  flags.check_out();
  FewShotInputs in;
  in.dist = flags.dist.connect();
  in.teacher_dir = flags.teacher;
  std::string name;
  int64_t macs = 0, params = 0;
  int img_size = 0;
  std::vector<double> mean, std;
  if (is_resnet_spec(flags.teacher)) {
    check(takes_resnet, "teacher '", flags.teacher, "' is a ResNet; this command compresses "
          "Vision Transformers (ResNets: `vitc practise run`, docs/cnn.md)");
    in.cnn_teacher = load_resnet_dir(flags.teacher).model;
    in.cnn_teacher->to(flags.compute.device());
    in.cnn_teacher->eval();
    const ResNetConfig& c = in.cnn_teacher->config();
    const ResNetCost cost = resnet_cost(c);
    name = c.name, macs = cost.macs, params = cost.params, img_size = c.img_size, mean = c.mean, std = c.std;
  } else {
    in.teacher = load_model_dir(flags.teacher).model;
    in.teacher->to(flags.compute.device());
    in.teacher->eval();
    const ViTConfig& c = in.teacher->config();
    const Complexity cost = compute_complexity(c);
    name = c.name, macs = cost.macs(), params = cost.params(), img_size = c.img_size, mean = c.mean, std = c.std;
  }
  in.teacher_info = {{"dir", std::filesystem::absolute(flags.teacher).lexically_normal().string()},
                     {"config", name},
                     {"macs", macs},
                     {"params", params},
                     {"weights_fingerprint", weights_fingerprint(flags.teacher + "/" + kWeightsFile)}};
  DataFlags train_flags = flags.data;
  train_flags.train_subset = 0;
  const auto train = train_flags.open("train", mean, std, img_size);
  in.few_shot = sample_few_shot(train, flags.few_shot);
  in.eval_data = flags.data.open("test", mean, std, img_size);
  if (lead_process(in.dist))
    std::fprintf(stderr,
               "teacher %s: %.3f M params, %.2f M MACs; few-shot %zu training images (labels "
               "hidden); test %lld images\n",
               flags.teacher.c_str(), params / 1e6, macs / 1e6, in.few_shot.indices.size(),
               static_cast<long long>(in.eval_data->size()));
  return in;
}

}  // namespace vitc::app
