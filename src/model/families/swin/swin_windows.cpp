// Window partition, shift masks and relative position indices for Swin blocks.
#include "model/families/swin/swin_windows.h"

#include <torch/torch.h>

namespace vitc {

at::Tensor relative_position_index(int window) {
  const int64_t w = window;
  const at::Tensor coords = torch::arange(w * w, torch::kLong);
  const at::Tensor y = coords.div(w, "floor"), x = coords.remainder(w);
  const at::Tensor dy = y.unsqueeze(1) - y.unsqueeze(0) + (w - 1);  // query i, key j
  const at::Tensor dx = x.unsqueeze(1) - x.unsqueeze(0) + (w - 1);
  return dy * (2 * w - 1) + dx;
}

at::Tensor shifted_window_mask(const AttentionWindow& window) {
  if (window.shift == 0) return {};
  const int64_t side = window.side, w = window.window, s = window.shift;
  // Regions of the shifted grid: along each axis [0, side - w), [side - w, side - s), [side - s,
  // side); a window mixes regions only where the cyclic shift wrapped the grid around.
  const auto region = [&](int64_t p) { return p < side - w ? 0 : p < side - s ? 1 : 2; };
  std::vector<int64_t> labels(static_cast<size_t>(side * side));
  for (int64_t r = 0; r < side; ++r) {
    for (int64_t c = 0; c < side; ++c) labels[static_cast<size_t>(r * side + c)] = 3 * region(r) + region(c);
  }
  const at::Tensor grid = torch::tensor(labels, torch::kLong).view({1, side * side, 1});
  const at::Tensor in_windows = window_partition(grid, {window.side, window.window, 0})
                                    .squeeze(-1);  // [windows, w^2], unshifted partition
  const at::Tensor differ = in_windows.unsqueeze(2) != in_windows.unsqueeze(1);
  return torch::zeros(differ.sizes(), torch::kFloat).masked_fill(differ, -100.0);
}

at::Tensor window_partition(const at::Tensor& x, const AttentionWindow& window) {
  const int64_t B = x.size(0), C = x.size(2), side = window.side, w = window.window;
  at::Tensor grid = x.view({B, side, side, C});
  if (window.shift > 0) grid = torch::roll(grid, {-window.shift, -window.shift}, {1, 2});
  return grid.view({B, side / w, w, side / w, w, C})
      .permute({0, 1, 3, 2, 4, 5})
      .reshape({-1, w * w, C});
}

at::Tensor window_merge(const at::Tensor& windows, const AttentionWindow& window) {
  const int64_t side = window.side, w = window.window, C = windows.size(2);
  const int64_t B = windows.size(0) / ((side / w) * (side / w));
  at::Tensor grid = windows.view({B, side / w, side / w, w, w, C})
                        .permute({0, 1, 3, 2, 4, 5})
                        .reshape({B, side, side, C});
  if (window.shift > 0) grid = torch::roll(grid, {window.shift, window.shift}, {1, 2});
  return grid.reshape({B, side * side, C});
}

}  // namespace vitc
