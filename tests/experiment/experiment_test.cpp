// vitc experiment: the file format and its errors, the command lines it builds, the table, and a
// real run of two baselines and a broken method on a small teacher (resumable: a second run
// measures nothing again).
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include "test_support.h"
#include "apps/run_vitc.h"
#include "experiment/experiment_config.h"
#include "model/model_dir.h"
#include "report/results_table.h"
#include "util/error.h"
#include "util/files.h"

namespace vitc {
namespace {

using test_support::run_vitc;

using vitc::test_support::fresh_dir;

std::string error_reading(const std::string& json_text) {
  const std::string path = fresh_dir("config") + "/x.json";
  atomic_write_string(path, json_text);
  try {
    read_experiment_config(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ExperimentConfig, ErrorsNameTheKey) {
  const std::string ok_method = R"({"name": "a", "args": ["prune", "--macs", "{budget}"]})";
  EXPECT_NE(error_reading(R"({"budgets": ["0.5"], "methods": [)" + ok_method + "]}")
                .find("missing key 'teacher'"),
            std::string::npos);
  EXPECT_NE(error_reading(R"({"teacher": "t", "budgets": [0.5], "methods": [)" + ok_method + "]}")
                .find("budgets: expected an array of strings"),
            std::string::npos);
  EXPECT_NE(error_reading(R"({"teacher": "t", "budgets": ["0.5"], "methods": [{"name": "a b", "args": ["x", "{budget}"]}]})")
                .find("methods[0].name"),
            std::string::npos);
  EXPECT_NE(error_reading(R"({"teacher": "t", "budgets": ["0.5"], "methods": [{"name": "a", "args": ["prune"]}]})")
                .find("no \"{budget}\""),
            std::string::npos);
  EXPECT_NE(error_reading(R"({"teacher": "t", "budgets": ["0.5"], "methods": [)" + ok_method + "," +
                          ok_method + "]}")
                .find("appears twice"),
            std::string::npos);
  EXPECT_NE(error_reading("{not json").find("x.json"), std::string::npos);
}

TEST(ExperimentConfig, RunArgumentsSubstituteTheBudget) {
  const std::string path = fresh_dir("args") + "/x.json";
  atomic_write_string(path, R"({"teacher": "t", "budgets": ["0.5", "40%"], "common_args": ["--quiet"],
      "methods": [{"name": "m", "args": ["prune", "--macs", "{budget}"]}]})");
  const ExperimentConfig c = read_experiment_config(path);
  EXPECT_EQ(run_arguments(c, c.methods[0], "40%", "/t", "/o"),
            (std::vector<std::string>{"prune", "--macs", "40%", "--quiet", "--teacher", "/t", "--out",
                                      "/o", "--resume"}));
  const std::vector<std::string> with_dir =
      run_arguments(c, {"m", {"slim", "extract", "--search", "{method_dir}/search", "--macs", "{budget}"}, {}},
                    "0.5", "/t", "/o", "/x/m");
  EXPECT_EQ(with_dir[3], "/x/m/search");
  // Another method's directory, through the experiment's own: a search shared by two lines.
  const std::vector<std::string> shared = prepare_arguments(
      {"m2", {"prune"}, {"slim", "extract", "--search", "{experiment_dir}/m/search", "{teacher}"}}, "/t", "/x/m2");
  EXPECT_EQ(shared, (std::vector<std::string>{"slim", "extract", "--search", "/x/m/search", "/t"}));
  EXPECT_EQ(budget_dir_name("40%"), "macs_40pct");
  EXPECT_EQ(budget_dir_name("0.5"), "macs_0.5");
}

TEST(ExperimentConfig, SeedsRunEveryBudgetOncePerSeedAndNeedTheirPlaceholder) {
  const std::string dir = fresh_dir("seeds");
  atomic_write_string(dir + "/x.json", R"({"teacher": "t", "budgets": ["0.5"], "seeds": [3, "b"],
      "methods": [{"name": "m", "args": ["practise", "run", "--macs", "{budget}", "--few-shot-seed", "{seed}"]}]})");
  const ExperimentConfig c = read_experiment_config(dir + "/x.json");
  EXPECT_EQ(c.seeds, (std::vector<std::string>{"3", "b"}));
  EXPECT_EQ(run_arguments(c, c.methods[0], "0.5", "/t", "/o", "", "3")[5], "3");
  const std::string method = R"({"name": "m", "args": ["prune", "--macs", "{budget}"]})";
  EXPECT_NE(error_reading(R"({"teacher": "t", "budgets": ["0.5"], "seeds": [1], "methods": [)" + method + "]}")
                .find("no \"{seed}\" placeholder"),
            std::string::npos);
  const std::string seeded = R"({"name": "m", "args": ["prune", "--macs", "{budget}", "--seed", "{seed}"]})";
  EXPECT_NE(error_reading(R"({"teacher": "t", "budgets": ["0.5"], "methods": [)" + seeded + "]}")
                .find("lists no seeds"),
            std::string::npos);
  EXPECT_NE(error_reading(R"({"teacher": "t", "budgets": ["0.5"], "seeds": [1, 1], "methods": [)" + seeded + "]}")
                .find("appears twice"),
            std::string::npos);
  EXPECT_NE(error_reading(R"({"teacher": "t", "budgets": ["0.5"], "seeds": [-1], "methods": [)" + seeded + "]}")
                .find("seeds: expected non-negative integers"),
            std::string::npos);
}

TEST(ResultsTable, SeedsAreAveragedWithTheirSpread) {
  std::vector<ResultRow> rows;
  for (double top1 : {90.0, 92.0, 94.0}) {
    ResultRow r;
    r.method = "practise";
    r.budget = "0.8";
    r.seed = std::to_string(rows.size());
    r.top1 = top1;
    r.macs = 100 + static_cast<int64_t>(rows.size());
    r.latency_b64_ratio = 0.5;
    r.dir = "/x/practise/macs_0.8/seed_" + r.seed;
    rows.push_back(r);
  }
  ResultRow failed = rows[0];
  failed.seed = "3";
  failed.status = "failed: exit 1, see log";
  rows.push_back(failed);
  ResultRow other = rows[0];
  other.method = "random";
  other.status = "failed: exit 2";
  rows.push_back(other);
  const std::vector<ResultRow> a = aggregate_over_seeds(rows);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_DOUBLE_EQ(a[0].top1, 92.0);
  EXPECT_DOUBLE_EQ(a[0].top1_std, 2.0);  // sample standard deviation of 90, 92, 94
  EXPECT_EQ(a[0].runs, 3);
  EXPECT_EQ(a[0].macs, 101);
  EXPECT_EQ(a[0].dir, "/x/practise/macs_0.8");
  EXPECT_TRUE(has_result(a[0]));
  EXPECT_NE(a[0].status.find("1 of 4 runs failed"), std::string::npos) << a[0].status;
  EXPECT_FALSE(has_result(a[1]));
  ResultRow teacher;
  teacher.method = "teacher";
  const std::string md = results_markdown(teacher, a);
  EXPECT_NE(md.find("92.00 ± 2.00 (3)"), std::string::npos) << md;
}

TEST(ResultsTable, MarkdownAndCsv) {
  ResultRow teacher;
  teacher.method = "teacher";
  teacher.budget = "-";
  teacher.macs = 22271616;
  teacher.params = 405002;
  teacher.top1 = 90.0;
  teacher.macs_fraction = teacher.latency_b1_ratio = teacher.latency_b64_ratio = 1;
  ResultRow a = teacher;
  a.method = "magnitude";
  a.budget = "0.5";
  a.macs = 11135808;
  a.macs_fraction = 0.5;
  a.top1 = 88.5;
  a.top1_delta = -1.5;
  a.latency_b64_ratio = 0.55;
  a.wall_seconds = 65;
  ResultRow b;
  b.method = "broken, really";
  b.budget = "0.5";
  b.status = "failed: exit 1, see log";
  const std::string md = results_markdown(teacher, {a, b});
  EXPECT_NE(md.find("| magnitude | 0.5 | 11.14 | 50.0% | 0.405 | 88.50 | -1.50 | 1.00 | 0.55 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("failed: exit 1, see log"), std::string::npos);
  const std::string csv = results_csv(teacher, {a, b});
  EXPECT_NE(csv.find("magnitude,0.5,,1,ok,11135808,405002,0.500000,88.5000,0.0000,-1.5000"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\"broken, really\""), std::string::npos);
}

TEST(ExperimentCommand, RunsBaselinesTabulatesPlotsAndResumes) {
  const std::string dir = fresh_dir("run");
  const std::string teacher = dir + "/teacher";
  save_model_dir(teacher, *make_model(named_config("fm_tiny"), 0));
  const std::string config = dir + "/experiment.json";
  atomic_write_string(config, R"({
    "title": "test experiment",
    "teacher": ")" + teacher + R"(",
    "budgets": ["0.7", "50%"],
    "common_args": ["--finetune-epochs", "0", "--latency-repeats", "0", "--eval-subset", "100",
                    "--quiet"],
    "methods": [
      {"name": "random", "args": ["prune", "--criterion", "random", "--macs", "{budget}"]},
      {"name": "magnitude", "args": ["prune", "--criterion", "magnitude", "--macs", "{budget}"],
       "prepare": ["info", "--model", "{teacher}"]},
      {"name": "broken", "args": ["prune", "--criterion", "taylor", "--macs", "{budget}"]}
    ]})");
  const std::string out = dir + "/out";
  const std::string common = " --config " + config + " --out " + out +
                             " --eval-subset 100 --latency-repeats 2";
  const test_support::Outcome first = run_vitc("experiment" + common);
  EXPECT_EQ(first.exit_code, 1) << first.output;  // the broken method failed, the others ran
  EXPECT_NE(first.output.find("6 results (6 run now, 0 already measured, 2 failed)"),
            std::string::npos)
      << first.output;
  const std::string md = read_file(out + "/results.md");
  EXPECT_NE(md.find("| random | 0.7 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| magnitude | 50% |"), std::string::npos) << md;
  EXPECT_NE(md.find("| broken | 0.7 | failed: exit 1"), std::string::npos) << md;
  EXPECT_NE(read_file(out + "/logs/broken_macs_0.7.log").find("random, magnitude"),
            std::string::npos);
  for (const char* f : {"results.csv", "results.json", "accuracy_vs_macs.svg",
                        "accuracy_vs_macs.png", "accuracy_vs_macs.gp",
                        "magnitude/macs_50pct/experiment.json", "random/macs_0.7/model.json"})
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  // Names are printed as written: underscores are not gnuplot subscripts.
  EXPECT_NE(read_file(out + "/accuracy_vs_macs.gp").find("png size 900,600 noenhanced"),
            std::string::npos);
  // The prepare step ran once, before the budgets.
  EXPECT_TRUE(std::filesystem::exists(out + "/magnitude/prepare.json"));
  EXPECT_NE(read_file(out + "/logs/magnitude_prepare.log").find("MACs"), std::string::npos);
  EXPECT_NE(md.find("magnitude: preparation run once for every budget"), std::string::npos) << md;
  const nlohmann::json measured = read_json(out + "/magnitude/macs_50pct/experiment.json");
  EXPECT_NEAR(measured["row"]["macs_fraction"].get<double>(), 0.5, 0.005);
  EXPECT_GT(measured["measurement"]["latency_ms"]["batch64"].get<double>(), 0.0);

  // Again, without the broken method: nothing is run, the table is rewritten.
  const test_support::Outcome second = run_vitc("experiment" + common + " --only random,magnitude");
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("4 results (0 run now, 4 already measured, 0 failed)"),
            std::string::npos)
      << second.output;
  // An unknown method name is an error that lists the known ones.
  const test_support::Outcome bad = run_vitc("experiment" + common + " --only uvc");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("random, magnitude, broken"), std::string::npos) << bad.output;
  std::filesystem::remove_all(dir);
}

TEST(ExperimentCommand, SeedsRunSeparatelyAndTheTableShowsTheirMean) {
  const std::string dir = fresh_dir("seeded_run");
  const std::string teacher = dir + "/teacher";
  save_model_dir(teacher, *make_model(named_config("fm_tiny"), 0));
  const std::string config = dir + "/experiment.json";
  atomic_write_string(config, R"({
    "teacher": ")" + teacher + R"(",
    "budgets": ["0.5"],
    "seeds": [1, 2],
    "common_args": ["--finetune-epochs", "0", "--latency-repeats", "0", "--eval-subset", "100", "--quiet"],
    "methods": [{"name": "random", "args": ["prune", "--criterion", "random", "--macs", "{budget}", "--seed", "{seed}"]}]})");
  const std::string out = dir + "/out";
  const test_support::Outcome o = run_vitc("experiment --config " + config + " --out " + out +
                                           " --eval-subset 100 --latency-repeats 1");
  ASSERT_EQ(o.exit_code, 0) << o.output;
  for (const char* f : {"random/macs_0.5/seed_1/experiment.json", "random/macs_0.5/seed_2/model.json",
                        "results_runs.csv"})
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  // Two different random structures, one row of their mean.
  EXPECT_NE(read_json(out + "/random/macs_0.5/seed_1/model.json")["structure"],
            read_json(out + "/random/macs_0.5/seed_2/model.json")["structure"]);
  EXPECT_NE(read_file(out + "/results.md").find(" (2) |"), std::string::npos) << read_file(out + "/results.md");
  EXPECT_EQ(read_json(out + "/results.json")["aggregated"].size(), 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vitc
