// Test helpers for the data layer: temporary directories, hand-made IDX gzip files, error checks.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"
#include "util/error.h"

namespace vitc::testing {

// A fresh, empty directory under the system temp directory.
using test_support::fresh_dir;

// IDX bytes: magic 0 0 `type` ndims, big-endian sizes, then `data`.
inline std::string idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data,
                             uint8_t type = 0x08) {
  std::string out = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(d >> shift));
  }
  out.append(data.begin(), data.end());
  return out;
}

inline void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(file), Z_OK);
}

inline void write_plain(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_plain(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Pixels of `n` 28x28 images: image i, pixel p holds (i * 7 + p) % 256.
inline std::vector<uint8_t> test_pixels(uint32_t n, uint32_t side = 28) {
  std::vector<uint8_t> pixels(static_cast<size_t>(n) * side * side);
  for (size_t k = 0; k < pixels.size(); ++k) {
    const size_t i = k / (side * side), p = k % (side * side);
    pixels[k] = static_cast<uint8_t>((i * 7 + p) % 256);
  }
  return pixels;
}

// Writes a small valid Fashion-MNIST split (`prefix` "train" or "t10k") with labels `labels`.
inline void write_split(const std::string& dir, const std::string& prefix,
                        const std::vector<uint8_t>& labels) {
  const auto n = static_cast<uint32_t>(labels.size());
  write_gzip(dir + "/" + prefix + "-images-idx3-ubyte.gz", idx_bytes({n, 28, 28}, test_pixels(n)));
  write_gzip(dir + "/" + prefix + "-labels-idx1-ubyte.gz", idx_bytes({n}, labels));
}

using test_support::expect_error;  // tests/test_support.h

}  // namespace vitc::testing
