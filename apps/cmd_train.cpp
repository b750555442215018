// `vitc train`: train a ViT-family model or a ResNet (a named config, a model directory or a
// checkpoint) on a data set.
#include <cstdio>

#include "common.h"
#include "setting_flags.h"
#include "model/model_dir.h"
#include "model/output_guard.h"
#include "train/any_model.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/run_info.h"

namespace vitc::app {

namespace {

struct TrainFlags {
  std::string model = "fm_small";
  uint64_t init_seed = 0;
  TrainOptions train;
  bool overwrite = false;
  ComputeFlags compute;
  DataFlags data;
  DistFlags dist;
};

int run_train(const TrainFlags& flags) {
  const std::string threads = flags.compute.apply();
  TrainOptions options = flags.train;
  options.validate();
  check_output_dir(options.out_dir, "train", options.resume, flags.overwrite);
  options.dist = flags.dist.connect();
  const bool lead = options.rank() == 0;  // only rank 0 reports and writes run.json
  AnyModel model = load_any_model(flags.model, flags.init_seed, flags.compute.device());
  const ModelInput& in = model.input;
  const auto train_data = flags.data.open("train", in.mean, in.std, in.img_size);
  const auto test_data = flags.data.open("test", in.mean, in.std, in.img_size);
  if (lead) {
    std::fprintf(stderr, "model %s: %.3f M params, %.2f M MACs; train %lld images, test %lld images\n",
                 model.source.c_str(), model.params / 1e6, model.macs / 1e6,
                 static_cast<long long>(train_data->size()), static_cast<long long>(test_data->size()));
  }
  nlohmann::json run = {{"command", "train"},
                        {"command_line", command_line()},
                        {"environment", environment_json(threads)},
                        {"model", {{"source", model.source}, {"config", in.name},
                                   {"init_seed", flags.init_seed},
                                   {"params", model.params}, {"macs", model.macs}}},
                        {"data", flags.data.to_json()},
                        {"settings", options.trajectory_json()},
                        {"distributed", DistFlags::to_json(options.dist.get())}};
  options.model_json_extra = {{"trained_by", "vitc train"}};
  const TrainResult result =
      train_model(model.trainee(options.label_smoothing), train_data, test_data, options);
  if (!lead) return 0;
  run["result"] = train_result_to_json(result);
  write_run_json(options.out_dir, run);
  std::printf("test top1 %.2f%%  top5 %.2f%%  loss %.4f  | train %.0f img/s  wall %s  -> %s\n",
              result.final_eval.top1, result.final_eval.top5, result.final_eval.loss,
              result.train_images_per_s, format_duration(result.seconds).c_str(),
              options.out_dir.c_str());
  return 0;
}

}  // namespace

void add_train_command(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<TrainFlags>();
  TrainOptions& t = flags->train;
  // The defaults are the default Fashion-MNIST teacher's recipe (README): no augmentation, which
  // a 0.4 M-parameter model at 12 epochs underfits rather than overfits, and a high peak lr.
  t.epochs = 12;
  t.lr = 3e-3;
  CLI::App* cmd = app.add_subcommand("train", "train a ViT or a ResNet and evaluate it after every epoch");
  cmd->add_option("--model", flags->model, "config name (see `vitc info --list`; ResNets too: fm_resnet, resnet18/34/50), model directory or checkpoint")
      ->capture_default_str();
  cmd->add_option("--init-seed", flags->init_seed, "seed of the initial weights (named configs)")
      ->capture_default_str();
  cmd->add_option("--out", t.out_dir, "output directory (model, checkpoints, run.json)")->required();
  add_setting_flags(*cmd, t);
  cmd->add_flag("--resume", t.resume, "continue from <out>/checkpoint if present");
  add_overwrite_flag(*cmd, flags->overwrite);
  cmd->add_flag("--quiet", t.quiet, "no progress lines");
  flags->compute.add_to(*cmd);
  flags->data.add_to(*cmd, /*with_train=*/true);
  flags->dist.add_to(*cmd);
  cmd->callback([&run, flags] { run = [flags] { return run_train(*flags); }; });
}

}  // namespace vitc::app
