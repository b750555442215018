// Feature-mimicking finetuning of a compressed model: only the intended parameters change (the
// embeddings, the blocks up to the one after the compressed block, the final norm; never the
// later blocks, the head or the removed attention), and the labels are never read.
#include <gtest/gtest.h>

#include "model/clone_model.h"
#include "compress/common/feature_mimic.h"
#include "compress/common/few_shot.h"
#include "compress/dcvit/neurons.h"
#include "compress/dcvit/plan.h"
#include "dcvit_test_util.h"
#include "model/state_dict.h"
#include "util/error.h"

namespace vitc {
namespace {

TensorMap snapshot(VisionTransformerImpl& m) {
  TensorMap out;
  for (const auto& [k, v] : state_dict(m)) out[k] = v.clone();
  return out;
}

struct Finetuned {
  TensorMap before, after;
};

Finetuned finetune(uint64_t label_seed, const std::string& name) {
  VisionTransformer teacher = test::random_small_model(6, 1);
  VisionTransformer student = clone_model(*teacher);
  const ViTConfig& c = teacher->config();
  const Structure s = dcvit_structure(c, {{1, random_neurons(64, 40, 0, 1)}});
  EXPECT_EQ(front_last_block(s), 2);
  set_mimic_trainable(*student, front_last_block(s), s);
  MimicOptions o;
  o.epochs = 2;
  o.batch_size = 16;
  o.lr = 1e-3;
  StageOptions stage;
  stage.dir = test::temp_dir(name);
  stage.quiet = true;
  Finetuned f;
  f.before = snapshot(*student);
  run_mimic_stage(student, lean_structure_masks(c, s, torch::kCPU), teacher,
                  test::random_image_set(c, 48, 5, label_seed), o, stage);
  f.after = snapshot(*student);
  return f;
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

TEST(FeatureMimic, OnlyTheFrontOfTheNetworkChanges) {
  const Finetuned f = finetune(0, "front");
  for (const auto& [name, before] : f.before) {
    const bool changed = !torch::equal(before, f.after.at(name));
    const bool frozen = starts_with(name, "blocks.3.") || starts_with(name, "blocks.4.") ||
                        starts_with(name, "blocks.5.") || starts_with(name, "head") ||
                        starts_with(name, "blocks.1.norm1") || starts_with(name, "blocks.1.attn");
    if (frozen) {
      EXPECT_FALSE(changed) << name << " must stay frozen";
    } else {
      EXPECT_TRUE(changed) << name << " should have been trained";
    }
  }
}

TEST(FeatureMimic, LabelsAreNeverRead) {
  const Finetuned a = finetune(0, "labels_a");   // all labels 0
  const Finetuned b = finetune(17, "labels_b");  // random labels
  for (const auto& [name, t] : a.after) EXPECT_TRUE(torch::equal(t, b.after.at(name))) << name;
  // And the few-shot view hides them from the method altogether.
  const auto data = test::random_image_set(named_config("fm_tiny"), 30, 3, 9);
  FewShotOptions o;
  o.total = 12;
  const FewShotSet set = sample_few_shot(data, o);
  EXPECT_EQ(set.indices.size(), 12u);
  EXPECT_EQ(set.images->labels().abs().sum().item<int64_t>(), 0);
  EXPECT_EQ(set.images->get_batch({0, 1, 2}).labels.abs().sum().item<int64_t>(), 0);
  EXPECT_TRUE(torch::equal(set.images->get_batch({4}).images,
                           data->get_batch({set.indices[4]}).images));
  FewShotOptions both;
  both.total = 5;
  both.per_class = 1;
  EXPECT_THROW(sample_few_shot(data, both), Error);
}

TEST(FeatureMimic, AFinishedStageIsReusedAndAChangedOneRefused) {
  VisionTransformer teacher = test::random_small_model(4, 2);
  const ViTConfig& c = teacher->config();
  const Structure s = dcvit_structure(c, {{2, random_neurons(64, 10, 0, 2)}});
  const auto data = test::random_image_set(c, 32, 4);
  MimicOptions o;
  o.epochs = 1;
  o.batch_size = 16;
  StageOptions stage;
  stage.dir = test::temp_dir("stage");
  stage.quiet = true;
  stage.key = {{"structure", structure_to_json(s)}};
  VisionTransformer first = clone_model(*teacher);
  set_mimic_trainable(*first, front_last_block(s), s);
  run_mimic_stage(first, lean_structure_masks(c, s, torch::kCPU), teacher, data, o, stage);
  stage.resume = true;
  VisionTransformer again = clone_model(*teacher);
  run_mimic_stage(again, lean_structure_masks(c, s, torch::kCPU), teacher, data, o, stage);
  for (const auto& [name, t] : state_dict(*first)) EXPECT_TRUE(torch::equal(t, state_dict(*again).at(name))) << name;
  o.lr = 5e-4;
  EXPECT_THROW(run_mimic_stage(again, lean_structure_masks(c, s, torch::kCPU), teacher, data, o, stage), Error);
}

}  // namespace
}  // namespace vitc
