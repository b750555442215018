// PRACTISE on ResNets, the method as published (Wang et al., CVPR'23) and the CNN baseline of
// DC-ViT's CNN table: every droppable block (all but a stage's first) is scored by how well the
// network recovers without it (1x1-conv adaptors trained by feature mimicking; the pre-pool
// feature MSE after training) divided by the latency it saves; the lowest-scoring blocks are
// dropped whole and the student is finetuned by feature mimicking (MiR). The random block-drop
// baseline drops a seeded random choice of the same candidates and finetunes the same way.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compress/common/few_shot.h"
#include "compress/common/resnet_block_budget.h"
#include "compress/practise/practise.h"
#include "data/dataset.h"
#include "model/families/resnet/resnet.h"

namespace vitc {

// Milliseconds of one forward pass of a ResNet on a fixed batch (the app times batch 64).
using ResNetLatencyFn = std::function<double(ResNetImpl& model)>;

struct ResNetPractiseScore {
  int block = 0;
  double mse_before = 0;         // pre-pool feature MSE with the block dropped, no adaptors
  double recoverability = 0;     // the same after adaptor training
  double latency_reduction = 0;  // percent of the teacher's latency (or MACs, without a LatencyFn)
  double score = 0;              // recoverability / latency_reduction
  nlohmann::json recover;
};

struct ResNetPractiseRanking {
  std::vector<ResNetPractiseScore> scores;  // ascending score: drop first
  std::string latency_source;               // "measured" or "macs"
  double seconds = 0;
  std::vector<int> order() const;
  nlohmann::json to_json(const ResNetConfig& config) const;
};

// Scores every candidate in settings.candidates (blocks of the teacher's config) on the few-shot
// images. Single process (settings.dist must be null).
ResNetPractiseRanking rank_resnet_practise(ResNet teacher, const FewShotSet& few_shot,
                                           const PractiseSettings& settings,
                                           const ResNetLatencyFn& latency);

// A seeded random order of the candidates: the random block-drop baseline's "ranking".
std::vector<int> random_drop_order(const std::vector<int>& candidates, uint64_t seed);

}  // namespace vitc
