// Fuzz harness: read_safetensors on arbitrary file contents; only vitc::Error may come out. Its
// mutator mutates the JSON header and keeps its length prefix right.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz_util.h"
#include "json_mutator.h"
#include "io/safetensors.h"
#include "util/error.h"

namespace {

volatile uint8_t g_sink;  // keeps the reads below from being optimized away

// Reads every byte of the tensor's storage: ASan sees it if the reader promised more than it has.
void touch(const at::Tensor& tensor) {
  if (!tensor.defined() || tensor.numel() == 0) return;
  const auto* bytes = static_cast<const uint8_t*>(tensor.data_ptr());
  uint8_t sum = 0;
  for (size_t i = 0; i < tensor.nbytes(); ++i) sum ^= bytes[i];
  g_sink = sum;
}

}  // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

// 3 times in 4 the JSON header alone is mutated (1 time in 16 instead a number in it is nested
// deeply) and its 8-byte length prefix made right again; else the bytes as they are.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  uint64_t length = 0;
  if (size >= 8) std::memcpy(&length, data, 8);  // little-endian, as the format and the host
  if (seed % 4 != 0 && size >= 8 && length <= size - 8) {
    std::string header(reinterpret_cast<const char*>(data) + 8, length);
    const std::string tensors(reinterpret_cast<const char*>(data) + 8 + length, size - 8 - length);
    // Nesting goes on the header as it is: after random edits it would rarely still parse.
    if (seed % 64 >= 4 || !vitc::fuzz::wrap_number_deeply(header, seed / 64)) {
      header.resize(2 * length + 64);
      header.resize(
          LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(header.data()), length, header.size()));
    }
    const uint64_t new_length = header.size();
    if (8 + header.size() + tensors.size() <= max_size) {
      std::memcpy(data, &new_length, 8);
      std::memcpy(data + 8, header.data(), header.size());
      std::memcpy(data + 8 + header.size(), tensors.data(), tensors.size());
      return 8 + header.size() + tensors.size();
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = vitc::fuzz::temp_dir() + "/input.safetensors";
  vitc::fuzz::write_input(path, data, size);
  // Any other exception escapes and terminates: that is a bug in the reader.
  for (const bool keep_dtype : {false, true}) {
    try {
      const vitc::SafetensorsFile file = vitc::read_safetensors(path, keep_dtype);
      for (const auto& [name, tensor] : file.tensors) touch(tensor);
      vitc::fuzz::loaded(keep_dtype ? "read (keep_dtype)" : "read");
    } catch (const vitc::Error& e) {
      vitc::fuzz::expected_error(e);
    }
  }
  return 0;
}
