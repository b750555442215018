// Reader for IDX files (the MNIST format), gzip-compressed or plain, holding unsigned bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/ATen.h>

namespace vitc {

// An IDX array of unsigned bytes: its dimensions and its data as a uint8 tensor of that shape.
struct IdxArray {
  std::vector<int64_t> dims;
  at::Tensor data;
};

// Decompresses a whole gzip file with zlib (a file that is not gzip is read as is, as zlib does).
// Throws vitc::Error naming the path if it cannot be opened or is damaged.
std::string read_gzip_file(const std::string& path);

// Parses IDX bytes: magic 0x00 0x00 0x08 (unsigned byte) <ndims>, ndims big-endian uint32 sizes,
// then the data. Rejects other element types, a count different from `expected_ndims`, missing
// (truncated) or extra trailing data; every message names `path`.
IdxArray parse_idx(const std::string& bytes, const std::string& path, int expected_ndims);

// read_gzip_file + parse_idx.
IdxArray read_idx(const std::string& path, int expected_ndims);

}  // namespace vitc
