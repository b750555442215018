// Test helper for hostile model directories: a model.json edited in place must be refused.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model_dir.h"
#include "test_support.h"
#include "util/files.h"

namespace vitc::test {

// Writes the model.json of `dir` with `edit` applied, expects load_model_dir to fail with a
// message holding every one of `parts` and the file's path, then puts the original file back.
inline void expect_refused(const std::string& dir, const std::function<void(nlohmann::json&)>& edit,
                           const std::vector<std::string>& parts) {
  const std::string json_path = dir + "/" + kModelJsonFile;
  const std::string original = test_support::read_text(json_path);
  nlohmann::json j = nlohmann::json::parse(original);
  edit(j);
  write_json(json_path, j);
  std::vector<std::string> all = parts;
  all.push_back(json_path);
  test_support::expect_error([&] { load_model_dir(dir); }, all);
  test_support::write_text(json_path, original);
}

}  // namespace vitc::test
