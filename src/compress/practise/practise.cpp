// PRACTISE scoring (recoverability / latency reduction), block dropping and finetuning.
#include "compress/practise/practise.h"

#include <algorithm>

#include <torch/torch.h>

#include "compress/common/candidate_blocks.h"
#include "compress/common/ranking_file.h"
#include "model/block_groups.h"
#include "model/clone_model.h"
#include "compress/common/data_parallel.h"
#include "compress/common/finalize.h"
#include "model/complexity.h"
#include "model/slice.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace vitc {

nlohmann::json PractiseSettings::to_json() const {
  return {{"candidates", candidates},
          {"recover", recover.to_json()},
          {"mimic", mimic.to_json()},
          {"finetune_all", finetune_all},
          {"latency_repeats", latency_repeats}};
}

std::vector<int> PractiseRanking::order() const {
  std::vector<int> out;
  for (const PractiseScore& s : scores) out.push_back(s.block);
  return out;
}

namespace {

const char* kRankingFile = "practise_ranking.json";

nlohmann::json score_json(const PractiseScore& s) {
  return {{"block", s.block},
          {"recoverability", s.recoverability},
          {"kl_without_adaptors", s.kl_before},
          {"latency_reduction_percent", s.latency_reduction},
          {"score", s.score},
          {"recover", s.recover}};
}

PractiseScore score_from_json(const nlohmann::json& j) {
  PractiseScore s;
  s.block = j.at("block");
  s.recoverability = j.at("recoverability");
  s.kl_before = j.at("kl_without_adaptors");
  s.latency_reduction = j.at("latency_reduction_percent");
  s.score = j.at("score");
  s.recover = j.value("recover", nlohmann::json());
  return s;
}

void sort_scores(std::vector<PractiseScore>& scores) {
  std::stable_sort(scores.begin(), scores.end(), [](const PractiseScore& x, const PractiseScore& y) {
    return x.score < y.score || (x.score == y.score && x.block < y.block);
  });
}

// Every block of the candidates `dropped` (block groups: model/block_groups.h) skipped.
Structure drop_structure(const ViTConfig& config, const std::vector<int>& dropped) {
  Structure s = dense_structure(config);
  for (int c : dropped) {
    check(c >= 0 && c < config.depth(), "PRACTISE: block ", c, " is outside [0, ", config.depth(), ")");
    for (int b : block_group(config, c)) s.blocks[static_cast<size_t>(b)] = BlockKeep{true, false, {}, {}, {}};
  }
  validate_structure(s, config);
  return s;
}

}  // namespace

int drops_for_budget(const ViTConfig& config, const std::vector<int>& order,
                     const CostModel& cost, int64_t target, double tolerance) {
  const Resource resource = cost.resource();
  const std::string unit = resource_name(resource);
  check(target > 0, "PRACTISE: the ", unit, " target must be positive, got ", target);
  const double limit = static_cast<double>(target) * (1.0 + tolerance);
  std::vector<int> dropped;
  int64_t amount = source_cost(config, cost);
  if (amount <= limit) return 0;
  for (int b : order) {
    dropped.push_back(b);
    amount = compact_cost(config, drop_structure(config, dropped), cost);
    if (amount <= limit) return static_cast<int>(dropped.size());
  }
  fail("PRACTISE: a ", unit, " target of ", amount_text(target, resource),
       " is not reachable by dropping whole candidate blocks; the smallest reachable is ",
       amount_text(amount, resource), " ", unit, " (all ", order.size(),
       " candidates dropped; widen --min-block/--max-block or raise the target)");
}

namespace {

// Percent of the teacher's time (or MACs) saved by dropping `block`, timings interleaved.
double latency_reduction(VisionTransformerImpl& teacher, int block, const LatencyFn& latency,
                         int repeats) {
  const Structure s = drop_structure(teacher.config(), {block});
  if (!latency) {
    const double full = static_cast<double>(compute_complexity(teacher.config()).macs());
    const double dropped = static_cast<double>(compute_complexity(compact_config(teacher.config(), s)).macs());
    return 100.0 * (full - dropped) / full;
  }
  VisionTransformer dropped = slice_model(teacher, s);
  dropped->eval();
  return interleaved_reduction_percent([&] { return latency(teacher); },
                                       [&] { return latency(*dropped); }, repeats);
}

}  // namespace

double interleaved_reduction_percent(const std::function<double()>& teacher_ms,
                                     const std::function<double()>& dropped_ms, int repeats) {
  check(repeats >= 1, "latency rounds must be at least 1, got ", repeats);
  double reduction = 0;
  for (int attempt = 0, rounds = repeats; attempt < 3; ++attempt, rounds *= 2) {
    std::vector<double> t, d;
    for (int i = 0; i < rounds + 1; ++i) {  // the first round warms up
      const double tt = teacher_ms(), td = dropped_ms();
      if (i > 0) t.push_back(tt), d.push_back(td);
    }
    std::sort(t.begin(), t.end());
    std::sort(d.begin(), d.end());
    const double mt = t[t.size() / 2], md = d[d.size() / 2];
    reduction = 100.0 * (mt - md) / mt;
    if (reduction > 0) break;
  }
  return reduction;
}

nlohmann::json PractiseRanking::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const PractiseScore& s : scores) list.push_back(score_json(s));
  return {{"method", "practise block scoring"},
          {"order", order()},
          {"scores", list},
          {"latency_source", latency_source},
          {"key", key},
          {"seconds", seconds}};
}

PractiseRanking rank_practise(VisionTransformer teacher, const nlohmann::json& teacher_info,
                              const FewShotSet& few_shot, const PractiseSettings& settings,
                              const std::string& dir, const LatencyFn& latency) {
  settings.recover.validate();
  check(!settings.candidates.empty(), "PRACTISE: no candidate blocks");
  check(settings.latency_repeats >= 1, "--latency-repeats must be at least 1 for PRACTISE scoring");
  PractiseRanking r;
  r.dir = dir;
  r.latency_source = latency ? "measured" : "macs";
  r.key = {{"teacher", teacher_info},
           {"few_shot_indices", few_shot.indices},
           {"candidates", settings.candidates},
           {"recover", settings.recover.to_json()},
           {"latency_source", r.latency_source}};
  dist::Group* group = settings.dist.get();
  const bool lead = is_lead(group);
  const bool quiet = settings.quiet || !lead;
  const std::string path = dir + "/" + kRankingFile;
  if (lead_decides(group, settings.resume && file_exists(path),
                   str_cat("a finished PRACTISE ranking in ", dir))) {
    PractiseRanking done = load_practise_ranking(dir);
    check(done.key == r.key, "cannot resume: the PRACTISE ranking in ", dir,
          " was computed with other settings; use the same settings or a new --out");
    return done;
  }
  if (lead) make_dirs(dir);
  Stopwatch clock;
  teacher->eval();
  for (size_t i = 0; i < settings.candidates.size(); ++i) {
    const int b = settings.candidates[i];
    const std::string cached = str_cat(dir, "/candidate_", b, ".json");
    const bool reusable = settings.resume && file_exists(cached) &&
                          read_json(cached).value("key", nlohmann::json()) == r.key;
    if (lead_decides(group, reusable, str_cat("a finished candidate in ", cached))) {
      r.scores.push_back(score_from_json(read_json(cached).at("score")));
      continue;
    }
    PractiseScore s;
    s.block = b;
    const std::vector<int> members = block_group(teacher->config(), b);
    const std::set<int> dropped(members.begin(), members.end());
    VisionTransformer model = clone_model(*teacher);
    Adaptors adaptors = make_adaptors(*model, dropped);
    s.kl_before = adapted_logit_kl(*model, dropped, adaptors, *teacher, *few_shot.images);
    s.recover = train_adaptors(*model, dropped, adaptors, *teacher, few_shot.images,
                               settings.recover, quiet, group);
    s.recoverability = adapted_logit_kl(*model, dropped, adaptors, *teacher, *few_shot.images);
    // Timings differ between processes: rank 0 alone measures (the others wait in the
    // broadcast), and every rank takes rank 0's numbers, so the ranking is rank 0's.
    s.latency_reduction =
        lead ? latency_reduction(*teacher, b, latency, settings.latency_repeats) : 0.0;
    if (group != nullptr) {
      std::vector<double> values = {s.kl_before, s.recoverability, s.latency_reduction};
      broadcast_values(group, values);
      s.kl_before = values[0];
      s.recoverability = values[1];
      s.latency_reduction = values[2];
    }
    check(s.latency_reduction > 0, "PRACTISE: dropping block ", join(members, "+"),
          " did not reduce the measured latency (", s.latency_reduction,
          "%, measured again with up to 7x --latency-repeats rounds); the machine is too noisy: "
          "raise --latency-repeats, or use --latency-proxy-macs");
    s.score = s.recoverability / s.latency_reduction;
    if (!quiet) {
      std::fprintf(stderr,
                   "practise: candidate %zu/%zu (block %s)  recoverability %.5f (without adaptors "
                   "%.5f) / latency reduction %.2f%% = %.6f\n",
                   i + 1, settings.candidates.size(), join(members, "+").c_str(), s.recoverability, s.kl_before,
                   s.latency_reduction, s.score);
    }
    if (lead) write_json(cached, {{"key", r.key}, {"score", score_json(s)}});
    r.scores.push_back(s);
  }
  sort_scores(r.scores);
  r.seconds = clock.seconds();
  check_same_on_all_ranks(group, nlohmann::json(r.order()).dump(), "the PRACTISE ranking");
  write_ranking_file(group, path, r.to_json());
  return r;
}

PractiseRanking load_practise_ranking(const std::string& dir) {
  PractiseRanking r;
  r.dir = dir;
  read_ranking_file(dir, kRankingFile, "PRACTISE", [&r](const nlohmann::json& j) {
    r.key = j.at("key");
    r.latency_source = j.at("latency_source");
    r.seconds = j.value("seconds", 0.0);
    for (const auto& s : j.at("scores")) r.scores.push_back(score_from_json(s));
    return r.scores.size();
  });
  sort_scores(r.scores);
  return r;
}

PractiseResult compress_practise(VisionTransformer teacher, const nlohmann::json& teacher_info,
                                 const FewShotSet& few_shot, const PractiseRanking& ranking,
                                 int drop, const PractiseSettings& settings,
                                 const Dataset& eval_data, const std::string& out_dir,
                                 int64_t eval_batch) {
  settings.mimic.validate();
  check(drop >= 1 && drop <= static_cast<int>(ranking.scores.size()), "--drop ", drop,
        " must lie in [1, ", ranking.scores.size(), "] (the scored candidate blocks)");
  Stopwatch clock;
  const ViTConfig& config = teacher->config();
  const std::vector<int> order = ranking.order();
  const std::vector<int> candidates(order.begin(), order.begin() + drop);
  const Structure s = drop_structure(config, candidates);
  std::vector<int> dropped = candidate_group_blocks(config, candidates);
  std::sort(dropped.begin(), dropped.end());
  const ModelMasks masks = lean_structure_masks(config, s, teacher->device());
  VisionTransformer model = clone_model(*teacher);  // adaptors discarded: teacher weights
  const int last = settings.finetune_all ? config.depth() - 1 : front_last_block(s);
  set_mimic_trainable(*model, last, s);
  StageOptions stage;
  stage.dir = out_dir + "/finetune";
  stage.resume = settings.resume;
  stage.quiet = settings.quiet;
  stage.dist = settings.dist;
  stage.label = str_cat("practise finetune (drop ", join(dropped), ")");
  stage.key = {{"teacher", teacher_info},
               {"few_shot_indices", few_shot.indices},
               {"structure", structure_to_json(s)},
               {"trainable_up_to_block", last}};
  const nlohmann::json finetune =
      run_mimic_stage(model, masks, teacher, few_shot.images, settings.mimic, stage);
  for (auto& p : model->parameters()) p.set_requires_grad(true);
  const nlohmann::json provenance = {{"compressed_by", "vitc practise (PRACTISE, ViT port)"},
                                     {"dropped_blocks", dropped}};
  FinalModel f = finalize_compressed(*model, s, eval_data, eval_batch, out_dir, provenance,
                                     settings.dist.get());
  PractiseResult r;
  r.compact = f.compact;
  r.record = {{"dropped", dropped},
              {"trainable_up_to_block", last},
              {"finetune", finetune},
              {"result", f.record},
              {"seconds", clock.seconds()}};
  return r;
}

}  // namespace vitc
