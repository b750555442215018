// `vitc bench`: latency (median, p10, p90) and throughput of a model's forward pass per batch size.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "common.h"
#include "model/complexity.h"
#include "model/model_dir.h"
#include "report/latency.h"
#include "util/error.h"
#include "util/files.h"
#include "util/run_info.h"

namespace vitc::app {

namespace {

struct BenchFlags {
  std::string model;
  std::vector<int64_t> batch_sizes = {1, 64};
  int warmup = 2;
  int repeats = 10;
  std::string device = "cpu";
  uint64_t init_seed = 0;
  std::string json_out;
  ThreadFlags threads;
};

int run_bench(const BenchFlags& flags) {
  const c10::Device device = parse_device(flags.device);  // fails early without CUDA
  const std::string threads = flags.threads.apply();
  LoadedModel loaded = load_model_spec(flags.model, flags.init_seed);
  const ViTConfig& config = loaded.model->config();
  const Complexity complexity = compute_complexity(config);
  std::printf("%s (%s): %.3f M params, %.4f G MACs per image, device %s\n", loaded.source.c_str(),
              config.name.c_str(), complexity.params() / 1e6, complexity.macs() / 1e9,
              flags.device.c_str());
  std::printf("warm-up %d, repeats %d\n\n", flags.warmup, flags.repeats);
  std::printf("%6s %12s %12s %12s %12s %12s\n", "batch", "median ms", "p10 ms", "p90 ms", "images/s",
              "GMAC/s");
  nlohmann::json results = nlohmann::json::array();
  for (int64_t batch : flags.batch_sizes) {
    const LatencyResult r = measure_latency(*loaded.model, batch, flags.warmup, flags.repeats, device);
    const double gmacs_per_s = r.images_per_s * static_cast<double>(complexity.macs()) / 1e9;
    std::printf("%6lld %12.2f %12.2f %12.2f %12.1f %12.1f\n", static_cast<long long>(batch),
                r.median_ms, r.p10_ms, r.p90_ms, r.images_per_s, gmacs_per_s);
    std::fflush(stdout);
    results.push_back(latency_to_json(r));
  }
  if (!flags.json_out.empty()) {
    write_json(flags.json_out, {{"command", "bench"},
                                {"command_line", command_line()},
                                {"model", {{"source", loaded.source}, {"config", config.name},
                                           {"params", complexity.params()},
                                           {"macs", complexity.macs()}}},
                                {"device", flags.device},
                                {"environment", environment_json(threads)},
                                {"results", results}});
  }
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand("bench", "latency and throughput of a model's forward pass");
  cmd->add_option("--model", flags->model, "config name (random weights) or model directory")->required();
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
  cmd->add_option("--device", flags->device, "cpu or cuda[:N]")->capture_default_str();
  cmd->add_option("--init-seed", flags->init_seed, "seed of random weights for a config name")
      ->capture_default_str();
  cmd->add_option("--json", flags->json_out, "also write the results to this JSON file");
  flags->threads.add_to(*cmd);
  cmd->callback([&run, flags] { run = [flags] { return run_bench(*flags); }; });
}

}  // namespace vitc::app
