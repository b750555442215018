// Seed derivation and integer draws that give the same numbers on every platform and thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <random>
#include <vector>

namespace vitc {

// Folds `parts` (e.g. a stream tag, the run seed, an epoch, a batch slot) into one seed with
// splitmix64, so that every (seed, epoch, slot) gets its own independent random stream and none of
// them depends on how many numbers another stream consumed.
uint64_t derive_seed(std::initializer_list<uint64_t> parts);

// Uniform integer in [0, n) by rejection. std::uniform_int_distribution is not used because its
// algorithm is implementation-defined: subsets recorded in run.json must be reproducible anywhere.
uint64_t uniform_below(std::mt19937_64& rng, uint64_t n);

// A seeded permutation of 0..n-1 (Fisher-Yates with uniform_below).
std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed);

// Shuffles `values` in place with `rng` (Fisher-Yates with uniform_below).
void seeded_shuffle(std::vector<int64_t>& values, std::mt19937_64& rng);

// Tags that keep the random streams of different uses apart even for equal seeds.
enum class RandomStream : uint64_t { kEpochOrder = 1, kAugment = 2, kSubset = 3, kPerClass = 4 };

}  // namespace vitc
