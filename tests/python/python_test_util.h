// Test helpers for comparisons with PyTorch: finding a Python that has torch (tests skip without
// one), running the project's Python scripts, and temporary directories.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace vitc::testing {

// $VITC_PYTHON, else the first of python3 and /usr/bin/python3 that imports torch; "" if none.
inline const std::string& python_with_torch() {
  static const std::string found = [] {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("VITC_PYTHON"); env != nullptr && *env != '\0') {
      candidates.push_back(env);
    }
    candidates.push_back("python3");
    candidates.push_back("/usr/bin/python3");
    for (const std::string& python : candidates) {
      const std::string command = python + " -c 'import torch' > /dev/null 2>&1";
      if (std::system(command.c_str()) == 0) return python;
    }
    return std::string();
  }();
  return found;
}

#define VITC_SKIP_WITHOUT_TORCH()                                                          \
  if (vitc::testing::python_with_torch().empty())                                          \
  GTEST_SKIP() << "no Python with torch (install python3-torch, or set VITC_PYTHON); "     \
                  "scripts/setup.sh installs it"

// The source tree: $VITC_SOURCE_DIR, else the one this test was built from (the test's CMakeLists
// must define VITC_TEST_SOURCE_DIR).
inline std::string source_dir() {
  const char* dir = std::getenv("VITC_SOURCE_DIR");
  if (dir != nullptr && *dir != '\0') return dir;
  return VITC_TEST_SOURCE_DIR;
}

struct PythonOutcome {
  int exit_code;
  std::string output;
};

// Runs `python_with_torch() <script> <args>` (script relative to the source tree).
// Runs a shell command line, capturing its exit code and its output (stdout and stderr).
inline PythonOutcome run_shell(const std::string& command_line) {
  const std::string command = command_line + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string output;
  std::array<char, 4096> buf{};
  while (pipe != nullptr && std::fgets(buf.data(), buf.size(), pipe) != nullptr) output += buf.data();
  const int status = pipe != nullptr ? ::pclose(pipe) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

inline PythonOutcome run_python(const std::string& script, const std::string& args) {
  return run_shell(python_with_torch() + " " + source_dir() + "/" + script + " " + args);
}

// ONNX Runtime (npm's onnxruntime-node, installed by scripts/setup.sh into .deps/ort) on an
// exported model: tests/python/ort_logits.js writes the logits of `images` to `out` as JSON.
inline PythonOutcome run_onnxruntime(const std::string& model, const std::string& images,
                                     const std::string& out) {
  return run_shell("NODE_PATH=" + source_dir() + "/.deps/ort/node_modules node " + source_dir() +
                   "/tests/python/ort_logits.js " + model + " " + images + " " + out);
}

inline std::string python_temp_dir(const std::string& name) {
  return vitc::test_support::fresh_dir("py_" + name);
}

}  // namespace vitc::testing
