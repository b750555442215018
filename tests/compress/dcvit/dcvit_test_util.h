// Test helpers for DC-ViT and PRACTISE: small random models, a model with a known redundant block,
// random image sets, a briefly trained Fashion-MNIST teacher, and per-process temp directories.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include <torch/torch.h>

#include "data/dataset.h"
#include "data/fashion_mnist.h"
#include "data/sampling.h"
#include "compress/tiny_teacher_test_util.h"
#include "model/slice_test_util.h"
#include "model/vit.h"
#include "train/trainer.h"

namespace vitc::test {

// 28x28, patch 7 (17 tokens), dim 32, `depth` blocks of 2 heads, MLP 64; every parameter random.
inline VisionTransformer random_small_model(int depth, uint64_t seed) {
  VisionTransformer model =
      make_model(make_uniform_config("small_test", 28, 7, 1, 10, 32, depth, 2, 2.0, false), seed);
  randomize_parameters(*model, seed);
  model->eval();
  return model;
}

// Makes block `b` compute the identity: its attention and MLP branches add exactly zero.
inline void make_block_identity(VisionTransformerImpl& model, int b) {
  torch::NoGradGuard no_grad;
  Block block = model.block(b);
  block->attn->proj->weight.zero_();
  block->attn->proj->bias.zero_();
  block->mlp->fc2->weight.zero_();
  block->mlp->fc2->bias.zero_();
}

// `n` random normalised images of the model's shape with labels `label_seed`-random (or all 0).
inline std::shared_ptr<const Dataset> random_image_set(const ViTConfig& c, int64_t n, uint64_t seed,
                                                       uint64_t label_seed = 0) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  at::Tensor images = at::normal(0.0, 1.0, {n, c.in_chans, c.img_size, c.img_size}, gen);
  at::Generator lgen = at::detail::createCPUGenerator(label_seed + 1);
  at::Tensor labels = label_seed == 0 ? torch::zeros({n}, at::kLong)
                                      : at::randint(0, c.num_classes, {n}, lgen);
  return std::make_shared<TensorDataset>(images, labels, c.num_classes, "random images");
}

inline std::string temp_dir(const std::string& name) { return process_temp_dir("dcvit", name); }

// fm_tiny trained for 300 steps of 64 images (about 75% top-1 on the test split).
inline VisionTransformer trained_fm_tiny(const std::shared_ptr<const Dataset>& train) {
  return train_tiny_teacher(train, nullptr, temp_dir("teacher")).model;
}

}  // namespace vitc::test
