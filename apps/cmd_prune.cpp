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
  std::string macs;
  uint64_t seed = 0;
  FinetuneFlags finetune;
};

int run_prune(const PruneFlags& flags) {
  const std::string threads = flags.common.compute.apply();
  UniformPruneOptions prune;
  prune.criterion = parse_prune_criterion(flags.criterion);
  prune.seed = flags.seed;
  const MacsTarget budget = parse_macs_target(flags.macs);
  FinetuneOptions finetune =
      flags.finetune.get(flags.common.out, flags.common.resume, flags.common.quiet);
  const MethodInputs in = open_inputs(flags.common, flags.common.teacher);
  finetune.train.dist = in.dist;
  finetune.train.quiet = rank_quiet(flags.common.quiet, in.dist);
  nlohmann::json run = method_run_header("prune", to_string(prune.criterion), threads);
  run["teacher_dir"] = in.teacher_dir;
  run["data"] = flags.common.data.to_json();
  run["budget"] = flags.macs;
  const PruneResult result =
      prune_and_finetune(in.teacher, budget, prune, in.train_data, in.eval_data, finetune);
  run.update(result.record);
  if (!lead_process(in.dist)) return 0;  // rank 0 measures, writes and prints
  if (flags.finetune.latency_repeats > 0)
    run["latency"] = compare_latency(in.teacher, result.compact, flags.finetune.latency_repeats);
  write_method_run_json(flags.common.out, run, in.dist);
  const nlohmann::json& r = result.record["result"];
  std::printf("top1 %.2f%% (teacher %.2f%%)  MACs %.3f M (%.1f%%)  params %.3f M (%.1f%%)",
              r["top1"].get<double>(), result.record["teacher"]["top1"].get<double>(),
              r["macs"].get<int64_t>() / 1e6, 100 * r["macs_fraction"].get<double>(),
              r["params"].get<int64_t>() / 1e6, 100 * r["params_fraction"].get<double>());
  if (run.contains("latency"))
    std::printf("  latency b64 x%.2f of the teacher", run["latency"]["ratio"].get<double>());
  std::printf("  -> %s\n", flags.common.out.c_str());
  return 0;
}

}  // namespace

void add_prune_command(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<PruneFlags>();
  CLI::App* cmd = app.add_subcommand(
      "prune",
      "baseline: prune the same fraction of heads and MLP neurons in every block (random or "
      "smallest-norm) to a MACs budget, then finetune");
  flags->common.add_to(*cmd, "output model directory (weights, Structure, run.json, checkpoint)");
  cmd->add_option("--criterion", flags->criterion, "which heads and neurons go: random | magnitude")
      ->capture_default_str();
  cmd->add_option("--macs", flags->macs,
                  "MACs budget: fraction of the teacher's (0.5, 50%) or absolute (11.1M)")
      ->required();
  cmd->add_option("--seed", flags->seed, "seed of the random criterion's draw")
      ->capture_default_str();
  flags->finetune.add_to(*cmd);
  cmd->callback([&run, flags] { run = [flags] { return run_prune(*flags); }; });
}

}  // namespace vitc::app
