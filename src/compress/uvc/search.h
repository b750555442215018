// UVC stage 1, the joint search: weights (AdamW + proximal shrinkage of the selected groups),
// pruning amounts (projected SGD), block gates (their own SGD) and duals (ascent), under
// distillation from the teacher, with a checkpoint every epoch and exact resume.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compress/common/distill.h"
#include "train/train_settings.h"
#include "compress/uvc/primal_dual.h"
#include "compress/uvc/state.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "dist/group.h"
#include "model/vit.h"

namespace vitc {

// Defaults: the reference's optimiser settings (AdamW lr 1e-4, weight decay 0.05, clip 1, KD
// alpha 0.1 at T = 1, gates at 0.5 during the warmup); epochs scaled from its 30 ImageNet epochs
// (5 of warmup) to the bundled Fashion-MNIST teacher on a small CPU machine (docs/uvc.md).
struct UvcSearchOptions {
  CostModel cost = Resource::macs;  // what the budget counts (--macs, --params or --latency)
  int64_t target = 0;  // the budget, absolute (resolved by the caller)
  int epochs = 2;
  double warmup_epochs = 0.3;     // gates fixed at `warmup_gate`, no pruning or dual updates
  double warmup_gate = 0.5;       // the reference's (0.5, 0.5) gate during the warmup
  int64_t batch_size = 128;
  double lr = 1e-4;
  double min_lr = 1e-6;
  double lr_warmup_epochs = 0.2;  // linear lr warmup (the reference: 500 steps)
  double weight_decay = 0.05;
  double clip_grad = 1.0;
  DistillOptions loss{0.1, 1.0, 0.1};
  PrimalDualOptions primal_dual;
  // z's dual step: piecewise constant over equal parts of the post-warmup steps ("1,5,9,13,17"
  // gives five parts). The reference's schedule never applied (z stayed at its first entry, 1);
  // vitc's z works on a unit scale (primal_dual.h), where 0.1 settles without overshoot.
  std::vector<double> zlr_schedule = {0.1};
  uint64_t seed = 0;  // data order, augmentation and the Gumbel noise
  AugmentOptions augment;
  int64_t eval_batch_size = 256;
  int64_t max_steps_per_epoch = 0;  // 0 = whole epochs
  std::string out_dir;              // the search directory; checkpoint inside
  bool resume = false;
  bool quiet = false;
  std::string label = "uvc search";
  // Data-parallel search (docs/distributed.md); null = one process. Every rank calls
  // run_uvc_search with the same options: batch_size is per rank, the gradients of the weights
  // and of the gate logits are averaged, so the primal-dual updates see the same values on every
  // rank; evaluation is sharded; only rank 0 writes out_dir. Not part of trajectory_json.
  std::shared_ptr<dist::Group> dist;

  // The search's settings as flags (--search-*, UVC's own unprefixed) and JSON (util/settings.h);
  // resource, target and zlr_schedule are read by `vitc uvc run` from --macs / --params and
  // --zlr-schedule.
  template <class Self, class Visitor>
  static void visit_settings(Self& self, Visitor& v) {
    using namespace setting;
    v(kEpochs.with_help("joint search epochs"), self.epochs);
    v(Setting{"warmup-epochs", "warmup: gates fixed, no pruning or dual updates (fractions allowed)",
              Range::at_least(0)},
      self.warmup_epochs);
    v(Setting{"warmup-gate", "block gate value during the warmup", Range::closed(0, 1), nullptr,
              false},
      self.warmup_gate);
    v(kBatchSize, self.batch_size);
    v(kLr, self.lr);
    v(kMinLr, self.min_lr);
    v(kWarmupEpochs.with_name("lr-warmup-epochs"), self.lr_warmup_epochs);
    v(kWeightDecay, self.weight_decay);
    v(kClipGrad, self.clip_grad);
    v.nested("loss", self.loss);
    v.nested("primal_dual", self.primal_dual);
    v(kSeed.with_help("seed of data order, augmentation and the Gumbel noise"), self.seed);
    v.flat(self.augment);
    v(kMaxStepsPerEpoch, self.max_steps_per_epoch);
  }
  static constexpr const char* kFlagPrefix = "search-";
  nlohmann::json trajectory_json() const;  // the settings a resume must find again
  void validate() const;                   // names the flag
  double zlr_at(int64_t step_after_warmup, int64_t steps_after_warmup) const;
};

struct UvcSearchResult {
  VisionTransformer model{nullptr};  // searched weights (dense)
  UvcState state;
  nlohmann::json history = nlohmann::json::array();
  int resumed_after_epoch = 0;
  bool reused = false;
  double seconds = 0;         // this invocation
  double search_seconds = 0;  // all epochs, resumed ones included
};

inline constexpr const char* kUvcStateFile = "uvc_state.safetensors";
inline constexpr const char* kUvcSearchJsonFile = "search.json";

// Searches from a copy of `teacher` (which is not modified) and writes options.out_dir: the
// searched weights (a model directory), uvc_state.safetensors and search.json. `teacher_info`
// ({"dir", ...}) is recorded and must match on resume. `eval_data` may be null.
UvcSearchResult run_uvc_search(VisionTransformer teacher, const nlohmann::json& teacher_info,
                               const std::shared_ptr<const Dataset>& train_data,
                               const std::shared_ptr<const Dataset>& eval_data,
                               const UvcSearchOptions& options);

}  // namespace vitc
