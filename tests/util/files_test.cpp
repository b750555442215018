// Atomic writes: a failed write leaves the previous file intact; JSON errors name the file.
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"
#include "util/error.h"
#include "util/files.h"

namespace vitc {
namespace {

using vitc::test_support::fresh_dir;

TEST(Files, AtomicWriteReplacesContents) {
  const std::string path = fresh_dir("replace") + "/a.txt";
  atomic_write_string(path, "first");
  atomic_write_string(path, "second");
  EXPECT_EQ(read_file(path), "second");
}

TEST(Files, FailedWriteKeepsOldFileAndLeavesNoTemporary) {
  const std::string dir = fresh_dir("failed");
  const std::string path = dir + "/a.txt";
  atomic_write_string(path, "good");
  EXPECT_THROW(atomic_write(path,
                            [](std::ostream& out) {
                              out << "half";
                              throw std::runtime_error("interrupted");
                            }),
               std::runtime_error);
  EXPECT_EQ(read_file(path), "good");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(Files, BadJsonNamesTheFile) {
  const std::string path = fresh_dir("json") + "/bad.json";
  atomic_write_string(path, "{\"a\": ");
  try {
    read_json(path);
    FAIL() << "expected vitc::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
  }
}

TEST(Files, MissingFileNamesThePath) {
  try {
    read_file("/nonexistent/vitc/file.bin");
    FAIL() << "expected vitc::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/vitc/file.bin"), std::string::npos);
  }
}

TEST(Files, JsonRoundTrip) {
  const std::string path = fresh_dir("roundtrip") + "/x.json";
  nlohmann::json value = {{"a", 1}, {"b", {1, 2, 3}}};
  write_json(path, value);
  EXPECT_EQ(read_json(path), value);
}

}  // namespace
}  // namespace vitc
