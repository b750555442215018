// Test helpers for UVC: small dense source models with every parameter random, temp directories.
#pragma once

#include <filesystem>
#include <string>

#include <unistd.h>

#include <torch/torch.h>

#include "compress/tiny_teacher_test_util.h"

#include "model/slice_test_util.h"
#include "model/vit.h"

namespace vitc::test {

// 28x28, patch 7 (16 patches + cls), dim 64, `depth` blocks of 4 heads of 16, MLP 128, with
// random weights, biases and norms.
inline VisionTransformer random_uvc_model(uint64_t seed, int depth = 4, bool distilled = false) {
  VisionTransformer model =
      make_model(make_uniform_config(distilled ? "uvc_distilled" : "uvc_tiny", 28, 7, 1, 10, 64,
                                     depth, 4, 2.0, distilled),
                 seed);
  randomize_parameters(*model, seed);
  model->eval();
  return model;
}

// The Swin of the slicing contract (contract_sources(): blocks of 2 and 4 heads at widths 16 and
// 32, 196 then 49 tokens, windows of 49), with random weights, biases and norms: blocks of
// different sizes.
inline VisionTransformer random_uvc_swin(uint64_t seed) {
  VisionTransformer model = make_model(contract_sources().back(), seed);
  randomize_parameters(*model, seed);
  model->eval();
  return model;
}

// An empty directory under /tmp, one per process.
inline std::string uvc_temp_dir(const std::string& name) { return process_temp_dir("uvc", name); }

}  // namespace vitc::test
