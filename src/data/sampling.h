// Seeded subsets of a Dataset (random or class-balanced), returned as sorted indices for run.json.
#pragma once

#include <cstdint>
#include <vector>

#include "data/dataset.h"

namespace vitc {

// The first `count` indices of a permutation seeded with `seed`, sorted ascending.
// Requires 0 <= count <= data.size().
std::vector<int64_t> sample_subset(const Dataset& data, int64_t count, uint64_t seed);

// `per_class` indices of every class 0..num_classes-1, chosen by a seeded shuffle of each class,
// sorted ascending. Fails naming the class (and how many images it has) if one has too few.
std::vector<int64_t> sample_per_class(const Dataset& data, int64_t per_class, uint64_t seed);

}  // namespace vitc
