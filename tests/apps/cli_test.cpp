// The vitc command: bad input gives a non-zero exit and a message that says what was wrong.
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include "test_support.h"
#include "run_vitc.h"
#include "util/error.h"
#include "util/files.h"

namespace {

using vitc::test_support::Outcome;
using vitc::test_support::run_vitc;

void expect_failure(const std::string& args, const std::string& needle) {
  const Outcome o = run_vitc(args);
  EXPECT_NE(o.exit_code, 0) << args << "\n" << o.output;
  EXPECT_NE(o.output.find(needle), std::string::npos) << args << "\n" << o.output;
}

using vitc::test_support::absent_dir;

// The subcommand names listed under "Subcommands:" in CLI11's help text.
std::vector<std::string> listed_subcommands(const std::string& help) {
  std::vector<std::string> names;
  const size_t start = help.find("Subcommands:");
  if (start == std::string::npos) return names;
  std::istringstream lines(help.substr(start));
  std::string line;
  std::getline(lines, line);  // the heading
  while (std::getline(lines, line) && line.rfind("  ", 0) == 0) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}

// Every command of the tree, by walking `--help` down from `vitc --help`.
std::vector<std::string> command_tree() {
  std::vector<std::string> pending = {""}, seen;
  while (!pending.empty()) {
    const std::string command = pending.back();
    pending.pop_back();
    seen.push_back(command);
    for (const std::string& sub : listed_subcommands(run_vitc(command + " --help").output))
      pending.push_back(command.empty() ? sub : command + " " + sub);
  }
  return seen;
}

// Walks the whole command tree from `vitc --help` down: every command and subcommand has a help
// text that exits 0, so no command can be added without one.
TEST(Cli, HelpForEveryCommandInTheTree) {
  const std::vector<std::string> seen = command_tree();
  for (const std::string& command : seen) {
    const Outcome o = run_vitc(command + (command.empty() ? "" : " ") + "--help");
    EXPECT_EQ(o.exit_code, 0) << "'" << command << " --help':\n" << o.output;
    EXPECT_NE(o.output.find("Usage"), std::string::npos) << command << "\n" << o.output;
  }
  for (const char* expected : {"train", "eval", "info", "bench", "slim search", "slim extract",
                               "slim run", "prune", "experiment", "predict", "import", "uvc run",
                               "dcvit synth", "dcvit run", "dcvit sweep", "practise run"}) {
    EXPECT_NE(std::find(seen.begin(), seen.end(), expected), seen.end())
        << "'" << expected << "' is not in the help tree; seen: " << vitc::join(seen);
  }
}

// One convention for yes/no settings: every `--[prefix-]no-X` flag comes with its `--[prefix-]X`
// (train's --hflip, DC-ViT's --no-hflip, PRACTISE's --recover-no-hflip were three conventions).
TEST(Cli, EveryNegativeFlagHasItsPositive) {
  int negatives = 0;
  for (const std::string& command : command_tree()) {
    const std::string help = run_vitc(command + " --help").output;
    size_t at = 0;
    while ((at = help.find("no-", at)) != std::string::npos) {
      const size_t start = help.rfind("--", at);
      const size_t end = help.find_first_of(" ,{\n", at);
      at += 3;
      if (start == std::string::npos || help.find_first_of(" \n", start) < at) continue;
      const std::string negative = help.substr(start, end - start);  // --search-no-hflip
      std::string positive = negative;
      positive.erase(positive.find("no-"), 3);  // --search-hflip
      EXPECT_NE(help.find(positive + ","), std::string::npos)
          << "'" << command << "' has " << negative << " without " << positive << "\n" << help;
      ++negatives;
    }
  }
  EXPECT_GE(negatives, 10);  // --hflip's pair alone is in train, slim, uvc, dcvit and practise
}

TEST(Cli, SettingFlagsAreCheckedWhenParsedAndNamedAsTyped) {
  const std::string out = absent_dir("settings");
  // A value outside a setting's range fails at parsing, before any file is read.
  expect_failure("uvc run --teacher /nonexistent --macs 0.5 --out " + out + " --finetune-kd-alpha 2",
                 "--finetune-kd-alpha: must be in [0, 1], got 2");
  expect_failure("slim run --teacher /nonexistent --macs 0.5 --out " + out + " --search-lr 0",
                 "--search-lr: must be positive, got 0");
  expect_failure("practise run --teacher /nonexistent --out " + out + " --recover-momentum 1",
                 "--recover-momentum: must be in [0, 1), got 1");
  // Checks across settings name the stage's flags, also before the teacher is loaded.
  expect_failure("uvc run --teacher /nonexistent --macs 0.5 --out " + out + " --search-min-lr 1",
                 "--search-min-lr must be at most --search-lr");
  expect_failure("uvc run --teacher /nonexistent --macs 0.5 --out " + out +
                     " --finetune-lr 1e-4 --finetune-min-lr 1e-3",
                 "--finetune-min-lr must be at most --finetune-lr");
  // A renamed flag names its new name.
  expect_failure("dcvit synth --teacher /nonexistent --out " + out + " --synth-no-flip",
                 "--synth-no-flip: is now --synth-no-hflip");
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(Cli, UvcBudgetFlagIsNowMacs) {
  // One budget flag for every method; the old UVC name fails and names the new one.
  expect_failure("uvc run --teacher fm_tiny --budget 0.5 --out /tmp/vitc_cli_budget",
                 "--budget: is now --macs");
}

TEST(Cli, NoOrUnknownSubcommandFails) {
  expect_failure("", "subcommand");
  expect_failure("frobnicate", "frobnicate");
  // A nested one names the wrong word and lists the valid ones.
  expect_failure("slim bogus", "unknown subcommand 'bogus' of 'vitc slim'; valid subcommands are: search");
}

TEST(Cli, UnknownModelListsValidNames) {
  expect_failure("info --model deit_giant", "fm_small");
  expect_failure("train --model deit_giant --out " + absent_dir("unknown") + " --threads 1", "deit_giant");
}

TEST(Cli, BadFlagValuesFail) {
  expect_failure("train --epochs 0 --out " + absent_dir("epochs"), "--epochs");
  expect_failure("train --epochs many --out " + absent_dir("epochs2"), "--epochs");
  expect_failure("train --lr -1 --out " + absent_dir("lr"), "--lr");
  expect_failure("train --model fm_tiny", "--out");
  expect_failure("eval --model fm_tiny --split validation", "--split");
  expect_failure("train --model fm_tiny --out " + absent_dir("data") + " --data imagenet", "fashion-mnist");
  const std::string t = " --teacher /nonexistent/teacher --out " + absent_dir("prune");
  expect_failure("prune --criterion taylor --macs 0.5" + t, "random, magnitude");
  expect_failure("prune --macs half" + t, "--macs: cannot read 'half'");
  expect_failure("prune --macs 0.5 --finetune-epochs -1" + t, "--finetune-epochs");
  expect_failure("prune --macs 0.5" + t, "/nonexistent/teacher");
  // A budget is in MACs or in parameters, and one is needed.
  expect_failure("prune --macs 0.5 --params 0.5" + t, "--params");
  expect_failure("prune" + t, "give a budget: --macs");
  expect_failure("prune --params 70" + t, "'70%'");
  expect_failure("uvc run --macs 0.5 --params 0.5" + t, "--params");
  expect_failure("uvc run --macs-tolerance 0.02 --macs 0.5" + t, "--budget-tolerance");
  expect_failure("dcvit run --params 2x --few-shot 8" + t, "--params: cannot read '2x'");
}

TEST(Cli, MissingFilesAreNamed) {
  expect_failure("eval --model /nonexistent/model_dir", "/nonexistent/model_dir");
  const std::string dir = absent_dir("nodata");
  std::filesystem::create_directories(dir);
  expect_failure("eval --model fm_tiny --data-dir " + dir, "dataset-fashion-mnist");
}

TEST(Cli, CorruptModelDirIsAClearError) {
  const std::string dir = absent_dir("corrupt");
  std::filesystem::create_directories(dir);
  vitc::atomic_write_string(dir + "/model.json", "{\"config\": ");
  vitc::atomic_write_string(dir + "/model.safetensors", "garbage");
  expect_failure("info --model " + dir, "model.json");
}

TEST(Cli, InfoPrintsParamsAndMacs) {
  const Outcome o = run_vitc("info --model deit_tiny_patch16_224");
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_NE(o.output.find("5717416"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("1.2537 G"), std::string::npos) << o.output;
}

TEST(Cli, TrainWritesModelAndRunJsonThenEvalReadsIt) {
  const std::string out = absent_dir("train");
  const Outcome t = run_vitc("train --model fm_tiny --epochs 1 --max-steps-per-epoch 5 --batch-size 32 "
                             "--eval-subset 200 --quiet --out " + out);
  ASSERT_EQ(t.exit_code, 0) << t.output;
  for (const char* f : {"model.safetensors", "model.json", "run.json", "checkpoint/trainer.json"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  }
  const auto run = vitc::read_json(out + "/run.json");
  EXPECT_EQ(run["command"], "train");
  EXPECT_TRUE(run["result"]["final_eval"].contains("top1"));
  const Outcome e = run_vitc("eval --model " + out + " --eval-subset 200");
  EXPECT_EQ(e.exit_code, 0) << e.output;
  EXPECT_NE(e.output.find("top1"), std::string::npos) << e.output;
  // --round-to: the pruned model's MLP widths are multiples of 8.
  const std::string pruned = absent_dir("prune_round_to");
  const Outcome p = run_vitc("prune --macs 0.6 --round-to 8 --finetune-epochs 0 --eval-subset 200 "
                             "--latency-repeats 0 --quiet --teacher " + out + " --out " + pruned);
  ASSERT_EQ(p.exit_code, 0) << p.output;
  const auto blocks = vitc::read_json(pruned + "/model.json")["config"]["blocks"];
  ASSERT_FALSE(blocks.empty());
  for (const auto& b : blocks) EXPECT_EQ(b["mlp_hidden"].get<int>() % 8, 0) << b.dump();
  EXPECT_EQ(vitc::read_json(pruned + "/run.json")["pruning"]["round_to"], 8);
  // --params: the pruned model's parameters within 1% of half the teacher's.
  const std::string half_params = absent_dir("prune_params");
  const Outcome pp = run_vitc("prune --params 0.5 --finetune-epochs 0 --eval-subset 200 "
                              "--latency-repeats 0 --quiet --teacher " + out + " --out " + half_params);
  ASSERT_EQ(pp.exit_code, 0) << pp.output;
  const auto pruning = vitc::read_json(half_params + "/run.json");
  EXPECT_NEAR(pruning["result"]["params_fraction"].get<double>(), 0.5, 0.005) << pruning["result"].dump();
  EXPECT_EQ(pruning["pruning"]["params"], pruning["result"]["params"]);
  EXPECT_EQ(pruning["budget"], "0.5 of the teacher's parameters");
}

// A ResNet goes through the same commands: train, eval, info, PRACTISE (and the random block-drop and
// L1 filter baselines), DC-ViT; a command for Vision Transformers refuses it by its family.
TEST(Cli, ResNetTrainsIsDescribedAndIsCompressedByTheCnnMethods) {
  const std::string teacher = absent_dir("resnet_teacher");
  const Outcome t = run_vitc("train --model fm_resnet --epochs 1 --max-steps-per-epoch 5 --batch-size 32 "
                             "--eval-subset 200 --quiet --out " + teacher);
  ASSERT_EQ(t.exit_code, 0) << t.output;
  EXPECT_EQ(vitc::read_json(teacher + "/model.json")["family"], "resnet");
  // A checkpoint of it imports as a ResNet model directory (vitc's own file is timm's layout).
  const std::string imported = absent_dir("resnet_imported");
  const Outcome im = run_vitc("import --model " + teacher + "/model.safetensors --out " + imported);
  ASSERT_EQ(im.exit_code, 0) << im.output;
  EXPECT_NE(im.output.find("as fm_resnet: ResNet"), std::string::npos) << im.output;
  EXPECT_EQ(vitc::read_json(imported + "/model.json")["family"], "resnet");
  const Outcome e = run_vitc("eval --model " + teacher + " --eval-subset 200");
  EXPECT_EQ(e.exit_code, 0) << e.output;
  EXPECT_NE(e.output.find("top1"), std::string::npos) << e.output;
  const std::string out = absent_dir("resnet_practise");
  const std::string common = " --teacher " + teacher + " --few-shot 32 --recover-epochs 1 --epochs 1 "
                             "--latency-proxy-macs --latency-repeats 1 --eval-subset 200 --quiet";
  const Outcome p = run_vitc("practise run --macs 0.8" + common + " --out " + out);
  ASSERT_EQ(p.exit_code, 0) << p.output;
  EXPECT_NE(p.output.find("dropped layer"), std::string::npos) << p.output;
  const auto run = vitc::read_json(out + "/run.json");
  EXPECT_EQ(run["method"], "practise");
  EXPECT_EQ(run["ranking"]["scores"].size(), 6u);
  EXPECT_LT(run["result"]["macs_fraction"].get<double>(), 0.81);
  const Outcome info = run_vitc("info --model " + out);
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("ResNet, basic blocks, 7 blocks"), std::string::npos) << info.output;
  const Outcome r = run_vitc("practise run --drop 1 --random-drop-seed 3" + common + " --out " +
                             absent_dir("resnet_random"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string l1 = absent_dir("resnet_l1");
  const Outcome f = run_vitc("practise run --macs 0.7 --l1-filters" + common + " --out " + l1);
  ASSERT_EQ(f.exit_code, 0) << f.output;
  EXPECT_EQ(vitc::read_json(l1 + "/run.json")["method"], "l1-filters");
  EXPECT_LE(vitc::read_json(l1 + "/run.json")["result"]["macs_fraction"].get<double>(), 0.7);
  expect_failure("practise run --macs 0.25" + common + " --out " + absent_dir("resnet_unreachable"),
                 "not reachable");
  const std::string dc = absent_dir("resnet_dcvit");
  const Outcome d = run_vitc("dcvit run --macs 0.8 --teacher " + teacher + " --few-shot 32 --epochs 1 "
                             "--synth-count 4 --synth-iterations 3 --latency-repeats 1 "
                             "--eval-subset 200 --quiet --out " + dc);
  ASSERT_EQ(d.exit_code, 0) << d.output;
  const auto dc_run = vitc::read_json(dc + "/run.json");
  EXPECT_EQ(dc_run["method"], "dc-vit");
  EXPECT_EQ(dc_run["ranking"]["scores"].size(), 6u);
  EXPECT_EQ(dc_run["synthetic"]["prior"], "BatchNorm statistics (DeepInversion)");
  EXPECT_TRUE(std::filesystem::exists(dc + "/synth/grid.png"));
  // Another budget reuses that ranking (same teacher, images and settings) instead of ranking again.
  const std::string dc2 = absent_dir("resnet_dcvit_reuse");
  const Outcome d2 = run_vitc("dcvit run --macs 0.7 --teacher " + teacher + " --few-shot 32 --epochs 1 "
                              "--synth-count 4 --synth-iterations 3 --latency-repeats 1 "
                              "--eval-subset 200 --quiet --ranking " + dc + "/ranking --out " + dc2);
  ASSERT_EQ(d2.exit_code, 0) << d2.output;
  const auto dc2_run = vitc::read_json(dc2 + "/run.json");
  EXPECT_TRUE(dc2_run["ranking"]["reused"].get<bool>());
  EXPECT_EQ(dc2_run["ranking"]["order"], dc_run["ranking"]["order"]);
  expect_failure("dcvit run --macs 0.7 --teacher " + teacher + " --few-shot 32 --few-shot-seed 5 "
                 "--epochs 1 --synth-count 4 --synth-iterations 3 --quiet --ranking " + dc +
                     "/ranking --out " + absent_dir("resnet_dcvit_other_images"),
                 "another few_shot_indices");
  expect_failure("dcvit run --macs 0.8 --round-to 8 --teacher " + teacher + " --few-shot 32 --out " +
                     absent_dir("resnet_dcvit_round"),
                 "removes whole blocks");
  // A command for Vision Transformers names the family it got.
  expect_failure("uvc run --macs 0.5 --teacher " + teacher + " --out " + absent_dir("resnet_uvc"),
                 "\"resnet\"");
}

}  // namespace

// Every command that runs a model takes --device and --precision, and checks both before it
// reads anything (the paths below do not exist).
TEST(Cli, EveryModelCommandTakesDeviceAndPrecision) {
  const std::string out = " --out " + absent_dir("device");
  const std::string t = " --teacher /nonexistent/teacher";
  const std::vector<std::string> commands = {
      "train --model fm_tiny" + out,
      "eval --model fm_tiny",
      "predict --model fm_tiny --input /nonexistent/x.png" + out,
      "bench --model fm_tiny",
      "prune --macs 0.5" + t + out,
      "slim search" + t + out,
      "slim extract --search /nonexistent/search" + out,
      "slim run" + t + out,
      "uvc run --macs 0.5" + t + out,
      "dcvit synth" + t + out,
      "dcvit run --macs 0.8" + t + out,
      "dcvit sweep --targets 0.9,0.8" + t + out,
      "practise run --drop 1" + t + out,
      "experiment --config /nonexistent/experiment.json" + out,
  };
  for (const std::string& command : commands) {
    expect_failure(command + " --precision fp16", "--precision must be fp32 or bf16, got 'fp16'");
    expect_failure(command + " --device tpu", "--device must be cpu or cuda[:N], got 'tpu'");
    const Outcome o = run_vitc(command + " --device cuda");
    EXPECT_NE(o.exit_code, 0) << command << "\n" << o.output;
    if (!torch::cuda::is_available()) {
      EXPECT_NE(o.output.find("--device cuda: CUDA is not available"), std::string::npos)
          << command << "\n" << o.output;
    }
  }
}
