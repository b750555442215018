// Runs the `vitc` binary under test (CTest sets VITC_BIN) and captures its exit code and output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace vitc::test_support {

struct Outcome {
  int exit_code;
  std::string output;  // stdout and stderr together
};

inline Outcome run_vitc(const std::string& args) {
  const char* bin = std::getenv("VITC_BIN");
  EXPECT_NE(bin, nullptr) << "VITC_BIN is set by CTest";
  // CTest runs two tests at once on 2 cores, and vitc's default torch pool takes every core: idle
  // OpenMP threads then wait passively instead of spinning on a core the other test needs.
  const std::string command =
      "OMP_WAIT_POLICY=passive " + std::string(bin ? bin : "vitc") + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string output;
  std::array<char, 4096> buf{};
  while (pipe != nullptr && std::fgets(buf.data(), buf.size(), pipe) != nullptr) output += buf.data();
  const int status = pipe != nullptr ? ::pclose(pipe) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace vitc::test_support
