// Inference on the CPU by slices ("chunks") of the batch, spread over the intra-op threads.
//
// Why it exists: a small ViT at batch 64 computes ~25 operations per block on tensors of a few
// hundred KB. Split operation by operation over torch's threads (vitc::linear, batched_matmul,
// softmax_rows and ATen's element-wise kernels), every operation ends at a barrier, and the
// operations that pruning does not shrink (LayerNorm, residual additions, per-call costs) keep
// their share: a model pruned to 50% MACs ran at ~0.59 of the dense model's time on fm_small.
// The images of a batch are independent in inference, so here each thread runs the whole
// network (the model families' forward_features) on its own slices of the batch, with every
// operation inside on that one thread (ATen runs parallel_for inline inside a parallel region;
// OpenBLAS is single-threaded, util/threads.h): one fork and join per pass instead of one per
// operation (docs/slicing_benchmark.md).
//
// Used only where it computes exactly what the whole batch would: without autograd (training
// keeps the operation split: its backward pass runs on one autograd thread), on the CPU, with
// more than one intra-op thread, outside a parallel region, and on a batch of at least 2 images.
#pragma once

#include <cstdint>
#include <functional>

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

namespace torch::nn {
class Module;
}

namespace vitc {

struct ViTConfig;
struct ResNetConfig;

// Whether in_batch_chunks(x, f) splits x's batch (dimension 0) over the intra-op threads.
bool runs_in_batch_chunks(const at::Tensor& x);

// Whether a model's forward pass on x takes its batch slices: the model in eval mode, its
// weights on the CPU, and runs_in_batch_chunks(x). (Each family adds its own conditions, e.g. no
// masks.)
bool infers_in_batch_chunks(const torch::nn::Module& model, const c10::Device& weights,
                            const at::Tensor& x);

// The most activation memory one slice may take, by its largest tensor (bytes_per_image x
// images). One slice per thread of a whole deit_small batch of 64 (32 images, 39 MB MLP hidden
// each) ran 9% slower than splitting every operation, 4 images (5 MB) 2% faster; fm_small and
// fm_swin (2-3 MB per 32 images) 10-15% faster (docs/slicing_benchmark.md). Each thread runs its
// slices one after another, so what it touches stays within its share of the cache.
inline constexpr int64_t kBatchSliceBytes = int64_t{4} << 20;

// f(x), computed as f on consecutive slices of x's batch, concatenated in order, when
// runs_in_batch_chunks(x); else f(x). Every thread takes the same number of consecutive slices,
// of at most kBatchSliceBytes / bytes_per_image images (at least one; 0: one slice per thread).
// f must treat the images of a batch independently.
at::Tensor in_batch_chunks(const at::Tensor& x,
                           const std::function<at::Tensor(const at::Tensor&)>& f,
                           int64_t bytes_per_image = 0);

// One image's largest activation tensor in bytes of float32, the bytes_per_image that each model
// family's inference passes (defined beside its forward pass: model/vit.cpp counts a block's
// tokens times the widest of its width, qkv output, MLP hidden layer and attention scores;
// families/resnet/resnet.cpp the stem's and every block's feature maps).
int64_t largest_activation_bytes(const ViTConfig& config);
int64_t largest_activation_bytes(const ResNetConfig& config);

// On by default; off, every call computes f(x) on the whole batch (benchmarks compare both).
void set_batch_chunks_enabled(bool enabled);
bool batch_chunks_enabled();

}  // namespace vitc
