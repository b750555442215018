// `vitc practise run`: PRACTISE (whole blocks dropped, chosen by recoverability per latency
// saved), the few-shot baseline DC-ViT compares against: ported to ViTs, and as published on
// ResNets (with the random block-drop baseline).
#include <cstdio>
#include <optional>

#include "common.h"
#include "dcvit_flags.h"
#include "setting_flags.h"
#include "compress/common/budget.h"
#include "compress/practise/pipeline.h"
#include "compress/baselines/resnet_l1_filters.h"
#include "compress/practise/resnet_pipeline.h"
#include "model/families/resnet/resnet_complexity.h"
#include "report/latency.h"
#include "train/evaluate.h"
#include "util/error.h"
#include "util/progress.h"

namespace vitc::app {

namespace {

struct RunCmd {  // the flags of `vitc practise run`
  FewShotCommonFlags common;
  MimicFlags mimic;
  RecoverOptions recover;
  int drop = 0;
  BudgetTexts budget;
  int min_block = -1, max_block = -1;
  std::string ranking_dir;
  bool front = false;
  bool macs_proxy = false;
  int latency_repeats = 20;
  int64_t random_seed = -1;
  bool l1_filters = false;
};

// PRACTISE, random block drop or L1 filter pruning on a ResNet teacher (docs/cnn.md).
int run_on_resnet(const RunCmd& r, const PractiseSettings& settings, const PractiseRunOptions& o,
                  FewShotInputs& in, const std::string& threads, Stopwatch& clock) {
  ResNetPractiseOptions cnn;
  cnn.settings = settings;
  cnn.first_block = r.min_block;
  cnn.last_block = r.max_block;
  cnn.drop = r.drop;
  cnn.budget = o.budget;
  cnn.random_seed = r.random_seed;
  cnn.out_dir = o.out_dir;
  cnn.eval_batch = o.eval_batch;
  check(!(r.l1_filters && r.random_seed >= 0), "--l1-filters and --random-drop-seed are "
        "two different baselines: give one");
  ResNet compact{nullptr};
  EvalResult teacher_eval;
  nlohmann::json record;
  std::string method = cnn.random_seed >= 0 ? "random-block-drop" : "practise", what;
  if (r.l1_filters) {
    check(o.budget.has_value() && o.budget->resource == Resource::macs,
          "--l1-filters needs --macs (the MACs budget the filters are pruned to)");
    ResNetFinishOptions finish;
    finish.mimic = settings.mimic;
    finish.resume = settings.resume;
    finish.quiet = settings.quiet;
    finish.method = "L1 filter pruning";
    const ResNetL1Run l1 = run_resnet_l1_filters(
        in.cnn_teacher, in.teacher_info, in.few_shot, *in.eval_data,
        o.budget->resolve(resnet_cost(in.cnn_teacher->config()).macs), finish, o.out_dir, o.eval_batch);
    compact = l1.compact, teacher_eval = l1.teacher_eval, record = l1.record;
    method = "l1-filters";
    what = str_cat("L1 filters, kept fraction ", record["settings"]["keep_fraction"].get<double>());
  } else {
    ResNetLatencyFn latency;
    if (!r.macs_proxy) {
      const ResNetConfig& c = in.cnn_teacher->config();
      const at::Tensor images = latency_input(c.in_chans, c.img_size, 64, in.cnn_teacher->device());
      latency = [images](ResNetImpl& m) { return time_forward_ms(m, images); };
    }
    const ResNetPractiseRun result =
        run_resnet_practise(in.cnn_teacher, in.teacher_info, in.few_shot, *in.eval_data, cnn, latency);
    compact = result.compact, teacher_eval = result.teacher_eval, record = result.record;
    what = "dropped " + join(record["dropped_names"].get<std::vector<std::string>>());
  }
  nlohmann::json out = method_run_header("practise run", method, threads);
  out["data"] = r.common.data.to_json();
  out["few_shot"] = {{"options", r.common.few_shot.to_json()},
                     {"count", in.few_shot.indices.size()},
                     {"indices", in.few_shot.indices}};
  out.update(record);
  out["wall_seconds"] = clock.seconds();
  CompressionReport report;
  report.out_dir = r.common.out;
  report.cnn_teacher = in.cnn_teacher;
  report.cnn_compact = compact;
  report.teacher_top1 = teacher_eval.top1;
  report.latency_repeats = r.latency_repeats;
  report.prefix = what;
  report_compression(out, report, in.dist);
  return 0;
}

}  // namespace

void add_practise_command(CLI::App& app, Runner& run) {
  CLI::App* practise = app.add_subcommand(
      "practise", "PRACTISE (ViTs, and ResNets as published; with the random block-drop and L1 "
      "filter baselines for ResNets): drop the most recoverable blocks, few-shot, no labels");
  practise->require_subcommand(1);
  auto r = std::make_shared<RunCmd>();
  CLI::App* cmd = practise->add_subcommand(
      "run", "score every candidate block, drop the best --drop, finetune by feature mimicking");
  r->common.add_to(*cmd, "output model directory (ranking/, finetune/ and run.json inside)");
  r->mimic.add_to(*cmd);
  CLI::Option* drop_opt = cmd->add_option("--drop", r->drop, "number of candidates to drop whole (default 1): blocks, or a Swin's (unshifted, shifted) pairs");
  add_budget_flags(*cmd, r->budget,
                   "the compressed model, instead of --drop: the fewest ranked blocks that meet "
                   "it are dropped (whole blocks are coarse, so usually below it)");
  cmd->get_option("--macs")->excludes(drop_opt);
  cmd->get_option("--params")->excludes(drop_opt);
  cmd->add_option("--min-block", r->min_block, "first candidate block (-1: 1; a Swin's candidates are pairs)")->capture_default_str();
  cmd->add_option("--max-block", r->max_block, "last candidate block (-1: depth-2)")->capture_default_str();
  cmd->add_option("--ranking", r->ranking_dir,
                  "reuse the finished PRACTISE scores in this directory instead of scoring in "
                  "<out>/ranking");
  add_setting_flags(*cmd, r->recover, RecoverOptions::kFlagPrefix);
  cmd->add_flag("--finetune-front", r->front,
                "finetune only up to the block after the last dropped one (DC-ViT's rule) "
                "instead of every block");
  cmd->add_flag("--latency-proxy-macs", r->macs_proxy,
                "score by the MACs saved instead of the measured batch-64 latency");
  cmd->add_option("--random-drop-seed", r->random_seed,
                  "ResNets: the random block-drop baseline: drop a random choice of the candidates "
                  "(this seed) instead of scoring them, then finetune the same way (-1: score)")
      ->capture_default_str();
  cmd->add_flag("--l1-filters", r->l1_filters,
                "ResNets: the L1-norm filter-pruning baseline instead: every inner conv keeps its "
                "largest-L1 filters, one kept fraction meeting --macs; the same finetuning");
  cmd->add_option("--latency-repeats", r->latency_repeats,
                  "timed batch-64 runs per candidate and of the final model (0 = skip the final)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&run, r] {
    run = [r] {
      Stopwatch clock;
      const std::string threads = r->common.compute.apply();
      PractiseRunOptions o;
      PractiseSettings& settings = o.settings;
      settings.mimic = r->mimic.get();
      settings.recover = r->recover;
      settings.recover.validate();
      settings.finetune_all = !r->front;
      settings.latency_repeats = std::max(1, r->latency_repeats);
      settings.resume = r->common.resume;
      o.first_block = r->min_block;
      o.last_block = r->max_block;
      o.drop = r->drop;
      if (r->budget.given()) o.budget = parse_budget_flags(r->budget);
      o.ranking_dir = r->ranking_dir;
      o.out_dir = r->common.out;
      o.eval_batch = r->common.eval_batch;
      if (!r->ranking_dir.empty()) check_out_differs(r->common.out, r->ranking_dir, "ranking");
      FewShotInputs in = open_few_shot_inputs(r->common, /*takes_resnet=*/true);
      settings.quiet = rank_quiet(r->common.quiet, in.dist);
      settings.dist = in.dist;
      if (in.cnn_teacher) return run_on_resnet(*r, settings, o, in, threads, clock);
      check(r->random_seed < 0 && !r->l1_filters, "--random-drop-seed and --l1-filters are for "
            "ResNet teachers; for ViTs use `vitc prune --criterion random|magnitude`");
      if (o.budget) {  // a --latency budget gets its table, measured on the teacher
        o.budget = resolve_budget(r->budget, *in.teacher, threads, settings.quiet, in.dist);
      }
      check_practise_run(in.teacher->config(), o);  // before the teacher's evaluation
      LatencyFn latency;
      if (!r->macs_proxy) {
        const at::Tensor images = latency_input(in.teacher->config(), 64, in.teacher->device());
        latency = [images](VisionTransformerImpl& m) { return time_forward_ms(m, images); };
      }
      const PractiseRunResult result =
          run_practise(in.teacher, in.teacher_info, in.few_shot, *in.eval_data, o, latency);
      nlohmann::json out = method_run_header("practise run", "practise", threads);
      out["data"] = r->common.data.to_json();
      out["few_shot"] = {{"options", r->common.few_shot.to_json()},
                         {"count", in.few_shot.indices.size()},
                         {"indices", in.few_shot.indices}};
      out.update(result.record);
      out["wall_seconds"] = clock.seconds();
      CompressionReport report = CompressionReport::of(
          r->common.out, in.teacher, result.compact, result.teacher_eval.top1, r->latency_repeats);
      report.prefix = "dropped " + join(result.record["dropped"].get<std::vector<int>>());
      if (o.budget) report.latency_budget = latency_budget_of(*o.budget);
      report_compression(out, report, in.dist);
      return 0;
    };
  });
}

}  // namespace vitc::app
