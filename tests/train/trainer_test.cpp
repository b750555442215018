// A few hundred steps on a Fashion-MNIST subset learn; resume equals an uninterrupted run; a
// ResNet goes through the same loop.
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "test_support.h"
#include "data/fashion_mnist.h"
#include "data/sampling.h"
#include "model/families/resnet/resnet_model_dir.h"
#include "model/model_dir.h"
#include "model/state_dict.h"
#include "train/trainer.h"
#include "util/error.h"

namespace vitc {
namespace {

using vitc::test_support::absent_dir;

std::shared_ptr<const Dataset> subset(const std::string& split, int64_t n) {
  auto full = load_fashion_mnist(split);
  return make_subset(full, sample_subset(*full, n, 0));
}

TrainOptions quick_options(const std::string& out) {
  TrainOptions o;
  o.epochs = 2;
  o.batch_size = 64;
  o.lr = 2e-3;
  o.warmup_epochs = 0.2;
  o.augment.pad = 2;
  o.augment.hflip = true;
  o.seed = 5;
  o.out_dir = out;
  o.quiet = true;
  return o;
}

TEST(Trainer, LearnsFashionMnistSubset) {
  const auto train = subset("train", 12800);  // 200 steps per epoch at batch 64
  const auto test = subset("test", 2000);
  VisionTransformer model = make_model(named_config("fm_tiny"), 0);
  const EvalResult before = evaluate(*model, *test, 500);
  TrainOptions o = quick_options(absent_dir("learns"));
  const TrainResult r = train_model(model, train, test, o);
  ASSERT_EQ(r.history.size(), 2u);
  EXPECT_LT(r.history[1].train_loss, r.history[0].train_loss);
  EXPECT_LT(r.final_eval.loss, before.loss);
  EXPECT_GT(r.final_eval.top1, 65.0) << "chance is 10%";
  // The saved model is the trained one.
  LoadedModel saved = load_model_dir(o.out_dir);
  EXPECT_NEAR(evaluate(*saved.model, *test, 500).top1, r.final_eval.top1, 1e-9);
}

TEST(Trainer, ResumeGivesIdenticalWeights) {
  const auto train = subset("train", 640);
  TrainOptions o = quick_options(absent_dir("straight"));
  o.epochs = 3;
  VisionTransformer straight = make_model(named_config("fm_tiny"), 1);
  train_model(straight, train, nullptr, o);

  // The same 3-epoch run, killed at the first step of epoch 2 (a loss callback that throws
  // stands in for the crash), then resumed from its epoch-1 checkpoint.
  TrainOptions first = o;
  first.out_dir = absent_dir("resumed");
  VisionTransformer part = make_model(named_config("fm_tiny"), 1);
  const int64_t steps_per_epoch = 640 / 64;
  int64_t calls = 0;
  LossFn interrupting = [&](VisionTransformerImpl& m, const Batch& b) {
    if (calls++ == steps_per_epoch) throw std::runtime_error("simulated crash");
    return classification_loss(m, b, first.label_smoothing);
  };
  EXPECT_THROW(train_model(part, train, nullptr, first, interrupting), std::runtime_error);
  ASSERT_TRUE(std::filesystem::exists(first.out_dir + "/checkpoint/trainer.json"));

  VisionTransformer resumed = make_model(named_config("fm_tiny"), 99);  // weights come from the checkpoint
  first.resume = true;
  const TrainResult r = train_model(resumed, train, nullptr, first);
  EXPECT_EQ(r.resumed_after_epoch, 1);
  ASSERT_EQ(r.history.size(), 3u);
  EXPECT_EQ(r.history[0].epoch, 1);
  EXPECT_EQ(r.history[2].epoch, 3);
  const TensorMap a = state_dict(*straight), b = state_dict(*resumed);
  for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << name;
}

// A ResNet trains through the same loop: BatchNorm's running statistics are updated in train
// mode and saved with the model, and a resume restores them with the weights, exactly.
TEST(Trainer, ResNetLearnsUpdatesBatchNormStatisticsAndResumesExactly) {
  const auto train = subset("train", 3200);
  const auto test = subset("test", 1000);
  ResNetConfig config = named_resnet_config("fm_resnet");
  config.blocks = {{0, {16}}, {1, {32}}, {2, {64}}};
  TrainOptions o = quick_options(absent_dir("resnet_straight"));
  ResNet straight = make_resnet(config, 2);
  const TrainResult r = train_model(trainee_of(straight, o.label_smoothing), train, test, o);
  EXPECT_LT(r.history[1].train_loss, r.history[0].train_loss);
  EXPECT_GT(r.final_eval.top1, 30.0) << "chance is 10%; 100 steps reach about 42%";
  EXPECT_GT(straight->bn1->running_mean.abs().max().item<double>(), 0.0);
  EXPECT_EQ(straight->bn1->num_batches_tracked.item<int64_t>(), 2 * 3200 / 64);
  LoadedResNet saved = load_resnet_dir(o.out_dir);
  EXPECT_NEAR(evaluate(classifier_of(*saved.model), *test, 500).top1, r.final_eval.top1, 1e-9);

  TrainOptions first = o;
  first.out_dir = absent_dir("resnet_resumed");
  ResNet part = make_resnet(config, 2);
  Trainee interrupted = trainee_of(part, first.label_smoothing);
  int64_t calls = 0;
  const auto loss = interrupted.loss;
  interrupted.loss = [&](const Batch& b) {
    if (calls++ == 3200 / 64) throw std::runtime_error("simulated crash");
    return loss(b);
  };
  EXPECT_THROW(train_model(interrupted, train, test, first), std::runtime_error);
  ResNet resumed = make_resnet(config, 77);
  first.resume = true;
  EXPECT_EQ(train_model(trainee_of(resumed, first.label_smoothing), train, test, first).resumed_after_epoch, 1);
  const TensorMap a = state_dict(*straight), b = state_dict(*resumed);
  for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << name;
}

TEST(Trainer, ResumeWithDifferentSettingsIsRefused) {
  const auto train = subset("train", 256);
  TrainOptions o = quick_options(absent_dir("refused"));
  o.epochs = 1;
  VisionTransformer model = make_model(named_config("fm_tiny"), 0);
  train_model(model, train, nullptr, o);
  o.resume = true;
  o.lr = 5e-3;
  try {
    train_model(model, train, nullptr, o);
    FAIL() << "expected vitc::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'lr'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vitc
