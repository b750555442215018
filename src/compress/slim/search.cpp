// ViT-Slim search loop: masked forward, task loss + L1 on the masks, AdamW over both,
// evaluation with the soft masks and a checkpoint after every epoch.
#include "compress/slim/search.h"

#include <cmath>
#include <filesystem>
#include <optional>

#include <torch/torch.h>

#include "model/clone_model.h"
#include "compress/common/data_parallel.h"
#include "compress/common/search_resume.h"
#include "compress/slim/search_dir.h"
#include "data/loader.h"
#include "model/model_dir.h"
#include "model/state_dict.h"
#include "train/adamw.h"
#include "train/resume_check.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace vitc {

namespace {

const char* kOptimizerFile = "optimizer.safetensors";

// The trainer's checkpoint rotation (train/trainer.cpp): <out>/checkpoint.new, then two renames,
// so a crash leaves a complete checkpoint in <out>/checkpoint or <out>/checkpoint.old.
void save_checkpoint(const std::string& out_dir, VisionTransformerImpl& model,
                     const SlimMasks& masks, const AdamW& optimizer, const nlohmann::json& info) {
  replace_directory(out_dir, "checkpoint", [&](const std::string& dir) {
    save_search_dir(dir, model, masks, info);
    write_safetensors(dir + "/" + kOptimizerFile, optimizer.state());
  });
}

std::string find_checkpoint(const std::string& out_dir) {
  return find_complete_directory(out_dir, "checkpoint", kSearchJsonFile);
}

// With --resume, a finished search of the same settings in out_dir is the result.
std::optional<SearchResult> finished_search(const SearchOptions& options,
                                            const nlohmann::json& teacher_info) {
  const std::string path = options.out_dir + "/" + kSearchJsonFile;
  if (!file_exists(path)) return std::nullopt;
  const nlohmann::json saved = read_json(path);
  if (!saved.value("complete", false)) return std::nullopt;
  check_same_search(saved, options.trajectory_json(), teacher_info, options.out_dir);
  SearchDir done = load_search_dir(options.out_dir);
  SearchResult result;
  result.model = done.model;
  result.masks = done.masks;
  result.history = saved.at("history");
  result.reused = true;
  result.search_seconds = saved.value("search_seconds", 0.0);
  result.post_search_eval = saved.value("post_search_eval", nlohmann::json());
  if (!options.quiet)
    std::fprintf(stderr, "reusing the finished search in %s\n", options.out_dir.c_str());
  return result;
}

AdamW::NamedParams search_parameters(VisionTransformerImpl& model, SlimMasks& masks,
                                     bool freeze_weights) {
  AdamW::NamedParams params;
  for (auto& item : model.named_parameters(true)) {
    const bool norm = item.key().find("norm") != std::string::npos;
    item.value().set_requires_grad(!freeze_weights || norm);
    if (item.value().requires_grad()) params.emplace_back(item.key(), item.value());
  }
  params.emplace_back("slim.attn", masks.attn.set_requires_grad(true));
  params.emplace_back("slim.mlp", masks.mlp.set_requires_grad(true));
  if (masks.has_tokens()) params.emplace_back("slim.tokens", masks.tokens.set_requires_grad(true));
  return params;
}

void copy_masks(const SlimMasks& from, SlimMasks& to) {
  torch::NoGradGuard no_grad;
  to.attn.copy_(from.attn);
  to.mlp.copy_(from.mlp);
  if (to.has_tokens()) to.tokens.copy_(from.tokens);
}

// The steps of one search epoch: masked forward, task loss + L1 term, one AdamW step each.
// Returns the epoch's record (losses, lr, time, mask statistics); evaluation is the caller's.
nlohmann::json search_epoch(VisionTransformerImpl& student, SlimMasks& masks,
                            VisionTransformerImpl& teacher, DataLoader& loader, AdamW& optimizer,
                            const std::vector<at::Tensor>& params, const SearchOptions& options,
                            int epoch, int64_t steps) {
  student.train();
  loader.start_epoch(epoch);
  Progress progress(str_cat(options.label, " epoch ", epoch + 1, "/", options.epochs), steps,
                    options.quiet);
  Stopwatch clock;
  double loss_sum = 0, l1_sum = 0;
  int64_t images = 0;
  Batch batch;
  for (int64_t step = 0; step < steps && loader.next(batch); ++step) {
    batch = batch.to(student.device());
    optimizer.zero_grad();
    const ModelMasks view = slim_model_masks(masks, student.config());
    const HeadOutputs out = student.forward_heads(batch.images, &view);
    const at::Tensor target =
        options.loss.uses_teacher() ? teacher_logits(teacher, batch.images) : at::Tensor();
    const at::Tensor l1 = slim_sparsity_loss(masks, options.lambdas);
    const at::Tensor loss = distillation_loss(out, target, batch.labels, options.loss) + l1;
    // With a group: the mean over the ranks, gradients averaged (data_parallel.h).
    const double loss_value = backward_and_average(loss, params, options.dist.get());
    check(std::isfinite(loss_value), options.label, ": loss became ", loss_value, " at epoch ",
          epoch + 1, " step ", step + 1, " (lower --lr?)");
    if (options.clip_grad > 0) torch::nn::utils::clip_grad_norm_(params, options.clip_grad);
    optimizer.step(options.lr);
    loss_sum += loss_value;
    l1_sum += l1.item<double>();
    const int64_t step_images = batch.labels.size(0) * world_of(options.dist.get());
    images += step_images;
    progress.update(step + 1, step_images,
                    {{"loss", loss_sum / (step + 1)}, {"l1", l1_sum / (step + 1)}});
  }
  const double seconds = clock.seconds();
  progress.finish({{"loss", loss_sum / steps}, {"l1", l1_sum / steps}});
  return {{"epoch", epoch + 1},
          {"loss", loss_sum / steps},
          {"sparsity_loss", l1_sum / steps},
          {"lr", options.lr},
          {"train_seconds", seconds},
          {"train_images_per_s", images / seconds},
          {"masks", slim_mask_stats(masks, student.config())}};
}

// The paper's "post-search accuracy": the model evaluated with its soft masks (sharded over
// the ranks of a group).
EvalResult soft_mask_eval(VisionTransformerImpl& student, const SlimMasks& masks,
                          const std::shared_ptr<const Dataset>& data, int64_t batch_size,
                          dist::Group* group) {
  const ModelMasks view = [&] {
    torch::NoGradGuard no_grad;
    return slim_model_masks(masks, student.config());
  }();
  return evaluate_sharded(student, data, batch_size, group, &view);
}

}  // namespace

SearchResult run_search(VisionTransformerImpl& teacher, const nlohmann::json& teacher_info,
                        const std::shared_ptr<const Dataset>& train_data,
                        const std::shared_ptr<const Dataset>& eval_data,
                        const SearchOptions& search_options) {
  search_options.validate();
  dist::Group* group = search_options.dist.get();
  const int world = world_of(group);
  const bool lead = is_lead(group);  // writes the search directory, shows progress
  SearchOptions options = search_options;
  options.quiet = options.quiet || !lead;
  const ViTConfig& config = teacher.config();
  slim_geometry(config);  // a dense source model, or a clear error
  check(train_data->num_classes() <= config.num_classes, "training data '", train_data->name(),
        "' has ", train_data->num_classes(), " classes but model '", config.name, "' predicts ",
        config.num_classes);
  Stopwatch total_clock;
  SearchResult result;
  if (options.resume) {
    std::optional<SearchResult> done = finished_search(options, teacher_info);
    if (lead_decides(group, done.has_value(), str_cat("a finished search in ", options.out_dir))) {
      done->model->to(teacher.device());
      return *done;
    }
  }
  if (lead) make_dirs(options.out_dir);

  DataLoader loader(train_data, sharded_training_loader_options(*train_data, options.batch_size,
                                                                options.seed, options.augment, group));
  const int64_t steps_per_epoch =
      loader.steps_per_epoch(options.max_steps_per_epoch);

  // The student is a copy: the teacher stays as it is (it may still serve distillation).
  VisionTransformer student = clone_model(teacher);
  SlimMasks masks = make_slim_masks(config, options.tokens);
  const auto device = teacher.device();
  masks.attn = masks.attn.to(device);
  masks.mlp = masks.mlp.to(device);
  if (masks.has_tokens()) masks.tokens = masks.tokens.to(device);
  AdamWOptions adam_options;
  adam_options.weight_decay = options.weight_decay;
  AdamW optimizer(search_parameters(*student, masks, options.freeze_weights), adam_options);
  std::vector<at::Tensor> params;
  for (const auto& [name, p] : optimizer.params()) params.push_back(p);

  int start_epoch = 0;
  const std::string ckpt = options.resume ? find_checkpoint(options.out_dir) : "";
  if (!ckpt.empty()) {
    SearchDir saved = load_search_dir(ckpt, /*require_complete=*/false);
    check_same_search(saved.info, options.trajectory_json(), teacher_info, ckpt);
    check_same_world_size(saved.info, world, ckpt, "searched");
    load_state_dict(*student, state_dict(*saved.model), ckpt + "/" + kWeightsFile);
    copy_masks(saved.masks, masks);
    optimizer.load_state(read_safetensors(ckpt + "/" + kOptimizerFile).tensors,
                         ckpt + "/" + kOptimizerFile);
    result.history = saved.info.at("history");
    start_epoch = saved.info.at("epochs_done");
    result.resumed_after_epoch = start_epoch;
    if (!options.quiet)
      std::fprintf(stderr, "resuming the search from %s after epoch %d\n", ckpt.c_str(),
                   start_epoch);
  }
  std::vector<at::Tensor> synced;  // what data parallelism keeps equal on every rank
  if (group != nullptr) {
    lead_decides(group, static_cast<int64_t>(start_epoch), "the search epoch to resume after");
    // All ranks continue from rank 0's weights, masks and buffers.
    synced = params;
    for (const auto& p : student->parameters()) synced.push_back(p);
    for (const auto& b : student->buffers()) synced.push_back(b);
    agree_with_lead(group, synced);
  }
  const auto info_json = [&](nlohmann::json info) {
    if (world > 1) info["world_size"] = world;
    return info;
  };

  for (int epoch = start_epoch; epoch < options.epochs; ++epoch) {
    Stopwatch epoch_clock;
    nlohmann::json record = search_epoch(*student, masks, teacher, loader, optimizer, params,
                                         options, epoch, steps_per_epoch);
    if (eval_data) {
      const EvalResult eval =
          soft_mask_eval(*student, masks, eval_data, options.eval_batch_size, group);
      record["eval"] = eval_to_json(eval);
      if (!options.quiet) {
        std::fprintf(
            stderr,
            "%s epoch %d/%d  soft-mask test top1 %.2f%%  loss %.4f  |z_attn| %.3f  |z_mlp| %.3f\n",
            options.label.c_str(), epoch + 1, options.epochs, eval.top1, eval.loss,
            record["masks"]["attn"]["mean_abs"].get<double>(),
            record["masks"]["mlp"]["mean_abs"].get<double>());
      }
    }
    // Largest difference of any rank's weights and masks from rank 0's (0 = identical), then
    // rank 0's copied everywhere (data_parallel.h).
    if (group != nullptr) record["dist_max_abs_diff"] = agree_with_lead(group, synced);
    record["seconds"] = epoch_clock.seconds();
    result.history.push_back(record);
    if (lead) {
      save_checkpoint(options.out_dir, *student, masks, optimizer,
                      info_json({{"complete", false},
                                 {"epochs_done", epoch + 1},
                                 {"options", options.trajectory_json()},
                                 {"teacher", teacher_info},
                                 {"history", result.history}}));
    }
  }
  for (const auto& record : result.history) result.search_seconds += record.value("seconds", 0.0);
  if (!result.history.empty())
    result.post_search_eval = result.history.back().value("eval", nlohmann::json());
  for (auto& p : student->parameters()) p.set_requires_grad(true);  // undo --freeze-weights
  for (at::Tensor* m : {&masks.attn, &masks.mlp, &masks.tokens}) {
    if (m->defined()) m->set_requires_grad(false);
  }
  result.model = student;
  result.masks = masks;
  result.seconds = total_clock.seconds();
  if (lead) {
    save_search_dir(options.out_dir, *student, masks,
                    info_json({{"complete", true},
                               {"epochs_done", options.epochs},
                               {"options", options.trajectory_json()},
                               {"teacher", teacher_info},
                               {"history", result.history},
                               {"search_seconds", result.search_seconds},
                               {"post_search_eval", result.post_search_eval},
                               {"masks", slim_mask_stats(masks, student->config())}}));
  }
  barrier(group);  // the search directory is complete when any rank returns
  return result;
}

}  // namespace vitc
