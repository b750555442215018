// `vitc prune`: the baselines of the method comparison, uniform structured pruning of heads and
// MLP neurons (random or magnitude) at a MACs budget, finetuned like the methods.
#include <cstdio>

#include "common.h"
#include "method_flags.h"
#include "compress/baselines/prune_pipeline.h"
#include "util/error.h"

namespace vitc::app {

namespace {

struct PruneFlags {
  MethodFlags common;
  std::string criterion = "magnitude";
  BudgetTexts budget;
  uint64_t seed = 0;
  int round_to = 1;
  FinetuneFlags finetune;
};

int run_prune(const PruneFlags& flags) {
  const std::string threads = flags.common.compute.apply();
  UniformPruneOptions prune;
  prune.criterion = parse_prune_criterion(flags.criterion);
  prune.seed = flags.seed;
  prune.round_to = flags.round_to;
  parse_budget_flags(flags.budget);  // bad budget flags fail before anything is loaded
  FinetuneOptions finetune =
      flags.finetune.get(flags.common.out, flags.common.resume, flags.common.quiet);
  const MethodInputs in = open_inputs(flags.common, flags.common.teacher);
  finetune.train.dist = in.dist;
  finetune.train.quiet = rank_quiet(flags.common.quiet, in.dist);
  const Budget budget = resolve_budget(flags.budget, *VisionTransformer(in.teacher), threads,
                                       rank_quiet(flags.common.quiet, in.dist), in.dist);
  nlohmann::json run = method_run_header("prune", to_string(prune.criterion), threads);
  run["teacher_dir"] = in.teacher_dir;
  run["data"] = flags.common.data.to_json();
  run["budget"] = budget.to_string();
  const PruneResult result =
      prune_and_finetune(in.teacher, budget, prune, in.train_data, in.eval_data, finetune);
  run.update(result.record);
  CompressionReport report = CompressionReport::of(
      flags.common.out, in.teacher, result.compact, result.record["teacher"]["top1"].get<double>(),
      flags.finetune.latency_repeats);
  report.latency_budget = latency_budget_of(budget);
  report_compression(run, report, in.dist);
  return 0;
}

}  // namespace

void add_prune_command(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<PruneFlags>();
  CLI::App* cmd = app.add_subcommand(
      "prune",
      "baseline: prune the same fraction of heads and MLP neurons in every block (random or "
      "smallest-norm) to a MACs or parameter budget, then finetune");
  flags->common.add_to(*cmd, "output model directory (weights, Structure, run.json, checkpoint)");
  cmd->add_option("--criterion", flags->criterion, "which heads and neurons go: random | magnitude")
      ->capture_default_str();
  add_budget_flags(*cmd, flags->budget, "the pruned model (one of them is required)");
  cmd->add_option("--seed", flags->seed, "seed of the random criterion's draw")
      ->capture_default_str();
  add_round_to_flag(*cmd, flags->round_to);
  flags->finetune.add_to(*cmd);
  cmd->callback([&run, flags] { run = [flags] { return run_prune(*flags); }; });
}

}  // namespace vitc::app
