// The resource function equals the exact MACs (model/complexity.h) of the Structure the integer
// variables produce, skipped blocks included; its gradients are the exact MAC differences of one
// more pruned unit / of skipping a block; the decision's Structure slices to a model that equals
// its masked counterpart.
#include <random>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/uvc/decision.h"
#include "compress/uvc/geometry.h"
#include "compress/uvc/groups.h"
#include "compress/uvc/resource.h"
#include "model/complexity.h"
#include "model/slice.h"
#include "model/structure_masks.h"
#include "util/error.h"
#include "uvc_test_util.h"

namespace vitc {
namespace {

UvcDecision random_decision(const UvcGeometry& g, std::mt19937& rng, double skip_probability) {
  UvcDecision d;
  std::uniform_real_distribution<double> u(0, 1);
  for (int l = 0; l < g.depth; ++l) {
    const UvcBlock& b = g.blocks[l];
    d.skip.push_back(u(rng) < skip_probability);
    d.counts.heads.push_back(std::uniform_int_distribution<int>(0, b.heads - 1)(rng));
    d.counts.mlp.push_back(std::uniform_int_distribution<int>(0, b.mlp_hidden - 1)(rng));
    std::vector<int> dims(static_cast<size_t>(g.max_heads), 0);
    for (int h = 0; h < b.heads; ++h)
      dims[static_cast<size_t>(h)] = std::uniform_int_distribution<int>(0, b.head_dim - 1)(rng);
    d.counts.dims.push_back(dims);
  }
  return d;
}

struct Tensors {
  at::Tensor heads, mlp, dims, kept, keep;
};

Tensors to_tensors(const UvcGeometry& g, const UvcDecision& d, const GroupScores& scores) {
  Tensors t;
  t.heads = torch::zeros({g.depth}, torch::kFloat64);
  t.mlp = torch::zeros({g.depth}, torch::kFloat64);
  t.dims = torch::zeros({g.depth, g.max_heads}, torch::kFloat64);
  t.keep = torch::zeros({g.depth}, torch::kFloat64);
  for (int l = 0; l < g.depth; ++l) {
    t.heads[l] = d.counts.heads[l];
    t.mlp[l] = d.counts.mlp[l];
    t.keep[l] = d.skip[l] ? 0.0 : 1.0;
    for (int h = 0; h < g.max_heads; ++h) t.dims[l][h] = d.counts.dims[l][h];
  }
  t.kept = kept_head_mask(scores, d.counts);
  return t;
}

// A ViT (equal blocks) and a Swin (blocks of two sizes, windowed attention).
std::vector<VisionTransformer> uvc_sources(uint64_t seed) {
  return {test::random_uvc_model(seed), test::random_uvc_swin(seed)};
}

// A ViT with LayerScale and no qkv bias (DeiT III's parameter layout): the parameter count's
// fixed parts and bias terms differ from a plain ViT's.
VisionTransformer random_layer_scale_model(uint64_t seed) {
  ViTConfig c = make_uniform_config("uvc_ls", 28, 7, 1, 10, 64, 3, 4, 2.0, false);
  c.layer_scale = true;
  c.qkv_bias = false;
  VisionTransformer model = make_model(c, seed);
  test::randomize_parameters(*model, seed);
  model->eval();
  return model;
}

TEST(UvcResource, EqualsExactCountsOnIntegerConfigurations) {
 std::vector<VisionTransformer> sources = uvc_sources(1);
 sources.push_back(random_layer_scale_model(1));
 for (VisionTransformer model : sources) {
 for (const Resource resource : {Resource::macs, Resource::params}) {
  SCOPED_TRACE(model->config().name + " " + resource_key(resource));
  const ViTConfig& config = model->config();
  const UvcGeometry g = uvc_geometry(config, resource);
  EXPECT_EQ(g.dense_cost(), source_cost(config, resource));
  const GroupScores scores = group_scores(*model, g);
  std::mt19937 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    const UvcDecision d = random_decision(g, rng, trial < 5 ? 0.0 : 0.3);
    const Structure s = decision_structure(config, g, d, scores);
    const Tensors t = to_tensors(g, d, scores);
    const int64_t exact = compact_cost(config, normalize_structure(s), resource);
    EXPECT_EQ(static_cast<int64_t>(
                  resource_cost(g, t.heads, t.mlp, t.dims, t.kept, t.keep).item<double>()),
              exact)
        << "trial " << trial;
    EXPECT_EQ(decision_cost(g, d, scores), exact) << "trial " << trial;
  }
  // Every block skipped: only the patch embedding and the head remain.
  UvcDecision all = random_decision(g, rng, 1.1);
  const Tensors t = to_tensors(g, all, scores);
  EXPECT_EQ(resource_cost(g, t.heads, t.mlp, t.dims, t.kept, t.keep).item<double>(), g.fixed_cost);
  EXPECT_EQ(g.fixed_cost, compact_cost(config, decision_structure(config, g, all, scores), resource));
 }
 }
}

TEST(UvcResource, GradientsAreExactUnitDifferences) {
 for (VisionTransformer model : uvc_sources(2)) {
 for (const Resource resource : {Resource::macs, Resource::params}) {
  SCOPED_TRACE(model->config().name + " " + resource_key(resource));
  const ViTConfig& config = model->config();
  const UvcGeometry g = uvc_geometry(config, resource);
  const GroupScores scores = group_scores(*model, g);
  std::mt19937 rng(11);
  UvcDecision d = random_decision(g, rng, 0.0);
  for (int l = 0; l < g.depth; ++l) {  // room for one more of everything
    const UvcBlock& b = g.blocks[l];
    d.counts.heads[l] = std::min(d.counts.heads[l], b.heads - 2);
    d.counts.mlp[l] = std::min(d.counts.mlp[l], b.mlp_hidden - 2);
    for (int& c : d.counts.dims[l]) c = std::min(c, b.head_dim - 2);
  }
  Tensors t = to_tensors(g, d, scores);
  t.mlp.requires_grad_(true);
  t.dims.requires_grad_(true);
  t.keep.requires_grad_(true);
  resource_cost(g, t.heads, t.mlp, t.dims, t.kept, t.keep).backward();
  const int64_t base = decision_cost(g, d, scores);
  for (int l = 0; l < g.depth; ++l) {
    UvcDecision more = d;
    more.counts.mlp[l] += 1;
    EXPECT_EQ(t.mlp.grad()[l].item<double>(), decision_cost(g, more, scores) - base);
    for (int h = 0; h < g.blocks[l].heads; ++h) {
      UvcDecision dim = d;
      dim.counts.dims[l][h] += 1;
      // A pruned head's dims cost nothing: its gradient is 0, as is the exact difference.
      EXPECT_EQ(t.dims.grad()[l][h].item<double>(), decision_cost(g, dim, scores) - base)
          << "block " << l << " head " << h;
    }
    UvcDecision skip = d;
    skip.skip[l] = true;
    EXPECT_EQ(t.keep.grad()[l].item<double>(), base - decision_cost(g, skip, scores));
  }
 }
 }
}

TEST(UvcResource, DecisionStructureSlicesToItsMaskedModel) {
 for (VisionTransformer model : uvc_sources(3)) {
  SCOPED_TRACE(model->config().name);
  const ViTConfig& config = model->config();
  const UvcGeometry g = uvc_geometry(config);
  const GroupScores scores = group_scores(*model, g);
  std::mt19937 rng(5);
  const UvcDecision d = random_decision(g, rng, 0.3);
  const Structure s = decision_structure(config, g, d, scores);
  for (int l = 0; l < g.depth; ++l) {
    if (d.skip[l]) continue;
    // The kept heads are the highest-scoring ones; each keeps its highest-scoring v dims.
    const std::vector<int> pruned = smallest_indices(scores.heads[l], d.counts.heads[l]);
    for (const HeadKeep& h : s.blocks[l].heads) {
      EXPECT_EQ(std::count(pruned.begin(), pruned.end(), h.source), 0);
      EXPECT_EQ(static_cast<int>(h.qk.size()), g.blocks[l].head_dim);
      EXPECT_EQ(static_cast<int>(h.v.size()), g.blocks[l].head_dim - d.counts.dims[l][h.source]);
    }
    EXPECT_EQ(static_cast<int>(s.blocks[l].mlp.size()), g.blocks[l].mlp_hidden - d.counts.mlp[l]);
  }
  VisionTransformer compact = slice_model(*model, s);
  at::Generator gen = at::detail::createCPUGenerator(0);
  const at::Tensor images = at::normal(0.0, 1.0, {4, 1, 28, 28}, gen);
  torch::NoGradGuard no_grad;
  const ModelMasks masks = structure_masks(config, s);
  EXPECT_LT((compact->forward(images) - model->forward(images, &masks)).abs().max().item<double>(),
            1e-4);
 }
}

TEST(UvcResource, ProxShrinksOnlyTheSelectedGroups) {
  VisionTransformer model = test::random_uvc_model(4, 2);
  const UvcGeometry g = uvc_geometry(model->config());
  const GroupScores before = group_scores(*model, g);
  PruneCounts counts{{1, 0}, {0, 3}, {{0, 2, 0, 0}, {0, 0, 0, 0}}};
  const at::Tensor y = torch::tensor({{10.0, 0.0}, {0.0, 5.0}}, torch::kFloat64);
  const at::Tensor p = torch::full({2, 4}, 20.0, torch::kFloat64);
  const double lr = 0.01;
  prox_shrink(*model, g, before, counts, y, p, lr);
  const GroupScores after = group_scores(*model, g);
  const auto factor2 = [&](double dual) { return std::pow(1.0 / (1.0 + 2 * lr * dual), 2); };
  // Block 0: the smallest head shrinks by y[0,0]; in head-ranking order, the 2 smallest dims of
  // every head shrink by p (dims counts are per source head: head 1 has 2).
  const int pruned_head = smallest_indices(before.heads[0], 1)[0];
  for (int h = 0; h < 4; ++h) {
    const std::vector<int> dims = smallest_indices(before.dims[0][h], counts.dims[0][h]);
    for (int j = 0; j < g.blocks[0].head_dim; ++j) {
      double expected = before.dims[0][h][j].item<double>();
      if (h == pruned_head) expected *= factor2(10.0);
      if (std::count(dims.begin(), dims.end(), j)) expected *= factor2(20.0);
      EXPECT_NEAR(after.dims[0][h][j].item<double>(), expected, 1e-5 * expected + 1e-9);
    }
  }
  EXPECT_TRUE(torch::allclose(after.mlp[0], before.mlp[0], 1e-6));
  // Block 1: three smallest fc2 columns shrink by y[1,1], proj untouched.
  const std::vector<int> neurons = smallest_indices(before.mlp[1], 3);
  for (int n = 0; n < g.blocks[1].mlp_hidden; ++n) {
    const double b = before.mlp[1][n].item<double>();
    const double expected = std::count(neurons.begin(), neurons.end(), n) ? b * factor2(5.0) : b;
    EXPECT_NEAR(after.mlp[1][n].item<double>(), expected, 1e-5 * b + 1e-9);
  }
  EXPECT_TRUE(torch::allclose(after.dims[1], before.dims[1], 1e-6));
}

TEST(UvcResource, GeometryRejectsCompressedTeachers) {
  VisionTransformer model = test::random_uvc_model(5);
  Structure s = dense_structure(model->config());
  s.blocks[1].skip = true;
  s.blocks[1].heads.clear();
  s.blocks[1].mlp.clear();
  VisionTransformer compact = slice_model(*model, s);
  EXPECT_THROW(uvc_geometry(compact->config()), Error);
}

}  // namespace
}  // namespace vitc
