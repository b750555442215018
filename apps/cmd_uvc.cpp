// `vitc uvc run`: UVC end to end on a teacher, a MACs budget and data (stage-1 joint search,
// the final Structure within 1% of the budget, slicing, stage-2 finetuning), one model directory.
#include <cstdio>

#include "common.h"
#include "method_flags.h"
#include "uvc_flags.h"
#include "compress/uvc/pipeline.h"
#include "model/complexity.h"
#include "report/latency.h"
#include "util/progress.h"

namespace vitc::app {

namespace {

// "skipped blocks: 2 (gate), 5 (repair)" or "no block skipped".
std::string skipped_summary(const nlohmann::json& result) {
  std::string out;
  for (const auto& [key, how] : {std::pair{"skipped_by_gate", "gate"}, {"skipped_by_repair", "repair"}})
    for (const auto& l : result[key]) out += str_cat(out.empty() ? "" : ", ", l.get<int>(), " (", how, ")");
  return out.empty() ? "no block skipped" : "skipped blocks: " + out;
}

struct RunCmd {
  MethodFlags common;
  UvcFlags uvc;
};

int run_uvc_command(const RunCmd& cmd) {
  Stopwatch clock;
  const MethodFlags& f = cmd.common;
  const std::string threads = f.compute.apply();
  cmd.uvc.validate_early();  // bad flags fail before anything is loaded
  const MethodInputs in = open_inputs(f, f.teacher);
  const std::shared_ptr<dist::Group>& group = in.dist;
  VisionTransformer teacher = in.teacher;
  const Budget budget =
      resolve_budget(cmd.uvc.budget, *teacher, threads, rank_quiet(f.quiet, group), group);
  UvcRunOptions options =
      cmd.uvc.get(teacher->config(), budget, f.out, f.resume, rank_quiet(f.quiet, group));
  options.search.dist = group;
  options.finetune.train.dist = group;
  const Resource resource = options.search.cost.resource();
  if (lead_process(group))
    std::fprintf(stderr, "budget %s %s (%.1f%% of the teacher)\n",
                 amount_text(options.search.target, resource).c_str(),
                 resource_name(resource).c_str(),
                 100.0 * options.search.target /
                     source_cost(teacher->config(), options.search.cost));
  const nlohmann::json info = teacher_info(f.teacher, teacher->config());

  nlohmann::json run = method_run_header("uvc run", "uvc", threads);
  run["teacher_dir"] = f.teacher;
  run["budget"] = budget.to_string();
  run["data"] = f.data.to_json();
  UvcRunResult result = run_uvc(teacher, info, in.train_data, in.eval_data, options);
  run.update(result.record);
  run["result"]["teacher_info"] = info;
  run["wall_seconds"] = clock.seconds();
  const nlohmann::json& r = result.record["result"];
  CompressionReport report =
      CompressionReport::of(f.out, teacher, result.compact,
                            result.record["teacher"]["top1"].get<double>(),
                            cmd.uvc.finetune.latency_repeats);
  report.suffix = skipped_summary(r);
  report.latency_budget = latency_budget_of(budget);
  report_compression(run, report, group);
  return 0;
}

}  // namespace

void add_uvc_command(CLI::App& app, Runner& run) {
  CLI::App* uvc = app.add_subcommand(
      "uvc", "UVC: joint pruning, block skipping and distillation under a MACs budget");
  uvc->require_subcommand(1);
  auto r = std::make_shared<RunCmd>();
  CLI::App* all = uvc->add_subcommand(
      "run", "stage-1 search (kept in <out>/search), Structure at the budget, slicing, stage-2 "
             "finetuning");
  r->common.add_to(*all, "output model directory; the search goes to <out>/search");
  r->uvc.add_to(*all);
  all->callback([&run, r] { run = [r] { return run_uvc_command(*r); }; });
}

}  // namespace vitc::app
