// One block at a time: choose neurons from the current weights, mask, finetune the front.
#include "compress/dcvit/progressive.h"

#include "model/block_groups.h"
#include "model/clone_model.h"
#include "compress/common/data_parallel.h"
#include "compress/dcvit/plan.h"
#include "model/model_dir.h"
#include "model/state_dict.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace vitc {

namespace {

// Whether the ranking's finetuned candidate of `block` is what step 0 would compute.
bool candidate_reusable(const Ranking* ranking, int block, int hidden, const nlohmann::json& key) {
  if (ranking == nullptr || ranking->hidden != hidden) return false;
  nlohmann::json expected = ranking->key;
  expected["hidden"] = hidden;
  for (const char* field : {"teacher", "few_shot_indices", "neurons", "neuron_seed", "mimic"}) {
    if (!key.contains(field) || expected.value(field, nlohmann::json()) != key[field]) return false;
  }
  return file_exists(ranking->candidate_dir(block) + "/stage.json");
}

}  // namespace

ProgressiveResult compress_progressively(const DcvitInputs& in, const std::vector<int>& blocks,
                                         int hidden, const DcvitSettings& settings,
                                         const std::string& dir, const Ranking* ranking) {
  check(!blocks.empty(), "DC-ViT: no blocks to compress");
  VisionTransformer teacher_holder = in.teacher;
  VisionTransformerImpl& teacher = *teacher_holder;
  const ViTConfig& config = teacher.config();
  ProgressiveResult result;
  result.model = clone_model(teacher);
  result.model->eval();
  result.structure = dense_structure(config);
  ModelMasks masks;
  dist::Group* group = settings.dist.get();
  const bool quiet = settings.quiet || !is_lead(group);
  if (is_lead(group)) make_dirs(dir);
  nlohmann::json key_base = stage_key_base(in, settings);
  key_base["mimic"] = settings.mimic.to_json();
  for (size_t t = 0; t < blocks.size(); ++t) {
    const int b = blocks[t];  // a candidate: its group's blocks go together
    const std::vector<int> members = block_group(config, b);
    Stopwatch clock;
    nlohmann::json neurons = nlohmann::json::object();
    for (int block : members) {
      check(!result.kept.count(block), "DC-ViT: block ", block, " is listed twice");
      result.kept[block] = choose_neurons(*result.model, masks, block, hidden, in, settings);
      neurons[std::to_string(block)] = result.kept[block];
    }
    result.structure = dcvit_structure(config, result.kept);
    masks = lean_structure_masks(config, result.structure, result.model->device());
    const int last = front_last_block(result.structure);
    set_mimic_trainable(*result.model, last, result.structure);
    nlohmann::json step = {{"step", t + 1}, {"block", b}, {"blocks", members},
                           {"trainable_up_to_block", last}, {"neurons", neurons}};
    if (lead_decides(group, t == 0 && candidate_reusable(ranking, b, hidden, key_base),
                     str_cat("reusing the ranking's candidate of block ", b))) {
      const std::string from = ranking->candidate_dir(b);
      LoadedModel loaded = load_model_dir(from);
      torch::NoGradGuard no_grad;
      load_state_dict(*result.model, state_dict(*loaded.model), from + "/" + kWeightsFile);
      step["reused_ranking_candidate"] = from;
      if (!quiet) std::fprintf(stderr, "step 1: reusing the ranking's finetuned block %d (%s)\n", b, from.c_str());
    } else {
      StageOptions stage;
      stage.dir = str_cat(dir, "/step_", t + 1, "_block_", b);
      stage.resume = settings.resume;
      stage.quiet = settings.quiet;
      stage.dist = settings.dist;
      stage.label = str_cat("step ", t + 1, "/", blocks.size(), " block ", b);
      stage.key = key_base;
      stage.key.erase("mimic");  // run_mimic_stage adds it
      stage.key["hidden"] = hidden;
      stage.key["blocks_so_far"] = std::vector<int>(blocks.begin(), blocks.begin() + t + 1);
      stage.key["structure"] = structure_to_json(result.structure);
      step["finetune"] = run_mimic_stage(result.model, masks, in.teacher, in.few_shot.images,
                                         settings.mimic, stage);
      step["dir"] = stage.dir;
    }
    step["kl_synthetic"] = mean_logit_kl(*result.model, &masks, teacher, in.synthetic.images);
    step["seconds"] = clock.seconds();
    if (!quiet) {
      std::fprintf(stderr, "step %zu/%zu: block %s compressed (MLP %d), KL on the synthetic set %.5f  %s\n",
                   t + 1, blocks.size(), join(members, "+").c_str(), hidden, step["kl_synthetic"].get<double>(),
                   format_duration(clock.seconds()).c_str());
    }
    result.steps.push_back(step);
  }
  for (auto& p : result.model->parameters()) p.set_requires_grad(true);
  return result;
}

}  // namespace vitc
