// Window partition, shift masks and relative position indices for Swin blocks.
#include "model/families/swin/swin_windows.h"

#include <vector>

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

namespace {

// For every position of the windowed order (windows row-major, tokens row-major within each), the
// grid position it comes from after the cyclic shift by -shift: one gather does the shift and the
// cut into windows. With `inverse`, the opposite map: for every grid position, its windowed one.
at::Tensor window_order(const AttentionWindow& window, const c10::Device& device, bool inverse) {
  const int64_t side = window.side, w = window.window, shift = window.shift;
  std::vector<int64_t> order(static_cast<size_t>(side * side));
  int64_t windowed = 0;
  for (int64_t wy = 0; wy < side / w; ++wy)
    for (int64_t wx = 0; wx < side / w; ++wx)
      for (int64_t iy = 0; iy < w; ++iy)
        for (int64_t ix = 0; ix < w; ++ix, ++windowed) {
          const int64_t grid = ((wy * w + iy + shift) % side) * side + (wx * w + ix + shift) % side;
          order[static_cast<size_t>(inverse ? grid : windowed)] = inverse ? windowed : grid;
        }
  return torch::tensor(order, torch::kLong).to(device);
}

}  // namespace

at::Tensor window_partition(const at::Tensor& x, const AttentionWindow& window) {
  const int64_t C = x.size(2), w = window.window;
  return x.index_select(1, window_order(window, x.device(), false)).view({-1, w * w, C});
}

at::Tensor window_merge(const at::Tensor& windows, const AttentionWindow& window) {
  const int64_t side = window.side, C = windows.size(2);
  const int64_t B = windows.size(0) / ((side / window.window) * (side / window.window));
  return windows.reshape({B, side * side, C})
      .index_select(1, window_order(window, windows.device(), /*inverse=*/true));
}

}  // namespace vitc
