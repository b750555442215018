// Parameter counts against timm's figures, MACs against the published 1.254 GMACs of deit_tiny,
// and the analytic count against the parameters the model actually allocates.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/complexity.h"
#include "model/vit.h"
#include "util/error.h"

namespace vitc {
namespace {

struct Expected {
  const char* name;
  int64_t params;
};

TEST(Complexity, ParamCountsEqualTimm) {
  const Expected expected[] = {
      {"deit_tiny_patch16_224", 5717416},
      {"deit_small_patch16_224", 22050664},
      {"deit_base_patch16_224", 86567656},
      {"deit_tiny_distilled_patch16_224", 5910800},
      {"deit_small_distilled_patch16_224", 22436432},
      {"deit_base_distilled_patch16_224", 87338192},
      {"vit_base_patch16_224", 86567656},
      // DeiT III: counted with timm's deit3_* models (timm source, torch 1.13, 2026-12-06).
      {"deit3_small_patch16_224", 22059496},
      {"deit3_small_patch16_384", 22205416},
      {"deit3_medium_patch16_224", 38849512},
      {"deit3_base_patch16_224", 86585320},
      {"deit3_base_patch16_384", 86877160},
      {"deit3_large_patch16_224", 304374760},
      {"deit3_large_patch16_384", 304763880},
      {"deit3_huge_patch14_224", 632126440},
  };
  for (const auto& e : expected) {
    EXPECT_EQ(compute_complexity(named_config(e.name)).params(), e.params) << e.name;
  }
}

int64_t allocated_params(const ViTConfig& config) {
  VisionTransformer model(config);
  int64_t total = 0;
  for (const auto& p : model->parameters()) total += p.numel();
  return total;
}

TEST(Complexity, AnalyticParamsEqualAllocatedParams) {
  for (const char* name : {"deit_tiny_patch16_224", "deit_small_distilled_patch16_224",
                           "deit3_small_patch16_224", "fm_tiny", "fm_small"}) {
    EXPECT_EQ(compute_complexity(named_config(name)).params(), allocated_params(named_config(name))) << name;
  }
  ViTConfig uneven = named_config("fm_tiny");
  uneven.blocks[0].heads = {{3, 7}, {16, 2}};
  uneven.blocks[1].skip = true;
  uneven.blocks[2].attn_skip = true;
  uneven.blocks[2].heads.clear();
  uneven.blocks[3].mlp_hidden = 0;
  EXPECT_EQ(compute_complexity(uneven).params(), allocated_params(uneven));
}

TEST(Complexity, DeitTinyMacs) {
  const Complexity c = compute_complexity(named_config("deit_tiny_patch16_224"));
  EXPECT_NEAR(c.macs() / 1e9, 1.254, 0.0005);
  // Closed form for one dense block: 12 N D^2 + 2 N^2 D.
  const int64_t N = 197, D = 192;
  EXPECT_EQ(c.blocks[0].macs(), 12 * N * D * D + 2 * N * N * D);
  EXPECT_EQ(c.embed_macs, 196 * 768 * 192);
  EXPECT_EQ(c.head_macs, 192 * 1000);
}

TEST(Complexity, DeitSmallAndBaseMacs) {
  // The figures UVC's paper uses (4.60 / 17.56 G); timm's table (4.61 / 17.58) also counts
  // LayerNorm and GELU elementwise work.
  EXPECT_NEAR(compute_complexity(named_config("deit_small_patch16_224")).macs() / 1e9, 4.60, 0.002);
  EXPECT_NEAR(compute_complexity(named_config("deit_base_patch16_224")).macs() / 1e9, 17.56, 0.005);
}

TEST(Complexity, SkippedPartsCostNothing) {
  ViTConfig c = named_config("fm_tiny");
  const Complexity dense = compute_complexity(c);
  c.blocks[1].skip = true;
  const Complexity skipped = compute_complexity(c);
  EXPECT_EQ(skipped.blocks[1].macs(), 0);
  EXPECT_EQ(skipped.blocks[1].params(), 0);
  EXPECT_EQ(dense.macs() - skipped.macs(), dense.blocks[1].macs());
  c.blocks[2].attn_skip = true;
  c.blocks[2].heads.clear();
  EXPECT_EQ(compute_complexity(c).blocks[2].attn_macs, 0);
  EXPECT_EQ(compute_complexity(c).blocks[2].mlp_macs, dense.blocks[2].mlp_macs);
}

TEST(Config, UnknownNameListsValidNames) {
  try {
    named_config("deit_huge");
    FAIL() << "expected vitc::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("deit_huge"), std::string::npos);
    EXPECT_NE(msg.find("fm_small"), std::string::npos);
  }
}

TEST(Config, ValidateNamesTheBadBlock) {
  ViTConfig c = named_config("fm_tiny");
  c.blocks[2].heads[1].v_dim = 0;
  try {
    c.validate();
    FAIL() << "expected vitc::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blocks[2]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vitc
