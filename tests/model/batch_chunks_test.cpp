// model/batch_chunks.h: inference by slices of the batch, one per intra-op thread. The slices
// are computed on different threads and put back in order; exceptions reach the caller; no split
// with autograd, one thread, one image, when disabled or inside a slice; and whole models (ViT
// with dropped tokens and uneven padded heads, Swin, T2T, ResNet) give the same logits sliced
// and whole.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

#include "model/batch_chunks.h"
#include "model/config.h"
#include "model/families/resnet/resnet.h"
#include "model/families/resnet/resnet_config.h"
#include "model/slice.h"
#include "model/structure.h"
#include "model/vit.h"

namespace vitc {
namespace {

// Sets torch's intra-op threads and batch slicing for one test and restores them.
class ChunkSettings {
 public:
  explicit ChunkSettings(int threads, bool enabled = true)
      : threads_(at::get_num_threads()), enabled_(batch_chunks_enabled()) {
    at::set_num_threads(threads);
    set_batch_chunks_enabled(enabled);
  }
  ~ChunkSettings() {
    at::set_num_threads(threads_);
    set_batch_chunks_enabled(enabled_);
  }

 private:
  int threads_;
  bool enabled_;
};

TEST(BatchChunks, EachThreadTakesOneSliceAndTheResultIsInOrder) {
  ChunkSettings settings(2);
  torch::NoGradGuard no_grad;
  const at::Tensor x = torch::arange(5 * 3, torch::kFloat).view({5, 3});
  ASSERT_TRUE(runs_in_batch_chunks(x));
  std::mutex mutex;
  std::set<int> threads;
  std::multiset<int64_t> slice_sizes;
  const at::Tensor y = in_batch_chunks(x, [&](const at::Tensor& slice) {
    {
      const std::lock_guard<std::mutex> lock(mutex);
      threads.insert(at::get_thread_num());
      slice_sizes.insert(slice.size(0));
    }
    EXPECT_FALSE(runs_in_batch_chunks(slice)) << "a slice must not be split again";
    EXPECT_FALSE(at::GradMode::is_enabled()) << "grad mode must be off in every slice";
    return slice * 2 + 1;
  });
  EXPECT_TRUE(torch::equal(y, x * 2 + 1));
  EXPECT_EQ(threads.size(), 2u);
  EXPECT_EQ(slice_sizes, (std::multiset<int64_t>{2, 3}));
}

TEST(BatchChunks, LargeImagesGoInSeveralSlicesPerThreadOfAtMostTheSliceBytes) {
  ChunkSettings settings(2);
  torch::NoGradGuard no_grad;
  const at::Tensor x = torch::arange(9, torch::kFloat);
  std::mutex mutex;
  std::map<int, int> slices_per_thread;
  std::multiset<int64_t> slice_sizes;
  // Two images fit in one slice: 9 images on 2 threads take 3 slices per thread (5 slices would
  // hold them, but every thread takes as many), of 1 or 2 images.
  const at::Tensor y = in_batch_chunks(
      x,
      [&](const at::Tensor& slice) {
        const std::lock_guard<std::mutex> lock(mutex);
        slices_per_thread[at::get_thread_num()] += 1;
        slice_sizes.insert(slice.size(0));
        return slice * 3;
      },
      kBatchSliceBytes / 2);
  EXPECT_TRUE(torch::equal(y, x * 3));
  EXPECT_EQ(slices_per_thread, (std::map<int, int>{{0, 3}, {1, 3}}));
  EXPECT_EQ(slice_sizes, (std::multiset<int64_t>{1, 1, 1, 2, 2, 2}));
}

TEST(BatchChunks, OnlyWhereItComputesWhatTheWholeBatchWould) {
  const at::Tensor x = torch::zeros({4, 3});
  {
    ChunkSettings settings(2);
    EXPECT_FALSE(runs_in_batch_chunks(x)) << "grad mode on (autograd)";
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(runs_in_batch_chunks(x));
    EXPECT_FALSE(runs_in_batch_chunks(torch::zeros({1, 3}))) << "one image";
    EXPECT_FALSE(runs_in_batch_chunks(torch::zeros({}))) << "a scalar";
    EXPECT_FALSE(runs_in_batch_chunks(at::Tensor())) << "undefined";
  }
  {
    ChunkSettings settings(1);
    torch::NoGradGuard no_grad;
    EXPECT_FALSE(runs_in_batch_chunks(x)) << "one intra-op thread";
  }
  {
    ChunkSettings settings(2, /*enabled=*/false);
    torch::NoGradGuard no_grad;
    EXPECT_FALSE(runs_in_batch_chunks(x)) << "disabled";
    int calls = 0;
    const at::Tensor y = in_batch_chunks(x, [&](const at::Tensor& whole) {
      ++calls;
      return whole + 1;
    });
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(torch::equal(y, x + 1));
  }
}

TEST(BatchChunks, AnExceptionInASliceReachesTheCaller) {
  ChunkSettings settings(2);
  torch::NoGradGuard no_grad;
  const at::Tensor x = torch::zeros({4, 3});
  EXPECT_THROW(in_batch_chunks(x,
                               [](const at::Tensor& slice) -> at::Tensor {
                                 if (at::get_thread_num() == 1) throw std::runtime_error("slice 1");
                                 return slice;
                               }),
               std::runtime_error);
  // Afterwards slicing works again on this thread.
  EXPECT_TRUE(runs_in_batch_chunks(x));
}

// Logits of `forward` on `images`, computed whole (slicing off) and by slices.
template <typename Forward>
void expect_same_sliced_and_whole(const Forward& forward, const at::Tensor& images,
                                  const std::string& what) {
  torch::NoGradGuard no_grad;
  at::Tensor whole;
  {
    ChunkSettings settings(2, /*enabled=*/false);
    whole = forward(images);
  }
  ChunkSettings settings(2);
  ASSERT_TRUE(runs_in_batch_chunks(images));
  const at::Tensor sliced = forward(images);
  ASSERT_EQ(sliced.sizes(), whole.sizes()) << what;
  EXPECT_TRUE(torch::allclose(sliced, whole, 1e-5, 1e-5))
      << what << ": max difference " << (sliced - whole).abs().max().item<float>();
}

TEST(BatchChunks, VisionTransformersGiveTheSameLogitsSlicedAndWhole) {
  torch::manual_seed(3);
  for (const std::string name : {"fm_tiny", "fm_swin", "fm_t2t"}) {
    VisionTransformer model = make_model(named_config(name), 7);
    model->eval();
    const ViTConfig& c = model->config();
    const at::Tensor images = torch::randn({5, c.in_chans, c.img_size, c.img_size});
    expect_same_sliced_and_whole([&](const at::Tensor& x) { return model->forward(x); }, images,
                                 name);
  }
}

TEST(BatchChunks, ACompactModelWithUnevenHeadsAndDroppedTokensGivesTheSameLogits) {
  torch::manual_seed(4);
  VisionTransformer source = make_model(named_config("fm_small"), 9);
  const ViTConfig& config = source->config();
  Structure s = dense_structure(config);
  for (size_t b = 0; b < s.blocks.size(); ++b) {
    for (size_t h = 0; h < s.blocks[b].heads.size(); ++h) {  // v widths 16, 12, 8, 4, ...
      std::vector<int>& v = s.blocks[b].heads[h].v;
      v.resize(std::max<size_t>(1, v.size() - 4 * h));
    }
  }
  std::vector<int> kept;
  for (int p = 0; p < config.num_patches(); p += 2) kept.push_back(p);
  s.blocks[2].tokens = kept;
  validate_structure(s, config);
  VisionTransformer compact = slice_model(*source, s);
  compact->eval();
  const at::Tensor images = torch::randn({8, config.in_chans, config.img_size, config.img_size});
  expect_same_sliced_and_whole([&](const at::Tensor& x) { return compact->forward(x); }, images,
                               "fm_small with uneven heads and dropped tokens");
}

TEST(BatchChunks, AResNetGivesTheSameLogitsSlicedAndWhole) {
  torch::manual_seed(5);
  ResNet model = make_resnet(named_resnet_config("fm_resnet"), 11);
  model->eval();
  const ResNetConfig& c = model->config();
  const at::Tensor images = torch::randn({5, c.in_chans, c.img_size, c.img_size});
  expect_same_sliced_and_whole([&](const at::Tensor& x) { return model->forward(x); }, images,
                               "fm_resnet");
}

}  // namespace
}  // namespace vitc
