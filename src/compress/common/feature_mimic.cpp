// Feature mimicking through the shared trainer, with stage directories that resume.
#include "compress/common/feature_mimic.h"

#include <cmath>
#include <filesystem>

#include <torch/torch.h>

#include "compress/common/data_parallel.h"
#include "model/model_dir.h"
#include "model/parameter_position.h"
#include "model/state_dict.h"
#include "model/structure_masks.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/settings_from_json.h"
#include "util/json_read.h"
#include "util/files.h"

namespace vitc {

void MimicOptions::validate(const std::string& flag_prefix) const {
  validate_settings(*this, flag_prefix);
  check(min_lr <= lr, "--", flag_prefix, "min-lr must be at most --", flag_prefix, "lr (", lr,
        "), got ", min_lr);
}

nlohmann::json MimicOptions::to_json() const {
  nlohmann::json j = settings_to_json(*this);
  j["loss"] = "mse(final-norm features, all tokens)";
  return j;
}

MimicOptions MimicOptions::with_epochs(int other_epochs) const {
  MimicOptions o = *this;
  if (other_epochs >= 0) o.epochs = other_epochs;
  return o;
}

at::Tensor feature_mimic_loss(VisionTransformerImpl& student, const ModelMasks* masks,
                              VisionTransformerImpl& teacher, const at::Tensor& images) {
  at::Tensor target;
  {
    torch::NoGradGuard no_grad;
    if (teacher.is_training()) teacher.eval();
    target = teacher.forward_features(images);
  }
  const at::Tensor features = student.forward_features(images, masks);
  check(features.sizes() == target.sizes(), "feature mimicking: the student ('",
        student.config().name, "') gives features of shape ", features.sizes(),
        " but the teacher ('", teacher.config().name, "') ", target.sizes(),
        "; both must keep every token");
  return torch::mse_loss(features, target);
}

namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// The block index of a parameter name "blocks.<i>.<...>", or -1.
}  // namespace

void set_mimic_trainable(VisionTransformerImpl& model, int last_block, const Structure& structure) {
  const ViTConfig& config = model.config();
  check(last_block >= 0 && last_block < config.depth(), "last trainable block ", last_block,
        " is outside [0, ", config.depth(), ")");
  validate_structure(structure, config);
  for (auto& item : model.named_parameters(true)) {
    const std::string& name = item.key();
    bool trainable;
    const int b = block_position(config, name);
    if (b >= 0 && !starts_with(name, "blocks.")) {  // a family part feeding block b (Swin's merging)
      trainable = b <= last_block;
    } else if (b >= 0) {
      const BlockKeep& keep = structure.blocks[static_cast<size_t>(b)];
      const bool attention_part = starts_with(name, str_cat("blocks.", b, ".norm1")) ||
                                  starts_with(name, str_cat("blocks.", b, ".attn.")) ||
                                  starts_with(name, str_cat("blocks.", b, ".ls1."));
      trainable = b <= last_block && !keep.skip && !(keep.attn_skip && attention_part);
    } else {
      trainable = !starts_with(name, "head");  // head and head_dist stay frozen
    }
    item.value().set_requires_grad(trainable);
  }
}

int front_last_block(const Structure& structure) {
  int last = -1;
  for (size_t i = 0; i < structure.blocks.size(); ++i) {
    const BlockKeep& b = structure.blocks[i];
    if (b.skip || b.attn_skip) last = static_cast<int>(i);
  }
  check(last >= 0, "front_last_block: the structure compresses no block");
  return std::min(last + 1, static_cast<int>(structure.blocks.size()) - 1);
}

ModelMasks lean_structure_masks(const ViTConfig& source, const Structure& structure,
                                const c10::Device& device) {
  ModelMasks masks = masks_to(structure_masks(source, structure), at::TensorOptions().device(device));
  const Structure dense = dense_structure(source);
  for (size_t i = 0; i < masks.blocks.size(); ++i) {
    if (structure.blocks[i] == dense.blocks[i]) masks.blocks[i] = BlockMasks{};
  }
  return masks;
}

namespace {
const char* kStageFile = "stage.json";
}

nlohmann::json run_mimic_stage(VisionTransformer& model, const ModelMasks& masks,
                               VisionTransformer teacher,
                               const std::shared_ptr<const Dataset>& data,
                               const MimicOptions& options, const StageOptions& stage) {
  const ModelMasks* m = &masks;
  const LossFn loss = [teacher, m](VisionTransformerImpl& student, const Batch& batch) mutable {
    return feature_mimic_loss(student, m, *teacher, batch.images);  // batch.labels unused
  };
  return run_mimic_stage(trainee_of(model, loss, 0.0), data, options, stage);
}

nlohmann::json run_mimic_stage(const Trainee& trainee, const std::shared_ptr<const Dataset>& data,
                               const MimicOptions& options, const StageOptions& stage) {
  options.validate();
  check(!stage.dir.empty(), "a finetuning stage needs a directory");
  const std::string stage_file = stage.dir + "/" + kStageFile;
  nlohmann::json key = stage.key;
  key["mimic"] = options.to_json();
  dist::Group* group = stage.dist.get();
  const bool lead = is_lead(group);
  const bool quiet = stage.quiet || !lead;
  torch::nn::Module& module = *trainee.classifier.module;
  if (lead_decides(group, stage.resume && file_exists(stage_file),
                   str_cat("a finished stage in ", stage.dir))) {
    const nlohmann::json done = read_json(stage_file);
    check(done.value("key", nlohmann::json()) == key, "cannot resume: stage ", stage.dir,
          " was computed with other settings (", json_brief(done.value("key", nlohmann::json())),
          "; now ", json_brief(key), "); use the same settings or a new --out");
    {
      torch::NoGradGuard no_grad;
      trainee.load(stage.dir);  // refused when the stage holds another model config
    }
    if (!quiet) std::fprintf(stderr, "%s: reusing finished stage %s\n", stage.label.c_str(),
                                   stage.dir.c_str());
    return done.value("result", nlohmann::json::object());
  }
  nlohmann::json result = nlohmann::json::object();
  if (options.epochs > 0) {
    TrainOptions train;  // the trainer's settings of the same names: epochs, lr, seed, pad, ...
    const std::vector<std::string> unused = settings_from_json(train, settings_to_json(options));
    check(unused.empty(), "internal: the trainer has no setting ", join(unused));
    train.label_smoothing = 0.0;  // no labels
    train.clip_grad = 0.0;  // the reference passes clip_grad but never applies it
    train.out_dir = stage.dir;
    train.resume = stage.resume;
    train.quiet = stage.quiet;
    train.label = stage.label;
    train.dist = stage.dist;
    module.train();
    const TrainResult trained = train_model(trainee, data, nullptr, train);
    module.eval();
    result = train_result_to_json(trained);
    if (lead) {
      std::error_code ignored;  // checkpoints are only for an interrupted stage
      std::filesystem::remove_all(stage.dir + "/checkpoint", ignored);
      std::filesystem::remove_all(stage.dir + "/checkpoint.old", ignored);
    }
  } else if (lead) {
    trainee.save(stage.dir, nlohmann::json::object());
  }
  if (lead) write_json(stage_file, {{"key", key}, {"result", result}});
  barrier(group);  // the stage directory is complete when any rank returns
  return result;
}

double mean_logit_kl(VisionTransformerImpl& student, const ModelMasks* masks,
                     VisionTransformerImpl& teacher, const at::Tensor& images,
                     int64_t batch_size) {
  torch::NoGradGuard no_grad;
  check(images.size(0) > 0, "mean_logit_kl: no images");
  const bool was_training = student.is_training();
  student.eval();
  teacher.eval();
  double sum = 0;
  for (int64_t start = 0; start < images.size(0); start += batch_size) {
    const at::Tensor x = images.slice(0, start, std::min(images.size(0), start + batch_size));
    const at::Tensor lt = torch::log_softmax(teacher.forward(x), -1);
    const at::Tensor ls = torch::log_softmax(student.forward(x, masks), -1);
    sum += (lt.exp() * (lt - ls)).sum().item<double>();
  }
  student.train(was_training);
  return sum / static_cast<double>(images.size(0));
}

}  // namespace vitc
