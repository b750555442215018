// Helpers every test layer shares: fresh temporary directories and checks of vitc::Error messages.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "util/error.h"

namespace vitc::test_support {

// The directories fresh_dir and absent_dir named, removed when the test program exits, so that
// a suite run leaves nothing in /tmp. VITC_KEEP_TEST_DIRS=1 keeps them, to look at a failure.
class TestDirs {
 public:
  static void remember(const std::string& dir) { instance().dirs_.push_back(dir); }
  ~TestDirs() {
    if (std::getenv("VITC_KEEP_TEST_DIRS") != nullptr || ::getpid() != pid_) return;
    for (const std::string& dir : dirs_) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  }

 private:
  static TestDirs& instance() {
    static TestDirs dirs;
    return dirs;
  }
  pid_t pid_ = ::getpid();  // a forked child must not remove its parent's directories
  std::vector<std::string> dirs_;
};

// A path under the system temp directory, unique to this test program, where nothing is: for an
// --out or a file that a command must create itself. Removed at exit (TestDirs).
inline std::string absent_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("vitc_test_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  TestDirs::remember(dir.string());
  return dir.string();
}

// A fresh, empty directory under the system temp directory, unique to this test program.
// Removed at exit (TestDirs).
inline std::string fresh_dir(const std::string& name) {
  const std::string dir = absent_dir(name);
  std::filesystem::create_directories(dir);
  return dir;
}

// The message of the vitc::Error `fn` throws, or "" (and a test failure) if it throws none.
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a vitc::Error";
  return "";
}

// Expects `fn` to throw a vitc::Error whose message contains every one of `parts`.
inline void expect_error(const std::function<void()>& fn, const std::vector<std::string>& parts) {
  const std::string message = error_of(fn);
  for (const std::string& part : parts)
    EXPECT_NE(message.find(part), std::string::npos) << "message lacks '" << part << "': " << message;
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace vitc::test_support
