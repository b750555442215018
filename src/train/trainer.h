// The training loop every command and method shares: AdamW, warmup + cosine schedule, gradient
// clipping, live progress, evaluation and a checkpoint each epoch, and exact resume.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/augment.h"
#include "data/dataset.h"
#include "dist/group.h"
#include "model/vit.h"
#include "train/evaluate.h"
#include "train/train_settings.h"

namespace vitc {

struct TrainOptions {
  int epochs = 10;
  int64_t batch_size = 128;
  double lr = 1e-3;
  double min_lr = 1e-5;
  double warmup_epochs = 1.0;
  double weight_decay = 0.05;
  double label_smoothing = 0.1;
  double clip_grad = 1.0;  // max global gradient norm; 0 disables clipping
  uint64_t seed = 0;       // data order and augmentation (the model is initialised by the caller)
  AugmentOptions augment;
  int64_t eval_batch_size = 256;
  int64_t max_steps_per_epoch = 0;  // 0 = whole epochs; >0 truncates them (quick runs, tests)
  std::string out_dir;              // final model here, checkpoints in out_dir/checkpoint
  bool resume = false;              // continue from out_dir/checkpoint if there is one
  bool quiet = false;               // no progress lines
  nlohmann::json model_json_extra = nlohmann::json::object();  // added to every saved model.json
  std::string label = "train";      // progress label
  // Data-parallel training (dist/group.h); null = one process. With a group of N ranks every rank
  // calls train_model with the same options: batch_size is per rank (N * batch_size images per
  // step), each rank reads its shard of the seeded order, gradients are averaged, evaluation is
  // sharded and summed, and only rank 0 writes the model and checkpoints. A resume needs the same
  // world size, and every rank must see out_dir (one machine, or a shared file system).
  std::shared_ptr<dist::Group> dist;
  int world_size() const;  // 1 without a group
  int rank() const;        // 0 without a group

  // The settings that determine the trajectory, as flags and JSON (util/settings.h).
  template <class Self, class Visitor>
  static void visit_settings(Self& self, Visitor& v) {
    visit_settings(self, v, setting::kEpochs);
  }
  // The same with another declaration of the epochs (finetuning allows 0).
  template <class Self, class Visitor>
  static void visit_settings(Self& self, Visitor& v, const Setting& epochs) {
    using namespace setting;
    v(epochs, self.epochs);
    v(kBatchSize, self.batch_size);
    v(kLr, self.lr);
    v(kMinLr, self.min_lr);
    v(kWarmupEpochs, self.warmup_epochs);
    v(kWeightDecay, self.weight_decay);
    v(kLabelSmoothing, self.label_smoothing);
    v(kClipGrad, self.clip_grad);
    v(kSeed, self.seed);
    v.flat(self.augment);
    v(kMaxStepsPerEpoch, self.max_steps_per_epoch);
  }
  // The settings a resume must find again.
  nlohmann::json trajectory_json() const;
  // Names a wrong setting as the flag --<flag_prefix><name>.
  void validate(const std::string& flag_prefix = "") const;
};

// Loss of one batch. The default is cross-entropy with label smoothing on the class head (and the
// mean with the distillation head's for distilled models).
using LossFn = std::function<at::Tensor(VisionTransformerImpl& model, const Batch& batch)>;
at::Tensor classification_loss(VisionTransformerImpl& model, const Batch& batch, double label_smoothing);

struct EpochRecord {
  int epoch = 0;  // 1-based
  double train_loss = 0;
  double lr = 0;  // at the end of the epoch
  double train_images_per_s = 0;
  double train_seconds = 0;
  double data_wait_seconds = 0;  // time the loop waited for the loader (starvation if large)
  EvalResult eval;
};

struct TrainResult {
  std::vector<EpochRecord> history;  // every epoch, including those done before a resume
  int resumed_after_epoch = 0;       // 0 when the run started fresh
  double seconds = 0;                // wall time of this invocation
  double train_images_per_s = 0;     // training steps only (no evaluation), this invocation
  EvalResult final_eval;
};
nlohmann::json train_result_to_json(const TrainResult& r);

// Cross-entropy with label smoothing, the default loss of every family's class head.
at::Tensor smoothed_cross_entropy(const at::Tensor& logits, const at::Tensor& labels,
                                  double label_smoothing);

// What the training loop needs of a model, whatever its family: the Classifier (module, name,
// classes, device, logits), the loss of a batch, and how its model directory is written (final
// model and checkpoints) and read back (resume: refused when the checkpoint holds another config).
struct Trainee {
  Classifier classifier;
  std::function<at::Tensor(const Batch& batch)> loss;
  std::function<void(const std::string& dir, const nlohmann::json& extra)> save;
  std::function<void(const std::string& checkpoint_dir)> load;
};
// A ViT-family model with `loss` (null: classification_loss with options' label smoothing).
Trainee trainee_of(VisionTransformer& model, const LossFn& loss, double label_smoothing);
// A ResNet with cross-entropy (label smoothing); BatchNorm in train mode uses batch statistics
// and updates the running ones, which evaluation and the saved model use.
Trainee trainee_of(ResNet& model, double label_smoothing);

// Trains the trainee's module in place (its trainable parameters: those with requires_grad) and
// saves the final weights to options.out_dir as a model directory.
TrainResult train_model(const Trainee& trainee, const std::shared_ptr<const Dataset>& train_data,
                        const std::shared_ptr<const Dataset>& eval_data, const TrainOptions& options);
TrainResult train_model(VisionTransformer& model, const std::shared_ptr<const Dataset>& train_data,
                        const std::shared_ptr<const Dataset>& eval_data, const TrainOptions& options,
                        const LossFn& loss = nullptr);

}  // namespace vitc
