// The settings' JSON that run.json and every resume check store is unchanged by the move to one
// setting list per struct (util/settings.h): each expected object below is what the hand-written
// to_json / trajectory_json functions of the previous version produced, field for field, so run
// directories made before still resume. Every field gets a distinct value, so a swapped key shows.
#include <gtest/gtest.h>

#include "compress/common/feature_mimic.h"
#include "compress/common/finetune.h"
#include "compress/common/model_inversion.h"
#include "compress/practise/adaptors.h"
#include "compress/slim/search.h"
#include "compress/uvc/search.h"
#include "train/trainer.h"

namespace vitc {
namespace {

TEST(SettingsJson, TrainOptionsKeysAreThoseOfEarlierRuns) {
  TrainOptions o;
  o.epochs = 7, o.batch_size = 33, o.lr = 0.007, o.min_lr = 0.0007, o.warmup_epochs = 0.5;
  o.weight_decay = 0.03, o.label_smoothing = 0.2, o.clip_grad = 2.5, o.seed = 11;
  o.augment = {3, true}, o.max_steps_per_epoch = 9;
  const nlohmann::json expected = {{"epochs", 7},         {"batch_size", 33},
                                   {"lr", 0.007},         {"min_lr", 0.0007},
                                   {"warmup_epochs", 0.5}, {"weight_decay", 0.03},
                                   {"label_smoothing", 0.2}, {"clip_grad", 2.5},
                                   {"seed", 11},          {"augment_pad", 3},
                                   {"augment_hflip", true}, {"max_steps_per_epoch", 9}};
  EXPECT_EQ(o.trajectory_json(), expected) << o.trajectory_json().dump();
}

TEST(SettingsJson, DistillAndFinetuneKeysAreThoseOfEarlierRuns) {
  DistillOptions d{0.3, 2.0, 0.05};
  EXPECT_EQ(d.to_json(),
            (nlohmann::json{{"kd_alpha", 0.3}, {"kd_temperature", 2.0}, {"label_smoothing", 0.05}}));
}

TEST(SettingsJson, SlimSearchKeysAreThoseOfEarlierRuns) {
  SearchOptions o;
  o.epochs = 4, o.batch_size = 17, o.lr = 0.002, o.weight_decay = 0.004, o.clip_grad = 0.5;
  o.lambdas = {1e-3, 2e-3, 3e-3}, o.tokens = true, o.freeze_weights = true;
  o.loss = {0.4, 3.0, 0.15}, o.seed = 5, o.augment = {1, true}, o.max_steps_per_epoch = 6;
  const nlohmann::json expected = {
      {"epochs", 4},           {"batch_size", 17},        {"lr", 0.002},
      {"weight_decay", 0.004}, {"clip_grad", 0.5},        {"lambda_attn", 1e-3},
      {"lambda_mlp", 2e-3},    {"lambda_tokens", 3e-3},   {"tokens", true},
      {"freeze_weights", true}, {"kd_alpha", 0.4},        {"kd_temperature", 3.0},
      {"label_smoothing", 0.15}, {"seed", 5},             {"augment_pad", 1},
      {"augment_hflip", true}, {"max_steps_per_epoch", 6}};
  EXPECT_EQ(o.trajectory_json(), expected) << o.trajectory_json().dump();
}

TEST(SettingsJson, UvcSearchKeysAreThoseOfEarlierRuns) {
  UvcSearchOptions o;
  o.target = 12345, o.epochs = 3, o.warmup_epochs = 0.4, o.warmup_gate = 0.6;
  o.batch_size = 19, o.lr = 2e-4, o.min_lr = 2e-6, o.lr_warmup_epochs = 0.3;
  o.weight_decay = 0.06, o.clip_grad = 1.5, o.loss = {0.2, 1.5, 0.12};
  PrimalDualOptions& p = o.primal_dual;
  p.slr = 0.03, p.rlr = 0.04, p.ylr = 2e-4, p.plr = 3e-4, p.rho = 9, p.glr = 0.2;
  p.gate_momentum = 0.8, p.gate_weight_decay = 2e-4, p.gating_weight = 6e-4, p.tau = 0.7;
  p.gating_interval = 40;
  o.zlr_schedule = {1, 5}, o.seed = 8, o.augment = {2, false}, o.max_steps_per_epoch = 3;
  const nlohmann::json primal_dual = {
      {"slr", 0.03}, {"rlr", 0.04}, {"ylr", 2e-4}, {"plr", 3e-4}, {"rho", 9.0}, {"glr", 0.2},
      {"gate_momentum", 0.8}, {"gate_weight_decay", 2e-4}, {"gating_weight", 6e-4},
      {"tau", 0.7}, {"gating_interval", 40}};
  const nlohmann::json expected = {
      {"target_macs", 12345}, {"epochs", 3}, {"warmup_epochs", 0.4}, {"warmup_gate", 0.6},
      {"batch_size", 19}, {"lr", 2e-4}, {"min_lr", 2e-6}, {"lr_warmup_epochs", 0.3},
      {"weight_decay", 0.06}, {"clip_grad", 1.5},
      {"loss", {{"kd_alpha", 0.2}, {"kd_temperature", 1.5}, {"label_smoothing", 0.12}}},
      {"primal_dual", primal_dual}, {"zlr_schedule", {1.0, 5.0}}, {"seed", 8},
      {"augment_pad", 2}, {"augment_hflip", false}, {"max_steps_per_epoch", 3}};
  EXPECT_EQ(o.trajectory_json(), expected) << o.trajectory_json().dump();
  EXPECT_EQ(p.to_json(), primal_dual);
}

TEST(SettingsJson, FewShotKeysAreThoseOfEarlierRuns) {
  MimicOptions m;
  m.epochs = 5, m.batch_size = 21, m.lr = 4e-4, m.min_lr = 1e-6, m.warmup_epochs = 0.2;
  m.weight_decay = 3e-4, m.seed = 4, m.augment = {1, false};
  EXPECT_EQ(m.to_json(), (nlohmann::json{{"epochs", 5}, {"batch_size", 21}, {"lr", 4e-4},
                                         {"min_lr", 1e-6}, {"warmup_epochs", 0.2},
                                         {"weight_decay", 3e-4}, {"seed", 4},
                                         {"augment_pad", 1}, {"augment_hflip", false},
                                         {"loss", "mse(final-norm features, all tokens)"}}));
  RecoverOptions r;
  r.epochs = 6, r.batch_size = 23, r.lr = 0.03, r.momentum = 0.8, r.weight_decay = 2e-4;
  r.decay_at = 0.5, r.seed = 2, r.augment = {3, false};
  EXPECT_EQ(r.to_json(),
            (nlohmann::json{{"epochs", 6}, {"batch_size", 23}, {"lr", 0.03}, {"momentum", 0.8},
                            {"weight_decay", 2e-4}, {"decay_at", 0.5}, {"seed", 2},
                            {"augment_pad", 3}, {"augment_hflip", false}, {"optimizer", "sgd"},
                            {"loss", "mse(final-norm features, all tokens)"}}));
  InversionOptions i;
  i.count = 7, i.iterations = 9, i.lr = 0.3, i.warmup_fraction = 0.1, i.tv_weight = 2e-4;
  i.tv_beta = 0.7, i.l2_weight = 3e-5, i.jitter = 4, i.flip = false, i.seed = 99;
  EXPECT_EQ(i.to_json(),
            (nlohmann::json{{"count", 7}, {"iterations", 9}, {"lr", 0.3},
                            {"warmup_fraction", 0.1}, {"tv_weight", 2e-4}, {"tv_beta", 0.7},
                            {"l2_weight", 3e-5}, {"jitter", 4}, {"flip", false}, {"seed", 99}}));
}

TEST(SettingsJson, FinetuneValidationNamesTheFinetuneFlags) {
  FinetuneOptions f;
  f.train.out_dir = "x";
  f.train.lr = -1;
  try {
    f.validate();
    ADD_FAILURE() << "a negative lr was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--finetune-lr must be positive"), std::string::npos)
        << e.what();
  }
  f.train.lr = 1e-3;
  f.train.min_lr = 1e-2;
  try {
    f.validate();
    ADD_FAILURE() << "min-lr above lr was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--finetune-min-lr must be at most --finetune-lr"),
              std::string::npos)
        << e.what();
  }
  f.train.min_lr = 0;
  f.train.epochs = 0;  // finetuning may be skipped
  EXPECT_NO_THROW(f.validate());
}

}  // namespace
}  // namespace vitc
