// PRACTISE / random block drop on a ResNet, from the teacher to the finetuned compact model.
#include "compress/practise/resnet_pipeline.h"

#include <filesystem>

#include "compress/common/resnet_finish.h"
#include "model/families/resnet/resnet_complexity.h"
#include "model/families/resnet/resnet_structure.h"
#include "util/error.h"
#include "util/files.h"

namespace vitc {

std::vector<int> check_resnet_practise(const ResNetConfig& c, const ResNetPractiseOptions& o) {
  const std::vector<int> candidates = resnet_candidates(c, o.first_block, o.last_block);
  check(o.drop >= 0 && o.drop <= static_cast<int>(candidates.size()), "--drop ", o.drop,
        " is more than the ", candidates.size(), " candidate blocks of '", c.name, "'");
  if (o.budget) {
    const Resource resource = o.budget->resource;
    const int64_t target = o.budget->resolve(resnet_amount(c, resource));
    // Reachable at all? Dropping every candidate is the least any choice can reach.
    resnet_drops_for_budget(c, candidates, resource, target, o.budget->tolerance);
  }
  return candidates;
}

ResNetPractiseRun run_resnet_practise(ResNet teacher, const nlohmann::json& teacher_info,
                                      const FewShotSet& few_shot, const Dataset& eval_data,
                                      const ResNetPractiseOptions& options,
                                      const ResNetLatencyFn& latency) {
  const ResNetConfig& config = teacher->config();
  PractiseSettings settings = options.settings;
  settings.candidates = check_resnet_practise(config, options);
  ResNetPractiseRun run;
  teacher->eval();
  run.teacher_eval = evaluate(classifier_of(*teacher), eval_data, options.eval_batch);
  make_dirs(options.out_dir);
  std::vector<int> order;
  nlohmann::json ranking;
  if (options.random_seed >= 0) {
    order = random_drop_order(settings.candidates, static_cast<uint64_t>(options.random_seed));
    ranking = {{"method", "random block drop"}, {"seed", options.random_seed}, {"order", order}};
  } else {
    const ResNetPractiseRanking r = rank_resnet_practise(teacher, few_shot, settings, latency);
    order = r.order();
    ranking = r.to_json(config);
  }
  write_json(options.out_dir + "/ranking.json", ranking);
  const int64_t target =
      options.budget ? options.budget->resolve(resnet_amount(config, options.budget->resource)) : 0;
  const int drop = options.budget
                       ? resnet_drops_for_budget(config, order, options.budget->resource, target,
                                                 options.budget->tolerance)
                       : std::max(1, options.drop);
  const std::vector<int> dropped(order.begin(), order.begin() + drop);
  ResNetFinishOptions finish;
  finish.mimic = settings.mimic;
  finish.resume = settings.resume;
  finish.quiet = settings.quiet;
  finish.method = options.random_seed >= 0 ? "random block drop" : "PRACTISE block drop";
  const ResNetFinished result = finish_resnet(
      teacher, few_shot, drop_resnet_blocks(config, full_resnet_structure(config), dropped), finish,
      eval_data, options.out_dir, options.eval_batch);
  nlohmann::json teacher_record = teacher_info;
  teacher_record["top1"] = run.teacher_eval.top1;
  teacher_record["eval"] = eval_to_json(run.teacher_eval);
  run.record = result.record;
  run.record["teacher"] = teacher_record;
  run.record["ranking"] = ranking;
  run.record["settings"] = {{"candidates", settings.candidates},
                            {"drop", drop},
                            {"budget", options.budget ? nlohmann::json(options.budget->to_string())
                                                      : nlohmann::json()},
                            {"target", options.budget ? nlohmann::json(target) : nlohmann::json()},
                            {"recover", settings.recover.to_json()},
                            {"mimic", settings.mimic.to_json()},
                            {"latency_source", latency ? "measured" : "macs"}};
  run.compact = result.compact;
  return run;
}

}  // namespace vitc
