// Candidate-by-candidate compression, finetuning and scoring on the synthetic set.
#include "compress/dcvit/ranking.h"

#include <algorithm>

#include "compress/common/ranking_file.h"
#include "model/block_groups.h"
#include "model/clone_model.h"
#include "compress/common/data_parallel.h"
#include "compress/dcvit/plan.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace vitc {

std::vector<int> Ranking::order() const {
  std::vector<int> out;
  for (const CandidateScore& s : scores) out.push_back(s.block);
  return out;
}

std::string Ranking::candidate_dir(int block) const { return str_cat(dir, "/block_", block); }

nlohmann::json Ranking::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const CandidateScore& s : scores) {
    nlohmann::json neurons = nlohmann::json::object();  // block -> kept neurons
    for (const auto& [block, kept] : s.neurons) neurons[std::to_string(block)] = kept;
    list.push_back({{"block", s.block},
                    {"kl", s.kl},
                    {"kl_before_finetune", s.kl_before},
                    {"neurons", neurons},
                    {"seconds", s.seconds},
                    {"finetune", s.finetune}});
  }
  return {{"method", "dc-vit block selection"},
          {"hidden", hidden},
          {"order", order()},
          {"scores", list},
          {"key", key},
          {"seconds", seconds}};
}

namespace {
const char* kRankingFile = "ranking.json";

void sort_scores(std::vector<CandidateScore>& scores) {
  std::stable_sort(scores.begin(), scores.end(), [](const CandidateScore& x, const CandidateScore& y) {
    return x.kl < y.kl || (x.kl == y.kl && x.block < y.block);
  });
}
}  // namespace

Ranking rank_blocks(const DcvitInputs& in, int hidden, const DcvitSettings& settings,
                    const std::string& dir) {
  check(!settings.candidates.empty(), "DC-ViT ranking: no candidate blocks");
  check(in.synthetic.images.defined() && in.synthetic.images.size(0) > 0,
        "DC-ViT ranking: the synthetic metric set is empty");
  VisionTransformer teacher_holder = in.teacher;
  VisionTransformerImpl& teacher = *teacher_holder;
  Ranking ranking;
  ranking.dir = dir;
  ranking.hidden = hidden;
  ranking.key = stage_key_base(in, settings);
  ranking.key["hidden"] = hidden;
  ranking.key["candidates"] = settings.candidates;
  ranking.key["mimic"] = settings.ranking_mimic().to_json();
  ranking.key["synthetic"] = in.synthetic.info.is_object()
                                 ? in.synthetic.info.value("options", nlohmann::json())
                                 : nlohmann::json();
  dist::Group* group = settings.dist.get();
  const bool lead = is_lead(group);
  const bool quiet = settings.quiet || !lead;
  if (lead_decides(group, settings.resume && file_exists(dir + "/" + kRankingFile),
                   str_cat("a finished DC-ViT ranking in ", dir))) {
    Ranking done = load_ranking(dir);
    check(done.key == ranking.key, "cannot resume: the ranking in ", dir,
          " was computed with other settings; use the same settings or a new --out");
    if (!quiet) std::fprintf(stderr, "ranking: reusing %s\n", dir.c_str());
    return done;
  }
  if (lead) make_dirs(dir);
  Stopwatch clock;
  for (size_t i = 0; i < settings.candidates.size(); ++i) {
    const int b = settings.candidates[i];
    Stopwatch candidate_clock;
    VisionTransformer model = clone_model(teacher);
    model->eval();
    CandidateScore score;
    score.block = b;
    for (int block : block_group(teacher.config(), b)) {
      score.neurons[block] = choose_neurons(*model, ModelMasks{}, block, hidden, in, settings);
    }
    const Structure s = dcvit_structure(teacher.config(), score.neurons);
    const ModelMasks masks = lean_structure_masks(teacher.config(), s, teacher.device());
    score.kl_before = mean_logit_kl(*model, &masks, teacher, in.synthetic.images);
    set_mimic_trainable(*model, front_last_block(s), s);
    StageOptions stage;
    stage.dir = ranking.candidate_dir(b);
    stage.resume = settings.resume;
    stage.quiet = settings.quiet;
    stage.dist = settings.dist;
    stage.label = str_cat("rank ", i + 1, "/", settings.candidates.size(), " block ",
                          join(block_group(teacher.config(), b), "+"));
    stage.key = ranking.key;
    stage.key["structure"] = structure_to_json(s);
    score.finetune = run_mimic_stage(model, masks, in.teacher, in.few_shot.images,
                                     settings.ranking_mimic(), stage);
    score.kl = mean_logit_kl(*model, &masks, teacher, in.synthetic.images);
    if (group != nullptr) {  // the ranking is rank 0's (every rank computed the same)
      std::vector<double> kls = {score.kl_before, score.kl};
      broadcast_values(group, kls);
      score.kl_before = kls[0];
      score.kl = kls[1];
    }
    score.seconds = candidate_clock.seconds();
    if (!quiet) {
      std::fprintf(stderr, "rank: block %s  KL on the synthetic set %.5f (before finetuning %.5f)  %s\n",
                   join(block_group(teacher.config(), b), "+").c_str(), score.kl, score.kl_before,
                   format_duration(score.seconds).c_str());
    }
    ranking.scores.push_back(std::move(score));
  }
  sort_scores(ranking.scores);
  ranking.seconds = clock.seconds();
  write_ranking_file(group, dir + "/" + kRankingFile, ranking.to_json());
  return ranking;
}

Ranking load_ranking(const std::string& dir) {
  Ranking r;
  r.dir = dir;
  read_ranking_file(dir, kRankingFile, "DC-ViT", [&r](const nlohmann::json& j) {
    r.hidden = j.at("hidden");
    r.key = j.at("key");
    r.seconds = j.value("seconds", 0.0);
    for (const auto& s : j.at("scores")) {
      CandidateScore c;
      c.block = s.at("block");
      c.kl = s.at("kl");
      c.kl_before = s.at("kl_before_finetune");
      const nlohmann::json& neurons = s.at("neurons");
      if (neurons.is_array()) {  // written before block groups: the candidate's one block
        c.neurons[c.block] = neurons.get<std::vector<int>>();
      } else {
        for (const auto& [block, kept] : neurons.items()) {
          c.neurons[std::stoi(block)] = kept.get<std::vector<int>>();
        }
      }
      c.seconds = s.value("seconds", 0.0);
      c.finetune = s.value("finetune", nlohmann::json());
      r.scores.push_back(std::move(c));
    }
    return r.scores.size();
  });
  sort_scores(r.scores);
  return r;
}

}  // namespace vitc
