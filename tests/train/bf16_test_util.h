// Shared by the bf16 tests on the CPU (tests/train/precision_test.cpp) and on CUDA
// (tests/cuda/cuda_model_test.cpp): a scope of bf16 autocast, and the short training run both
// check learns in bf16.
#pragma once

#include <string>

#include <c10/core/Device.h>

#include "train/trainer.h"
#include "util/compute.h"

namespace vitc::test {

// bf16 autocast on `device`'s type for the scope; fp32 again however the scope ends (autocast
// is thread state, and later tests of the same process must not inherit it).
class Bf16Scope {
 public:
  explicit Bf16Scope(const c10::Device& device) : device_(device) {
    set_precision(device_, Precision::bf16);
  }
  ~Bf16Scope() { set_precision(device_, Precision::fp32); }
  Bf16Scope(const Bf16Scope&) = delete;
  Bf16Scope& operator=(const Bf16Scope&) = delete;

 private:
  c10::Device device_;
};

// Two epochs of batch 64 at lr 2e-3 (warm-up 0.2 epoch, seed 1): on 1280 Fashion-MNIST images,
// enough for fm_tiny to pass 40% top-1 whatever the precision.
inline TrainOptions short_bf16_training(const std::string& out_dir) {
  TrainOptions o;
  o.epochs = 2;
  o.batch_size = 64;
  o.lr = 2e-3;
  o.warmup_epochs = 0.2;
  o.seed = 1;
  o.quiet = true;
  o.out_dir = out_dir;
  return o;
}

}  // namespace vitc::test
