// UVC's block gates in the joint search: on a trained fm_tiny teacher where one block computes
// nothing (its attn.proj and mlp.fc2 zeroed, so the block is the identity), at the budget of
// skipping exactly that block, the learned gate skips it and the budget projection skips nothing;
// at the full budget no gate skips.
#include <iostream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/uvc/repair.h"
#include "compress/uvc/search.h"
#include "model/clone_model.h"
#include "compress/tiny_teacher_test_util.h"
#include "uvc_test_util.h"

namespace vitc {
namespace {

struct Fixture {
  std::shared_ptr<const Dataset> train, test;
  test::TinyTeacher teacher;
};

Fixture& fixture() {
  static Fixture f = [] {
    Fixture x;
    x.train = test::fm_subset("train", 9600);
    x.test = test::fm_subset("test", 500);
    x.teacher = test::train_tiny_teacher(x.train, x.test, test::uvc_temp_dir("gate_teacher"));
    return x;
  }();
  return f;
}

UvcSearchOptions short_search(int64_t target, const std::string& name) {
  UvcSearchOptions o;
  o.target = target;
  o.epochs = 2;
  o.max_steps_per_epoch = 150;
  o.warmup_epochs = 0.2;
  o.lr_warmup_epochs = 0.1;
  o.batch_size = 64;
  o.out_dir = test::uvc_temp_dir(name);
  o.quiet = true;
  return o;
}

std::vector<bool> learned_skips(const UvcSearchResult& r, const UvcGeometry& g) {
  return current_decision(r.state, g).skip;
}

TEST(UvcSearch, LearnsToSkipARedundantBlock) {
  Fixture& f = fixture();
  VisionTransformer teacher = clone_model(*f.teacher.model);
  const int redundant = 2;
  {
    torch::NoGradGuard no_grad;
    Block b = teacher->block(redundant);
    for (torch::nn::Linear layer : {b->attn->proj, b->mlp->fc2}) {
      layer->weight.zero_();
      layer->bias.zero_();
    }
  }
  teacher->eval();
  const UvcGeometry g = uvc_geometry(teacher->config());
  // Skipping the redundant block is the budget exactly; pruning it to one head, one v dim and
  // one neuron leaves its q/k and norms, so pruning alone would have to cut other blocks too.
  const int64_t target = g.dense_cost() - g.dense_block_cost(redundant);
  UvcSearchResult r =
      run_uvc_search(teacher, {{"dir", "redundant"}}, f.train, nullptr, short_search(target, "skip"));
  const std::vector<bool> skip = learned_skips(r, g);
  for (int l = 0; l < g.depth; ++l) EXPECT_EQ(skip[l], l == redundant) << "block " << l;
  const Repair repair = meet_budget(teacher->config(), g, r.state, group_scores(*r.model, g), target);
  EXPECT_TRUE(repair.skipped_by_repair.empty());
  EXPECT_TRUE(repair.restored_by_repair.empty());
  EXPECT_TRUE(repair.decision.skip[redundant]);
  EXPECT_LE(std::abs(repair.relative_error()), 0.01);
  std::cout << "gate logits (skip, run) after the search:\n" << r.state.gates << "\n" << r.history.dump(1) << "\n" << r.state.s << r.state.z << "\n";
}

TEST(UvcSearch, KeepsEveryBlockAtFullBudget) {
  Fixture& f = fixture();
  const UvcGeometry g = uvc_geometry(f.teacher.model->config());
  UvcSearchResult r = run_uvc_search(f.teacher.model, {{"dir", f.teacher.dir}}, f.train,
                                           nullptr, short_search(g.dense_cost(), "full"));
  const std::vector<bool> skip = learned_skips(r, g);
  for (int l = 0; l < g.depth; ++l) EXPECT_FALSE(skip[l]) << "block " << l;
}

}  // namespace
}  // namespace vitc
