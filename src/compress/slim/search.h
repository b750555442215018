// The ViT-Slim search: weights and soft masks trained together by one AdamW on cross-entropy
// (optionally plus distillation from the teacher) plus the masks' L1 term. Checkpoints every
// epoch and resumes exactly, like the trainer (train/trainer.h).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "compress/common/distill.h"
#include "train/train_settings.h"
#include "compress/slim/slim_masks.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "dist/group.h"
#include "model/vit.h"
#include "train/evaluate.h"

namespace vitc {

namespace setting {
inline const Setting kLambdaAttn{"lambda-attn", "L1 weight of the attention masks (sum, not mean)",
                                 Range::at_least(0), nullptr, /*prefixed=*/false};
inline const Setting kLambdaMlp{"lambda-mlp", "L1 weight of the MLP masks", Range::at_least(0),
                                nullptr, false};
inline const Setting kLambdaTokens{"lambda-tokens", "L1 weight of the token masks (with --tokens)",
                                   Range::at_least(0), nullptr, false};
inline const Setting kSearchTokens{"tokens", "also search per-block token masks", Range::any(),
                                   nullptr, false};
inline const Setting kFreezeWeights{"freeze-weights", "train only the masks and LayerNorms",
                                    Range::any(), nullptr, false};
}  // namespace setting

// Defaults: the reference's optimiser (AdamW, constant lr 5e-4, weight decay 1e-3 on weights and
// masks alike, no clipping) and λ; 3 epochs instead of its 50 ImageNet epochs, to fit the bundled
// Fashion-MNIST teacher on a small CPU machine (docs/vit_slim.md).
struct SearchOptions {
  int epochs = 3;
  int64_t batch_size = 128;
  double lr = 5e-4;            // constant, as the reference (--sched none)
  double weight_decay = 1e-3;  // AdamW; every tensor with >= 2 dims, masks included
  double clip_grad = 0.0;      // max global gradient norm; 0 = off (the reference has none)
  SparsityWeights lambdas;
  bool tokens = false;          // also search token masks
  bool freeze_weights = false;  // train only the masks and LayerNorms (reference --freeze_weights)
  DistillOptions loss;          // CE with label smoothing; alpha > 0 adds distillation
  uint64_t seed = 0;            // data order and augmentation
  AugmentOptions augment;
  int64_t eval_batch_size = 256;
  int64_t max_steps_per_epoch = 0;  // 0 = whole epochs
  std::string out_dir;              // the search directory (search_dir.h), checkpoint inside
  bool resume = false;              // continue from out_dir/checkpoint, or reuse a finished search
  bool quiet = false;
  std::string label = "search";
  // Data-parallel search (docs/distributed.md); null = one process. Every rank calls run_search
  // with the same options: batch_size is per rank, gradients (weights and masks) are averaged,
  // evaluation is sharded, only rank 0 writes out_dir. Not part of trajectory_json: a resume
  // checks the world size separately.
  std::shared_ptr<dist::Group> dist;

  // The settings that determine the search, as flags and JSON (util/settings.h).
  template <class Self, class Visitor>
  static void visit_settings(Self& self, Visitor& v) {
    using namespace setting;
    v(kEpochs.with_help("search epochs"), self.epochs);
    v(kBatchSize.with_help("search batch size (per process)"), self.batch_size);
    v(kLr.with_help("constant AdamW learning rate of weights and masks"), self.lr);
    v(kWeightDecay.with_help("AdamW weight decay (masks included)"), self.weight_decay);
    v(kClipGrad, self.clip_grad);
    v(kLambdaAttn, self.lambdas.attn);
    v(kLambdaMlp, self.lambdas.mlp);
    v(kLambdaTokens, self.lambdas.tokens);
    v(kSearchTokens, self.tokens);
    v(kFreezeWeights, self.freeze_weights);
    v.flat(self.loss);
    v(kSeed, self.seed);
    v.flat(self.augment);
    v(kMaxStepsPerEpoch, self.max_steps_per_epoch);
  }
  // The settings a resume must find again.
  nlohmann::json trajectory_json() const;
  // Names a wrong setting as the flag --<flag_prefix><name> (`slim run`: "search-").
  void validate(const std::string& flag_prefix = "") const;
};

struct SearchResult {
  VisionTransformer model{nullptr};  // searched weights
  SlimMasks masks;
  nlohmann::json history = nlohmann::json::array();  // per epoch: losses, lr, seconds, eval, masks
  int resumed_after_epoch = 0;
  bool reused = false;        // a finished search in out_dir was returned as it was (resume)
  double seconds = 0;         // wall time of this invocation
  double search_seconds = 0;  // training + evaluation time of all epochs, resumed ones included
  nlohmann::json post_search_eval;  // eval_to_json with the soft masks; null without eval data
  nlohmann::json to_json() const;
};

// Searches from `teacher` (not modified: the search trains a copy) and writes the search
// directory options.out_dir. `teacher_info` ({"dir", ...}) is recorded in search.json and must
// match on resume. `eval_data` may be null (no per-epoch evaluation).
SearchResult run_search(VisionTransformerImpl& teacher, const nlohmann::json& teacher_info,
                        const std::shared_ptr<const Dataset>& train_data,
                        const std::shared_ptr<const Dataset>& eval_data,
                        const SearchOptions& options);

}  // namespace vitc
