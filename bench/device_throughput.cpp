// Inference and training images/s of one model on one device, in fp32 and bf16 (autocast), with
// the precisions interleaved round by round so that their ratio survives a shared machine. The
// PyTorch eager side of the same measurement is bench/eager_throughput.py; bench/gpu_benchmark.sh
// runs both on the same weights and puts them in one table.
//
//   bench_device_throughput --model deit_small_patch16_224 --device cuda --json out.json
//
// Training step: forward, cross-entropy on random labels, backward, AdamW (vitc's own, as
// `vitc train` uses). Inference: eval mode, no autograd. CUDA work is synchronised before each
// clock stops. Reported: the median over the timed rounds.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "bench_main.h"
#include "model/model_dir.h"
#include "train/adamw.h"
#include "util/allocator.h"
#include "util/compute.h"
#include "util/denormals.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"
#include "util/threads.h"

namespace {

using namespace vitc;

void sync(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Timings {
  std::vector<double> infer, train;  // seconds per batch, one per timed round
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"inference and training images/s of a model, fp32 and bf16 interleaved"};
  std::string model_spec = "deit_small_patch16_224", device_name = "cpu", json_path, save_model;
  std::vector<std::string> precision_names = {"fp32", "bf16"};
  int64_t infer_batch = 64, train_batch = 32;
  int warmup = 3, rounds = 10;
  ThreadSettings threads;  // vitc's defaults
  bool flush_denormals = true;
  bool malloc_reuse = true;
  uint64_t seed = 0;
  app.add_option("--model", model_spec, "config name (random weights), model directory or timm checkpoint")
      ->capture_default_str();
  app.add_option("--device", device_name, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--precisions", precision_names, "comma separated: fp32, bf16")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--infer-batch", infer_batch)->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--train-batch", train_batch)->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--warmup", warmup, "untimed rounds first")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--rounds", rounds, "timed rounds (each: one inference batch and one training step per precision)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--threads", threads.torch_threads, "torch intra-op threads (CPU; 0 = one per core)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--blas-threads", threads.blas_threads, "OpenBLAS threads (0 = one per core)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--flush-denormals", flush_denormals, "subnormals as 0 on CPU (vitc's default)")
      ->capture_default_str();
  app.add_option("--malloc-reuse", malloc_reuse,
                 "keep freed memory for reuse (vitc's default, util/allocator.h)")
      ->capture_default_str();
  app.add_option("--init-seed", seed, "seed of random weights for a config name")->capture_default_str();
  app.add_option("--save-model", save_model,
                 "also save the model as a vitc model directory here, a new or empty directory "
                 "(for the eager side)");
  app.add_option("--json", json_path, "also write the results here");
  CLI11_PARSE(app, argc, argv);
  return vitc::bench::report_errors([&] {
    const c10::Device device = parse_device(device_name);
    std::vector<Precision> precisions;
    for (const std::string& name : precision_names) precisions.push_back(parse_precision(name));
    check(!precisions.empty(), "--precisions: none given");
    // Never write over a directory the user has (a trained model, say): --save-model is new.
    check(save_model.empty() || !std::filesystem::exists(save_model) ||
              std::filesystem::is_empty(save_model),
          "--save-model ", save_model, ": exists and is not empty; name a new directory");
    const std::string denormals = configure_denormals(flush_denormals);
    const std::string threads_line = configure_threads(threads) + "; " + denormals + "; " +
                                     configure_allocator(malloc_reuse);

    LoadedModel loaded = load_model_spec(model_spec, seed);
    VisionTransformer model = loaded.model;
    if (!save_model.empty()) save_model_dir(save_model, *model);
    model->to(device);
    const ViTConfig& config = model->config();
    const auto options = torch::device(device);
    torch::manual_seed(seed);
    const at::Tensor infer_x = torch::randn({infer_batch, config.in_chans, config.img_size, config.img_size}, options);
    const at::Tensor train_x = torch::randn({train_batch, config.in_chans, config.img_size, config.img_size}, options);
    const at::Tensor train_y = torch::randint(config.num_classes, {train_batch}, options.dtype(torch::kLong));
    AdamW optimizer(trainable_parameters(*model), AdamWOptions{});

    std::vector<Timings> timings(precisions.size());
    for (int round = 0; round < warmup + rounds; ++round) {
      for (size_t p = 0; p < precisions.size(); ++p) {
        set_precision(device, precisions[p]);
        model->eval();
        sync(device);
        Stopwatch infer_clock;
        {
          torch::NoGradGuard no_grad;
          const at::Tensor logits = model->forward(infer_x);
        }
        sync(device);
        const double infer_s = infer_clock.seconds();
        model->train();
        Stopwatch train_clock;
        optimizer.zero_grad();
        torch::cross_entropy_loss(model->forward(train_x).to(torch::kFloat), train_y).backward();
        optimizer.step(1e-5);
        sync(device);
        const double train_s = train_clock.seconds();
        if (round >= warmup) {
          timings[p].infer.push_back(infer_s);
          timings[p].train.push_back(train_s);
        }
      }
      std::fprintf(stderr, "\rround %d/%d", round + 1, warmup + rounds);
    }
    set_precision(device, Precision::fp32);
    std::fprintf(stderr, "\n");

    nlohmann::json out = {{"implementation", "vitc"},
                          {"model", config.name},
                          {"model_spec", model_spec},
                          {"device", device.str()},
                          {"threads", threads_line},
                          {"infer_batch", infer_batch},
                          {"train_batch", train_batch},
                          {"rounds", rounds},
                          {"results", nlohmann::json::array()}};
    std::printf("vitc %s on %s: %d timed rounds after %d warm-up, precisions interleaved\n",
                config.name.c_str(), device.str().c_str(), rounds, warmup);
    std::printf("| precision | inference img/s (batch %lld) | training img/s (batch %lld) |\n|---|---|---|\n",
                static_cast<long long>(infer_batch), static_cast<long long>(train_batch));
    for (size_t p = 0; p < precisions.size(); ++p) {
      const double infer = infer_batch / median(timings[p].infer);
      const double train = train_batch / median(timings[p].train);
      std::printf("| %s | %.1f | %.1f |\n", precision_name(precisions[p]).c_str(), infer, train);
      out["results"].push_back({{"precision", precision_name(precisions[p])},
                                {"infer_images_per_s", infer},
                                {"train_images_per_s", train},
                                {"infer_seconds", timings[p].infer},
                                {"train_seconds", timings[p].train}});
    }
    if (!json_path.empty()) write_json(json_path, out);
    return 0;
  });
}
