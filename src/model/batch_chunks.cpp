// Batch chunks over torch's intra-op threads (see batch_chunks.h).
#include "model/batch_chunks.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/cat.h>
#include <torch/nn/module.h>

#include "util/compute.h"

namespace vitc {

namespace {
std::atomic<bool> enabled{true};
// Set while a thread computes a chunk: f's own calls then never split again, even where
// at::parallel_for ran the chunks inline on this thread.
thread_local bool in_chunk = false;

// Sets in_chunk for its scope and restores it, also when f throws.
class InChunk {
 public:
  InChunk() : was_(in_chunk) { in_chunk = true; }
  ~InChunk() { in_chunk = was_; }
  InChunk(const InChunk&) = delete;
  InChunk& operator=(const InChunk&) = delete;

 private:
  bool was_;
};

}  // namespace

void set_batch_chunks_enabled(bool on) { enabled = on; }
bool batch_chunks_enabled() { return enabled; }

bool runs_in_batch_chunks(const at::Tensor& x) {
  // bf16 autocast is left out as batched_matmul and attention_by_heads leave it out
  // (current_precision, util/compute.h).
  return enabled && !in_chunk && x.defined() && x.dim() >= 1 && x.size(0) >= 2 &&
         x.device().is_cpu() && !at::GradMode::is_enabled() &&
         current_precision(c10::Device(c10::kCPU)) == Precision::fp32 &&
         !at::in_parallel_region() && at::get_num_threads() > 1;
}

bool infers_in_batch_chunks(const torch::nn::Module& model, const c10::Device& weights,
                            const at::Tensor& x) {
  return !model.is_training() && weights.is_cpu() && runs_in_batch_chunks(x);
}

at::Tensor in_batch_chunks(const at::Tensor& x,
                           const std::function<at::Tensor(const at::Tensor&)>& f,
                           int64_t bytes_per_image) {
  if (!runs_in_batch_chunks(x)) return f(x);
  const int64_t B = x.size(0);
  const int64_t threads = std::min<int64_t>(B, at::get_num_threads());
  const int64_t per_slice =
      bytes_per_image > 0 ? std::max<int64_t>(1, kBatchSliceBytes / bytes_per_image) : B;
  // Slices per thread, so that every thread has as many slices (of nearly equal size).
  const int64_t rounds =
      std::max<int64_t>(1, (B + per_slice * threads - 1) / (per_slice * threads));
  const int64_t chunks = std::min<int64_t>(B, threads * rounds);
  std::vector<at::Tensor> outputs(static_cast<size_t>(chunks));
  // Grad mode is thread-local and on by default in a worker thread: set it off there, as here.
  at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
    at::NoGradGuard no_grad;
    const InChunk in_this_chunk;  // an exception leaves it; at::parallel_for rethrows it here
    for (int64_t c = begin; c < end; ++c) {
      const int64_t first = B * c / chunks, last = B * (c + 1) / chunks;
      outputs[static_cast<size_t>(c)] = f(x.narrow(0, first, last - first));
    }
  });
  return at::cat(outputs, 0);
}

}  // namespace vitc
