// UVC's two custom autograd functions: ceil with a straight-through gradient, and the sum of the
// k smallest values with its gradient in k (the marginal cost of pruning one more group).
#pragma once

#include <ATen/Tensor.h>

namespace vitc {

// ceil(x) forward; the gradient passes through unchanged (straight-through estimator). Over one
// unit the slope of ceil is exactly 1, which is what the gradient says.
at::Tensor ste_ceil(const at::Tensor& x);

// Row-wise sum of the k smallest entries: values [M, n], k [M] (integer-valued, 0 <= k <= n)
// gives [M] with out[i] = sum of the k[i] smallest values[i, :].
// Gradients: d out[i] / d values[i, j] = 1 for the k[i] selected entries (0 otherwise), and
// d out[i] / d k[i] = the (k[i]+1)-th smallest value of row i (0 when k[i] = n): the exact
// change of the sum when one more entry is selected.
at::Tensor least_k_sum(const at::Tensor& values, const at::Tensor& k);

}  // namespace vitc
