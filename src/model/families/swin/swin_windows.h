// Swin's window attention around a block's ordinary attention (Liu et al. 2021; timm's
// SwinTransformerBlock): the token grid is cyclically shifted, cut into windows that attend
// within themselves, and put back. Heads, widths and neurons are pruned as in any block; the
// windows, shifts and masks depend on the grid alone and never change.
#pragma once

#include <ATen/Tensor.h>

#include "model/config.h"

namespace vitc {

// [w^2, w^2] indices into a [(2w-1)^2, heads] relative position bias table: the offset of key j
// from query i within a window, (dy + w - 1) * (2w - 1) + (dx + w - 1).
at::Tensor relative_position_index(int window);

// Shifted windows: [windows, w^2, w^2], 0 where query and key come from the same region of the
// unshifted grid and -100 where the shift brought them together (timm's value), or undefined
// for an unshifted window.
at::Tensor shifted_window_mask(const AttentionWindow& window);

// [B, side^2, C] -> [B * windows, w^2, C]: shifted by -shift, windows in row-major order, each
// image's windows consecutive.
at::Tensor window_partition(const at::Tensor& x, const AttentionWindow& window);
// The inverse: [B * windows, w^2, C] -> [B, side^2, C], shifted back by +shift.
at::Tensor window_merge(const at::Tensor& windows, const AttentionWindow& window);

}  // namespace vitc
