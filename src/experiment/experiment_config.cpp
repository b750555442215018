// Reading and validating experiment files; building each run's command line.
#include "experiment/experiment_config.h"

#include <algorithm>
#include <filesystem>
#include <regex>

#include "util/error.h"
#include "util/json_read.h"
#include "util/files.h"

namespace vitc {

namespace {

std::string substitute(std::string text, const std::string& key, const std::string& value) {
  for (size_t p = 0; (p = text.find(key, p)) != std::string::npos; p += value.size())
    text.replace(p, key.size(), value);
  return text;
}

std::vector<std::string> string_array(const nlohmann::json& j, const std::string& where) {
  check(j.is_array(), where, ": expected an array of strings, got ", json_brief(j));
  std::vector<std::string> out;
  for (const nlohmann::json& e : j) {
    check(e.is_string(), where, ": expected an array of strings, got element ", json_brief(e));
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::string required_string(const nlohmann::json& j, const std::string& key,
                            const std::string& where) {
  check(j.contains(key), where, ": missing key '", key, "'");
  check(j[key].is_string() && !j[key].get<std::string>().empty(), where, ".", key,
        ": expected a non-empty string, got ", json_brief(j[key]));
  return j[key].get<std::string>();
}

}  // namespace

ExperimentConfig read_experiment_config(const std::string& path) {
  const nlohmann::json j = read_json(path);
  check(j.is_object(), path, ": expected a JSON object");
  ExperimentConfig c;
  c.source = j;
  c.title = j.value("title", path);
  c.teacher = required_string(j, "teacher", path);
  check(j.contains("budgets"), path, ": missing key 'budgets'");
  c.budgets = string_array(j["budgets"], path + ": budgets");
  check(!c.budgets.empty(), path, ": budgets: expected at least one budget");
  if (j.contains("common_args")) c.common_args = string_array(j["common_args"], path + ": common_args");
  const std::regex name_ok("[A-Za-z0-9_.-]+");
  if (j.contains("seeds")) {
    check(j["seeds"].is_array() && !j["seeds"].empty(), path,
          ": seeds: expected a non-empty array of seeds (integers or names), got ", json_brief(j["seeds"]));
    for (const nlohmann::json& e : j["seeds"]) {
      check(e.is_number_unsigned() || e.is_string(), path,
            ": seeds: expected non-negative integers or names, got ", json_brief(e));
      const std::string seed = e.is_string() ? e.get<std::string>() : std::to_string(e.get<uint64_t>());
      check(std::regex_match(seed, name_ok), path, ": seeds: '", seed,
            "' must be letters, digits, '_', '.' or '-' (it names a directory)");
      check(std::find(c.seeds.begin(), c.seeds.end(), seed) == c.seeds.end(), path, ": seeds: '",
            seed, "' appears twice");
      c.seeds.push_back(seed);
    }
  }
  check(j.contains("methods") && j["methods"].is_array() && !j["methods"].empty(), path,
        ": methods: expected a non-empty array of {\"name\", \"args\"}");
  for (size_t i = 0; i < j["methods"].size(); ++i) {
    const std::string where = str_cat(path, ": methods[", i, "]");
    const nlohmann::json& m = j["methods"][i];
    check(m.is_object(), where, ": expected an object with \"name\" and \"args\"");
    ExperimentMethod method;
    method.name = required_string(m, "name", where);
    check(std::regex_match(method.name, name_ok), where, ".name: '", method.name,
          "' must be letters, digits, '_', '.' or '-' (it names a directory)");
    for (const ExperimentMethod& other : c.methods)
      check(other.name != method.name, where, ".name: '", method.name, "' appears twice");
    check(m.contains("args"), where, ": missing key 'args'");
    method.args = string_array(m["args"], where + ".args");
    check(!method.args.empty(), where, ".args: expected the vitc subcommand and its flags");
    bool has_budget = false;
    for (const std::string& a : method.args) has_budget |= a.find("{budget}") != std::string::npos;
    check(has_budget, where, ".args: no \"{budget}\" placeholder: every run would be the same");
    bool has_seed = false;
    for (const std::string& a : method.args) has_seed |= a.find("{seed}") != std::string::npos;
    check(has_seed || c.seeds.empty(), where, ".args: the file lists seeds but the args have no "
          "\"{seed}\" placeholder: every seed's run would be the same (e.g. \"--seed\", \"{seed}\")");
    check(!has_seed || !c.seeds.empty(), where, ".args: \"{seed}\" is used but the file lists no "
          "seeds (add \"seeds\": [0, 1, 2])");
    if (m.contains("prepare")) {
      method.prepare = string_array(m["prepare"], where + ".prepare");
      check(!method.prepare.empty(), where, ".prepare: expected the vitc subcommand and its flags");
    }
    c.methods.push_back(method);
  }
  return c;
}

namespace {

// {teacher}, {method_dir} and {experiment_dir} (the experiment's --out, where every method's
// directory lives: one method may read another's, such as a shared search).
std::string substitute_dirs(const std::string& text, const std::string& teacher,
                            const std::string& method_dir) {
  const std::string experiment_dir = std::filesystem::path(method_dir).parent_path().string();
  return substitute(substitute(substitute(text, "{teacher}", teacher), "{method_dir}", method_dir),
                    "{experiment_dir}", experiment_dir);
}

}  // namespace

std::vector<std::string> run_arguments(const ExperimentConfig& config,
                                       const ExperimentMethod& method, const std::string& budget,
                                       const std::string& teacher, const std::string& out,
                                       const std::string& method_dir, const std::string& seed) {
  std::vector<std::string> args;
  for (const std::string& a : method.args) {
    args.push_back(substitute_dirs(substitute(substitute(a, "{budget}", budget), "{seed}", seed),
                                   teacher, method_dir));
  }
  args.insert(args.end(), config.common_args.begin(), config.common_args.end());
  for (const std::string& a : {std::string("--teacher"), teacher, std::string("--out"), out,
                               std::string("--resume")})
    args.push_back(a);
  return args;
}

std::vector<std::string> prepare_arguments(const ExperimentMethod& method,
                                           const std::string& teacher,
                                           const std::string& method_dir) {
  std::vector<std::string> args;
  for (const std::string& a : method.prepare)
    args.push_back(substitute_dirs(a, teacher, method_dir));
  return args;
}

std::string budget_dir_name(const std::string& budget) {
  std::string name = "macs_";
  for (char c : budget) {
    if (c == '%') name += "pct";
    else if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') name += c;
    else name += '_';
  }
  return name;
}

}  // namespace vitc
