// DC-ViT on ResNets, the CNN half of the DC-ViT paper: for CNNs the MLP-reuse trick does not fit,
// so whole residual blocks are removed. Every candidate (every block but a stage's first) is
// removed alone and the student finetuned by feature mimicking on the few-shot images (pre-pool
// map, MSE), updating only the stem and the blocks up to the one after the removed block (DC-ViT's
// front rule); it is scored by the mean logit KL to the teacher on the synthetic metric set
// (inverted from the teacher with DeepInversion's BatchNorm prior). The k best blocks are then
// removed progressively: each step removes the next ranked block from the previous step's
// finetuned model and finetunes again against the original teacher, the front rule recomputed.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compress/common/feature_mimic.h"
#include "compress/common/few_shot.h"
#include "compress/common/model_inversion.h"
#include "data/dataset.h"
#include "model/families/resnet/resnet.h"
#include "model/families/resnet/resnet_structure.h"
#include "train/evaluate.h"

namespace vitc {

struct ResNetDcvitSettings {
  std::vector<int> candidates;  // droppable blocks of the teacher
  MimicOptions mimic;
  int rank_epochs = -1;  // finetuning epochs of each ranked candidate (-1: mimic.epochs)
  MimicOptions ranking_mimic() const { return mimic.with_epochs(rank_epochs); }
  // The teacher's record (dir, config, weights fingerprint): with the few-shot indices, the mimic
  // options and (for the ranking) the synthetic set's options it keys every finetuned stage and
  // the ranking, so nothing made from another teacher or other images is reused.
  nlohmann::json teacher_info;
  bool resume = false;  // reuse finished candidates and steps in their directories
  bool quiet = false;
  nlohmann::json to_json() const;
};

struct ResNetDcvitScore {
  int block = 0;
  double kl_before = 0;  // the block removed, before finetuning
  double kl = 0;         // after finetuning: the score
  nlohmann::json finetune;
};

struct ResNetDcvitRanking {
  std::string dir;  // block_<b>/: each candidate's finetuned model
  std::vector<ResNetDcvitScore> scores;  // ascending kl (ties: lower block first)
  nlohmann::json key;  // what it was computed from (see ResNetDcvitSettings::teacher_info)
  bool reused = false;  // loaded from a finished ranking.json rather than computed
  double seconds = 0;
  std::vector<int> order() const;
  nlohmann::json to_json(const ResNetConfig& config) const;
};

// Mean KL(softmax(teacher) || softmax(student)) per image over `images`, in batches.
double resnet_mean_logit_kl(ResNetImpl& student, ResNetImpl& teacher, const at::Tensor& images,
                            int64_t batch_size = 256);

// DC-ViT's front rule on a compact student of `structure` (relative to the teacher): the last
// block (in the student's numbering) that finetuning updates is the one after the last removed
// block, or the student's last block.
int resnet_front_last_block(const ResNetConfig& teacher, const ResNetStructure& structure);

// Ranks the candidates in `dir` (ranking.json, block_<b>/). With `reuse` (or settings.resume) a
// finished ranking there is loaded instead, if it was computed from the same teacher, few-shot
// images, candidates, mimic options and synthetic-set options; otherwise it is refused, naming
// what differs. One ranking thus serves every budget (`vitc dcvit run --ranking DIR`).
ResNetDcvitRanking rank_resnet_blocks(ResNet teacher, const FewShotSet& few_shot,
                                      const SyntheticSet& metric,
                                      const ResNetDcvitSettings& settings, const std::string& dir,
                                      bool reuse = false);

struct ResNetDcvitResult {
  ResNet compact{nullptr};
  ResNetStructure structure;  // relative to the teacher
  nlohmann::json record;      // dropped, dropped_names, steps, result
};

// Removes the ranking's first `k` blocks progressively (steps in out_dir/steps/step_<j>), then
// evaluates the last step's model and writes out_dir (structure, source_config).
ResNetDcvitResult compress_resnet_dcvit(ResNet teacher, const FewShotSet& few_shot,
                                        const ResNetDcvitRanking& ranking, int k,
                                        const ResNetDcvitSettings& settings,
                                        const Dataset& eval_data, const std::string& out_dir,
                                        int64_t eval_batch = 256);

}  // namespace vitc
