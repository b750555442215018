// Latency and throughput of a model's forward pass: warm-up, repeated timed runs, median and
// percentiles. CPU or CUDA (the time of a CUDA run includes a synchronize).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json_fwd.hpp>

#include "model/families/resnet/resnet.h"
#include "model/vit.h"
#include "util/compute.h"

namespace vitc {

struct LatencyResult {
  int64_t batch = 0;
  int warmup = 0;
  std::vector<double> times_ms;  // one per timed run, in run order
  double median_ms = 0;
  double p10_ms = 0;
  double p90_ms = 0;
  double images_per_s = 0;  // batch / median
};

// Waits for the device's queued work (CUDA); nothing on the CPU.
void synchronize(const c10::Device& device);

// Random images of the model's input shape on `device`.
at::Tensor latency_input(const ViTConfig& config, int64_t batch, const c10::Device& device);
at::Tensor latency_input(int in_chans, int img_size, int64_t batch, const c10::Device& device);

// Milliseconds of one forward pass (eval mode, no autograd), synchronised on CUDA. The model and
// the images must be on the same device. The building block for interleaved comparisons.
double time_forward_ms(VisionTransformerImpl& model, const at::Tensor& images);
double time_forward_ms(ResNetImpl& model, const at::Tensor& images);
// The same for any forward function (the caller puts its model in eval mode).
double time_forward_ms(const std::function<at::Tensor(const at::Tensor&)>& forward,
                       const at::Tensor& images);

// Median, p10 and p90 (linear interpolation) and images/s of a set of timings.
LatencyResult summarize_latency(std::vector<double> times_ms, int64_t batch, int warmup);
// The median of a non-empty set of values (the mean of the middle two for an even count).
double median_of(std::vector<double> values);

// Two forward functions timed alternately on the same images, one pass each per round, the
// first `warmup` rounds untimed: the same conditions for both (a shared machine drifts between
// minutes). `ratio` = b's median / a's median.
struct InterleavedLatency {
  LatencyResult a, b;
  double ratio = 0;
};
InterleavedLatency interleaved_latency(const std::function<at::Tensor(const at::Tensor&)>& a,
                                       const std::function<at::Tensor(const at::Tensor&)>& b,
                                       const at::Tensor& images, int warmup, int repeats);

// Moves the model to `device`, runs `warmup` untimed and `repeats` timed forward passes of a
// random batch, and summarises them.
LatencyResult measure_latency(VisionTransformerImpl& model, int64_t batch, int warmup, int repeats,
                              const c10::Device& device);

nlohmann::json latency_to_json(const LatencyResult& result);

}  // namespace vitc
