// Platform-independent seeded randomness for subsets, epoch orders and augmentation.
#include "data/random.h"

#include <limits>

#include "util/error.h"

namespace vitc {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t derive_seed(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x243f6a8885a308d3ULL;  // arbitrary non-zero start (digits of pi)
  for (uint64_t part : parts) h = splitmix64(h ^ splitmix64(part));
  return h;
}

uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  check(n > 0, "uniform_below: the range must not be empty");
  // Values at or above `limit` would make x % n favour small results; draw again instead.
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  const uint64_t limit = max - (max % n + 1) % n;
  uint64_t x;
  do {
    x = rng();
  } while (x > limit);
  return x % n;
}

void seeded_shuffle(std::vector<int64_t>& values, std::mt19937_64& rng) {
  for (size_t i = values.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(uniform_below(rng, i));
    std::swap(values[i - 1], values[j]);
  }
}

std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed) {
  check(n >= 0, "seeded_permutation: size must not be negative, got ", n);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  std::mt19937_64 rng(seed);
  seeded_shuffle(order, rng);
  return order;
}

}  // namespace vitc
