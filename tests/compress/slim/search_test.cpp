// The ViT-Slim search: the L1 term drives the masks of units that provably do not affect the
// output to zero while useful ones stay; checkpoints resume exactly; a finished search is reused.
#include <atomic>
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/slim/search.h"
#include "compress/slim/search_dir.h"
#include "model/state_dict.h"
#include "slim_test_util.h"
#include "util/error.h"

namespace vitc {
namespace {

// 8x8 images, 4 patches, 2 blocks of 2 heads of 8 dims, MLP 32, 4 classes.
ViTConfig toy_config() { return make_uniform_config("toy", 8, 4, 1, 4, 16, 2, 2, 2.0, false); }

// Head 1 of block 0 and MLP neurons 0..7 of block 1 are dead: their v rows (and bias) and proj
// columns, resp. fc1 rows (and bias) and fc2 columns, are zero. Their outputs are exactly 0
// whatever the masks, so the task loss gives their masks (and their weights) zero gradient: only
// the L1 term moves those masks.
VisionTransformer toy_teacher() {
  VisionTransformer model = make_model(toy_config(), 0);
  test::randomize_parameters(*model, 1);
  torch::NoGradGuard no_grad;
  AttentionImpl& attn = *model->block(0)->attn;
  attn.qkv->weight.narrow(0, 2 * 16 + 8, 8).zero_();
  attn.qkv->bias.narrow(0, 2 * 16 + 8, 8).zero_();
  attn.proj->weight.narrow(1, 8, 8).zero_();
  MlpImpl& mlp = *model->block(1)->mlp;
  mlp.fc1->weight.narrow(0, 0, 8).zero_();
  mlp.fc1->bias.narrow(0, 0, 8).zero_();
  mlp.fc2->weight.narrow(1, 0, 8).zero_();
  return model;
}

// Labels are the teacher's own predictions, so the teacher's units are what the task needs.
std::shared_ptr<const Dataset> toy_data(VisionTransformerImpl& teacher, int64_t n, uint64_t seed) {
  const at::Tensor images = test::random_images(teacher.config(), n, seed);
  torch::NoGradGuard no_grad;
  const at::Tensor labels = teacher.forward(images).argmax(1);
  return std::make_shared<TensorDataset>(images, labels, 4, "toy");
}

SearchOptions toy_options(const std::string& out) {
  SearchOptions o;
  o.epochs = 5;
  o.batch_size = 64;
  o.lr = 5e-3;
  o.loss.label_smoothing = 0.0;
  o.out_dir = out;
  o.quiet = true;
  return o;
}

TEST(SlimSearch, L1DrivesMasksOfDeadUnitsToZero) {
  VisionTransformer teacher = toy_teacher();
  const auto data = toy_data(*teacher, 4096, 2);  // 64 steps per epoch, 320 in all
  const SearchResult r =
      run_search(*teacher, {{"dir", "toy"}}, data, nullptr, toy_options(test::temp_dir("l1")));
  const at::Tensor attn = r.masks.attn.abs(), mlp = r.masks.mlp.abs();
  const at::Tensor dead_head = attn[0][1],
                   live_heads = torch::cat({attn[0][0], attn[1].reshape({-1})});
  const at::Tensor dead_neurons = mlp[1].narrow(0, 0, 8);
  const at::Tensor live_neurons = torch::cat({mlp[0], mlp[1].narrow(0, 8, 24)});
  EXPECT_LT(dead_head.max().item<double>(), 0.05) << dead_head;
  EXPECT_LT(dead_neurons.max().item<double>(), 0.05) << dead_neurons;
  EXPECT_GT(live_heads.min().item<double>(), 0.5) << live_heads;
  EXPECT_GT(live_neurons.mean().item<double>(), 0.8);
  // The dead units stayed dead: their weights never received a gradient.
  EXPECT_EQ(r.model->block(0)->attn->proj->weight.narrow(1, 8, 8).abs().max().item<double>(), 0.0);
  // Without the L1 term nothing pulls them: they stay at 1 (weight decay alone moves them little).
  SearchOptions no_l1 = toy_options(test::temp_dir("no_l1"));
  no_l1.lambdas = {0.0, 0.0, 0.0};
  const SearchResult flat = run_search(*teacher, {{"dir", "toy"}}, data, nullptr, no_l1);
  EXPECT_GT(flat.masks.attn[0][1].min().item<double>(), 0.95);
}

// A data set that fails on its `fail_at`-th batch, standing in for a crash mid-search.
class FailingDataset : public Dataset {
 public:
  FailingDataset(std::shared_ptr<const Dataset> data, int64_t fail_at)
      : data_(std::move(data)), fail_at_(fail_at) {}
  int64_t size() const override { return data_->size(); }
  int num_classes() const override { return data_->num_classes(); }
  std::string name() const override { return data_->name(); }
  at::Tensor labels() const override { return data_->labels(); }
  Batch get_batch(const std::vector<int64_t>& indices) const override {
    if (calls_++ == fail_at_) throw std::runtime_error("simulated crash");
    return data_->get_batch(indices);
  }

 private:
  std::shared_ptr<const Dataset> data_;
  int64_t fail_at_;
  mutable std::atomic<int64_t> calls_{0};
};

TEST(SlimSearch, ResumeGivesIdenticalWeightsAndMasks) {
  VisionTransformer teacher = toy_teacher();
  const auto data = toy_data(*teacher, 256, 3);  // 4 steps per epoch
  SearchOptions o = toy_options(test::temp_dir("straight"));
  o.epochs = 3;
  o.tokens = true;
  o.loss.alpha = 0.5;  // distillation from the teacher too
  o.augment.pad = 1;
  const SearchResult straight = run_search(*teacher, {{"dir", "toy"}}, data, data, o);

  SearchOptions part = o;
  part.out_dir = test::temp_dir("resumed");
  const auto failing = std::make_shared<FailingDataset>(data, 4);  // first batch of epoch 2
  EXPECT_THROW(run_search(*teacher, {{"dir", "toy"}}, failing, data, part), std::runtime_error);
  ASSERT_TRUE(std::filesystem::exists(part.out_dir + "/checkpoint/search.json"));
  EXPECT_THROW(load_search_dir(part.out_dir + "/checkpoint"), Error);  // unfinished: refused

  part.resume = true;
  const SearchResult resumed = run_search(*teacher, {{"dir", "toy"}}, data, data, part);
  EXPECT_EQ(resumed.resumed_after_epoch, 1);
  EXPECT_EQ(resumed.history.size(), 3u);
  EXPECT_TRUE(torch::equal(resumed.masks.attn, straight.masks.attn));
  EXPECT_TRUE(torch::equal(resumed.masks.mlp, straight.masks.mlp));
  EXPECT_TRUE(torch::equal(resumed.masks.tokens, straight.masks.tokens));
  const TensorMap a = state_dict(*straight.model), b = state_dict(*resumed.model);
  for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << name;

  // The written search directory holds exactly that result; resuming a finished search reuses it.
  const SearchDir loaded = load_search_dir(part.out_dir);
  EXPECT_TRUE(torch::equal(loaded.masks.attn, straight.masks.attn));
  const SearchResult again = run_search(*teacher, {{"dir", "toy"}}, data, data, part);
  EXPECT_TRUE(again.reused);
  EXPECT_TRUE(torch::equal(again.masks.mlp, straight.masks.mlp));
}

TEST(SlimSearch, ResumeWithOtherSettingsOrTeacherIsRefused) {
  VisionTransformer teacher = toy_teacher();
  const auto data = toy_data(*teacher, 128, 4);
  SearchOptions o = toy_options(test::temp_dir("refused"));
  o.epochs = 1;
  run_search(*teacher, {{"dir", "toy"}}, data, nullptr, o);
  o.resume = true;
  o.lambdas.mlp = 1e-3;
  try {
    run_search(*teacher, {{"dir", "toy"}}, data, nullptr, o);
    FAIL() << "expected vitc::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'lambda_mlp'"), std::string::npos) << e.what();
  }
  o.lambdas.mlp = SparsityWeights().mlp;
  EXPECT_THROW(run_search(*teacher, {{"dir", "other"}}, data, nullptr, o), Error);
}

TEST(SlimSearch, RejectsBadSettingsAndMissingDirectories) {
  SearchOptions o = toy_options(test::temp_dir("bad"));
  o.lambdas.attn = -1;
  EXPECT_THROW(o.validate(), Error);
  try {
    load_search_dir(test::temp_dir("missing"));
    FAIL() << "expected vitc::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vitc
