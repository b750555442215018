// `vitc bench`: latency (median, p10, p90) and throughput of a model's forward pass per batch size.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "common.h"
#include "model/output_guard.h"
#include "data/image_folder.h"
#include "data/tensor_file.h"
#include "model/complexity.h"
#include "model/model_dir.h"
#include "report/latency.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"
#include "util/run_info.h"

namespace vitc::app {

namespace {

struct BenchFlags {
  std::string model;
  std::vector<int64_t> batch_sizes = {1, 64};
  int warmup = 2;
  int repeats = 10;
  uint64_t init_seed = 0;
  std::string json_out;
  std::vector<std::string> inputs;  // real images or a safetensors batch instead of random input
  std::string baseline;             // timed alternately with the model, run by run
  ComputeFlags compute;
};

// The timed batch of `batch` images from --input: its images repeated (or cut) to the size,
// moved to `device`. `decoded` holds the decoded images of the first call.
at::Tensor input_batch(const at::Tensor& decoded, int64_t batch, const c10::Device& device) {
  const int64_t n = decoded.size(0);
  const at::Tensor index = at::arange(batch, at::kLong).remainder(n);
  return decoded.index_select(0, index).to(device);
}

// Decodes (and times) the --input images, at most `limit` of them.
at::Tensor load_bench_inputs(const std::vector<std::string>& inputs, const LoadedModel& loaded,
                             int64_t limit, nlohmann::json& record) {
  const ViTConfig& config = loaded.model->config();
  if (inputs.size() == 1 && std::filesystem::path(inputs[0]).extension() == ".safetensors") {
    record = {{"tensor_file", inputs[0]}};
    return read_tensor_batch(inputs[0], config.in_chans, config.img_size, config.mean, config.std)
        .images;
  }
  std::vector<std::string> files = list_image_files(inputs);
  if (static_cast<int64_t>(files.size()) > limit) files.resize(static_cast<size_t>(limit));
  ImageFolderOptions options;
  options.image_size = config.img_size;
  options.channels = config.in_chans;
  options.mean = config.mean;
  options.std = config.std;
  options.crop_pct = loaded.model_json.contains("preprocess")
                         ? loaded.model_json["preprocess"].value("crop_pct", 0.875)
                         : 0.875;
  Stopwatch clock;
  at::Tensor images = load_images(files, options);
  const double seconds = clock.seconds();
  const double rate = seconds > 0 ? static_cast<double>(files.size()) / seconds : 0;
  std::printf("decoded %zu image(s) (DeiT eval transform) in %.3f s: %.1f images/s\n",
              files.size(), seconds, rate);
  record = {{"images", files.size()}, {"decode_seconds", seconds}, {"decode_images_per_s", rate}};
  return images;
}

int run_bench(const BenchFlags& flags) {
  const std::string threads = flags.compute.apply();  // fails early without CUDA
  if (!flags.json_out.empty()) check_not_model_file(flags.json_out, "--json");
  const c10::Device device = flags.compute.device();
  LoadedModel loaded = load_model_spec(flags.model, flags.init_seed);
  const ViTConfig& config = loaded.model->config();
  const Complexity complexity = compute_complexity(config);
  std::printf("%s (%s): %.3f M params, %.4f G MACs per image, device %s\n", loaded.source.c_str(),
              config.name.c_str(), complexity.params() / 1e6, complexity.macs() / 1e9,
              device.str().c_str());
  at::Tensor decoded;
  nlohmann::json input_record = "random";
  if (!flags.inputs.empty()) {
    const int64_t largest = *std::max_element(flags.batch_sizes.begin(), flags.batch_sizes.end());
    decoded = load_bench_inputs(flags.inputs, loaded, largest, input_record);
  }
  std::optional<LoadedModel> baseline;
  if (!flags.baseline.empty()) {
    baseline = load_model_spec(flags.baseline, flags.init_seed);
    const ViTConfig& b = baseline->model->config();
    check(b.in_chans == config.in_chans && b.img_size == config.img_size, "--baseline ",
          flags.baseline, " takes ", b.in_chans, " x ", b.img_size, " x ", b.img_size,
          " images but --model ", flags.model, " takes ", config.in_chans, " x ", config.img_size,
          " x ", config.img_size);
    baseline->model->to(device);
    baseline->model->eval();
    std::printf("baseline %s (%s): %.4f G MACs per image; the two alternate run by run\n",
                baseline->source.c_str(), b.name.c_str(), compute_complexity(b).macs() / 1e9);
  }
  loaded.model->to(device);
  loaded.model->eval();
  std::printf("warm-up %d, repeats %d\n\n", flags.warmup, flags.repeats);
  std::printf("%6s %12s %12s %12s %12s %12s%s\n", "batch", "median ms", "p10 ms", "p90 ms",
              "images/s", "GMAC/s", baseline ? "  baseline ms   ratio" : "");
  nlohmann::json results = nlohmann::json::array();
  for (int64_t batch : flags.batch_sizes) {
    LatencyResult r;
    std::optional<InterleavedLatency> against;
    if (baseline) {
      const at::Tensor images = decoded.defined() ? input_batch(decoded, batch, device)
                                                  : latency_input(config, batch, device);
      VisionTransformerImpl& base = *baseline->model;
      VisionTransformerImpl& model = *loaded.model;
      against = interleaved_latency([&base](const at::Tensor& x) { return base.forward(x); },
                                    [&model](const at::Tensor& x) { return model.forward(x); },
                                    images, flags.warmup, flags.repeats);
      r = against->b;
    } else if (decoded.defined()) {  // the same loop as measure_latency, on the given images
      const at::Tensor images = input_batch(decoded, batch, device);
      for (int i = 0; i < flags.warmup; ++i) time_forward_ms(*loaded.model, images);
      std::vector<double> times;
      for (int i = 0; i < flags.repeats; ++i) times.push_back(time_forward_ms(*loaded.model, images));
      r = summarize_latency(times, batch, flags.warmup);
    } else {
      r = measure_latency(*loaded.model, batch, flags.warmup, flags.repeats, device);
    }
    const double gmacs_per_s = r.images_per_s * static_cast<double>(complexity.macs()) / 1e9;
    std::printf("%6lld %12.2f %12.2f %12.2f %12.1f %12.1f", static_cast<long long>(batch),
                r.median_ms, r.p10_ms, r.p90_ms, r.images_per_s, gmacs_per_s);
    nlohmann::json result = latency_to_json(r);
    if (against) {
      std::printf(" %12.2f %7.3f", against->a.median_ms, against->ratio);
      result["baseline"] = latency_to_json(against->a);
      result["ratio_to_baseline"] = against->ratio;
    }
    std::printf("\n");
    std::fflush(stdout);
    results.push_back(result);
  }
  if (!flags.json_out.empty()) {
    write_json(flags.json_out, {{"command", "bench"},
                                {"command_line", command_line()},
                                {"model", {{"source", loaded.source}, {"config", config.name},
                                           {"params", complexity.params()},
                                           {"macs", complexity.macs()}}},
                                {"baseline", baseline ? nlohmann::json(baseline->source)
                                                      : nlohmann::json()},
                                {"device", device.str()},
                                {"input", input_record},
                                {"environment", environment_json(threads)},
                                {"results", results}});
  }
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand("bench", "latency and throughput of a model's forward pass");
  cmd->add_option("--model", flags->model, "config name (random weights), model directory or timm/DeiT checkpoint (.safetensors, .pth)")->required();
  cmd->add_option("--batch-sizes", flags->batch_sizes, "batch sizes to time, comma separated")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", flags->warmup, "untimed runs before timing")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--repeats", flags->repeats, "timed runs per batch size")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--init-seed", flags->init_seed, "seed of random weights for a config name")
      ->capture_default_str();
  cmd->add_option("--json", flags->json_out, "also write the results to this JSON file");
  cmd->add_option("--input", flags->inputs,
                  "time on these images (files or folders; their decoding is timed too) or this "
                  ".safetensors batch instead of random input");
  cmd->add_option("--baseline", flags->baseline,
                  "also time this model (config name, model directory or checkpoint), alternating "
                  "with --model run by run, and print --model's latency as a ratio to it");
  flags->compute.add_to(*cmd);
  cmd->callback([&run, flags] { run = [flags] { return run_bench(*flags); }; });
}

}  // namespace vitc::app
