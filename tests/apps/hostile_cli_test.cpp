// Careless commands: bad flag values exit 1, an --out or --json that would overwrite a user's
// model or run is refused before any data is loaded (files unchanged), empty splits are refused,
// and a hostile model.json fails through the CLI with the file named.
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "apps/run_vitc.h"
#include "io/safetensors.h"
#include "model/model_dir.h"
#include "test_support.h"
#include "util/files.h"

namespace vitc {
namespace {

using test_support::Outcome;
using test_support::read_text;
using test_support::run_vitc;

// A dense fm_tiny model directory with a run.json saying `command` made it.
std::string model_dir(const std::string& root, const std::string& name, const std::string& command) {
  const std::string dir = root + "/" + name;
  save_model_dir(dir, *make_model(named_config("fm_tiny"), 0));
  write_json(dir + "/run.json", {{"command", command}});
  return dir;
}

void expect_refusal(const Outcome& outcome, const std::vector<std::string>& parts) {
  EXPECT_EQ(outcome.exit_code, 1) << outcome.output;
  for (const std::string& part : parts)
    EXPECT_NE(outcome.output.find(part), std::string::npos) << "lacks '" << part << "':\n" << outcome.output;
}

TEST(HostileCli, BadFlagValuesExitOneAsTheReadmeSays) {
  expect_refusal(run_vitc("train --out /tmp/x --epochs abc"), {"--epochs"});
  expect_refusal(run_vitc("train --out /tmp/x --epochs 0"), {"--epochs"});
  expect_refusal(run_vitc("eval --model fm_tiny --split nonsense"), {"--split"});
  expect_refusal(run_vitc("info --model fm_tiny --no-such-flag"), {"--no-such-flag"});
  EXPECT_EQ(run_vitc("no-such-command").exit_code, 2);
  EXPECT_EQ(run_vitc("train --help").exit_code, 0);
}

TEST(HostileCli, OutputsHoldingAnotherRunAreRefusedBeforeAnythingIsLoaded) {
  const std::string root = test_support::fresh_dir("cli_out");
  const std::string model = model_dir(root, "model", "prune");
  const std::string teacher = model_dir(root, "teacher", "train");
  const std::string before = read_text(model + "/model.json");
  const std::string weights_before = read_text(model + "/model.safetensors");
  // --data names nothing that exists: the refusal must come first, about --out.
  const std::string no_data = " --data " + root + "/no_such_data";
  for (const std::string& command :
       {"train --model fm_tiny --out " + model + no_data,
        "prune --criterion random --macs 0.5 --teacher " + teacher + " --out " + model + no_data,
        "import --model " + model + "/model.safetensors --out " + model,
        "slim search --teacher " + teacher + " --out " + model + no_data,
        "predict --model fm_tiny --input " + root + " --out " + model}) {
    const Outcome outcome = run_vitc(command);
    EXPECT_EQ(outcome.exit_code, 1) << command << "\n" << outcome.output;
    const bool named = outcome.output.find("already holds files") != std::string::npos ||
                       outcome.output.find("is a model directory") != std::string::npos ||
                       outcome.output.find("checkpoint's own directory") != std::string::npos;
    EXPECT_TRUE(named) << command << "\n" << outcome.output;
    EXPECT_EQ(outcome.output.find("no_such_data"), std::string::npos) << outcome.output;
  }
  EXPECT_EQ(read_text(model + "/model.json"), before);
  EXPECT_EQ(read_text(model + "/model.safetensors"), weights_before);

  // --resume continues only a run of the same command; --overwrite passes the guard (and the
  // command then stops at the missing data, having written nothing).
  expect_refusal(run_vitc("train --model fm_tiny --resume --out " + model + no_data),
                 {"holds a finished 'vitc prune' run", "--resume continues only a 'vitc train'"});
  expect_refusal(run_vitc("train --model fm_tiny --overwrite --out " + model + no_data),
                 {"unknown data set"});
  EXPECT_EQ(read_text(model + "/model.json"), before);
  // A new or empty directory is fine as it always was.
  std::filesystem::create_directories(root + "/empty");
  expect_refusal(run_vitc("train --model fm_tiny --out " + root + "/empty" + no_data),
                 {"unknown data set"});
}

TEST(HostileCli, JsonOutputNeverReplacesAModelsOwnFiles) {
  const std::string root = test_support::fresh_dir("cli_json");
  const std::string model = model_dir(root, "model", "train");
  const std::string before = read_text(model + "/model.json");
  for (const std::string target : {"/model.json", "/model.safetensors", "/run.json", ""}) {
    expect_refusal(run_vitc("eval --model " + model + " --json " + model + target),
                   {"--json '" + model + target + "'"});
    expect_refusal(run_vitc("bench --model " + model + " --json " + model + target), {"--json"});
  }
  EXPECT_EQ(read_text(model + "/model.json"), before);
}

TEST(HostileCli, AnEmptySplitIsRefused) {
  const std::string root = test_support::fresh_dir("cli_empty");
  const std::string batch = root + "/empty.safetensors";
  write_safetensors(batch, {{"images", torch::zeros({0, 1, 28, 28})},
                            {"labels", torch::zeros({0}, torch::kLong)}});
  const Outcome outcome = run_vitc("eval --model fm_tiny --data " + batch);
  expect_refusal(outcome, {"holds no images", batch});
  EXPECT_EQ(outcome.output.find("top1"), std::string::npos) << outcome.output;
}

TEST(HostileCli, HostileModelJsonFailsFastWithTheFileNamed) {
  const std::string root = test_support::fresh_dir("cli_model_json");
  const std::string model = model_dir(root, "model", "train");
  nlohmann::json j = read_json(model + "/model.json");
  j["config"]["embed_dim"] = 10000000;
  write_json(model + "/model.json", j);
  expect_refusal(run_vitc("info --model " + model), {model + "/model.json", "config.embed_dim"});
  expect_refusal(run_vitc("eval --model " + model), {model + "/model.json", "config.embed_dim"});
}

}  // namespace
}  // namespace vitc
