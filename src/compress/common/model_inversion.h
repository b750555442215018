// A synthetic image set inverted from a teacher (DeepInversion without feature statistics, as
// DC-ViT uses for ViTs): Gaussian noise optimised by Adam for cross-entropy to chosen classes plus
// total-variation and L2 priors, under random jitter and flips; the best iterate is kept. Used as
// DC-ViT's block-selection metric set; saved as PNG files a person can look at.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include <ATen/Tensor.h>
#include <nlohmann/json.hpp>

#include "dist/group.h"
#include "model/model_input.h"
#include "model/vit.h"
#include "util/settings.h"

namespace vitc {

// Defaults follow the reference (setting 1: Adam lr 0.25, betas 0.5/0.9, cosine with a 5% linear
// warmup, TV-L2 weight 1e-4 with exponent 0.6, L2 weight 1e-5, one image per class of 50 random
// classes, seed 2023) except the iteration count (2000 there; 500 fits a 2-core CPU for the
// bundled teacher) and the jitter, which scales the reference's 30 px at 224 px to the image size.
struct InversionOptions {
  int count = 50;         // images; targets are `count` distinct classes when there are enough
  int iterations = 500;
  double lr = 0.25;
  double warmup_fraction = 0.05;
  double tv_weight = 1e-4;  // weight of sum over 4 directions of ||neighbour differences||_2^beta
  double tv_beta = 0.6;
  double l2_weight = 1e-5;  // weight of mean over images of ||x||_2
  int jitter = -1;          // max roll in pixels; -1 = round(30 * img_size / 224)
  bool flip = true;         // flip the batch horizontally with probability 1/2 per iteration
  uint64_t seed = 2023;     // targets, noise, jitter and flips
  bool quiet = false;

  // The --synth-* flags and JSON (util/settings.h).
  template <class Self, class Visitor>
  static void visit_settings(Self& self, Visitor& v) {
    v(Setting{"count", "synthetic images (targets: distinct classes first)", Range::at_least(1)},
      self.count);
    v(Setting{"iterations", "Adam iterations of the inversion", Range::at_least(1)},
      self.iterations);
    v(Setting{"lr", "peak learning rate (cosine, 5% warmup)", Range::positive()}, self.lr);
    v(Setting{"warmup", "warmup fraction of the iterations", Range::half_open(0, 1),
              "warmup_fraction", true, false},
      self.warmup_fraction);
    v(Setting{"tv", "weight of the total-variation (L2) prior", Range::at_least(0), "tv_weight"},
      self.tv_weight);
    v(Setting{"tv-beta", "exponent of the TV norms", Range::positive()}, self.tv_beta);
    v(Setting{"l2", "weight of the image L2 prior", Range::at_least(0), "l2_weight"},
      self.l2_weight);
    v(Setting{"jitter", "max random roll in pixels (-1: 30 px scaled from 224)",
              Range::at_least(-1)},
      self.jitter);
    v(Setting{"hflip", "random horizontal flips of the batch during the inversion", Range::any(),
              "flip"},
      self.flip);
    v(Setting{"seed", "seed of targets, noise, jitter and flips"}, self.seed);
  }
  static constexpr const char* kFlagPrefix = "synth-";
  void validate() const;    // names the flags (--synth-*)
  nlohmann::json to_json() const;
  int jitter_for(int img_size) const;
};

struct SyntheticSet {
  at::Tensor images;   // [n,C,H,W] normalised: the saved 8-bit images (per-image min-max scaled)
  at::Tensor raw;      // [n,C,H,W] normalised: the optimised images as they were
  at::Tensor targets;  // [n] int64 classes
  nlohmann::json info;  // options, loss history, best iteration, teacher agreement, seconds
};

// The classes of `count` images: distinct classes drawn with `seed` (sorted) when count <=
// num_classes, otherwise every class count/num_classes times plus distinct extra classes.
std::vector<int64_t> inversion_targets(int count, int num_classes, uint64_t seed);

// One loss evaluation of the inversion objective on (already jittered) images: returns
// {total, cross-entropy}.
std::pair<at::Tensor, at::Tensor> inversion_loss(VisionTransformerImpl& teacher,
                                                 const at::Tensor& images,
                                                 const at::Tensor& targets,
                                                 const InversionOptions& options);

// What the inversion needs of a teacher of any family: its module (frozen, eval mode), input,
// device, and a forward pass giving the logits and the prior the family adds to the loss
// (undefined for none; ResNets: DeepInversion's BatchNorm-statistics term,
// compress/common/bn_statistics_prior.h). `batch_prior`: the prior is a statistic of the whole
// batch (one process only).
struct InversionSubject {
  torch::nn::Module* module = nullptr;
  ModelInput input;
  c10::Device device = c10::kCPU;
  std::function<std::pair<at::Tensor, at::Tensor>(const at::Tensor& images)> forward;
  bool batch_prior = false;
  nlohmann::json prior_settings;  // recorded in the set's info as "prior_settings" (null: none)
};
InversionSubject subject_of(VisionTransformerImpl& teacher);  // no prior (DC-ViT's ViT setting)

std::pair<at::Tensor, at::Tensor> inversion_loss(const InversionSubject& subject,
                                                 const at::Tensor& images,
                                                 const at::Tensor& targets,
                                                 const InversionOptions& options);
SyntheticSet invert_teacher(const InversionSubject& subject, const InversionOptions& options,
                            dist::Group* group = nullptr);
double target_agreement(const InversionSubject& subject, const SyntheticSet& set);

// Runs the inversion; the teacher is only read (eval mode, its parameters get no gradient).
// With a data-parallel `group` every rank calls it and holds all images: rank r forwards images
// r, r+N, ... through the teacher, its loss is N x its share of the cross-entropy sum / count
// plus the whole-batch priors, so that the gradient averaged over the ranks is exactly the
// single-process gradient and every rank takes the same Adam step; the jitter, flips and noise
// are seeded alike on every rank. The result is rank 0's, and info gains "dist_max_abs_diff"
// (largest difference of any rank's images from rank 0's; 0 = identical).
SyntheticSet invert_teacher(VisionTransformerImpl& teacher, const InversionOptions& options,
                            dist::Group* group = nullptr);

// Writes `dir`: synthetic.safetensors (images, raw, targets), synthetic.json (info), one PNG per
// image (images/NNN_class_C.png) and grid.png (all images, 10 per row), each written atomically.
// `config` gives the mean/std that undo the normalisation.
void save_synthetic_set(const std::string& dir, const SyntheticSet& set, const ModelInput& config);

// Reads a directory written by save_synthetic_set; checks the tensors against `config` (channels,
// image size, classes) and names the file in errors.
SyntheticSet load_synthetic_set(const std::string& dir, const ModelInput& config);

// Fraction (0..1) of `set.images` the model classifies as their targets.
double target_agreement(VisionTransformerImpl& model, const SyntheticSet& set);

}  // namespace vitc
