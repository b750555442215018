// Benchmark: latency budgets. A named config (random weights) gets its latency table (measured
// now, or read from --latency-cache), is pruned uniformly (whole heads and MLP neurons, as
// `vitc prune`) to each --targets fraction of its predicted latency, and each pruned model is
// timed against the dense one, alternated round by round: the measured ratio next to the target.
#include <cstdio>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "bench_main.h"
#include "compress/baselines/uniform_prune.h"
#include "compress/common/budget.h"
#include "compress/common/latency_table.h"
#include "model/complexity.h"
#include "model/slice.h"
#include "report/latency.h"
#include "util/allocator.h"
#include "util/denormals.h"
#include "util/error.h"
#include "util/files.h"
#include "util/threads.h"

namespace {

using namespace vitc;

int run(int argc, char** argv) {
  std::string model_name = "deit_small_patch16_224", targets_text = "0.7,0.5,0.3", json_out;
  LatencyTableOptions table;
  int repeats = 10, group = 1;
  ThreadSettings threads;
  bool malloc_reuse = true, flush_denormals = true;
  CLI::App app{"latency budgets: uniform pruning of a named config to fractions of its predicted "
               "latency, measured against the dense model"};
  app.add_option("--model", model_name, "named config (vitc info --list)")->capture_default_str();
  app.add_option("--targets", targets_text, "latency fractions, comma-separated")
      ->capture_default_str();
  app.add_option("--batch", table.batch, "batch size of the table and the timings")
      ->capture_default_str();
  app.add_option("--table-samples", table.samples_per_class, "block variants per class")
      ->capture_default_str();
  app.add_option("--table-repeats", table.repeats, "timed passes per table round")
      ->capture_default_str();
  app.add_option("--latency-cache", table.cache_dir, "latency table directory");
  app.add_option("--repeats", repeats, "timed rounds of the comparison")->capture_default_str();
  app.add_option("--group", group,
                 "forward passes per model in a row within a round (the first untimed when "
                 "more than 1): 1 alternates single passes")
      ->capture_default_str();
  app.add_option("--threads", threads.torch_threads, "torch intra-op threads")->capture_default_str();
  app.add_option("--blas-threads", threads.blas_threads, "OpenBLAS threads (0 = cores)")
      ->capture_default_str();
  app.add_option("--malloc-reuse", malloc_reuse, "keep freed memory for reuse")->capture_default_str();
  app.add_option("--flush-denormals", flush_denormals, "subnormals as 0")->capture_default_str();
  app.add_option("--json", json_out, "also write the results to this JSON file");
  CLI11_PARSE(app, argc, argv);
  const std::string conditions = configure_threads(threads) + "; " +
                                 configure_allocator(malloc_reuse) + "; " +
                                 configure_denormals(flush_denormals);
  std::printf("%s\n", conditions.c_str());
  torch::NoGradGuard no_grad;
  VisionTransformer dense = make_model(named_config(model_name), 0);
  dense->eval();
  table.threads = conditions;
  const LatencyTable t = load_or_measure_latency_table(*dense, table);
  const CostModel cost(std::make_shared<const LatencyModel>(t.model));
  const ViTConfig& config = dense->config();
  const int64_t dense_macs = compute_complexity(config).macs();
  const at::Tensor images = latency_input(config, table.batch, dense->device());

  std::vector<double> targets;
  std::stringstream list(targets_text);
  for (std::string item; std::getline(list, item, ',');) targets.push_back(std::stod(item));
  nlohmann::json results = nlohmann::json::array();
  std::printf("\n| target | predicted | measured | measured / target | MACs | structure |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (double target : targets) {
    const UniformPrune p = uniform_prune(
        *dense, cost, latency_ms_to_ps(target * t.model.source_ms), UniformPruneOptions{});
    VisionTransformer compact = slice_model(*dense, p.structure);
    compact->eval();
    std::vector<double> dense_ms, compact_ms;
    time_forward_ms(*dense, images);
    time_forward_ms(*compact, images);
    for (int r = 0; r < repeats; ++r) {
      for (int g = 0; g < group; ++g) {
        const double ms = time_forward_ms(*dense, images);
        if (group == 1 || g > 0) dense_ms.push_back(ms);
      }
      for (int g = 0; g < group; ++g) {
        const double ms = time_forward_ms(*compact, images);
        if (group == 1 || g > 0) compact_ms.push_back(ms);
      }
    }
    const double measured = median_of(compact_ms) / median_of(dense_ms);
    const double predicted = latency_ps_to_ms(p.cost) / t.model.source_ms;
    const double macs =
        static_cast<double>(compute_complexity(compact->config()).macs()) / dense_macs;
    char structure[96];
    std::snprintf(structure, sizeof structure, "heads x%.2f, MLP x%.2f", p.head_fraction,
                  p.mlp_fraction);
    std::printf("| %.2f | %.3f | %.3f | %.3f | %.3f | %s |\n", target, predicted, measured,
                measured / target, macs, structure);
    std::fflush(stdout);
    results.push_back({{"target", target},
                       {"predicted_ratio", predicted},
                       {"measured_ratio", measured},
                       {"macs_ratio", macs},
                       {"head_fraction", p.head_fraction},
                       {"mlp_fraction", p.mlp_fraction}});
  }
  if (!json_out.empty()) {
    write_json(json_out, {{"model", model_name},
                          {"batch", table.batch},
                          {"conditions", conditions},
                          {"table", t.path},
                          {"table_validation", t.validation},
                          {"results", results}});
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return vitc::bench::report_errors([&] { return run(argc, argv); });
}
