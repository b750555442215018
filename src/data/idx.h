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

// Parses IDX bytes: magic 0x00 0x00 0x08 (unsigned byte) <ndims>, ndims big-endian uint32 sizes,
// then the data. Rejects other element types, a count different from `expected_ndims`, missing
// (truncated) or extra trailing data; every message names `path`.
IdxArray parse_idx(const std::string& bytes, const std::string& path, int expected_ndims);

// Reads an IDX file, gzip-compressed or plain (zlib reads a non-gzip file as is), with the checks
// of parse_idx. The data is read in the amount the header promises and no more: a header that
// promises more than the file can hold (deflate inflates at most 1032:1) or more than 4 GiB is
// refused before anything is allocated, so a decompression bomb cannot exhaust memory.
IdxArray read_idx(const std::string& path, int expected_ndims);

}  // namespace vitc
