// Feature-mimicking finetuning (DC-ViT, PRACTISE, MiR): the student's final-norm output over all
// tokens is pulled towards the frozen original teacher's by MSE; no labels. Each finetuning is a
// resumable stage directory run by the shared trainer.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "data/augment.h"
#include "data/dataset.h"
#include "dist/group.h"
#include "model/masks.h"
#include "model/structure.h"
#include "model/vit.h"
#include "train/train_settings.h"
#include "train/trainer.h"

namespace vitc {

// Defaults sized for the bundled Fashion-MNIST teacher on a 2-core CPU (docs/dc_vit.md); the
// reference's 2000 epochs at lr 3e-5 are far beyond that budget. Epochs are passes over the
// few-shot set, so the number of steps grows with the data, as in the reference.
struct MimicOptions {
  int epochs = 8;
  int64_t batch_size = 64;
  double lr = 3e-4;
  double min_lr = 0.0;
  double warmup_epochs = 0.0;
  double weight_decay = 1e-4;
  uint64_t seed = 0;  // data order and augmentation
  AugmentOptions augment{2, true};

  // The flags of `vitc dcvit run|sweep` and `practise run` (unprefixed) and JSON.
  template <class Self, class Visitor>
  static void visit_settings(Self& self, Visitor& v) {
    using namespace setting;
    v(kEpochs.with_help("finetuning epochs (passes over the few-shot set) per stage; 0 = none")
          .with_range(Range::at_least(0)),
      self.epochs);
    v(kBatchSize, self.batch_size);
    v(kLr, self.lr);
    v(kMinLr, self.min_lr);
    v(kWarmupEpochs, self.warmup_epochs);
    v(kWeightDecay, self.weight_decay);
    v(kSeed, self.seed);
    v.flat(self.augment);
  }
  void validate(const std::string& flag_prefix = "") const;  // names the flag
  nlohmann::json to_json() const;
  // These options with `epochs` passes instead; a negative value keeps them (DC-ViT's ranking
  // budget, `--rank-epochs`).
  MimicOptions with_epochs(int epochs) const;
};

// MSE (mean over batch, tokens and features) between the student's forward_features under
// `masks` (null = none) and the teacher's (eval mode, no autograd).
at::Tensor feature_mimic_loss(VisionTransformerImpl& student, const ModelMasks* masks,
                              VisionTransformerImpl& teacher, const at::Tensor& images);

// Which parameters a finetuning updates: the patch embedding, cls/dist token, position embedding,
// blocks 0..last_block and the final norm; never the blocks after last_block or the head(s).
// The removed parts of `structure` (skipped blocks, skipped attention branches) stay frozen too.
// Sets requires_grad accordingly; last_block = depth - 1 trains every block.
void set_mimic_trainable(VisionTransformerImpl& model, int last_block, const Structure& structure);

// DC-ViT's rule: up to the block after the last compressed one, at most the last block.
int front_last_block(const Structure& structure);

// Where a stage lives and whether an earlier run's results may be reused.
struct StageOptions {
  std::string dir;      // model.safetensors, model.json, stage.json (and checkpoint/ while running)
  bool resume = false;  // reuse a finished stage, continue an interrupted one
  bool quiet = false;
  std::string label = "finetune";
  nlohmann::json key;   // what determines the stage's result; a resumed stage must match it
  // Data-parallel stage (docs/distributed.md); null = one process. Every rank runs the stage;
  // the trainer averages the gradients and only rank 0 writes the stage directory.
  std::shared_ptr<dist::Group> dist;
};

// Finetunes `model` in place under `masks` (trainable parameters as set by the caller) on
// `data` (only images are used) and writes the stage directory. With resume and a finished stage
// whose key matches, the weights are loaded from it instead; a different key is an error naming
// the directory. Returns stage.json's "result" (trainer history, seconds; {} for 0 epochs).
nlohmann::json run_mimic_stage(VisionTransformer& model, const ModelMasks& masks,
                               VisionTransformer teacher,
                               const std::shared_ptr<const Dataset>& data,
                               const MimicOptions& options, const StageOptions& stage);

// run_mimic_stage for any family: the trainee's loss is the feature-mimicking loss (ResNets:
// compress/common/resnet_mimic.h), its save/load write and reuse the stage's model directory.
nlohmann::json run_mimic_stage(const Trainee& trainee, const std::shared_ptr<const Dataset>& data,
                               const MimicOptions& options, const StageOptions& stage);

// Mean KL(softmax(teacher) || softmax(student)) per image over `images` (in batches), the student
// under `masks`: DC-ViT's block-selection metric and PRACTISE's recoverability.
double mean_logit_kl(VisionTransformerImpl& student, const ModelMasks* masks,
                     VisionTransformerImpl& teacher, const at::Tensor& images,
                     int64_t batch_size = 256);

}  // namespace vitc

namespace vitc {

// structure_masks without the all-ones masks of blocks that keep everything (same outputs, less
// elementwise work during finetuning), made on `device` (the model's) so that no training step
// copies them there.
ModelMasks lean_structure_masks(const ViTConfig& source, const Structure& structure,
                                const c10::Device& device);

}  // namespace vitc
