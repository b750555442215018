// Writes the seed corpus of the safetensors and model_dir harnesses with vitc's own writers:
// `fuzz_make_seeds <fuzz/corpus>` (target built on demand only; fuzz/make_seeds.py does the rest).
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "io/safetensors.h"
#include "model/model_dir.h"
#include "model/slice.h"
#include "model/structure.h"
#include "model/vit.h"
#include "util/error.h"
#include "util/files.h"

namespace {

// The model.json in `dir` without its indentation: smaller seeds mutate faster.
void copy_compact_json(const std::string& dir, const std::string& to) {
  vitc::atomic_write_string(to, vitc::read_json(dir + "/" + vitc::kModelJsonFile).dump());
}

void write_safetensors_seeds(const std::string& out) {
  torch::manual_seed(0);
  // One small float tensor with metadata.
  vitc::write_safetensors(out + "/f32_metadata.safetensors", {{"weight", torch::randn({2, 3})}},
                          {{"format", "pt"}, {"note", "seed"}});
  // Every dtype, a scalar, an empty tensor and a 3-d one.
  vitc::TensorMap all = {
      {"f32", torch::randn({4})},
      {"f16", torch::randn({3}).to(torch::kHalf)},
      {"bf16", torch::randn({3}).to(torch::kBFloat16)},
      {"f64", torch::randn({2}, torch::kDouble)},
      {"i64", torch::arange(3, torch::kLong)},
      {"i32", torch::arange(3, torch::kInt)},
      {"i16", torch::arange(2, torch::kShort)},
      {"i8", torch::arange(-2, 2, torch::kChar)},
      {"u8", torch::arange(5, torch::kByte)},
      {"bool", torch::tensor({true, false, true})},
      {"scalar", torch::tensor(1.5f)},
      {"empty", torch::zeros({0, 3})},
      {"cube", torch::arange(8, torch::kFloat).reshape({2, 2, 2})},
  };
  vitc::write_safetensors(out + "/all_dtypes.safetensors", all);
  vitc::write_safetensors(out + "/no_tensors.safetensors", {}, {{"format", "pt"}});
}

// model.json of a dense fm_tiny, and of two compressed fm_tiny models: one whose structure keeps
// everything (its weights are the harness's dense fm_tiny, so loading gets all the way through)
// and one that prunes heads, neurons and blocks (loading stops at the weights' shapes).
void write_model_dir_seeds(const std::string& out, const std::string& work) {
  const vitc::ViTConfig config = vitc::named_config("fm_tiny");
  vitc::VisionTransformer model = vitc::make_model(config, 0);
  vitc::save_model_dir(work + "/dense", *model);
  copy_compact_json(work + "/dense", out + "/dense.json");

  const vitc::Structure full = vitc::dense_structure(config);
  vitc::VisionTransformer same = vitc::slice_model(*model, full);
  vitc::save_compressed_model_dir(work + "/full", *same, config, full, {{"method", "seed"}});
  copy_compact_json(work + "/full", out + "/compressed_full.json");

  vitc::Structure pruned = full;
  // fm_tiny: 4 blocks of 4 heads (16 q/k and 16 v dims each) and 128 MLP neurons.
  pruned.blocks[0].heads.erase(pruned.blocks[0].heads.begin());  // drop head 0
  pruned.blocks[0].heads[0].qk.resize(5);                        // fewer q/k and v dims
  pruned.blocks[0].heads[1].v.resize(3);
  pruned.blocks[1].mlp.resize(40);                               // fewer MLP neurons
  pruned.blocks[1].attn_skip = true;                             // no attention branch
  pruned.blocks[1].heads.clear();
  pruned.blocks[2].mlp.clear();                                  // no MLP branch
  pruned.blocks[3].skip = true;                                  // no block
  pruned.blocks[3].heads.clear();
  pruned.blocks[3].mlp.clear();
  vitc::VisionTransformer compact = vitc::slice_model(*model, pruned);
  vitc::save_compressed_model_dir(work + "/pruned", *compact, config, pruned, {{"method", "seed"}});
  copy_compact_json(work + "/pruned", out + "/compressed_pruned.json");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fuzz_make_seeds <fuzz/corpus folder> <scratch folder>\n");
    return 2;
  }
  try {
    const std::string corpus = argv[1];
    vitc::make_dirs(corpus + "/safetensors");
    vitc::make_dirs(corpus + "/model_dir");
    write_safetensors_seeds(corpus + "/safetensors");
    write_model_dir_seeds(corpus + "/model_dir", argv[2]);
  } catch (const vitc::Error& e) {
    std::fprintf(stderr, "fuzz_make_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
