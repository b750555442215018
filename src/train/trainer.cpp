// Training loop with per-epoch evaluation, checkpoints and exact resume.
#include "train/trainer.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <torch/torch.h>

#include "data/loader.h"
#include "dist/sync.h"
#include "model/families/resnet/resnet_model_dir.h"
#include "model/model_dir.h"
#include "model/state_dict.h"
#include "train/adamw.h"
#include "train/resume_check.h"
#include "train/schedule.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace vitc {

nlohmann::json TrainOptions::trajectory_json() const { return settings_to_json(*this); }

int TrainOptions::world_size() const { return dist ? dist->world_size() : 1; }
int TrainOptions::rank() const { return dist ? dist->rank() : 0; }

void TrainOptions::validate(const std::string& flag_prefix) const {
  validate_settings(*this, flag_prefix);
  check(min_lr <= lr, "--", flag_prefix, "min-lr must be at most --", flag_prefix, "lr (", lr,
        "), got ", min_lr);
  check(eval_batch_size >= 1, "evaluation batch size must be at least 1, got ", eval_batch_size);
  check(!out_dir.empty(), "an output directory (--out) is required");
}

at::Tensor smoothed_cross_entropy(const at::Tensor& logits, const at::Tensor& labels,
                                  double label_smoothing) {
  namespace F = torch::nn::functional;
  return F::cross_entropy(logits, labels, F::CrossEntropyFuncOptions().label_smoothing(label_smoothing));
}

at::Tensor classification_loss(VisionTransformerImpl& model, const Batch& batch, double label_smoothing) {
  const HeadOutputs out = model.forward_heads(batch.images);
  at::Tensor loss = smoothed_cross_entropy(out.cls, batch.labels, label_smoothing);
  if (out.dist.defined()) {
    loss = (loss + smoothed_cross_entropy(out.dist, batch.labels, label_smoothing)) / 2;
  }
  return loss;
}

namespace {

// Resuming: `model` takes the weights of `loaded` (read from model directory `dir`), which must
// have the same config.
template <class Impl>
void load_same_config(Impl& model, Impl& loaded, const std::string& dir) {
  check(loaded.config() == model.config(), "cannot resume from '", dir,
        "': it holds a different model config ('", loaded.config().name, "')");
  load_state_dict(model, state_dict(loaded), dir + "/" + kWeightsFile);
}

}  // namespace

Trainee trainee_of(VisionTransformer& model, const LossFn& loss, double label_smoothing) {
  VisionTransformerImpl& m = *model;
  Trainee t;
  t.classifier = classifier_of(m);
  t.loss = [&m, loss, label_smoothing](const Batch& b) {
    return loss ? loss(m, b) : classification_loss(m, b, label_smoothing);
  };
  t.save = [&m](const std::string& dir, const nlohmann::json& extra) { save_model_dir(dir, m, extra); };
  t.load = [&m](const std::string& dir) { load_same_config(m, *load_model_dir(dir).model, dir); };
  return t;
}

Trainee trainee_of(ResNet& model, double label_smoothing) {
  ResNetImpl& m = *model;
  Trainee t;
  t.classifier = classifier_of(m);
  t.loss = [&m, label_smoothing](const Batch& b) {
    return smoothed_cross_entropy(m.forward(b.images), b.labels, label_smoothing);
  };
  t.save = [&m](const std::string& dir, const nlohmann::json& extra) { save_resnet_dir(dir, m, extra); };
  t.load = [&m](const std::string& dir) { load_same_config(m, *load_resnet_dir(dir).model, dir); };
  return t;
}

nlohmann::json train_result_to_json(const TrainResult& r) {
  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& e : r.history) {
    epochs.push_back({{"epoch", e.epoch},
                      {"train_loss", e.train_loss},
                      {"lr", e.lr},
                      {"train_images_per_s", e.train_images_per_s},
                      {"train_seconds", e.train_seconds},
                      {"data_wait_seconds", e.data_wait_seconds},
                      {"eval", eval_to_json(e.eval)}});
  }
  return {{"epochs", epochs},
          {"resumed_after_epoch", r.resumed_after_epoch},
          {"seconds", r.seconds},
          {"train_images_per_s", r.train_images_per_s},
          {"final_eval", eval_to_json(r.final_eval)}};
}

namespace {

const char* kOptimizerFile = "optimizer.safetensors";
const char* kTrainerStateFile = "trainer.json";

EpochRecord epoch_from_json(const nlohmann::json& j) {
  EpochRecord e;
  e.epoch = j.at("epoch");
  e.train_loss = j.at("train_loss");
  e.lr = j.at("lr");
  e.train_images_per_s = j.at("train_images_per_s");
  e.train_seconds = j.at("train_seconds");
  e.data_wait_seconds = j.value("data_wait_seconds", 0.0);
  const auto& ev = j.at("eval");
  e.eval.top1 = ev.at("top1");
  e.eval.top5 = ev.at("top5");
  e.eval.loss = ev.at("loss");
  e.eval.images = ev.at("images");
  e.eval.seconds = ev.at("seconds");
  return e;
}

// Checkpoints go to <out>/checkpoint.new, then replace <out>/checkpoint by two renames; a crash
// at any point leaves a complete checkpoint in either <out>/checkpoint or <out>/checkpoint.old.
void save_checkpoint(const std::string& out_dir, const Trainee& trainee, const AdamW& optimizer,
                     const nlohmann::json& trainer_state, const nlohmann::json& model_extra) {
  replace_directory(out_dir, "checkpoint", [&](const std::string& dir) {
    trainee.save(dir, model_extra);
    write_safetensors(dir + "/" + kOptimizerFile, optimizer.state());
    write_json(dir + "/" + kTrainerStateFile, trainer_state);
  });
}

std::string find_checkpoint(const std::string& out_dir) {
  return find_complete_directory(out_dir, "checkpoint", kTrainerStateFile);
}

}  // namespace

TrainResult train_model(VisionTransformer& model, const std::shared_ptr<const Dataset>& train_data,
                        const std::shared_ptr<const Dataset>& eval_data, const TrainOptions& options,
                        const LossFn& loss_fn) {
  return train_model(trainee_of(model, loss_fn, options.label_smoothing), train_data, eval_data, options);
}

TrainResult train_model(const Trainee& trainee, const std::shared_ptr<const Dataset>& train_data,
                        const std::shared_ptr<const Dataset>& eval_data, const TrainOptions& options) {
  options.validate();
  const Classifier& model = trainee.classifier;
  torch::nn::Module& module = *model.module;
  check(train_data->num_classes() <= model.num_classes, "training data '", train_data->name(),
        "' has ", train_data->num_classes(), " classes but model '", model.name, "' predicts ",
        model.num_classes);
  make_dirs(options.out_dir);

  const int world = options.world_size(), rank = options.rank();
  const bool lead = rank == 0;  // the rank that writes files and shows progress
  DataLoader loader(train_data, training_loader_options(*train_data, options.batch_size, options.seed,
                                                        options.augment, rank, world));
  const int64_t steps_per_epoch = loader.steps_per_epoch(options.max_steps_per_epoch);

  CosineSchedule schedule;
  schedule.base_lr = options.lr;
  schedule.min_lr = options.min_lr;
  schedule.warmup_lr = std::min(1e-6, options.lr);
  schedule.warmup_steps = static_cast<int64_t>(std::llround(options.warmup_epochs * steps_per_epoch));
  schedule.total_steps = steps_per_epoch * options.epochs;

  AdamWOptions adam_options;
  adam_options.weight_decay = options.weight_decay;
  AdamW optimizer(trainable_parameters(module), adam_options);
  check(!optimizer.params().empty(), "model '", model.name, "' has no trainable parameters");
  std::vector<at::Tensor> params;
  for (const auto& [name, p] : optimizer.params()) params.push_back(p);

  TrainResult result;
  int start_epoch = 0;
  if (options.resume) {
    const std::string ckpt = find_checkpoint(options.out_dir);
    if (options.dist) {
      // Rank 0 decides; the others must see the same checkpoint (same machine or shared disk).
      auto epochs_done = [&](const std::string& dir) {
        return dir.empty() ? -1.0 : read_json(dir + "/" + kTrainerStateFile).at("epochs_done").get<double>();
      };
      const double mine = epochs_done(ckpt);
      std::vector<double> lead_value = {lead ? mine : 0.0};
      dist::allreduce_sum(*options.dist, lead_value);
      check(mine == lead_value[0], "cannot resume on rank ", rank, ": rank 0 ",
            lead_value[0] < 0 ? std::string("found no checkpoint")
                              : str_cat("resumes after epoch ", lead_value[0]),
            " but this rank ",
            ckpt.empty() ? std::string("finds no checkpoint") : str_cat("finds '", ckpt, "' after epoch ", mine),
            " in '", options.out_dir, "' (every rank must see the same --out: one machine or a shared file system)");
    }
    if (!ckpt.empty()) {
      const nlohmann::json state = read_json(ckpt + "/" + kTrainerStateFile);
      const nlohmann::json saved = state.at("options");
      const nlohmann::json now = options.trajectory_json();
      check_same_world_size(state, world, ckpt, "trained");
      check_same_settings(saved, now, ckpt);
      trainee.load(ckpt);
      optimizer.load_state(read_safetensors(ckpt + "/" + kOptimizerFile).tensors,
                           ckpt + "/" + kOptimizerFile);
      for (const auto& e : state.at("history")) result.history.push_back(epoch_from_json(e));
      start_epoch = state.at("epochs_done");
      result.resumed_after_epoch = start_epoch;
      if (!options.quiet && lead) {
        std::fprintf(stderr, "resuming from %s after epoch %d\n", ckpt.c_str(), start_epoch);
      }
    }
  }
  if (options.dist) {
    // All ranks start from rank 0's weights (parameters and buffers), whatever their own init.
    std::vector<at::Tensor> tensors;
    for (const auto& p : module.parameters(true)) tensors.push_back(p);
    for (const auto& b : module.buffers(true)) tensors.push_back(b);
    dist::broadcast_tensors(*options.dist, tensors, 0);
  }
  const bool quiet = options.quiet || !lead;
  const c10::Device device = model.device;

  Stopwatch total_clock;
  double train_seconds = 0;
  int64_t train_images = 0;
  for (int epoch = start_epoch; epoch < options.epochs; ++epoch) {
    module.train();
    loader.start_epoch(epoch);
    Progress progress(str_cat(options.label, " epoch ", epoch + 1, "/", options.epochs),
                      steps_per_epoch, quiet);
    Stopwatch epoch_clock;
    double loss_sum = 0, lr = 0, data_wait = 0;
    int64_t images = 0;
    Batch batch;
    const auto next_batch = [&] {
      Stopwatch wait;
      const bool more = loader.next(batch);
      if (more) batch = batch.to(device);
      data_wait += wait.seconds();
      return more;
    };
    for (int64_t step = 0; step < steps_per_epoch && next_batch(); ++step) {
      lr = schedule.at(static_cast<int64_t>(epoch) * steps_per_epoch + step);
      optimizer.zero_grad();
      const at::Tensor loss = trainee.loss(batch);
      double loss_value = loss.item<double>();
      if (options.dist) {
        // The mean loss travels with the gradients, so every rank sees the same value and a
        // non-finite loss stops all of them at the same step.
        loss.backward();
        loss_value = dist::average_gradients(*options.dist, params, loss_value);
      }
      check(std::isfinite(loss_value), options.label, ": loss became ", loss_value, " at epoch ",
            epoch + 1, " step ", step + 1, " (lower --lr?)");
      if (!options.dist) loss.backward();
      if (options.clip_grad > 0) torch::nn::utils::clip_grad_norm_(params, options.clip_grad);
      optimizer.step(lr);
      loss_sum += loss_value;
      images += batch.labels.size(0) * world;  // each rank's batch has the same size
      progress.update(step + 1, batch.labels.size(0) * world, {{"loss", loss_sum / (step + 1)}, {"lr", lr}});
    }
    EpochRecord record;
    record.epoch = epoch + 1;
    record.train_seconds = epoch_clock.seconds();
    record.train_loss = loss_sum / steps_per_epoch;
    record.lr = lr;
    record.train_images_per_s = images / record.train_seconds;
    record.data_wait_seconds = data_wait;
    progress.finish({{"loss", record.train_loss}, {"lr", lr}, {"data_wait_s", data_wait}});
    train_seconds += record.train_seconds;
    train_images += images;
    if (eval_data) {
      record.eval = evaluate_sharded(model, eval_data, options.eval_batch_size, options.dist.get());
      if (!quiet) {
        std::fprintf(stderr, "%s epoch %d/%d  test top1 %.2f%%  top5 %.2f%%  loss %.4f  (%.0f img/s)\n",
                     options.label.c_str(), epoch + 1, options.epochs, record.eval.top1,
                     record.eval.top5, record.eval.loss, record.eval.images_per_s());
      }
    }
    result.history.push_back(record);
    const nlohmann::json history = train_result_to_json(result).at("epochs");
    if (lead) {
      save_checkpoint(options.out_dir, trainee, optimizer,
                      {{"epochs_done", epoch + 1},
                       {"world_size", world},
                       {"options", options.trajectory_json()},
                       {"history", history}},
                      options.model_json_extra);
    }
  }
  if (lead) trainee.save(options.out_dir, options.model_json_extra);
  // The others leave once the model is on disk, so waiting on all processes means it is there.
  if (options.dist) options.dist->barrier();
  result.final_eval = result.history.empty() ? EvalResult{} : result.history.back().eval;
  result.seconds = total_clock.seconds();
  result.train_images_per_s = train_seconds > 0 ? train_images / train_seconds : 0;
  return result;
}

}  // namespace vitc
