// A patch embedding as a matrix product: the non-overlapping p x p patches of a batch of images
// as rows, each in the convolution weight's order (channel, row, column), so that a convolution
// with kernel = stride = p is patch_rows(x, p) W^T + b, W = weight.reshape({D, C p p}).
//
// Why it exists: on fm_small ATen's convolution for the 4 x 4 patches of 32 images (one batch
// slice), with the flatten and transpose to tokens after it, took 260-410 us on this CPU; the
// rows gathered here and one sgemm call of vitc::linear take a fraction of that
// (bench/patch_embed.cpp, docs/slicing_benchmark.md). In inference a plain loop copies the patch
// rows; with autograd a reshape and permutation do (the same floats, so training and inference
// still agree bit for bit).
#pragma once

#include <cstdint>

#include <ATen/Tensor.h>

namespace vitc {

// [B, C, H, W] -> [B, (H / p) * (W / p), C * p * p]: patch (i, j) is row i * (W / p) + j. Pixels
// beyond the last whole patch (H or W not a multiple of p) are left out, as the convolution
// leaves them out.
at::Tensor patch_rows(const at::Tensor& images, int64_t p);

}  // namespace vitc
