// Few-shot data for label-free compression (DC-ViT, PRACTISE): a seeded subset of N images (N per
// class or N in total) of any data set, with the labels hidden from the method.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/dataset.h"

namespace vitc {

// Exactly one of per_class and total is positive.
struct FewShotOptions {
  int64_t per_class = 0;  // N images of every class (class-balanced)
  int64_t total = 0;      // N images drawn uniformly from the whole set
  uint64_t seed = 0;
  void validate() const;  // names --per-class / --few-shot
  nlohmann::json to_json() const;
};

struct FewShotSet {
  std::shared_ptr<const Dataset> images;  // the subset with every label replaced by 0
  std::vector<int64_t> indices;           // into the source data set, sorted (for run.json)
  nlohmann::json to_json() const;         // count, indices, source name
};

// The seeded subset (data/sampling.h), returned with its labels hidden. Sampling per class reads
// the labels to balance the classes; nothing downstream can read them.
FewShotSet sample_few_shot(const std::shared_ptr<const Dataset>& data, const FewShotOptions& options);

// A view of `data` whose labels are all 0: what a method that uses no labels trains on.
std::shared_ptr<const Dataset> hide_labels(std::shared_ptr<const Dataset> data);

}  // namespace vitc
