// UVC stage-1 loop: soft-gated forward with Gumbel noise, KD loss, AdamW + proximal step on the
// weights, then the primal-dual update of pruning amounts, gates and duals; per-epoch evaluation
// of the structure the variables describe, checkpoints and resume.
#include "compress/uvc/search.h"

#include <cmath>
#include <optional>

#include <torch/torch.h>

#include "model/clone_model.h"
#include "compress/common/data_parallel.h"
#include "compress/common/search_resume.h"
#include "compress/uvc/decision.h"
#include "compress/uvc/groups.h"
#include "compress/uvc/loss.h"
#include "compress/uvc/skip_cost.h"
#include "data/loader.h"
#include "dist/sync.h"
#include "model/model_dir.h"
#include "model/state_dict.h"
#include "model/structure_masks.h"
#include "train/adamw.h"
#include "train/resume_check.h"
#include "train/evaluate.h"
#include "train/schedule.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace vitc {

namespace {

const char* kOptimizerFile = "optimizer.safetensors";

// A search directory: the searched weights (model directory), the UVC state, search.json last.
void write_search_dir(const std::string& dir, VisionTransformerImpl& model, const UvcState& st,
                      const nlohmann::json& info, const AdamW* optimizer) {
  make_dirs(dir);
  save_model_dir(dir, model, {{"searched_by", "vitc uvc (stage 1)"}});
  write_safetensors(dir + "/" + kUvcStateFile, uvc_state_to_tensors(st),
                    {{"format", "vitc-uvc-state"}});
  if (optimizer != nullptr) write_safetensors(dir + "/" + kOptimizerFile, optimizer->state());
  nlohmann::json meta = info;
  meta["format"] = "vitc-uvc-search";
  write_json(dir + "/" + kUvcSearchJsonFile, meta);
}

struct SavedSearch {
  VisionTransformer model{nullptr};
  UvcState state;
  nlohmann::json info;
};

SavedSearch read_search_dir(const std::string& dir, const UvcGeometry& g) {
  SavedSearch s;
  s.info = read_json(dir + "/" + kUvcSearchJsonFile);
  check(s.info.is_object() && s.info.value("format", "") == "vitc-uvc-search", "'", dir, "/",
        kUvcSearchJsonFile, "' is not a UVC search record (expected \"format\": \"vitc-uvc-search\")");
  s.model = load_model_dir(dir).model;
  const std::string state_path = dir + "/" + kUvcStateFile;
  check(file_exists(state_path), "UVC search directory '", dir, "' has no ", kUvcStateFile);
  s.state = uvc_state_from_tensors(read_safetensors(state_path).tensors, g, state_path);
  return s;
}

nlohmann::json decision_json(const UvcDecision& d) {
  nlohmann::json skipped = nlohmann::json::array();
  for (size_t l = 0; l < d.skip.size(); ++l)
    if (d.skip[l]) skipped.push_back(l);
  return {{"skipped_blocks", skipped},
          {"heads_pruned", d.counts.heads},
          {"mlp_pruned", d.counts.mlp},
          {"dims_pruned", d.counts.dims}};
}

// Per block, run logit minus skip logit (> 0: the gates run the block).
std::vector<double> gate_margins(const UvcState& st) {
  const at::Tensor m = (st.gates.select(1, 1) - st.gates.select(1, 0)).contiguous();
  return std::vector<double>(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
}

// Gate values of one forward pass: fixed during the warmup, else a Gumbel-softmax sample
// (soft, tau) of the logits, one per block for the whole batch, as in the reference.
at::Tensor sample_keep(const at::Tensor& gates, bool warmup, double warmup_gate, double tau,
                       at::Generator& gen) {
  if (warmup) return torch::full({gates.size(0)}, warmup_gate, torch::kFloat64);
  const at::Tensor u = at::rand(gates.sizes(), gen, torch::kFloat64).clamp(1e-12, 1.0 - 1e-12);
  const at::Tensor gumbel = -torch::log(-torch::log(u));
  return torch::softmax((gates + gumbel) / tau, 1).select(1, 1);
}

}  // namespace

UvcSearchResult run_uvc_search(VisionTransformer teacher, const nlohmann::json& teacher_info,
                               const std::shared_ptr<const Dataset>& train_data,
                               const std::shared_ptr<const Dataset>& eval_data,
                               const UvcSearchOptions& search_options) {
  search_options.validate();
  dist::Group* group = search_options.dist.get();
  const int world = world_of(group);
  const bool lead = is_lead(group);  // writes the search directory, shows progress
  UvcSearchOptions options = search_options;
  options.quiet = options.quiet || !lead;
  const ViTConfig& config = teacher->config();
  const UvcGeometry g = uvc_geometry(config, options.cost);
  const int64_t dense = g.dense_cost();
  const Resource resource = options.cost.resource();
  const std::string unit = resource_name(resource);
  const auto amount = [resource](int64_t a) { return amount_text(a, resource); };
  check(options.target <= dense, "UVC budget ", amount(options.target), " ", unit,
        " is above the teacher's ", amount(dense), " ('", config.name, "')");
  check(options.target > g.fixed_cost, "UVC budget ", amount(options.target), " ", unit,
        " is unreachable: patch embedding and head alone cost ", amount(g.fixed_cost));
  check(train_data->num_classes() <= config.num_classes, "training data '", train_data->name(),
        "' has ", train_data->num_classes(), " classes but model '", config.name, "' predicts ",
        config.num_classes);
  Stopwatch total_clock;
  UvcSearchResult result;
  const std::string final_json = options.out_dir + "/" + kUvcSearchJsonFile;
  const bool finished = options.resume && file_exists(final_json) &&
                        read_json(final_json).value("complete", false);
  if (lead_decides(group, finished, str_cat("a finished UVC search in ", options.out_dir))) {
    SavedSearch done = read_search_dir(options.out_dir, g);
    check_same_search(done.info, options.trajectory_json(), teacher_info, options.out_dir);
    result.model = done.model;
    result.model->to(teacher->device());
    result.state = done.state;
    result.history = done.info.at("history");
    result.reused = true;
    result.search_seconds = done.info.value("search_seconds", 0.0);
    if (!options.quiet)
      std::fprintf(stderr, "reusing the finished UVC search in %s\n", options.out_dir.c_str());
    return result;
  }
  if (lead) make_dirs(options.out_dir);

  DataLoader loader(train_data, sharded_training_loader_options(*train_data, options.batch_size,
                                                                options.seed, options.augment, group));
  const int64_t steps_per_epoch =
      loader.steps_per_epoch(options.max_steps_per_epoch);
  const int64_t total_steps = steps_per_epoch * options.epochs;
  const int64_t warmup_steps = std::llround(options.warmup_epochs * steps_per_epoch);

  CosineSchedule schedule;
  schedule.base_lr = options.lr;
  schedule.min_lr = options.min_lr;
  schedule.warmup_lr = std::min(1e-6, options.lr);
  schedule.warmup_steps = std::llround(options.lr_warmup_epochs * steps_per_epoch);
  schedule.total_steps = total_steps;

  VisionTransformer student = clone_model(*teacher);
  student->train();
  teacher->eval();
  AdamWOptions adam_options;
  adam_options.weight_decay = options.weight_decay;
  AdamW optimizer(trainable_parameters(*student), adam_options);
  std::vector<at::Tensor> params;
  for (const auto& [name, p] : optimizer.params()) params.push_back(p);
  UvcState st = make_uvc_state(g);

  int start_epoch = 0;
  const std::string ckpt = options.resume
                               ? find_complete_directory(options.out_dir, "checkpoint",
                                                         kUvcSearchJsonFile)
                               : "";
  if (!ckpt.empty()) {
    SavedSearch saved = read_search_dir(ckpt, g);
    check_same_search(saved.info, options.trajectory_json(), teacher_info, ckpt);
    check_same_world_size(saved.info, world, ckpt, "searched");
    load_state_dict(*student, state_dict(*saved.model), ckpt + "/" + kWeightsFile);
    optimizer.load_state(read_safetensors(ckpt + "/" + kOptimizerFile).tensors,
                         ckpt + "/" + kOptimizerFile);
    st = saved.state;
    result.history = saved.info.at("history");
    start_epoch = saved.info.at("epochs_done");
    result.resumed_after_epoch = start_epoch;
    if (!options.quiet)
      std::fprintf(stderr, "resuming the UVC search from %s after epoch %d\n", ckpt.c_str(),
                   start_epoch);
  }
  // What data parallelism keeps equal on every rank: weights, buffers and UVC's variables.
  const auto synced_tensors = [&] {
    std::vector<at::Tensor> t;
    for (const auto& p : student->parameters()) t.push_back(p);
    for (const auto& b : student->buffers()) t.push_back(b);
    for (const at::Tensor* v : {&st.s, &st.r, &st.gates, &st.y, &st.p, &st.z, &st.gate_momentum,
                                &st.gate_task_sum, &st.gate_resource_sum, &st.gate_grad_steps})
      t.push_back(*v);
    return t;
  };
  if (group != nullptr) {
    lead_decides(group, static_cast<int64_t>(start_epoch), "the UVC search epoch to resume after");
    agree_with_lead(group, synced_tensors());  // all ranks continue from rank 0's
  }
  const auto info_json = [&](nlohmann::json info) {
    if (world > 1) info["world_size"] = world;
    return info;
  };

  const double budget = static_cast<double>(options.target) / static_cast<double>(dense);
  const std::string budget_key = resource_key(resource);  // "macs", "params" or "latency"
  const auto device = teacher->device();
  for (int epoch = start_epoch; epoch < options.epochs; ++epoch) {
    Stopwatch epoch_clock;
    student->train();
    loader.start_epoch(epoch);
    at::Generator gen = at::detail::createCPUGenerator(options.seed * 1000003ULL + epoch + 1);
    Progress progress(str_cat(options.label, " epoch ", epoch + 1, "/", options.epochs),
                      steps_per_epoch, options.quiet);
    double loss_sum = 0, lr = 0,
           fraction = current_budget_fraction(st, g, group_scores(*student, g));
    int64_t images = 0, gate_steps = 0, saturated = 0;
    Batch batch;
    for (int64_t step = 0; step < steps_per_epoch && loader.next(batch); ++step) {
      batch = batch.to(student->device());
      const int64_t global = static_cast<int64_t>(epoch) * steps_per_epoch + step;
      const bool warmup = global < warmup_steps;
      lr = schedule.at(global);
      optimizer.zero_grad();
      const at::Tensor keep =
          sample_keep(st.gates, warmup, options.warmup_gate, options.primal_dual.tau, gen);
      ModelMasks masks;
      masks.blocks.resize(g.depth);
      for (int l = 0; l < g.depth; ++l)
        masks.blocks[l].gate = keep[l].to(device, torch::kFloat32);
      const HeadOutputs out = student->forward_heads(batch.images, &masks);
      const at::Tensor target =
          options.loss.uses_teacher() ? teacher_logits(*teacher, batch.images) : at::Tensor();
      const at::Tensor loss = uvc_loss(out, target, batch.labels, options.loss);
      // With a group: the mean over the ranks, weight gradients averaged (data_parallel.h).
      const double loss_value = backward_and_average(loss, params, group);
      check(std::isfinite(loss_value), options.label, ": loss became ", loss_value, " at epoch ",
            epoch + 1, " step ", step + 1, " (lower --search-lr?)");
      if (options.clip_grad > 0) torch::nn::utils::clip_grad_norm_(params, options.clip_grad);
      optimizer.step(lr);
      prox_shrink(*student, g, group_scores(*student, g), current_decision(st, g).counts, st.y,
                  st.p, lr);
      if (!warmup) {
        // Before a gate step: what skipping each block costs now, on this batch (averaged over
        // the ranks, so that every rank takes the same gate step).
        at::Tensor skip_costs;
        if (gate_step_due(st, options.primal_dual)) {
          skip_costs = measure_skip_costs(*student, batch.images, target, batch.labels,
                                          options.loss, current_decision(st, g).skip);
          if (group != nullptr) {
            std::vector<double> v(skip_costs.data_ptr<double>(),
                                  skip_costs.data_ptr<double>() + skip_costs.numel());
            dist::allreduce_sum(*group, v);
            for (size_t l = 0; l < v.size(); ++l) skip_costs[l] = v[l] / world;
          }
        }
        const double zlr = options.zlr_at(global - warmup_steps, total_steps - warmup_steps);
        const PrimalDualStats stats = primal_dual_step(st, g, group_scores(*student, g), budget,
                                                       zlr, options.primal_dual, skip_costs);
        fraction = stats.budget_fraction;
        gate_steps += stats.gate_step;
        saturated += stats.saturated;
      }
      loss_sum += loss_value;
      images += batch.labels.size(0) * world;
      progress.update(step + 1, batch.labels.size(0) * world,
                      {{"loss", loss_sum / (step + 1)},
                       {budget_key, fraction},
                       {"budget", budget},
                       {"z", st.z.item<double>()},
                       {"lr", lr}});
    }
    const double train_seconds = epoch_clock.seconds();
    progress.finish(
        {{"loss", loss_sum / steps_per_epoch}, {budget_key, fraction}, {"z", st.z.item<double>()}});
    const GroupScores scores = group_scores(*student, g);
    const UvcDecision decision = current_decision(st, g);
    nlohmann::json record = {{"epoch", epoch + 1},
                             {"loss", loss_sum / steps_per_epoch},
                             {"lr", lr},
                             {"train_seconds", train_seconds},
                             {"train_images_per_s", images / train_seconds},
                             {budget_key + "_fraction", current_budget_fraction(st, g, scores)},
                             {"budget", budget},
                             {"z", st.z.item<double>()},
                             {"y_mean", st.y.mean().item<double>()},
                             {"p_mean", st.p.mean().item<double>()},
                             {"gate_steps", gate_steps},
                             {"gate_margins", gate_margins(st)},
                             {"saturated_steps", saturated},
                             {"decision", decision_json(decision)}};
    if (eval_data) {
      // What slicing the current decision would give, before any finetuning.
      const Structure structure = decision_structure(config, g, decision, scores);
      const ModelMasks view =
          masks_to(structure_masks(config, structure), teacher->options());
      const EvalResult eval =
          evaluate_sharded(*student, eval_data, options.eval_batch_size, group, &view);
      record["eval_current_structure"] = eval_to_json(eval);
      if (!options.quiet) {
        std::fprintf(stderr,
                     "%s epoch %d/%d  %s %.3f of the teacher (budget %.3f)  z %.4g  "
                     "gates skip %s  top1 of the current structure %.2f%%\n",
                     options.label.c_str(), epoch + 1, options.epochs, unit.c_str(),
                     record[budget_key + "_fraction"].get<double>(), budget, st.z.item<double>(),
                     record["decision"]["skipped_blocks"].dump().c_str(), eval.top1);
      }
    }
    // Largest difference of any rank's weights and UVC variables from rank 0's (0 = identical),
    // then rank 0's copied everywhere (data_parallel.h).
    if (group != nullptr) record["dist_max_abs_diff"] = agree_with_lead(group, synced_tensors());
    record["seconds"] = epoch_clock.seconds();
    result.history.push_back(record);
    const nlohmann::json info = info_json({{"complete", false},
                                           {"epochs_done", epoch + 1},
                                           {"options", options.trajectory_json()},
                                           {"teacher", teacher_info},
                                           {"history", result.history}});
    if (lead) {
      replace_directory(options.out_dir, "checkpoint", [&](const std::string& dir) {
        write_search_dir(dir, *student, st, info, &optimizer);
      });
    }
  }
  for (const auto& record : result.history) result.search_seconds += record.value("seconds", 0.0);
  result.model = student;
  result.state = st;
  result.seconds = total_clock.seconds();
  if (lead) {
    write_search_dir(options.out_dir, *student, st,
                     info_json({{"complete", true},
                                {"epochs_done", options.epochs},
                                {"options", options.trajectory_json()},
                                {"teacher", teacher_info},
                                {"history", result.history},
                                {"search_seconds", result.search_seconds}}),
                     nullptr);
  }
  barrier(group);  // the search directory is complete when any rank returns
  return result;
}

}  // namespace vitc
