// PRACTISE on ResNets (the method as published): 1x1-conv adaptors sit where the paper puts them,
// start as the identity and equal convolutions whose weights absorb them; a block whose branch
// computes nothing is the most recoverable and is dropped first; the finetuned compact model is
// physically smaller, saved and reloaded equal; a MACs budget that dropping blocks cannot reach
// is refused before any training, naming what is reachable.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/common/few_shot.h"
#include "compress/practise/resnet_adaptors.h"
#include "compress/practise/resnet_pipeline.h"
#include "compress/practise/resnet_practise.h"
#include "model/families/resnet/resnet_complexity.h"
#include "model/families/resnet/resnet_model_dir.h"
#include "model/families/resnet/resnet_structure.h"
#include "util/error.h"
#include "compress/resnet_test_util.h"
#include "test_support.h"

namespace vitc {
namespace {

using test_support::absent_dir;
using test_support::expect_error;

// fm_resnet's layout at a quarter of its width (4/8/16) on 16x16 inputs.
ResNet small_resnet(uint64_t seed) {
  return test::calibrated_small_resnet(16, {4, 8, 16}, seed, test::normal_images(16));
}

std::shared_ptr<const Dataset> random_images(const ResNetConfig& c, int64_t n, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return std::make_shared<TensorDataset>(at::normal(0.0, 1.0, {n, c.in_chans, c.img_size, c.img_size}, gen),
                                         torch::zeros({n}, at::kLong), c.num_classes, "random images");
}

TEST(PractiseResNetAdaptors, SitWhereThePaperPutsThemAndStartAsTheIdentity) {
  ResNet model = small_resnet(1);
  const ResNetConfig& c = model->config();
  ASSERT_EQ(c.block_name(4), "layer2.1");
  const ResNetAdaptors a = make_resnet_adaptors(*model, {4});
  // Before the dropped block in its stage: layer2.0's last conv and its downsample conv.
  EXPECT_EQ(a.after_last.size(), 1u);
  EXPECT_EQ(a.after_last.count(3), 1u);
  EXPECT_EQ(a.after_downsample.count(3), 1u);
  // After it: layer2.2's conv1, and the next stage's first block (conv1 and downsample).
  EXPECT_EQ(a.pre_conv1.size(), 2u);
  EXPECT_EQ(a.pre_conv1.count(5), 1u);
  EXPECT_EQ(a.pre_conv1.count(6), 1u);
  EXPECT_EQ(a.pre_downsample.count(6), 1u);
  EXPECT_EQ(a.count(), 5u);
  const at::Tensor x = random_images(c, 4, 2)->get_batch({0, 1, 2, 3}).images;
  torch::NoGradGuard no_grad;
  // Identity adaptors and block 4 dropped: the compact model without block 4.
  ResNet dropped = slice_resnet(*model, drop_resnet_blocks(c, full_resnet_structure(c), {4}));
  dropped->eval();
  EXPECT_TRUE(torch::allclose(adapted_resnet_features(*model, {4}, a, x), dropped->forward_features(x),
                              1e-5, 1e-6));
  // Nothing dropped: the model itself.
  EXPECT_TRUE(torch::allclose(adapted_resnet_features(*model, {}, a, x), model->forward_features(x),
                              1e-5, 1e-6));
}

TEST(PractiseResNetAdaptors, EqualConvolutionsThatAbsorbThem) {
  ResNet model = small_resnet(3);
  const ResNetConfig& c = model->config();
  ResNetAdaptors a = make_resnet_adaptors(*model, {4});
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(4);
  for (auto& m : a.parameters()) m.add_(at::normal(0.0, 0.3, m.sizes(), gen));
  // Independently: 1x1 adaptors folded into the conv weights of the compact model. An adaptor A
  // after a conv W is the conv A.W (out channels mixed); before a conv it is W.A (in channels).
  ResNet folded = slice_resnet(*model, drop_resnet_blocks(c, full_resnet_structure(c), {4}));
  folded->eval();
  const auto after = [](at::Tensor& w, const at::Tensor& m) { w.copy_(at::einsum("oc,cikl->oikl", {m, w.clone()})); };
  const auto before = [](at::Tensor& w, const at::Tensor& m) { w.copy_(at::einsum("ockl,ci->oikl", {w.clone(), m})); };
  // Compact block indices: source blocks 0..3 keep theirs, 5 -> 4, 6 -> 5.
  after(folded->block(3)->conv2->weight, a.after_last.at(3));
  after(folded->block(3)->downsample->ptr(0)->as<torch::nn::Conv2dImpl>()->weight, a.after_downsample.at(3));
  before(folded->block(4)->conv1->weight, a.pre_conv1.at(5));
  before(folded->block(5)->conv1->weight, a.pre_conv1.at(6));
  before(folded->block(5)->downsample->ptr(0)->as<torch::nn::Conv2dImpl>()->weight, a.pre_downsample.at(6));
  const at::Tensor x = random_images(c, 3, 5)->get_batch({0, 1, 2}).images;
  const at::Tensor adapted = adapted_resnet_features(*model, {4}, a, x);
  const at::Tensor expected = folded->forward_features(x);
  EXPECT_LT((adapted - expected).abs().max().item<double>(), 1e-4 * expected.abs().max().item<double>());
}

PractiseSettings quick_settings() {
  PractiseSettings s;
  s.recover.epochs = 2;
  s.recover.batch_size = 16;
  s.mimic.epochs = 4;
  s.mimic.batch_size = 16;
  s.quiet = true;
  return s;
}

TEST(PractiseResNet, DropsABlockThatComputesNothingFirstAndSavesTheCompactModel) {
  ResNet teacher = small_resnet(6);
  const ResNetConfig& c = teacher->config();
  {
    // layer3.1's branch ends in a BatchNorm of weight and bias 0: the block is relu(x) = x.
    torch::NoGradGuard no_grad;
    teacher->block(7)->bn2->weight.zero_();
    teacher->block(7)->bn2->bias.zero_();
  }
  FewShotOptions fo;
  fo.total = 32;
  const FewShotSet few_shot = sample_few_shot(random_images(c, 64, 7), fo);
  const auto eval_data = random_images(c, 20, 8);
  ResNetPractiseOptions o;
  o.settings = quick_settings();
  o.drop = 2;
  o.out_dir = absent_dir("practise_resnet");
  const ResNetPractiseRun run =
      run_resnet_practise(teacher, {{"dir", "constructed"}}, few_shot, *eval_data, o, nullptr);
  const nlohmann::json& ranking = run.record["ranking"];
  ASSERT_EQ(ranking["scores"].size(), 6u);  // every block but the stages' first
  EXPECT_EQ(ranking["order"][0], 7);
  EXPECT_NEAR(ranking["scores"][0]["mse_before"].get<double>(), 0.0, 1e-12);
  for (size_t i = 1; i < 6; ++i) {
    EXPECT_LE(ranking["scores"][i - 1]["score"].get<double>(), ranking["scores"][i]["score"].get<double>());
    // Training the adaptors recovers part of what dropping the block lost.
    EXPECT_LE(ranking["scores"][i]["recoverability"].get<double>(),
              ranking["scores"][i]["mse_before"].get<double>());
  }
  EXPECT_EQ(run.compact->config().depth(), 7);
  EXPECT_EQ(run.record["result"]["macs"].get<int64_t>(), resnet_cost(run.compact->config()).macs);
  const auto history = run.record["finetune"]["result"]["epochs"];
  ASSERT_EQ(history.size(), 4u);
  EXPECT_LT(history[3]["train_loss"].get<double>(), history[0]["train_loss"].get<double>());
  LoadedResNet saved = load_resnet_dir(o.out_dir);
  saved.model->eval();
  const at::Tensor x = eval_data->get_batch({0, 1, 2}).images;
  torch::NoGradGuard no_grad;
  ResNet compact = run.compact;
  EXPECT_TRUE(torch::equal(saved.model->forward(x), compact->forward(x)));
  EXPECT_EQ(saved.model_json["structure"]["blocks"][7]["kept"], false);
}

TEST(PractiseResNet, RandomDropIsSeededAndUnreachableBudgetsAreRefusedBeforeTraining) {
  const ResNetConfig c = named_resnet_config("fm_resnet");
  const std::vector<int> candidates = resnet_drop_candidates(c);
  EXPECT_EQ(random_drop_order(candidates, 3), random_drop_order(candidates, 3));
  EXPECT_NE(random_drop_order(candidates, 3), random_drop_order(candidates, 4));
  ResNetPractiseOptions o;
  o.budget = parse_macs_target("0.25");  // all six dropped leave 30.1%
  expect_error([&] { check_resnet_practise(c, o); },
               {"not reachable", "fm_resnet", "raise the target to at least"});
  o.budget = parse_macs_target("0.75");
  EXPECT_EQ(check_resnet_practise(c, o).size(), 6u);
  o.budget.reset();
  o.drop = 7;
  expect_error([&] { check_resnet_practise(c, o); }, {"--drop 7", "6 candidate"});
  // The fewest blocks in order: each droppable block of fm_resnet is 3.6 M of its 31.0 M MACs.
  EXPECT_EQ(resnet_drops_for_budget(c, candidates, Resource::macs, resnet_cost(c).macs * 3 / 4), 3);
  // A parameter budget: the fewest blocks whose removal meets it, by the exact parameter count.
  const int64_t params = resnet_cost(c).params;
  const int d = resnet_drops_for_budget(c, candidates, Resource::params, params * 3 / 4, 0.0);
  ASSERT_GE(d, 1);
  EXPECT_LE(resnet_cost_without(c, {candidates.begin(), candidates.begin() + d}, Resource::params),
            params * 3 / 4);
  EXPECT_GT(resnet_cost_without(c, {candidates.begin(), candidates.begin() + d - 1},
                                Resource::params),
            params * 3 / 4);
  o.drop = 0;
  o.budget = parse_budget("0.05", Resource::params, "--params");
  expect_error([&] { check_resnet_practise(c, o); }, {"parameters target", "not reachable"});
}

}  // namespace
}  // namespace vitc
