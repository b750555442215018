// Fuzz harness: load_model_dir with the input as model.json beside the weights of a dense fm_tiny
// model (config, structure and source_config parsing); only vitc::Error may come out. Its mutator
// sometimes nests a value thousands of levels deep.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include <ATen/Parallel.h>

#include "fuzz_util.h"
#include "json_mutator.h"
#include "model/model_dir.h"
#include "model/vit.h"
#include "util/error.h"

namespace {

// The model folder, with model.safetensors of a fresh fm_tiny written once per process.
const std::string& model_dir() {
  static const std::string dir = [] {
    at::set_num_threads(1);  // small tensors: threads would only add noise
    const std::string d = vitc::fuzz::temp_dir() + "/model";
    vitc::VisionTransformer model = vitc::make_model(vitc::named_config("fm_tiny"), 0);
    vitc::save_model_dir(d, *model);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

// libFuzzer's (or the corpus runner's) mutation, or 1 time in 16 a number nested deeply instead.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  // Nesting goes on the input as it is: after random edits it would rarely still parse.
  if (seed % 16 == 1) {
    std::string json(reinterpret_cast<const char*>(data), size);
    if (vitc::fuzz::wrap_number_deeply(json, seed / 16) && json.size() <= max_size) {
      std::memcpy(data, json.data(), json.size());
      return json.size();
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string json_path = model_dir() + "/" + vitc::kModelJsonFile;
  vitc::fuzz::write_input(json_path, data, size);
  // Any other exception escapes and terminates: that is a bug in the reader.
  try {
    vitc::LoadedModel loaded = vitc::load_model_dir(model_dir());
    vitc::fuzz::loaded("model directory loaded");
  } catch (const vitc::Error& e) {
    vitc::fuzz::expected_error(e);
  }
  return 0;
}
