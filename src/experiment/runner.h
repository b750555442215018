// Runs an experiment: every (method, budget) as its own `vitc` process (so each method keeps its
// own command, checkpoints and run.json), skipping results already measured; then one uniform
// measurement per result and the table (Markdown, CSV), results.json and the plot.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "experiment/experiment_config.h"
#include "report/results_table.h"

namespace vitc {

struct ExperimentOptions {
  std::string out_dir;
  std::string vitc_binary;             // the program that runs each method
  std::string teacher;                 // overrides the config's teacher if not empty
  std::vector<std::string> only;       // method names to run (empty = all)
  bool dry_run = false;                // print the commands, run nothing
  bool echo_runs = false;              // also print each run's output (progress, ETA) as it comes
  int latency_repeats = 10;
  // Where teacher and results are evaluated and timed (the runs themselves take --device from
  // the config's common_args or args).
  c10::Device device{c10::kCPU};
  std::shared_ptr<const Dataset> test_data;  // the data every result is evaluated on
  nlohmann::json environment;          // for results.json
};

struct ExperimentReport {
  ResultRow teacher;
  std::vector<ResultRow> rows;  // config order: method by method, budgets in order
  int failures = 0;
  int ran = 0;      // runs started by this invocation
  int skipped = 0;  // results found already measured
  std::map<std::string, double> prepare_seconds;  // per method with a prepare step
};

// Layout of out_dir: <method>/prepare.json once a method's prepare step ran, <method>/<budget_dir>/ (the method's output model directory, with
// experiment.json once measured), logs/<method>_<budget_dir>.log (the method's output),
// results.md, results.csv, results.json, accuracy_vs_macs.{svg,png,gp,dat}.
// A failed run is reported in its row and the log named; the others still run.
ExperimentReport run_experiment(const ExperimentConfig& config, const ExperimentOptions& options);

}  // namespace vitc
