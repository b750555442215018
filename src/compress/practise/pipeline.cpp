// PRACTISE's budget, ranking (scored or reused), compression and run record.
#include "compress/practise/pipeline.h"

#include <cstdio>

#include "compress/common/candidate_blocks.h"
#include "model/complexity.h"
#include "util/error.h"
#include "util/progress.h"

namespace vitc {

void check_practise_run(const ViTConfig& teacher, PractiseRunOptions& options) {
  if (!options.budget && options.drop == 0) options.drop = 1;
  check(options.budget || options.drop >= 1, "--drop must be at least 1, got ", options.drop);
  options.settings.candidates = candidate_blocks(teacher, options.first_block, options.last_block);
  const std::vector<int>& candidates = options.settings.candidates;
  check(options.drop <= static_cast<int>(candidates.size()), "--drop ", options.drop,
        " is more than the ", candidates.size(), " candidate blocks");
  if (options.budget) {  // the best any order can do: an unreachable budget fails here
    const CostModel cost = options.budget->cost_model();
    drops_for_budget(teacher, candidates, cost, options.budget->resolve(source_cost(teacher, cost)),
                     options.budget->tolerance);
  }
}

PractiseRunResult run_practise(VisionTransformer teacher, const nlohmann::json& teacher_info,
                               const FewShotSet& few_shot, const Dataset& eval_data,
                               PractiseRunOptions options, const LatencyFn& latency) {
  check_practise_run(teacher->config(), options);
  const PractiseSettings& settings = options.settings;
  const bool lead = settings.dist == nullptr || settings.dist->rank() == 0;
  PractiseRunResult out;
  out.teacher_eval = evaluate(*teacher, eval_data, options.eval_batch);
  if (lead && !settings.quiet) std::fprintf(stderr, "teacher top1 %.2f%%\n", out.teacher_eval.top1);

  Stopwatch rank_clock;
  const bool reuse = !options.ranking_dir.empty();
  const PractiseRanking ranking =
      reuse ? load_practise_ranking(options.ranking_dir)
            : rank_practise(teacher, teacher_info, few_shot, settings, options.out_dir + "/ranking",
                            latency);
  const double rank_seconds = rank_clock.seconds();
  if (lead && !settings.quiet)
    std::fprintf(stderr, "practise: order %s\n", join(ranking.order()).c_str());
  if (options.budget) {
    const CostModel cost = options.budget->cost_model();
    const Resource resource = cost.resource();
    options.drop = drops_for_budget(teacher->config(), ranking.order(), cost,
                                    options.budget->resolve(source_cost(teacher->config(), cost)),
                                    options.budget->tolerance);
    if (lead && !settings.quiet) {
      const std::vector<int> order = ranking.order();
      const std::vector<int> dropped(order.begin(), order.begin() + options.drop);
      std::fprintf(stderr, "practise: --%s %s -> drop %d candidates (blocks %s)\n",
                   resource_key(resource).c_str(), options.budget->to_string().c_str(), options.drop,
                   join(candidate_group_blocks(teacher->config(), dropped)).c_str());
    }
  }
  PractiseResult result = compress_practise(teacher, teacher_info, few_shot, ranking, options.drop,
                                            settings, eval_data, options.out_dir,
                                            options.eval_batch);
  nlohmann::json& record = out.record;
  record["teacher"] = teacher_info;
  record["teacher"]["eval"] = eval_to_json(out.teacher_eval);
  record["settings"] = settings.to_json();
  record["settings"]["drop"] = options.drop;
  if (options.budget) record["settings"]["budget"] = options.budget->to_string();
  record["ranking"] = ranking.to_json();
  record["ranking"]["dir"] = ranking.dir;
  record["ranking"]["reused"] = reuse;
  record["ranking"]["wall_seconds"] = rank_seconds;
  record.update(result.record);
  record["result"]["top1_drop"] =
      out.teacher_eval.top1 - result.record["result"]["top1"].get<double>();
  out.compact = result.compact;
  return out;
}

}  // namespace vitc
