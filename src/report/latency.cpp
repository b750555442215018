// Timing forward passes: NoGradGuard + eval mode, CUDA synchronisation, percentile summaries.
#include "report/latency.h"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "util/error.h"

namespace vitc {

at::Tensor latency_input(const ViTConfig& config, int64_t batch, const c10::Device& device) {
  return latency_input(config.in_chans, config.img_size, batch, device);
}

at::Tensor latency_input(int in_chans, int img_size, int64_t batch, const c10::Device& device) {
  check(batch > 0, "batch size must be positive, got ", batch);
  return torch::randn({batch, in_chans, img_size, img_size}, torch::TensorOptions().device(device));
}

void synchronize(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

namespace {

double percentile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace

double time_forward_ms(VisionTransformerImpl& model, const at::Tensor& images) {
  model.eval();
  return time_forward_ms([&model](const at::Tensor& x) { return model.forward(x); }, images);
}

double time_forward_ms(ResNetImpl& model, const at::Tensor& images) {
  model.eval();
  return time_forward_ms([&model](const at::Tensor& x) { return model.forward(x); }, images);
}

double time_forward_ms(const std::function<at::Tensor(const at::Tensor&)>& forward,
                       const at::Tensor& images) {
  torch::NoGradGuard no_grad;
  synchronize(images.device());
  const auto start = std::chrono::steady_clock::now();
  const at::Tensor logits = forward(images);
  synchronize(images.device());
  const auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(end - start).count();
}

LatencyResult summarize_latency(std::vector<double> times_ms, int64_t batch, int warmup) {
  check(!times_ms.empty(), "latency: no timed runs (repeats must be at least 1)");
  LatencyResult r;
  r.batch = batch;
  r.warmup = warmup;
  r.times_ms = times_ms;
  std::sort(times_ms.begin(), times_ms.end());
  r.median_ms = percentile(times_ms, 0.5);
  r.p10_ms = percentile(times_ms, 0.1);
  r.p90_ms = percentile(times_ms, 0.9);
  r.images_per_s = r.median_ms > 0 ? 1000.0 * static_cast<double>(batch) / r.median_ms : 0.0;
  return r;
}

double median_of(std::vector<double> values) {
  check(!values.empty(), "median of no values");
  std::sort(values.begin(), values.end());
  return percentile(values, 0.5);
}

InterleavedLatency interleaved_latency(const std::function<at::Tensor(const at::Tensor&)>& a,
                                       const std::function<at::Tensor(const at::Tensor&)>& b,
                                       const at::Tensor& images, int warmup, int repeats) {
  check(warmup >= 0, "warm-up rounds must be >= 0, got ", warmup);
  check(repeats >= 1, "repeats must be >= 1, got ", repeats);
  std::vector<double> ta, tb;
  for (int i = 0; i < warmup + repeats; ++i) {
    const double ma = time_forward_ms(a, images), mb = time_forward_ms(b, images);
    if (i >= warmup) ta.push_back(ma), tb.push_back(mb);
  }
  InterleavedLatency r;
  r.a = summarize_latency(ta, images.size(0), warmup);
  r.b = summarize_latency(tb, images.size(0), warmup);
  r.ratio = r.b.median_ms / r.a.median_ms;
  return r;
}

LatencyResult measure_latency(VisionTransformerImpl& model, int64_t batch, int warmup, int repeats,
                              const c10::Device& device) {
  check(warmup >= 0, "warm-up runs must be >= 0, got ", warmup);
  check(repeats >= 1, "repeats must be >= 1, got ", repeats);
  model.to(device);
  const at::Tensor images = latency_input(model.config(), batch, device);
  for (int i = 0; i < warmup; ++i) time_forward_ms(model, images);
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) times.push_back(time_forward_ms(model, images));
  return summarize_latency(std::move(times), batch, warmup);
}

nlohmann::json latency_to_json(const LatencyResult& r) {
  return {{"batch", r.batch},         {"warmup", r.warmup},   {"repeats", r.times_ms.size()},
          {"median_ms", r.median_ms}, {"p10_ms", r.p10_ms},   {"p90_ms", r.p90_ms},
          {"images_per_s", r.images_per_s}, {"times_ms", r.times_ms}};
}

}  // namespace vitc
