// Fuzz harness: parse_idx on raw bytes (1 and 3 dims) and read_idx's path on a file (zlib, so
// gzip inputs are decompressed); only vitc::Error may come out. Its mutator mutates what a
// gzip input holds, not only its compressed bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "data/idx.h"
#include "fuzz_util.h"
#include "gzip_mutator.h"
#include "util/error.h"

namespace {

// The parsed shape must account for every data byte.
void check_array(const vitc::IdxArray& array) {
  int64_t count = 1;
  for (const int64_t d : array.dims) count *= d;
  if (array.data.numel() != count) __builtin_trap();
  vitc::fuzz::loaded("parsed");
}

}  // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

// A gzip input: 3 times in 4 its contents are mutated and compressed again (1 time in 64 with a
// long run of zeros appended, 64 KiB to 8 MiB, small once compressed); else the bytes as they are.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  std::string raw;
  if (seed % 4 != 0 && vitc::fuzz::is_gzip(data, size) &&
      vitc::fuzz::gunzip(data, size, size_t{1} << 24, raw)) {
    const size_t raw_size = raw.size();
    raw.resize(2 * raw_size + 64);
    raw.resize(LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(raw.data()), raw_size, raw.size()));
    if (seed % 64 == 1) raw.append(size_t{1} << (16 + (seed / 64) % 8), '\0');
    const std::string packed =
        vitc::fuzz::gzip(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
    if (!packed.empty() && packed.size() <= max_size) {
      std::memcpy(data, packed.data(), packed.size());
      return packed.size();
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = vitc::fuzz::temp_dir() + "/input.idx.gz";
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  // Any other exception escapes and terminates: that is a bug in the reader.
  for (const int ndims : {1, 3}) {
    try {
      check_array(vitc::parse_idx(bytes, "fuzz_input", ndims));
    } catch (const vitc::Error& e) {
      vitc::fuzz::expected_error(e);
    }
  }
  // The same bytes as a file through read_idx: gzip (or plain) streamed and bounded by the header.
  vitc::fuzz::write_input(path, data, size);
  for (const int ndims : {1, 3}) {
    try {
      check_array(vitc::read_idx(path, ndims));
    } catch (const vitc::Error& e) {
      vitc::fuzz::expected_error(e);
    }
  }
  return 0;
}
