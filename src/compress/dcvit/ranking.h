// DC-ViT's block selection: every candidate block compressed alone, finetuned by feature mimicking
// on the few-shot images, then scored by the KL divergence of teacher and student logits on the
// synthetic metric set; ascending score = best block to compress first.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compress/dcvit/settings.h"

namespace vitc {

struct CandidateScore {
  int block = 0;         // the candidate's first block (its group: model/block_groups.h)
  double kl = 0;         // after finetuning: the score
  double kl_before = 0;  // compressed, before finetuning
  std::map<int, std::vector<int>> neurons;  // the MLP neurons each block of the group keeps
  double seconds = 0;
  nlohmann::json finetune;
};

struct Ranking {
  std::string dir;    // ranking.json and block_<b>/ (the finetuned candidates)
  int hidden = 0;     // MLP width the candidates were compressed to
  std::vector<CandidateScore> scores;  // sorted by kl ascending (ties: lower block first)
  nlohmann::json key;  // teacher, few-shot, neuron choice, mimic settings, hidden
  double seconds = 0;
  std::vector<int> order() const;  // blocks, best first
  nlohmann::json to_json() const;
  // The directory of block b's finetuned candidate model.
  std::string candidate_dir(int block) const;
};

// Runs (or, with settings.resume, reuses and continues) the ranking in `dir`.
Ranking rank_blocks(const DcvitInputs& in, int hidden, const DcvitSettings& settings,
                    const std::string& dir);

// Reads ranking.json of a finished ranking; errors name the file.
Ranking load_ranking(const std::string& dir);

}  // namespace vitc
