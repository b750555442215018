// Test helpers for ViT-Slim: small dense source models with every parameter random.
#pragma once

#include <filesystem>
#include <string>

#include <unistd.h>

#include <torch/torch.h>

#include "compress/tiny_teacher_test_util.h"

#include "compress/slim/slim_masks.h"
#include "model/slice_test_util.h"
#include "model/vit.h"

namespace vitc::test {

// fm_tiny's geometry (28x28, patch 7, dim 64, depth 4, 4 heads of 16, MLP 128) with random
// weights, biases and norms.
inline VisionTransformer random_tiny_model(uint64_t seed, bool distilled = false) {
  VisionTransformer model = make_model(make_uniform_config(distilled ? "tiny_distilled" : "tiny",
                                                           28, 7, 1, 10, 64, 4, 4, 2.0, distilled),
                                       seed);
  randomize_parameters(*model, seed);
  model->eval();
  return model;
}

// Masks with seeded random values around 1 (a few negative), as a search might leave them.
inline SlimMasks random_masks(const ViTConfig& config, uint64_t seed, bool with_tokens = false) {
  SlimMasks m = make_slim_masks(config, with_tokens);
  at::Generator gen = at::detail::createCPUGenerator(seed);
  m.attn = at::normal(0.6, 0.5, m.attn.sizes(), gen);
  m.mlp = at::normal(0.6, 0.5, m.mlp.sizes(), gen);
  if (with_tokens) m.tokens = at::normal(1.0, 1.5, m.tokens.sizes(), gen);
  return m;
}

// An empty directory under /tmp, one per process: several builds may run their tests at once on
// one machine.
inline std::string temp_dir(const std::string& name) { return process_temp_dir("slim", name); }

inline at::Tensor random_images(const ViTConfig& config, int64_t batch, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return at::normal(0.0, 1.0, {batch, config.in_chans, config.img_size, config.img_size}, gen);
}

}  // namespace vitc::test
