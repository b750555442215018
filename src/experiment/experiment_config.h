// An experiment: a teacher, a list of MACs budgets and a list of methods, each a vitc command
// line with placeholders, read from a JSON file checked into the project (experiments/).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vitc {

struct ExperimentMethod {
  std::string name;               // a row label and directory name ([A-Za-z0-9_.-]+)
  std::vector<std::string> args;  // vitc arguments; "{budget}" is replaced by each budget
  // Optional: vitc arguments run once before the budgets (a search every budget reuses, e.g.
  // `slim search`), taken as written apart from "{teacher}", "{method_dir}" (the method's
  // output folder) and "{experiment_dir}"; args may refer to those too.
  std::vector<std::string> prepare;
};

struct ExperimentConfig {
  std::string title;
  std::string teacher;                   // model directory (relative to the working directory)
  std::vector<std::string> budgets;      // as each command takes them: "0.5", "40%", "11.1M"
  std::vector<std::string> common_args;  // appended to every method's command
  // Optional: every (method, budget) runs once per seed, "{seed}" in its args replaced by it
  // (e.g. "--few-shot-seed", "{seed}"); the table shows the mean and standard deviation.
  std::vector<std::string> seeds;
  std::vector<ExperimentMethod> methods;
  nlohmann::json source;                 // the file as read, for results.json
};

// Throws vitc::Error naming the file, the key and what was expected, e.g.
//   "experiments/x.json: methods[2].args: expected an array of strings".
ExperimentConfig read_experiment_config(const std::string& path);

// The vitc arguments of one run: method.args with {budget}, {seed}, {teacher}, {method_dir} (this
// method's directory) and {experiment_dir} (the experiment's --out) substituted, common_args, then
// --teacher <teacher> --out <out> --resume (every compression command takes these).
std::vector<std::string> run_arguments(const ExperimentConfig& config,
                                       const ExperimentMethod& method, const std::string& budget,
                                       const std::string& teacher, const std::string& out,
                                       const std::string& method_dir = "",
                                       const std::string& seed = "");

// The prepare arguments with {teacher}, {method_dir} and {experiment_dir} substituted (empty if
// none).
std::vector<std::string> prepare_arguments(const ExperimentMethod& method,
                                           const std::string& teacher,
                                           const std::string& method_dir);

// The directory name of a budget: "macs_0.5", "macs_40pct", "macs_11.1M".
std::string budget_dir_name(const std::string& budget);

}  // namespace vitc
