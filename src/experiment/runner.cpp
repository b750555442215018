// The experiment loop: run or skip, measure, tabulate, plot.
#include "experiment/runner.h"

#include <cstdio>
#include <filesystem>

#include "experiment/measure.h"
#include "model/complexity.h"
#include "model/model_dir.h"
#include "report/plot.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"
#include "util/subprocess.h"

namespace vitc {

namespace {

ResultRow row_from_json(const nlohmann::json& j) {
  ResultRow r;
  r.method = j.at("method");
  r.budget = j.at("budget");
  r.macs = j.at("macs");
  r.params = j.at("params");
  r.macs_fraction = j.at("macs_fraction");
  r.top1 = j.at("top1");
  r.top1_delta = j.at("top1_delta");
  r.latency_b1_ratio = j.at("latency_b1_ratio");
  r.latency_b64_ratio = j.at("latency_b64_ratio");
  r.wall_seconds = j.at("wall_seconds");
  r.dir = j.at("dir");
  r.seed = j.value("seed", "");
  return r;
}

nlohmann::json row_to_json(const ResultRow& r) {
  return {{"method", r.method},
          {"budget", r.budget},
          {"status", r.status},
          {"macs", r.macs},
          {"params", r.params},
          {"macs_fraction", r.macs_fraction},
          {"top1", r.top1},
          {"top1_delta", r.top1_delta},
          {"latency_b1_ratio", r.latency_b1_ratio},
          {"latency_b64_ratio", r.latency_b64_ratio},
          {"wall_seconds", r.wall_seconds},
          {"dir", r.dir},
          {"seed", r.seed},
          {"runs", r.runs},
          {"top1_std", r.top1_std}};
}

std::string shell_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const std::string& a : argv) {
    if (!line.empty()) line += ' ';
    line += a.find_first_of(" \"'$") == std::string::npos ? a : "'" + a + "'";
  }
  return line;
}

}  // namespace

ExperimentReport run_experiment(const ExperimentConfig& config, const ExperimentOptions& options) {
  namespace fs = std::filesystem;
  check(options.test_data != nullptr, "an experiment needs test data");
  for (const std::string& name : options.only) {
    bool known = false;
    for (const ExperimentMethod& m : config.methods) known |= m.name == name;
    std::vector<std::string> names;
    for (const ExperimentMethod& m : config.methods) names.push_back(m.name);
    check(known, "--only: no method '", name, "' in the experiment; its methods are: ",
          join(names));
  }
  const std::string teacher_dir =
      fs::absolute(options.teacher.empty() ? config.teacher : options.teacher).lexically_normal();
  check(fs::is_directory(teacher_dir), "teacher '", teacher_dir,
        "' is not a model directory (train one with scripts/main.sh, or pass --teacher)");
  make_dirs(options.out_dir + "/logs");
  const AnyModel teacher = load_any_model(teacher_dir, 0, options.device);
  ExperimentReport report;
  {
    report.teacher.method = "teacher";
    report.teacher.budget = "-";
    report.teacher.macs = teacher.macs;
    report.teacher.params = teacher.params;
    report.teacher.macs_fraction = 1;
    report.teacher.top1 = evaluate(teacher.classifier, *options.test_data, 256).top1;
    report.teacher.latency_b1_ratio = report.teacher.latency_b64_ratio = 1;
    report.teacher.dir = teacher_dir;
  }
  std::fprintf(stderr, "experiment '%s': teacher %s top1 %.2f%%, %.2f M MACs\n",
               config.title.c_str(), teacher_dir.c_str(), report.teacher.top1,
               report.teacher.macs / 1e6);

  int total = 0, index = 0;
  // Every method's runs: one per budget, or per (budget, seed) when the file lists seeds.
  std::vector<std::pair<std::string, std::string>> runs;
  for (const std::string& budget : config.budgets) {
    if (config.seeds.empty()) runs.emplace_back(budget, "");
    for (const std::string& seed : config.seeds) runs.emplace_back(budget, seed);
  }
  for (const ExperimentMethod& m : config.methods)
    if (options.only.empty() ||
        std::find(options.only.begin(), options.only.end(), m.name) != options.only.end())
      total += static_cast<int>(runs.size());
  double run_seconds = 0;
  int runs_timed = 0;
  for (const ExperimentMethod& method : config.methods) {
    if (!options.only.empty() &&
        std::find(options.only.begin(), options.only.end(), method.name) == options.only.end())
      continue;
    const std::string method_dir =
        fs::absolute(options.out_dir + "/" + method.name).lexically_normal();
    bool prepared = true;
    if (!method.prepare.empty()) {
      const std::string done = method_dir + "/prepare.json";
      const std::string log = options.out_dir + "/logs/" + method.name + "_prepare.log";
      std::vector<std::string> argv = {options.vitc_binary};
      for (const std::string& a : prepare_arguments(method, teacher_dir, method_dir))
        argv.push_back(a);
      if (options.dry_run) {
        std::printf("%s\n", shell_line(argv).c_str());
      } else if (file_exists(done)) {
        report.prepare_seconds[method.name] = read_json(done).value("wall_seconds", 0.0);
      } else {
        make_dirs(method_dir);
        std::fprintf(stderr, "%s: preparing once for every budget (log %s)\n",
                     method.name.c_str(), log.c_str());
        atomic_write_string(log + ".cmd", shell_line(argv) + "\n");
        const SubprocessResult r = run_subprocess(argv, log, options.echo_runs);
        report.prepare_seconds[method.name] = r.seconds;
        if (r.exit_code == 0) {
          write_json(done, {{"command", argv}, {"wall_seconds", r.seconds}, {"log", log}});
        } else {
          prepared = false;
          std::fprintf(stderr, "%s: preparation failed (exit %d), see %s\n",
                       method.name.c_str(), r.exit_code, log.c_str());
        }
      }
    }
    for (const auto& [budget, seed] : runs) {
      ++index;
      const std::string run_name =
          budget_dir_name(budget) + (seed.empty() ? std::string() : "/seed_" + seed);
      const std::string dir =
          fs::absolute(options.out_dir + "/" + method.name + "/" + run_name).lexically_normal();
      const std::string log = options.out_dir + "/logs/" + method.name + "_" +
                              budget_dir_name(budget) + (seed.empty() ? "" : "_seed_" + seed) +
                              ".log";
      const std::string done = dir + "/experiment.json";
      const std::string what = str_cat("[", index, "/", total, "] ", method.name, " @ ", budget,
                                       seed.empty() ? std::string() : " seed " + seed);
      if (file_exists(done)) {
        report.rows.push_back(row_from_json(read_json(done).at("row")));
        ++report.skipped;
        std::fprintf(stderr, "%s: already measured (%s)\n", what.c_str(), done.c_str());
        continue;
      }
      std::vector<std::string> argv = {options.vitc_binary};
      for (const std::string& a :
           run_arguments(config, method, budget, teacher_dir, dir, method_dir, seed))
        argv.push_back(a);
      if (options.dry_run) {
        std::printf("%s\n", shell_line(argv).c_str());
        continue;
      }
      if (!prepared) {
        ResultRow row;
        row.method = method.name;
        row.budget = budget;
        row.seed = seed;
        row.dir = dir;
        row.status = "failed: its preparation failed, see " + options.out_dir + "/logs/" +
                     method.name + "_prepare.log";
        ++report.failures;
        report.rows.push_back(row);
        continue;
      }
      const int left = total - index + 1;
      std::fprintf(stderr, "%s: running (log %s)%s\n", what.c_str(), log.c_str(),
                   runs_timed > 0
                       ? str_cat(", ETA of the rest ~",
                                 format_duration(run_seconds / runs_timed * left))
                             .c_str()
                       : "");
      atomic_write_string(log + ".cmd", shell_line(argv) + "\n");
      const SubprocessResult result = run_subprocess(argv, log, options.echo_runs);
      ++report.ran;
      run_seconds += result.seconds;
      ++runs_timed;
      ResultRow row;
      row.method = method.name;
      row.budget = budget;
      row.seed = seed;
      row.dir = dir;
      row.wall_seconds = result.seconds;
      if (result.exit_code != 0) {
        row.status = str_cat("failed: exit ", result.exit_code, ", see ", log);
        ++report.failures;
        std::fprintf(stderr, "%s: %s\n", what.c_str(), row.status.c_str());
        report.rows.push_back(row);
        continue;
      }
      const AnyModel compact = load_any_model(dir, 0, options.device);
      const ModelMeasurement m = measure_model(teacher, compact, *options.test_data,
                                               options.latency_repeats);
      row.macs = m.macs;
      row.params = m.params;
      row.macs_fraction = static_cast<double>(m.macs) / report.teacher.macs;
      row.top1 = m.eval.top1;
      row.top1_delta = m.eval.top1 - report.teacher.top1;
      row.latency_b1_ratio = m.latency_b1_ms / m.teacher_b1_ms;
      row.latency_b64_ratio = m.latency_b64_ms / m.teacher_b64_ms;
      write_json(done, {{"row", row_to_json(row)},
                        {"measurement", m.to_json()},
                        {"command", argv},
                        {"log", log}});
      std::fprintf(stderr, "%s: top1 %.2f%% (%+.2f), %.1f%% MACs, latency b64 x%.2f, %s\n",
                   what.c_str(), row.top1, row.top1_delta, 100 * row.macs_fraction,
                   row.latency_b64_ratio, format_duration(row.wall_seconds).c_str());
      report.rows.push_back(row);
    }
  }
  if (options.dry_run) return report;
  // The table and the plot show one row per (method, budget): the mean over the seeds.
  const std::vector<ResultRow> shown = aggregate_over_seeds(report.rows);

  std::string notes;
  for (const auto& [name, seconds] : report.prepare_seconds)
    notes += "\n" + name + ": preparation run once for every budget, " +
             format_duration(seconds) + " (not in the rows' wall time).\n";
  atomic_write_string(options.out_dir + "/results.md", "# " + config.title + "\n\n" +
                                                           results_markdown(report.teacher,
                                                                            shown) +
                                                           notes);
  atomic_write_string(options.out_dir + "/results.csv", results_csv(report.teacher, shown));
  if (!config.seeds.empty()) {
    atomic_write_string(options.out_dir + "/results_runs.csv", results_csv(report.teacher, report.rows));
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const ResultRow& r : report.rows) rows.push_back(row_to_json(r));
  nlohmann::json aggregated = nlohmann::json::array();
  for (const ResultRow& r : shown) aggregated.push_back(row_to_json(r));
  write_json(options.out_dir + "/results.json", {{"config", config.source},
                                                 {"teacher", row_to_json(report.teacher)},
                                                 {"rows", rows},
                                                 {"aggregated", aggregated},
                                                 {"prepare_seconds", report.prepare_seconds},
                                                 {"environment", options.environment}});
  plot_accuracy_vs_macs(report.teacher, shown, options.out_dir + "/accuracy_vs_macs",
                        config.title);
  return report;
}

}  // namespace vitc
