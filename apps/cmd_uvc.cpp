// `vitc uvc run`: UVC end to end on a teacher, a MACs budget and data (stage-1 joint search,
// the final Structure within 1% of the budget, slicing, stage-2 finetuning), one model directory.
#include <cstdio>
#include <filesystem>

#include "common.h"
#include "method_flags.h"  // compare_latency
#include "uvc_flags.h"
#include "compress/uvc/pipeline.h"
#include "model/complexity.h"
#include "model/model_dir.h"
#include "report/latency.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/run_info.h"

namespace vitc::app {

namespace {

struct RunCmd {
  std::string teacher;
  std::string out;
  bool resume = false;
  bool quiet = false;
  ThreadFlags threads;
  DataFlags data;
  DistFlags dist;
  UvcFlags uvc;
};

int run_uvc_command(const RunCmd& cmd) {
  namespace fs = std::filesystem;
  Stopwatch clock;
  const std::string threads = cmd.threads.apply();
  cmd.uvc.validate_early();  // bad flags fail before anything is loaded
  check(fs::weakly_canonical(cmd.out) != fs::weakly_canonical(cmd.teacher), "--out ", cmd.out,
        " is the teacher directory: writing there would overwrite it; choose another --out");
  const std::shared_ptr<dist::Group> group = cmd.dist.connect();
  VisionTransformer teacher = load_model_dir(cmd.teacher).model;
  const ViTConfig& config = teacher->config();
  const Complexity c = compute_complexity(config);
  UvcRunOptions options = cmd.uvc.get(c.macs(), cmd.out, cmd.resume, rank_quiet(cmd.quiet, group));
  options.search.dist = group;
  options.finetune.train.dist = group;
  const auto train_data = cmd.data.open("train", config.mean, config.std, config.img_size);
  const auto eval_data = cmd.data.open("test", config.mean, config.std, config.img_size);
  if (lead_process(group))
    std::fprintf(stderr,
               "teacher %s: %.3f M params, %.2f M MACs; budget %.3f M MACs (%.1f%%); train %lld "
               "images, test %lld images\n",
               cmd.teacher.c_str(), c.params() / 1e6, c.macs() / 1e6,
               options.search.target_macs / 1e6, 100.0 * options.search.target_macs / c.macs(),
               static_cast<long long>(train_data->size()),
               static_cast<long long>(eval_data->size()));
  const nlohmann::json teacher_info = {
      {"dir", fs::absolute(cmd.teacher).lexically_normal().string()},
      {"config", config.name},
      {"macs", c.macs()},
      {"params", c.params()}};

  nlohmann::json run = {{"command", "uvc run"},
                        {"method", "uvc"},
                        {"command_line", command_line()},
                        {"environment", environment_json(threads)},
                        {"teacher_dir", cmd.teacher},
                        {"budget", cmd.uvc.budget},
                        {"data", cmd.data.to_json()}};
  UvcRunResult result = run_uvc(teacher, teacher_info, train_data, eval_data, options);
  run.update(result.record);
  run["result"]["teacher_info"] = teacher_info;
  if (!lead_process(group)) return 0;  // rank 0 measures, writes and prints
  if (cmd.uvc.latency_repeats > 0)
    run["latency"] = compare_latency(teacher, result.compact, cmd.uvc.latency_repeats);
  run["wall_seconds"] = clock.seconds();
  write_method_run_json(cmd.out, run, group);
  const nlohmann::json& r = result.record["result"];
  std::printf("top1 %.2f%% (teacher %.2f%%)  MACs %.3f M (%.2f%%)  params %.3f M (%.1f%%)  skipped %s",
              r["top1"].get<double>(), result.record["teacher"]["top1"].get<double>(),
              r["macs"].get<int64_t>() / 1e6, 100 * r["macs_fraction"].get<double>(),
              r["params"].get<int64_t>() / 1e6, 100 * r["params_fraction"].get<double>(),
              r["skipped_blocks"].dump().c_str());
  if (run.contains("latency"))
    std::printf("  latency b64 x%.2f of the teacher", run["latency"]["ratio"].get<double>());
  std::printf("  -> %s\n", cmd.out.c_str());
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
  all->add_option("--teacher", r->teacher, "teacher model directory (a dense ViT)")->required();
  all->add_option("--out", r->out, "output model directory; the search goes to <out>/search")
      ->required();
  all->add_flag("--resume", r->resume, "continue an interrupted run in --out (same settings)");
  all->add_flag("--quiet", r->quiet, "no progress lines");
  r->threads.add_to(*all);
  r->data.add_to(*all, /*with_train=*/true);
  r->dist.add_to(*all);
  r->uvc.add_to(*all);
  all->callback([&run, r] { run = [r] { return run_uvc_command(*r); }; });
}

}  // namespace vitc::app
