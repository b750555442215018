// `vitc eval`: top-1, top-5, loss and images/s of a model on a data split.
#include <cstdio>

#include "common.h"
#include "model/output_guard.h"
#include "model/model_dir.h"
#include "train/any_model.h"
#include "train/evaluate.h"
#include "util/error.h"
#include "util/files.h"
#include "util/run_info.h"

namespace vitc::app {

namespace {

struct EvalFlags {
  std::string model;
  std::string split = "test";
  int64_t batch_size = 256;
  uint64_t init_seed = 0;
  std::string json_out;
  ComputeFlags compute;
  DataFlags data;
};

int run_eval(const EvalFlags& flags) {
  const std::string threads = flags.compute.apply();
  if (!flags.json_out.empty()) check_not_model_file(flags.json_out, "--json");
  const AnyModel loaded = load_any_model(flags.model, flags.init_seed, flags.compute.device());
  const ModelInput& input = loaded.input;
  DataFlags data_flags = flags.data;
  data_flags.use_model_preprocess(loaded.model_json);
  const auto data = data_flags.open(flags.split, input.mean, input.std, input.img_size);
  const EvalResult r = evaluate(loaded.classifier, *data, flags.batch_size, /*show_progress=*/true);
  std::printf("%s on %s/%s (%lld images): top1 %.2f%%  top5 %.2f%%  loss %.4f  %.0f img/s\n",
              loaded.source.c_str(), flags.data.data.c_str(), flags.split.c_str(),
              static_cast<long long>(r.images), r.top1, r.top5, r.loss, r.images_per_s());
  if (!flags.json_out.empty()) {
    write_json(flags.json_out, {{"command", "eval"},
                                {"command_line", command_line()},
                                {"model", loaded.source},
                                {"split", flags.split},
                                {"data", data_flags.to_json()},
                                {"environment", environment_json(threads)},
                                {"result", eval_to_json(r)}});
  }
  return 0;
}

}  // namespace

void add_eval_command(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<EvalFlags>();
  CLI::App* cmd = app.add_subcommand("eval", "evaluate a model: top-1, top-5, loss, images/s");
  cmd->add_option("--model", flags->model, "model directory, timm/DeiT/ResNet checkpoint (.safetensors, .pth) or config name (random weights)")->required();
  cmd->add_option("--split", flags->split, "data split")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "train"}));
  cmd->add_option("--batch-size", flags->batch_size, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--init-seed", flags->init_seed, "seed of random weights for a config name")->capture_default_str();
  cmd->add_option("--json", flags->json_out, "also write the result to this JSON file");
  flags->compute.add_to(*cmd);
  flags->data.add_to(*cmd, /*with_train=*/false);
  cmd->callback([&run, flags] { run = [flags] { return run_eval(*flags); }; });
}

}  // namespace vitc::app
