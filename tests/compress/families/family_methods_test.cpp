// Every method, through its command, on the other transformer families: a briefly trained
// fm_tiny-sized DeiT III (LayerScale, no class position embedding), T2T-ViT (Performer
// tokens-to-token stem) and Swin (two stages of window attention), then ViT-Slim, UVC, DC-ViT,
// PRACTISE and the random and magnitude baselines, each with a tiny budget of steps. Each output
// is a compact model directory of the same family that loads (DeiT III keeping LayerScale where
// its branches remain, T2T-ViT its stem and fixed tensors, Swin its stages, DC-ViT and PRACTISE
// compressing or dropping Swin blocks in pairs) and meets its MACs budget.
#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "apps/run_vitc.h"
#include "compress/tiny_teacher_test_util.h"
#include "model/slice_test_util.h"
#include "model/complexity.h"
#include "model/model_dir.h"
#include "util/files.h"

namespace vitc {
namespace {

using test_support::run_vitc;

ViTConfig tiny_deit3() {
  ViTConfig c = named_config("fm_tiny");
  c.name = "fm_tiny_deit3";
  c.layer_scale = true;
  c.no_embed_class = true;
  return c;
}

// fm_tiny's blocks behind fm_t2t's stem (28x28 -> 14x14 -> 14x14 -> 7x7 tokens).
ViTConfig tiny_t2t() {
  ViTConfig c = named_config("fm_tiny");
  const ViTConfig t2t = named_config("fm_t2t");
  c.name = "fm_tiny_t2t";
  c.stem = t2t.stem;
  c.t2t = t2t.t2t;
  c.t2t.token_dim = 16;
  c.patch_size = t2t.patch_size;
  c.qkv_bias = false;
  c.norm_eps = t2t.norm_eps;
  return c;
}

// fm_swin at half width (16, then 32 after the merge; heads of 8; MLP ratio 2): six blocks in
// 2x2 shifted windows of a 14x14 grid (pairs 0+1, 2+3, 4+5), two on the merged 7x7 grid.
ViTConfig tiny_swin() {
  ViTConfig c = named_config("fm_swin");
  c.name = "fm_tiny_swin";
  test::set_swin_stages(c, 16, c.swin.depths, 2.0);
  c.validate();
  return c;
}

struct MethodRun {
  std::string name;
  std::string args;    // after "--teacher T --out O"
  double macs_target;  // fraction of the teacher's, or 0 where the method drops a block count
};

// `dcvit_macs`: a target DC-ViT's (blocks, width) steps reach within 1% on this teacher (they are
// coarse on a 4-block model, and T2T-ViT's stem is a larger share of its MACs).
void every_method_compresses(const ViTConfig& family_config, const std::string& dcvit_macs) {
  const auto train = test::fm_subset("train", 9600);
  const auto test_set = test::fm_subset("test", 500);
  const std::string root = test::process_temp_dir(family_config.name, "methods");
  const test::TinyTeacher teacher =
      test::train_tiny_teacher(train, test_set, root + "/teacher", family_config);
  ASSERT_GT(teacher.top1, 40.0) << "chance is 10%";
  const int64_t teacher_macs = compute_complexity(teacher.model->config()).macs();

  const std::string data = " --train-subset 640 --eval-subset 200 --latency-repeats 0 --quiet";
  const std::string finetune = " --finetune-epochs 1 --finetune-batch-size 64";
  const std::vector<MethodRun> runs = {
      {"slim", "slim run --macs 0.6 --search-epochs 1 --search-batch-size 64" + finetune + data,
       0.6},
      {"uvc", "uvc run --macs 0.6 --search-epochs 1 --search-warmup-epochs 0.2 "
              "--search-batch-size 64" + finetune + data, 0.6},
      {"random", "prune --criterion random --macs 0.6" + finetune + data, 0.6},
      {"magnitude", "prune --criterion magnitude --macs 0.6" + finetune + data, 0.6},
      {"dcvit", "dcvit run --per-class 8 --eval-subset 200 --macs " + dcvit_macs +
                " --epochs 1 --pad 0 --synth-count 4 --synth-iterations 20 --latency-repeats 0 "
                "--quiet", std::stod(dcvit_macs)},
      {"practise", "practise run --per-class 8 --eval-subset 200 --drop 1 --epochs 1 "
                   "--recover-epochs 1 --pad 0 --latency-proxy-macs --latency-repeats 0 --quiet",
       0.0},
  };
  for (const MethodRun& m : runs) {
    SCOPED_TRACE(m.name);
    const std::string out = root + "/" + m.name;
    const auto ran = run_vitc(m.args.substr(0, m.args.find(" --")) + " --teacher " + teacher.dir +
                              " --out " + out + m.args.substr(m.args.find(" --")));
    ASSERT_EQ(ran.exit_code, 0) << ran.output;

    LoadedModel loaded = load_model_dir(out);
    const ViTConfig& c = loaded.model->config();
    EXPECT_EQ(c.layer_scale, family_config.layer_scale);
    EXPECT_EQ(c.no_embed_class, family_config.no_embed_class);
    EXPECT_EQ(c.stem, family_config.stem);
    EXPECT_EQ(c.t2t, family_config.t2t);
    EXPECT_EQ(c.swin, family_config.swin);
    if (c.has_pos_embed()) {
      EXPECT_EQ(loaded.model->pos_embed.size(1), c.pos_embed_rows());
    }
    for (int i = 0; i < c.depth(); ++i) {  // a gamma wherever its branch remains
      EXPECT_EQ(static_cast<bool>(loaded.model->block(i)->ls1),
                c.layer_scale && c.blocks[i].has_attention()) << i;
      EXPECT_EQ(static_cast<bool>(loaded.model->block(i)->ls2),
                c.layer_scale && c.blocks[i].has_mlp()) << i;
    }
    if (c.is_t2t()) {  // the stem and its fixed tensors come through unchanged
      EXPECT_TRUE(loaded.model->tokens_to_token->attentions[0]->as<TokenPerformerImpl>()->w.equal(
          teacher.model->tokens_to_token->attentions[0]->as<TokenPerformerImpl>()->w));
      EXPECT_TRUE(loaded.model->pos_embed.equal(teacher.model->pos_embed));
    }
    if (c.is_swin() && (m.name == "dcvit" || m.name == "practise")) {
      // Blocks go in (unshifted, shifted) pairs: a compressed or dropped block's partner too.
      for (int i = 0; i + 1 < c.depth(); i += 2) {
        EXPECT_EQ(c.blocks[i].has_attention(), c.blocks[i + 1].has_attention()) << i;
        EXPECT_EQ(c.blocks[i].skip, c.blocks[i + 1].skip) << i;
      }
    }
    const int64_t macs = compute_complexity(c).macs();
    EXPECT_LT(macs, teacher_macs);
    if (m.macs_target > 0) {
      EXPECT_LE(macs, static_cast<int64_t>(m.macs_target * teacher_macs * 1.01));
    }
    const nlohmann::json run = read_json(out + "/run.json");
    const double top1 = run["result"]["top1"].get<double>();
    EXPECT_GT(top1, 20.0) << "chance is 10%";
    std::printf("%-9s MACs %.3f of the teacher's, top-1 %.1f%% (teacher %.1f%%)\n",
                m.name.c_str(), static_cast<double>(macs) / teacher_macs, top1, teacher.top1);
  }
  std::filesystem::remove_all(root);
}

TEST(FamilyMethods, EveryMethodCompressesADeit3Teacher) {
  every_method_compresses(tiny_deit3(), "0.8");
}

TEST(FamilyMethods, EveryMethodCompressesAT2tTeacher) {
  every_method_compresses(tiny_t2t(), "0.78");
}

TEST(FamilyMethods, EveryMethodCompressesASwinTeacher) {
  every_method_compresses(tiny_swin(), "0.8");
}

}  // namespace
}  // namespace vitc
