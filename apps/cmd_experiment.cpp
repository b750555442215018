// `vitc experiment`: every method and baseline of an experiment file at every budget, each run as
// its own vitc command, measured alike, tabulated (Markdown, CSV) and plotted (gnuplot).
#include <cstdio>

#include "common.h"
#include "model/output_guard.h"
#include "train/any_model.h"
#include "experiment/runner.h"
#include "model/model_dir.h"
#include "util/error.h"
#include "util/files.h"
#include "util/run_info.h"
#include "util/subprocess.h"

namespace vitc::app {

namespace {

struct ExperimentFlags {
  std::string config;
  std::string out;
  std::string teacher;
  std::vector<std::string> only;
  bool dry_run = false;
  bool verbose = false;
  int latency_repeats = 10;
  ComputeFlags compute;
  DataFlags data;
};

int run_experiment_command(const ExperimentFlags& flags) {
  const std::string threads = flags.compute.apply();
  check_not_model_dir(flags.out, "--out");
  const ExperimentConfig config = read_experiment_config(flags.config);
  ExperimentOptions options;
  options.out_dir = flags.out;
  options.vitc_binary = self_executable();
  options.teacher = flags.teacher;
  options.only = flags.only;
  options.dry_run = flags.dry_run;
  options.echo_runs = flags.verbose;
  options.latency_repeats = flags.latency_repeats;
  options.device = flags.compute.device();
  const std::string teacher_dir = flags.teacher.empty() ? config.teacher : flags.teacher;
  const ModelInput teacher = load_any_model(teacher_dir, 0, c10::kCPU).input;
  options.test_data = flags.data.open("test", teacher.mean, teacher.std, teacher.img_size);
  options.environment = environment_json(threads);
  options.environment["command_line"] = command_line();
  options.environment["data"] = flags.data.to_json();
  const ExperimentReport report = run_experiment(config, options);
  if (flags.dry_run) return 0;
  std::printf("%d results (%d run now, %d already measured, %d failed) -> %s/results.md, "
              "results.csv, accuracy_vs_macs.svg/.png\n",
              static_cast<int>(report.rows.size()), report.ran, report.skipped, report.failures,
              flags.out.c_str());
  std::printf("%s", read_file(flags.out + "/results.md").c_str());
  return report.failures == 0 ? 0 : 1;
}

}  // namespace

void add_experiment_command(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<ExperimentFlags>();
  CLI::App* cmd = app.add_subcommand(
      "experiment",
      "run methods and baselines at several MACs budgets (an experiments/*.json file), skip "
      "what is done, write a table and a plot of top-1 against MACs");
  cmd->add_option("--config", flags->config, "experiment file (e.g. experiments/fm_small.json)")
      ->required();
  cmd->add_option("--out", flags->out, "output directory (results, one folder per run, logs)")
      ->required();
  cmd->add_option("--teacher", flags->teacher, "teacher model directory (default: the file's)");
  cmd->add_option("--only", flags->only, "run only these methods (by name)")->delimiter(',');
  cmd->add_flag("--dry-run", flags->dry_run, "print the commands instead of running them");
  cmd->add_flag("--verbose", flags->verbose,
                "print each run's output (its progress lines and ETA) as well as logging it");
  cmd->add_option("--latency-repeats", flags->latency_repeats,
                  "timed rounds of teacher and result per batch size (4x at batch 1)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  flags->compute.add_to(*cmd);
  flags->data.add_to(*cmd, /*with_train=*/false);
  cmd->callback([&run, flags] { run = [flags] { return run_experiment_command(*flags); }; });
}

}  // namespace vitc::app
