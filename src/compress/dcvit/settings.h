// What every DC-ViT stage shares: the teacher, the few-shot and synthetic sets, and the settings
// of block compression and finetuning.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compress/common/feature_mimic.h"
#include "compress/common/few_shot.h"
#include "compress/common/model_inversion.h"
#include "compress/dcvit/neurons.h"
#include "dist/group.h"
#include "model/vit.h"

namespace vitc {

struct DcvitSettings {
  std::vector<int> candidates;  // blocks the ranking tries (plan.h candidate_blocks)
  NeuronChoice neurons = NeuronChoice::kRandom;
  uint64_t neuron_seed = 0;
  int round_to = 1;  // kept MLP widths on the --round-to grid (plan_dense_target)
  MimicOptions mimic;
  // Finetuning epochs of each candidate in the block ranking (-1: mimic.epochs). A ranking made
  // once with few epochs can serve runs that finetune their stages much longer.
  int rank_epochs = -1;
  MimicOptions ranking_mimic() const { return mimic.with_epochs(rank_epochs); }
  bool resume = false;
  bool quiet = false;
  // Data-parallel finetuning stages (docs/distributed.md); null = one process. Every rank runs
  // the same calls; rank 0's neuron choices and scores are broadcast, only rank 0 writes files.
  std::shared_ptr<dist::Group> dist;
  nlohmann::json to_json() const;
};

struct DcvitInputs {
  VisionTransformer teacher{nullptr};  // only read
  nlohmann::json teacher_info;         // {"dir", ...}: recorded, part of every stage key
  FewShotSet few_shot;                 // labels hidden
  SyntheticSet synthetic;              // the block-selection metric set
};

// The neurons block `block` keeps (`hidden` of them) when it is compressed in `model`, the current
// model under `masks`: a seeded random subset, or the most important on the few-shot images.
// With settings.dist every rank computes it and takes rank 0's choice (broadcast).
std::vector<int> choose_neurons(VisionTransformerImpl& model, const ModelMasks& masks, int block,
                                int hidden, const DcvitInputs& in, const DcvitSettings& settings);

// The part of a stage key every DC-ViT stage shares (teacher, few-shot images, neuron choice).
nlohmann::json stage_key_base(const DcvitInputs& in, const DcvitSettings& settings);

}  // namespace vitc
