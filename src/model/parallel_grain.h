// How finely vitc's own matrix-product kernels split work over torch's intra-op threads
// (at::parallel_for's grain): at least ~64k multiply-adds per task, so that threads are not woken
// for tiny products. Shared by model/batched_matmul.cpp (one task per matrix of the batch) and
// model/linear.cpp (one task per row of the product).
#pragma once

#include <algorithm>
#include <cstdint>

namespace vitc {

inline constexpr int64_t kMultiplyAddsPerTask = int64_t{1} << 16;

// The grain, in items, for items of `multiply_adds_per_item` each.
inline int64_t product_grain(int64_t multiply_adds_per_item) {
  return std::max<int64_t>(1, kMultiplyAddsPerTask / std::max<int64_t>(1, multiply_adds_per_item));
}

}  // namespace vitc
