// Benchmark: does time follow MACs? deit_small_patch16_224 (random weights) sliced to ~50% of its
// MACs three ways, token-pruned (d), UVC-like (e-g), and to the floor of head and neuron pruning
// (h), timed against the dense model in one process, runs interleaved round by round.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "bench_main.h"
#include "compress/common/round_to.h"
#include "model/batch_chunks.h"
#include "model/complexity.h"
#include "model/head_layout.h"
#include "model/slice.h"
#include "model/structure_masks.h"
#include "report/latency.h"
#include "util/error.h"
#include "util/files.h"
#include "util/allocator.h"
#include "util/denormals.h"
#include "util/threads.h"

namespace {

using namespace vitc;

std::vector<int> first_n(int n) {
  std::vector<int> v(n);
  for (int i = 0; i < n; ++i) v[i] = i;
  return v;
}

std::vector<int> random_subset(int n, int count, std::mt19937& rng) {
  std::vector<int> all = first_n(n);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(count);
  std::sort(all.begin(), all.end());
  return all;
}

// (a) in every block: 3 of 6 heads (whole), 768 of 1536 MLP neurons.
Structure half_heads_half_mlp(const ViTConfig& c, std::mt19937& rng) {
  Structure s = dense_structure(c);
  for (size_t i = 0; i < s.blocks.size(); ++i) {
    BlockKeep& b = s.blocks[i];
    std::vector<HeadKeep> kept;
    for (int h : random_subset(static_cast<int>(b.heads.size()), static_cast<int>(b.heads.size()) / 2, rng)) {
      kept.push_back(b.heads[h]);
    }
    b.heads = kept;
    b.mlp = random_subset(c.blocks[i].mlp_hidden, c.blocks[i].mlp_hidden / 2, rng);
  }
  return s;
}

// (b) every other block skipped (1, 3, ..., 11).
Structure half_blocks(const ViTConfig& c) {
  Structure s = dense_structure(c);
  for (size_t i = 1; i < s.blocks.size(); i += 2) s.blocks[i] = BlockKeep{true, false, {}, {}, {}};
  return s;
}

// Six widths in [8, 64], multiples of 4, summing to 192 (half of 6 x 64), drawn per block.
std::vector<int> uneven_widths(int heads, int total, std::mt19937& rng) {
  std::vector<int> w(heads, total / heads);
  for (int step = 0; step < 40; ++step) {
    const int from = std::uniform_int_distribution<int>(0, heads - 1)(rng);
    const int to = std::uniform_int_distribution<int>(0, heads - 1)(rng);
    if (from != to && w[from] - 4 >= 8 && w[to] + 4 <= 64) {
      w[from] -= 4;
      w[to] += 4;
    }
  }
  return w;
}

// (c) all 6 heads kept in every block, with uneven q/k and v widths (half of the dims in total,
// q/k and v drawn independently) and 768 MLP neurons.
Structure uneven_heads(const ViTConfig& c, std::mt19937& rng) {
  Structure s = dense_structure(c);
  for (size_t i = 0; i < s.blocks.size(); ++i) {
    BlockKeep& b = s.blocks[i];
    const int n = static_cast<int>(b.heads.size());
    const int head_dim = c.blocks[i].heads[0].qk_dim;
    const std::vector<int> qk = uneven_widths(n, n * head_dim / 2, rng);
    const std::vector<int> v = uneven_widths(n, n * head_dim / 2, rng);
    for (int h = 0; h < n; ++h) {
      b.heads[h].qk = random_subset(head_dim, qk[h], rng);
      b.heads[h].v = random_subset(head_dim, v[h], rng);
    }
    b.mlp = random_subset(c.blocks[i].mlp_hidden, c.blocks[i].mlp_hidden / 2, rng);
  }
  return s;
}

// (d) token pruning, DynamicViT's schedule: 70%, 49% and 34% of the 196 patches kept from
// blocks 3, 6 and 9 on (random positions, nested); every head and neuron kept.
Structure dropped_tokens(const ViTConfig& c, std::mt19937& rng) {
  Structure s = dense_structure(c);
  std::vector<int> alive = first_n(c.num_patches());
  const int depth = c.depth();  // blocks 3/6/9 of 12, scaled to the model's depth
  for (const auto& [twelfth, keep] : std::vector<std::pair<int, double>>{{3, 0.7}, {6, 0.49}, {9, 0.343}}) {
    const int block = twelfth * depth / 12;
    std::vector<int> picked = alive;
    std::shuffle(picked.begin(), picked.end(), rng);
    picked.resize(static_cast<size_t>(std::lround(keep * c.num_patches())));
    std::sort(picked.begin(), picked.end());
    s.blocks[static_cast<size_t>(block)].tokens = picked;
    alive = picked;
  }
  return s;
}

// (e) UVC-like: every head kept with full q/k and a v width drawn in [8, 64], MLP at 40%. With
// `round_to` > 1 the drawn widths move to the nearest multiple of it, as --round-to makes every
// method's widths (compress/common/round_to.h): (f) and (g).
Structure uvc_like(const ViTConfig& c, std::mt19937& rng, int round_to = 1) {
  const RoundTo grid(round_to);
  Structure s = dense_structure(c);
  for (size_t i = 0; i < s.blocks.size(); ++i) {
    BlockKeep& b = s.blocks[i];
    const int head_dim = c.blocks[i].heads[0].v_dim;
    for (HeadKeep& h : b.heads) {
      const int width = std::uniform_int_distribution<int>(8, head_dim)(rng);
      h.v = random_subset(head_dim, grid.nearest(width, head_dim), rng);
    }
    const int mlp = c.blocks[i].mlp_hidden;
    b.mlp = random_subset(mlp, grid.nearest(mlp * 2 / 5, mlp), rng);
  }
  return s;
}

// (h) the floor: every block keeps one head of one q/k and one v dim and one MLP neuron, about
// 1% of the MACs. What it still costs is what no pruning of heads and neurons removes: the
// full-width LayerNorms and residual stream, one head's softmax over all tokens, the patch
// embedding, the classifier and each operation's own cost.
Structure floor_of_pruning(const ViTConfig& c) {
  Structure s = dense_structure(c);
  for (BlockKeep& b : s.blocks) {
    b.heads.resize(1);
    b.heads[0].qk = {0};
    b.heads[0].v = {0};
    b.mlp = {0};
  }
  return s;
}

// Every attention of `model` computes its heads grouped, never padded.
void force_grouped(VisionTransformerImpl& model) {
  for (int i = 0; i < model.config().depth(); ++i) {
    if (model.block(i)->attn) model.block(i)->attn->set_padded(false);
  }
}

bool has_uneven_heads(const ViTConfig& c) {
  for (const BlockSpec& b : c.blocks) {
    if (b.has_attention() && head_layout(b.heads, c.embed_dim).groups > 1) return true;
  }
  return false;
}

struct Case {
  std::string name;
  VisionTransformer model{nullptr};
  int64_t macs = 0;
  int64_t executed_macs = 0;  // with padded heads' zero dims
  double max_logit_diff = 0;  // |compact - masked| on one image, the slicing contract at full size
  std::vector<double> times_ms;
  std::vector<double> ratios;  // time / dense time of the same round
};

int run(int argc, char** argv) {
  int64_t batch = 64;
  int warmup = 1, repeats = 5;
  uint64_t seed = 0;
  std::string device_name = "cpu", json_out;
  ThreadSettings threads;
  bool malloc_reuse = true;
  bool flush_denormals = true;
  bool batch_chunks = true;
  std::string model_name = "deit_small_patch16_224";
  CLI::App app{"latency of a named config (deit_small_patch16_224) sliced to ~50% MACs three ways and token-pruned, vs dense"};
  app.add_option("--model", model_name, "named config (vitc info --list)")->capture_default_str();
  app.add_option("--batch", batch, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "untimed runs per model")->capture_default_str();
  app.add_option("--repeats", repeats, "timed rounds (each runs every model once)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "seed of weights and structures")->capture_default_str();
  app.add_option("--device", device_name, "cpu or cuda")->capture_default_str();
  app.add_option("--threads", threads.torch_threads, "torch intra-op threads")->capture_default_str();
  app.add_option("--blas-threads", threads.blas_threads, "OpenBLAS threads (0 = cores)")->capture_default_str();
  app.add_option("--malloc-reuse", malloc_reuse, "keep freed memory for reuse (util/allocator.h)")->capture_default_str();
  app.add_option("--flush-denormals", flush_denormals, "subnormals as 0 (util/denormals.h)")->capture_default_str();
  app.add_option("--batch-chunks", batch_chunks, "inference on the CPU by slices of the batch, one per thread (model/batch_chunks.h); 0: every operation split over the threads")->capture_default_str();
  app.add_option("--json", json_out, "also write the results to this JSON file");
  CLI11_PARSE(app, argc, argv);

  const c10::Device device = parse_device(device_name);
  const std::string denormals = configure_denormals(flush_denormals);
  set_batch_chunks_enabled(batch_chunks);
  const std::string thread_info = configure_threads(threads) + "; " +
                                  configure_allocator(malloc_reuse) + "; " + denormals +
                                  (batch_chunks ? "; batch slices per thread" : "; no batch slices");
  const ViTConfig config = named_config(model_name);
  VisionTransformer dense = make_model(config, seed);
  dense->eval();
  std::mt19937 rng(static_cast<uint32_t>(seed));
  const std::vector<std::pair<std::string, Structure>> structures = {
      {"dense", dense_structure(config)},
      {"(a) half heads + half MLP", half_heads_half_mlp(config, rng)},
      {"(b) 6 of 12 blocks skipped", half_blocks(config)},
      {"(c) uneven head widths + half MLP", uneven_heads(config, rng)},
      {"(d) tokens 70/49/34% from blocks 3/6/9", dropped_tokens(config, rng)},
      {"(e) UVC-like: v widths in [8, 64] + 40% MLP", uvc_like(config, rng)},
      {"(f) (e) with --round-to 8", uvc_like(config, rng, 8)},
      {"(g) (e) with --round-to 16", uvc_like(config, rng, 16)},
      {"(h) floor: 1 head of 1 dim, 1 MLP neuron", floor_of_pruning(config)}};
  std::vector<Case> cases;
  const at::Tensor probe = latency_input(config, 1, c10::Device(c10::kCPU));
  for (const auto& [name, structure] : structures) {
    // Cases with heads of several widths run twice: as head_layout.h's rule chooses (per call,
    // from the batch), and with every attention grouped.
    for (const char* mode : {"rule", "grouped"}) {
      Case c;
      c.model = slice_model(*dense, structure);
      c.model->eval();
      const Complexity complexity = compute_complexity(c.model->config());
      c.macs = complexity.macs();
      c.executed_macs = complexity.executed_macs();
      const bool uneven = has_uneven_heads(c.model->config());
      if (std::string(mode) != "rule" && !uneven) break;
      if (std::string(mode) != "rule") {
        force_grouped(*c.model);
        c.executed_macs = c.macs;
      }
      c.name = name + (!uneven ? "" : std::string(mode) == "rule" ? ", heads as the rule picks" : std::string(", all heads ") + mode);
      torch::NoGradGuard no_grad;
      const ModelMasks masks = structure_masks(config, structure);
      c.max_logit_diff = (c.model->forward(probe) - dense->forward(probe, &masks)).abs().max().item<double>();
      c.model->to(device);
      cases.push_back(std::move(c));
    }
  }
  const at::Tensor images = latency_input(config, batch, device);
  std::fprintf(stderr, "threads: %s; batch %lld, warm-up %d, %d interleaved rounds\n",
               thread_info.c_str(), static_cast<long long>(batch), warmup, repeats);
  for (Case& c : cases) {
    for (int i = 0; i < warmup; ++i) time_forward_ms(*c.model, images);
  }
  for (int round = 0; round < repeats; ++round) {
    for (Case& c : cases) c.times_ms.push_back(time_forward_ms(*c.model, images));
    for (Case& c : cases) c.ratios.push_back(c.times_ms.back() / cases[0].times_ms.back());
    std::fprintf(stderr, "round %d/%d: dense %.0f ms\n", round + 1, repeats, cases[0].times_ms.back());
  }

  const double dense_median = median_of(cases[0].times_ms);
  std::printf("%s, random weights, batch %lld, %s, %s\n", model_name.c_str(),
              static_cast<long long>(batch), device_name.c_str(), thread_info.c_str());
  std::printf("median of %d interleaved rounds after %d warm-up run(s) per model\n\n", repeats, warmup);
  std::printf("| model | GMACs/img | MACs ratio | executed MACs ratio (batch 1) | median ms | p10 ms | p90 ms | images/s | latency ratio | per-round ratio (median) | max logit diff vs masked |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  nlohmann::json rows = nlohmann::json::array();
  for (const Case& c : cases) {
    const LatencyResult r = summarize_latency(c.times_ms, batch, warmup);
    const double macs_ratio = static_cast<double>(c.macs) / cases[0].macs;
    const double executed_ratio = static_cast<double>(c.executed_macs) / cases[0].macs;
    std::printf("| %s | %.3f | %.3f | %.3f | %.0f | %.0f | %.0f | %.1f | %.3f | %.3f | %.1e |\n", c.name.c_str(),
                c.macs / 1e9, macs_ratio, executed_ratio, r.median_ms, r.p10_ms, r.p90_ms, r.images_per_s,
                r.median_ms / dense_median, median_of(c.ratios), c.max_logit_diff);
    rows.push_back({{"model", c.name}, {"macs", c.macs}, {"macs_ratio", macs_ratio},
                    {"executed_macs", c.executed_macs},
                    {"latency", latency_to_json(r)}, {"latency_ratio", r.median_ms / dense_median},
                    {"per_round_ratio_median", median_of(c.ratios)}, {"max_logit_diff", c.max_logit_diff}});
  }
  if (!json_out.empty()) {
    write_json(json_out, {{"benchmark", "slicing_latency"}, {"batch", batch}, {"device", device_name},
                          {"threads", thread_info}, {"rows", rows}});
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return vitc::bench::report_errors([&] { return run(argc, argv); });
}
