// PRACTISE's recoverability probe for ViTs (DC-ViT's port): with some blocks dropped, identity-
// initialised linear adaptors after fc2 of the kept blocks before them and before qkv of the kept
// blocks after them, trained by feature mimicking while the network stays frozen. The adaptors
// only score a candidate; the final model never contains them.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <vector>

#include <torch/nn/modules/linear.h>
#include <nlohmann/json.hpp>

#include "data/augment.h"
#include "data/dataset.h"
#include "dist/group.h"
#include "model/vit.h"
#include "train/train_settings.h"

namespace vitc {

struct Adaptors {
  std::map<int, torch::nn::Linear> after;  // block -> adaptor on its MLP branch output (after fc2)
  std::map<int, torch::nn::Linear> pre;    // block -> adaptor on qkv's input (after norm1)
  std::vector<at::Tensor> parameters() const;
};

// Adaptors for dropping `dropped` from `model`: D x D, weight = identity, bias = 0, on the model's
// device. Blocks without an MLP (attention) get no after- (pre-) adaptor.
Adaptors make_adaptors(const VisionTransformerImpl& model, const std::set<int>& dropped);

// Final-norm features [B,N,D] of `model` with `dropped` blocks skipped and `adaptors` applied.
at::Tensor adapted_features(VisionTransformerImpl& model, const std::set<int>& dropped,
                            const Adaptors& adaptors, const at::Tensor& images);

// SGD with momentum and a step decay, as PRACTISE; epochs are passes over the few-shot set.
struct RecoverOptions {
  int epochs = 4;
  int64_t batch_size = 64;
  double lr = 0.02;
  double momentum = 0.9;
  double weight_decay = 1e-4;
  double decay_at = 0.4;  // lr x 0.1 after this fraction of the steps
  uint64_t seed = 0;
  AugmentOptions augment{2, true};

  // The --recover-* flags and JSON (util/settings.h).
  template <class Self, class Visitor>
  static void visit_settings(Self& self, Visitor& v) {
    using namespace setting;
    v(kEpochs.with_help("adaptor training epochs over the few-shot set").with_range(
          Range::at_least(0)),
      self.epochs);
    v(kBatchSize.with_help("adaptor training batch size"), self.batch_size);
    v(kLr.with_help("adaptor SGD learning rate (x0.1 after --recover-decay-at of the steps)"),
      self.lr);
    v(Setting{"momentum", "adaptor SGD momentum", Range::half_open(0, 1)}, self.momentum);
    v(kWeightDecay.with_help("adaptor SGD weight decay"), self.weight_decay);
    v(Setting{"decay-at", "fraction of the steps after which the lr drops x0.1",
              Range{0, 1, true, false}},
      self.decay_at);
    v(kSeed.with_help("seed of the adaptor training data order and augmentation"), self.seed);
    v.flat(self.augment);
  }
  static constexpr const char* kFlagPrefix = "recover-";
  void validate() const;  // names the --recover-* flags
  nlohmann::json to_json() const;
};

// What adaptor training needs of any family: the adaptors' tensors (the only ones trained), the
// frozen student and teacher modules (eval mode, BatchNorm statistics fixed), where batches go,
// and the student's features with the adaptors applied and the teacher's.
struct AdaptorProbe {
  std::vector<at::Tensor> parameters;
  torch::nn::Module* student = nullptr;
  torch::nn::Module* teacher = nullptr;
  c10::Device device = c10::kCPU;
  std::function<at::Tensor(const at::Tensor& images)> student_features;
  std::function<at::Tensor(const at::Tensor& images)> teacher_features;
};
// Trains only the adaptors (model frozen, eval mode) to mimic the teacher's features by MSE on
// `data`'s images; returns {"steps", "first_loss", "last_loss", "seconds"}. With a data-parallel
// `group` every rank calls it: batch_size is per rank, each reads its shard, the adaptors'
// gradients are averaged, and the record adds "dist_max_abs_diff" (largest difference of any
// rank's adaptors from rank 0's before rank 0's are copied everywhere; 0 = identical).
nlohmann::json train_adaptor_probe(const AdaptorProbe& probe,
                                   const std::shared_ptr<const Dataset>& data,
                                   const RecoverOptions& options, bool quiet,
                                   dist::Group* group = nullptr);

// The ViT probe: `adapted_features` with `dropped` skipped against the teacher's final-norm tokens.
nlohmann::json train_adaptors(VisionTransformerImpl& model, const std::set<int>& dropped,
                              Adaptors& adaptors, VisionTransformerImpl& teacher,
                              const std::shared_ptr<const Dataset>& data,
                              const RecoverOptions& options, bool quiet,
                              dist::Group* group = nullptr);

// Mean KL(softmax(teacher) || softmax(adapted)) per image on `data`'s images (no augmentation).
double adapted_logit_kl(VisionTransformerImpl& model, const std::set<int>& dropped,
                        const Adaptors& adaptors, VisionTransformerImpl& teacher,
                        const Dataset& data, int64_t batch_size = 256);

}  // namespace vitc
