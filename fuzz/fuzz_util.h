// Helpers the harnesses share: a private temporary folder per process and writing an input there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include "util/error.h"

namespace vitc::fuzz {

// A fresh folder under $VITC_FUZZ_TMPDIR if set (scripts/fuzz.sh points it at a folder of its
// own and removes that, since libFuzzer ends a timed run or a crash without running atexit
// handlers), else /dev/shm (memory: rewriting a file per input costs no disk), else $TMPDIR or
// /tmp; made on the first call and removed when the process exits normally.
inline const std::string& temp_dir() {
  static const std::string dir = [] {
    const char* own = std::getenv("VITC_FUZZ_TMPDIR");
    std::string base = own != nullptr && *own != '\0' ? own : "/dev/shm";
    if (access(base.c_str(), W_OK) != 0) {
      const char* tmp = std::getenv("TMPDIR");
      base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    }
    std::string pattern = base + "/vitc_fuzz_XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("cannot make a temporary folder under " + base);
    }
    static const std::string made = pattern;  // for the atexit handler, which takes no argument
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(made, ignored);
    });
    return pattern;
  }();
  return dir;
}

// Overwrites `path` with the input bytes (not vitc's atomic_write: this is the harness, not the
// code under test). Failing to write is the harness's problem, so it throws a non-vitc error.
inline void write_input(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) throw std::runtime_error("cannot write the fuzz input to " + path);
}

// The expected outcome of a bad input: ignored, or printed with VITC_FUZZ_VERBOSE=1 (to see
// which seeds load and what a reader says about an input).
inline void expected_error(const vitc::Error& e) {
  static const bool verbose = std::getenv("VITC_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "vitc::Error: %s\n", e.what());
}

// Printed with VITC_FUZZ_VERBOSE=1: the input was read without error.
inline void loaded(const char* what) {
  static const bool verbose = std::getenv("VITC_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "ok: %s\n", what);
}

}  // namespace vitc::fuzz
