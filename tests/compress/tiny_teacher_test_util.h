// Shared by the methods' end-to-end tests: seeded Fashion-MNIST subsets, per-process temporary
// directories, and a briefly trained fm_tiny teacher (300 steps of 64 images, about 75% top-1).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include "test_support.h"
#include "data/dataset.h"
#include "data/fashion_mnist.h"
#include "data/sampling.h"
#include "model/config.h"
#include "model/vit.h"
#include "train/trainer.h"

namespace vitc::test {

// A path where nothing is yet, unique to this test program (test_support::absent_dir).
inline std::string process_temp_dir(const std::string& prefix, const std::string& name) {
  return vitc::test_support::absent_dir(prefix + "_" + name);
}

// The first `n` images of a seeded (seed 0) shuffle of a Fashion-MNIST split.
inline std::shared_ptr<const Dataset> fm_subset(const std::string& split, int64_t n) {
  auto full = load_fashion_mnist(split);
  return make_subset(full, sample_subset(*full, n, 0));
}

struct TinyTeacher {
  VisionTransformer model{nullptr};  // in eval mode
  double top1 = 0;                   // on `test` (0 without it)
  std::string dir;                   // its model directory
};

// fm_tiny (seed 0; or another config of its size) trained for 2 x 150 steps of 64 images at
// lr 2e-3, saved in `out_dir`.
inline TinyTeacher train_tiny_teacher(const std::shared_ptr<const Dataset>& train,
                                      const std::shared_ptr<const Dataset>& test,
                                      const std::string& out_dir,
                                      const ViTConfig& config = named_config("fm_tiny")) {
  TrainOptions o;
  o.epochs = 2;
  o.batch_size = 64;
  o.lr = 2e-3;
  o.warmup_epochs = 0.2;
  o.max_steps_per_epoch = 150;
  o.out_dir = out_dir;
  o.quiet = true;
  TinyTeacher t;
  t.model = make_model(config, 0);
  const TrainResult r = train_model(t.model, train, test, o);
  if (test) t.top1 = r.final_eval.top1;
  t.model->eval();
  t.dir = out_dir;
  return t;
}

}  // namespace vitc::test
