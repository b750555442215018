// DC-ViT's block ranking and progressive removal on ResNets.
#include "compress/dcvit/resnet_dcvit.h"

#include <algorithm>
#include <set>

#include <torch/torch.h>

#include "compress/common/ranking_file.h"
#include "compress/common/resnet_finish.h"
#include "compress/common/resnet_mimic.h"
#include "model/families/resnet/resnet_complexity.h"
#include "model/families/resnet/resnet_model_dir.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace vitc {
namespace {

const char* kRankingFile = "ranking.json";

// What every finetuned stage is computed from besides its structure and the mimic options.
nlohmann::json stage_key_base(const ResNetDcvitSettings& settings, const FewShotSet& few_shot) {
  return {{"teacher", settings.teacher_info}, {"few_shot_indices", few_shot.indices}};
}

// The top-level keys on which `a` and `b` differ, for a refusal that says what changed.
std::string differing_keys(const nlohmann::json& a, const nlohmann::json& b) {
  std::set<std::string> keys;
  for (const auto& j : {a, b})
    if (j.is_object())
      for (const auto& item : j.items()) keys.insert(item.key());
  std::vector<std::string> differ;
  for (const std::string& k : keys)
    if (!a.is_object() || !b.is_object() || a.value(k, nlohmann::json()) != b.value(k, nlohmann::json()))
      differ.push_back(k);
  return differ.empty() ? std::string("nothing") : join(differ, ", ");
}

ResNetDcvitRanking load_resnet_ranking(const std::string& dir) {
  ResNetDcvitRanking r;
  r.dir = dir;
  r.reused = true;
  read_ranking_file(dir, kRankingFile, "DC-ViT ResNet", [&r](const nlohmann::json& j) {
    r.key = j.at("key");
    r.seconds = j.value("seconds", 0.0);
    for (const auto& s : j.at("scores")) {
      ResNetDcvitScore score;
      score.block = s.at("block");
      score.kl_before = s.at("kl_before");
      score.kl = s.at("kl");
      score.finetune = s.value("finetune", nlohmann::json());
      r.scores.push_back(score);
    }
    return r.scores.size();
  });
  return r;
}

// Finetunes `student` (the compact model of `structure`, relative to the teacher) against the
// teacher in stage `dir`, under the front rule; leaves it in eval mode, every parameter
// trainable again.
nlohmann::json finetune_front(ResNet& student, ResNet teacher, const ResNetStructure& structure,
                              const FewShotSet& few_shot, const ResNetDcvitSettings& settings,
                              const MimicOptions& mimic, const std::string& dir,
                              const std::string& label) {
  StageOptions stage;
  stage.dir = dir;
  stage.resume = settings.resume;
  stage.quiet = settings.quiet;
  stage.label = label;
  stage.key = stage_key_base(settings, few_shot);
  stage.key["structure"] = resnet_structure_to_json(structure);
  const int last = resnet_front_last_block(teacher->config(), structure);
  const Trainee trainee = resnet_mimic_trainee(student, teacher, last);
  nlohmann::json result = run_mimic_stage(trainee, few_shot.images, mimic, stage);
  result["last_trained_block"] = last;
  student->eval();
  for (auto& p : student->parameters()) p.set_requires_grad(true);
  return result;
}

ResNetStructure without(const ResNetConfig& config, const ResNetStructure& s, int block) {
  return drop_resnet_blocks(config, s, {block});
}

}  // namespace

nlohmann::json ResNetDcvitSettings::to_json() const {
  return {{"candidates", candidates}, {"mimic", mimic.to_json()},
          {"rank_epochs", ranking_mimic().epochs},
          {"finetune", "pre-pool feature MSE; stem and blocks up to the one after the last "
                       "removed block trained (DC-ViT's front rule), their BatchNorms in train "
                       "mode; later blocks and fc frozen (BatchNorm in eval mode)"}};
}

std::vector<int> ResNetDcvitRanking::order() const {
  std::vector<int> o;
  for (const auto& s : scores) o.push_back(s.block);
  return o;
}

nlohmann::json ResNetDcvitRanking::to_json(const ResNetConfig& config) const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : scores) {
    list.push_back({{"block", s.block}, {"name", config.block_name(s.block)},
                    {"kl_before", s.kl_before}, {"kl", s.kl}, {"finetune", s.finetune}});
  }
  return {{"method", "dc-vit block ranking (ResNet: whole blocks, KL on the synthetic set)"},
          {"order", order()}, {"scores", list}, {"key", key}, {"seconds", seconds}};
}

double resnet_mean_logit_kl(ResNetImpl& student, ResNetImpl& teacher, const at::Tensor& images,
                            int64_t batch_size) {
  torch::NoGradGuard no_grad;
  check(images.size(0) > 0, "resnet_mean_logit_kl: no images");
  student.eval();
  teacher.eval();
  double sum = 0;
  for (int64_t start = 0; start < images.size(0); start += batch_size) {
    const at::Tensor x =
        images.slice(0, start, std::min(images.size(0), start + batch_size)).to(student.device());
    const at::Tensor lt = torch::log_softmax(teacher.forward(x), -1);
    const at::Tensor ls = torch::log_softmax(student.forward(x), -1);
    sum += (lt.exp() * (lt - ls)).sum().item<double>();
  }
  return sum / static_cast<double>(images.size(0));
}

int resnet_front_last_block(const ResNetConfig& teacher, const ResNetStructure& structure) {
  int last_removed = -1, kept = 0;
  for (int i = 0; i < teacher.depth(); ++i) {
    if (!structure.blocks[i].kept) last_removed = i;
    if (structure.blocks[i].kept) ++kept;
  }
  if (last_removed < 0) return kept - 1;
  int before = 0;  // kept blocks before the last removed one = the compact index of its successor
  for (int i = 0; i < last_removed; ++i) before += structure.blocks[i].kept ? 1 : 0;
  return std::min(before, kept - 1);
}

ResNetDcvitRanking rank_resnet_blocks(ResNet teacher, const FewShotSet& few_shot,
                                      const SyntheticSet& metric,
                                      const ResNetDcvitSettings& settings, const std::string& dir,
                                      bool reuse) {
  const ResNetConfig& config = teacher->config();
  check(!settings.candidates.empty(), "DC-ViT: no candidate blocks");
  for (int b : settings.candidates) {
    check(b >= 0 && b < config.depth() && resnet_block_droppable(config, b), "DC-ViT: block ", b,
          " of model '", config.name, "' is not a candidate (every block but a stage's first)");
  }
  nlohmann::json key = stage_key_base(settings, few_shot);
  key["candidates"] = settings.candidates;
  key["mimic"] = settings.ranking_mimic().to_json();
  key["synthetic"] = nlohmann::json::object();
  for (const char* k : {"options", "prior_settings"})
    if (metric.info.is_object() && metric.info.contains(k)) key["synthetic"][k] = metric.info[k];
  if ((reuse || settings.resume) && file_exists(dir + "/" + kRankingFile)) {
    ResNetDcvitRanking done = load_resnet_ranking(dir);
    check(done.key == key, "cannot reuse the DC-ViT ranking in ", dir, ": it was computed with "
          "another ", differing_keys(done.key, key), "; use the same teacher and settings, or "
          "another ranking directory");
    if (!settings.quiet) std::fprintf(stderr, "dc-vit: reusing the ranking in %s\n", dir.c_str());
    return done;
  }
  Stopwatch clock;
  ResNetDcvitRanking r;
  r.dir = dir;
  r.key = key;
  teacher->eval();
  const at::Tensor images = metric.images;
  for (int b : settings.candidates) {
    ResNetDcvitScore s;
    s.block = b;
    const ResNetStructure structure = without(config, full_resnet_structure(config), b);
    ResNet student = slice_resnet(*teacher, structure);
    s.kl_before = resnet_mean_logit_kl(*student, *teacher, images);
    s.finetune = finetune_front(student, teacher, structure, few_shot, settings,
                                settings.ranking_mimic(), str_cat(dir, "/block_", b), str_cat("rank ", config.block_name(b)));
    s.kl = resnet_mean_logit_kl(*student, *teacher, images);
    if (!settings.quiet) {
      std::fprintf(stderr, "dc-vit %s: synthetic-set KL %.5f -> %.5f after finetuning\n",
                   config.block_name(b).c_str(), s.kl_before, s.kl);
    }
    r.scores.push_back(s);
  }
  std::stable_sort(r.scores.begin(), r.scores.end(),
                   [](const auto& a, const auto& b) { return a.kl < b.kl; });
  r.seconds = clock.seconds();
  write_ranking_file(nullptr, dir + "/" + kRankingFile, r.to_json(config));
  return r;
}

ResNetDcvitResult compress_resnet_dcvit(ResNet teacher, const FewShotSet& few_shot,
                                        const ResNetDcvitRanking& ranking, int k,
                                        const ResNetDcvitSettings& settings,
                                        const Dataset& eval_data, const std::string& out_dir,
                                        int64_t eval_batch) {
  const ResNetConfig& config = teacher->config();
  check(k >= 1 && k <= static_cast<int>(ranking.scores.size()), "DC-ViT: cannot remove ", k,
        " blocks of the ", ranking.scores.size(), " ranked");
  const std::vector<int> order = ranking.order();
  // Step 1 is the best candidate's finetuned model from the ranking, unless the ranking
  // finetuned its candidates for other epochs (--rank-epochs): then step 1 is trained here.
  ResNetStructure structure = without(config, full_resnet_structure(config), order[0]);
  nlohmann::json steps = nlohmann::json::array();
  ResNet current{nullptr};
  if (settings.ranking_mimic().to_json() == settings.mimic.to_json()) {
    current = load_resnet_dir(str_cat(ranking.dir, "/block_", order[0])).model;
    current->to(teacher->device());
    current->eval();
    check(current->config().blocks == compact_resnet_config(config, structure).blocks,
          "DC-ViT: the ranking's model for block ", order[0], " in ", ranking.dir,
          " does not match the teacher with that block removed");
    steps.push_back({{"step", 1}, {"removed", config.block_name(order[0])},
                     {"from", str_cat(ranking.dir, "/block_", order[0])}});
  } else {
    current = slice_resnet(*teacher, structure);
    const nlohmann::json finetune =
        finetune_front(current, teacher, structure, few_shot, settings, settings.mimic,
                       str_cat(out_dir, "/steps/step_1"), str_cat("step 1/", k));
    steps.push_back({{"step", 1}, {"removed", config.block_name(order[0])}, {"finetune", finetune}});
  }
  for (int j = 1; j < k; ++j) {
    const int b = order[j];
    // b's index in the current model: the kept blocks before it.
    int index = 0;
    for (int i = 0; i < b; ++i) index += structure.blocks[i].kept ? 1 : 0;
    const ResNetStructure next = without(config, structure, b);
    ResNet student = slice_resnet(
        *current, drop_resnet_blocks(current->config(), full_resnet_structure(current->config()), {index}));
    const nlohmann::json finetune =
        finetune_front(student, teacher, next, few_shot, settings, settings.mimic,
                       str_cat(out_dir, "/steps/step_", j + 1), str_cat("step ", j + 1, "/", k));
    steps.push_back({{"step", j + 1}, {"removed", config.block_name(b)}, {"finetune", finetune}});
    structure = next;
    current = student;
  }
  const EvalResult eval = evaluate(classifier_of(*current), eval_data, eval_batch);
  std::vector<int> dropped(order.begin(), order.begin() + k);
  std::vector<std::string> names;
  for (int b : dropped) names.push_back(config.block_name(b));
  ResNetDcvitResult result;
  result.record = {
      {"dropped", dropped},
      {"dropped_names", names},
      {"steps", steps},
      {"result", resnet_result_json(eval, config, current->config())}};
  save_compressed_resnet(out_dir, *current, config, structure,
                         "DC-ViT (whole blocks, progressive) + feature mimicking");
  result.compact = current;
  result.structure = structure;
  return result;
}

}  // namespace vitc
