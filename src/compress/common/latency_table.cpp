// Measuring per-block latencies of random compact models, fitting them, and the on-disk cache.
#include "compress/common/latency_table.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <random>

#include <torch/torch.h>
#include <torch/version.h>

#include "model/attention_by_heads.h"
#include "model/batch_chunks.h"
#include "model/layer_norm_rows.h"
#include "model/slice.h"
#include "report/latency.h"
#include "util/compute.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"
#include "util/run_info.h"
#include "util/threads.h"

namespace vitc {

namespace {

// Bumped whenever the features or the measuring protocol change: older tables are then stale.
// 2: passes in batch slices per thread; 3: heads one by one in CPU inference; 4: vitc's own
// LayerNorm, softmax and linear kernels in CPU inference (every block's costs changed); 5: one
// head's attention fused in AVX-512 registers (model/head_attention.h); 6: GELU by a fitted erf
// with fc1's bias, fc2's bias and residual in one pass, and the patch embedding as patch rows
// times the flattened kernel (model/gelu.h, model/patch_rows.h).
constexpr int kTableFormat = 6;

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown CPU";
}

std::string host_name() {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return host;
}

int uniform(int lo, int hi, std::mt19937& rng) {  // in [lo, hi]
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

bool chance(double p, std::mt19937& rng) {
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < p;
}

std::vector<int> first_dims(int count) {
  std::vector<int> dims(static_cast<size_t>(count));
  std::iota(dims.begin(), dims.end(), 0);
  return dims;
}

// A width of `full` near `scale` x full: uniform in [scale/2, 3 scale/2] x full, within [1, full].
int width_near(double scale, int full, std::mt19937& rng) {
  const double f = std::uniform_real_distribution<double>(0.5 * scale, 1.5 * scale)(rng);
  return std::clamp(static_cast<int>(std::lround(f * full)), 1, full);
}

// A random BlockKeep of a dense source block at about `scale` of its size: what methods
// produce, from uniform cuts (every head the same widths) to UVC-like uneven ones. Which indices
// are kept does not change the time, so the first ones are.
BlockKeep random_block_keep(const BlockSpec& src, double scale, std::mt19937& rng) {
  BlockKeep b;
  const int H = static_cast<int>(src.heads.size());
  if (chance(0.08, rng)) {  // the dense block
    for (int h = 0; h < H; ++h) {
      b.heads.push_back({h, first_dims(src.heads[h].qk_dim), first_dims(src.heads[h].v_dim)});
    }
    b.mlp = first_dims(src.mlp_hidden);
    return b;
  }
  b.attn_skip = chance(0.1, rng);
  if (!b.attn_skip) {
    // Whole heads pruned (equal widths), dims pruned in every head (equal or uneven widths), or
    // both.
    const int kind = uniform(0, 2, rng);
    const int kept = kind == 1 ? H : width_near(scale, H, rng);
    const bool uneven = chance(0.5, rng);
    const double dim_scale = kind == 0 ? 1.0 : scale;
    const int qk0 = width_near(dim_scale, src.heads[0].qk_dim, rng);
    const int v0 = width_near(dim_scale, src.heads[0].v_dim, rng);
    for (int h = 0; h < kept; ++h) {
      const HeadSpec& spec = src.heads[static_cast<size_t>(h)];
      const int qk = !uneven ? std::min(qk0, spec.qk_dim)
                     : chance(0.5, rng) ? spec.qk_dim
                                        : width_near(dim_scale, spec.qk_dim, rng);
      const int v = !uneven ? std::min(v0, spec.v_dim) : width_near(dim_scale, spec.v_dim, rng);
      b.heads.push_back({h, first_dims(qk), first_dims(v)});
    }
  }
  if (b.attn_skip || !chance(0.1, rng)) b.mlp = first_dims(width_near(scale, src.mlp_hidden, rng));
  return b;
}

// Every block near one size, drawn for the whole model between 5% and 100% of the dense one:
// small models are as well covered as large ones. Global-attention models drop tokens from a
// block in the first half on in two thirds of the draws (between a quarter and all of the patches
// kept): at the full token count a block's constant costs and those per token cannot be told
// apart, and with a third of the draws from any block (one block sample in ten with fewer
// tokens) whole token-dropping models were predicted 5-13% short.
Structure random_compact_structure(const ViTConfig& source, std::mt19937& rng) {
  const double scale = std::uniform_real_distribution<double>(0.05, 1.0)(rng);
  Structure s;
  for (const BlockSpec& src : source.blocks) {
    s.blocks.push_back(random_block_keep(src, scale, rng));
  }
  if (!source.is_swin() && source.depth() > 0 && chance(2.0 / 3.0, rng)) {
    const int patches = source.num_patches();
    const int kept = uniform(std::max(1, patches / 4), patches, rng);
    if (kept < patches) {
      s.blocks[static_cast<size_t>(uniform(0, (source.depth() - 1) / 2, rng))].tokens =
          first_dims(kept);
    }
  }
  return s;
}

void check_dense_source(const ViTConfig& source) {
  for (int i = 0; i < source.depth(); ++i) {
    const BlockSpec& b = source.blocks[static_cast<size_t>(i)];
    check(!b.skip && !b.attn_skip && b.has_mlp() && !b.heads.empty(),
          "latency table: model '", source.name, "' block ", i,
          " is already compressed (skipped, or without attention or MLP); measure the table on "
          "the dense teacher");
  }
  check(!source.drops_tokens(), "latency table: model '", source.name,
        "' already drops tokens; measure the table on the dense teacher");
}

}  // namespace

std::string default_cache_dir() {
  const auto env = [](const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? std::string(value) : std::string();
  };
  if (!env("VITC_CACHE_DIR").empty()) return env("VITC_CACHE_DIR");
  if (!env("XDG_CACHE_HOME").empty()) return env("XDG_CACHE_HOME") + "/vitc";
  if (!env("HOME").empty()) return env("HOME") + "/.cache/vitc";
  return "/tmp/vitc-cache";
}

nlohmann::json latency_table_key(VisionTransformerImpl& source,
                                 const LatencyTableOptions& options) {
  const ViTConfig& config = source.config();
  std::vector<std::string> blocks;
  for (int i = 0; i < config.depth(); ++i) blocks.push_back(block_class_key(config, i));
  return {{"format", kTableFormat},
          {"host", host_name()},
          {"cpu", cpu_model()},
          {"cores", hardware_cores()},
          {"device", source.device().str()},
          {"precision", precision_name(current_precision(source.device()))},
          {"threads", options.threads},
          {"torch_version", TORCH_VERSION},
          {"blas", blas_description()},  // library, version and kernel set (util/blas_kernels.h)
          {"batch", options.batch},
          {"model", config.name},
          {"blocks", blocks}};
}

LatencyTable measure_latency_table(VisionTransformerImpl& source,
                                   const LatencyTableOptions& options) {
  const ViTConfig& config = source.config();
  check_dense_source(config);
  check(options.batch >= 1, "latency table: batch must be >= 1, got ", options.batch);
  check(options.repeats >= 1, "latency table: repeats must be >= 1, got ", options.repeats);
  check(options.samples_per_class >= 4, "latency table: samples per class must be >= 4, got ",
        options.samples_per_class);
  torch::NoGradGuard no_grad;
  const bool was_training = source.is_training();
  source.eval();
  LatencyModel model;
  model.batch = options.batch;
  model.heads_one_by_one = attention_by_heads_runs_on(source.device());
  for (int i = 0; i < config.depth(); ++i) {
    const std::string key = block_class_key(config, i);
    auto found = std::find(model.class_keys.begin(), model.class_keys.end(), key);
    if (found == model.class_keys.end()) {
      model.class_keys.push_back(key);
      found = model.class_keys.end() - 1;
    }
    model.block_class.push_back(static_cast<int>(found - model.class_keys.begin()));
  }
  const size_t classes = model.class_keys.size();
  std::vector<int> blocks_per_class(classes, 0);
  for (int c : model.block_class) blocks_per_class[static_cast<size_t>(c)] += 1;
  int rounds = 0;
  for (size_t c = 0; c < classes; ++c) {
    rounds = std::max(rounds, (options.samples_per_class + blocks_per_class[c] - 1) /
                                  blocks_per_class[c]);
  }

  // Each round: a random compact model, run whole `repeats` times with every block timed where
  // it runs (its input made by the block before it, memory as the model leaves it); per block
  // the median. What is not a block (stem, stage transitions, token gathering, norm, head) is
  // the fixed part.
  std::mt19937 rng(static_cast<uint32_t>(options.seed * 7919 + 17));
  std::vector<std::vector<LatencyFeatureRow>> rows(classes);
  std::vector<std::vector<double>> times(classes);
  std::vector<double> outside;  // per round: whole minus blocks
  const at::Tensor images = latency_input(config, options.batch, source.device());
  const c10::Device device = source.device();
  using Clock = std::chrono::steady_clock;
  const auto ms_between = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  // Per block the median time, and the median of the whole pass. A pass runs as
  // VisionTransformerImpl::forward_features runs in inference: on the CPU every intra-op thread
  // takes its slices of the batch through the whole network (model/batch_chunks.h). A block's
  // time is what the first thread spends in it over its slices, beside the other threads' work.
  const auto time_blocks = [&](VisionTransformerImpl& m, int repeats, std::vector<double>& block_ms) {
    const int L = m.config().depth();
    std::vector<std::vector<double>> per_block(static_cast<size_t>(L));
    std::vector<double> whole, pass_block_ms;
    const auto slice_pass = [&](const at::Tensor& slice) {
      const bool timing_thread = at::get_thread_num() == 0;
      at::Tensor x = m.embed(slice);
      for (int i = 0; i < L; ++i) {
        x = m.block_input(i, x);
        synchronize(device);
        const Clock::time_point t0 = Clock::now();
        x = m.block(i)->forward(x);
        synchronize(device);
        if (timing_thread) pass_block_ms[static_cast<size_t>(i)] += ms_between(t0, Clock::now());
      }
      return layer_norm_last_dim(x, *m.norm);
    };
    for (int r = -1; r < repeats; ++r) {  // r = -1: warm-up
      pass_block_ms.assign(static_cast<size_t>(L), 0.0);
      synchronize(device);
      const Clock::time_point start = Clock::now();
      const at::Tensor features =
          in_batch_chunks(images, slice_pass, largest_activation_bytes(m.config()));
      const at::Tensor logits = m.head_outputs(features).combined();
      synchronize(device);
      if (r < 0) continue;
      whole.push_back(ms_between(start, Clock::now()));
      for (int i = 0; i < L; ++i) {
        per_block[static_cast<size_t>(i)].push_back(pass_block_ms[static_cast<size_t>(i)]);
      }
    }
    block_ms.clear();
    for (const std::vector<double>& t : per_block) block_ms.push_back(median_of(t));
    return median_of(whole);
  };

  // Every fourth round is the dense source itself: the teacher's latency is taken in the same
  // conditions as the samples (a shared machine drifts by 10% and more between minutes).
  rounds += (rounds + 2) / 3;
  Progress progress(str_cat("latency table ", config.name, " b", options.batch), rounds,
                    options.quiet);
  std::vector<double> block_ms, dense_ms, round_whole_ms;
  std::vector<ViTConfig> round_configs;
  for (int round = 0; round < rounds; ++round) {
    const bool dense_round = round % 4 == 0;
    VisionTransformer compact = slice_model(
        source, dense_round ? dense_structure(config) : random_compact_structure(config, rng));
    compact->eval();
    const ViTConfig& cc = compact->config();
    const double whole = time_blocks(*compact, options.repeats, block_ms);
    if (dense_round) dense_ms.push_back(whole);
    double blocks = 0;
    for (int i = 0; i < cc.depth(); ++i) {
      blocks += block_ms[static_cast<size_t>(i)];
      if (cc.blocks[i].skip) continue;
      const size_t c = static_cast<size_t>(model.block_class[static_cast<size_t>(i)]);
      rows[c].push_back(block_latency_features(cc, i, options.batch, model.heads_one_by_one));
      times[c].push_back(block_ms[static_cast<size_t>(i)]);
    }
    outside.push_back(whole - blocks);
    round_whole_ms.push_back(whole);
    round_configs.push_back(cc);
    progress.update(round + 1, (options.repeats + 1) * options.batch, {});
  }
  progress.finish({});
  for (size_t c = 0; c < classes; ++c) {
    // Relative error: each row divided by its own time.
    std::vector<LatencyFeatureRow> scaled = rows[c];
    std::vector<double> ones(scaled.size(), 1.0);
    for (size_t r = 0; r < scaled.size(); ++r) {
      for (double& f : scaled[r]) f /= std::max(times[c][r], 1e-9);
    }
    const std::vector<double> x = fit_non_negative(scaled, ones);
    LatencyFeatureRow coefficients{};
    std::copy(x.begin(), x.end(), coefficients.begin());
    model.coefficients.push_back(coefficients);
  }

  // The fixed part from the rounds' whole passes: the median of (whole - predicted block sum).
  // Forcing the dense model's own measurement instead left the fixed part negative (-1.4 ms on
  // fm_small, the dense blocks' share of the fit's error) and whole compact models 5-12% short;
  // a least-squares scale and offset on the passes did as well on a quiet machine, but one
  // disturbed pass on a busy one made it x30 and -15 ms. The median ignores such a pass. The
  // source's latency is then the prediction of the dense model.
  const auto whole = [](VisionTransformer m) {
    m->eval();
    return [m](const at::Tensor& in) mutable { return m->forward(in); };
  };
  std::vector<double> unexplained;
  for (size_t r = 0; r < round_configs.size(); ++r) {
    unexplained.push_back(round_whole_ms[r] - model.blocks_ms(round_configs[r]));
  }
  model.fixed_ms = median_of(unexplained);
  model.source_ms = model.compact_ms(config);
  check(model.source_ms > 0, "latency table: the measurements of '", config.name,
        "' predict a non-positive latency for the dense model (", model.source_ms,
        " ms); the machine was too busy to measure: run again");
  if (!options.quiet) {
    std::printf("latency table: dense model %.3f ms predicted, %.3f ms measured (median of its "
                "rounds); fixed part %.3f ms (time outside the blocks: %.3f ms)\n",
                model.source_ms, median_of(dense_ms), model.fixed_ms, median_of(outside));
  }

  LatencyTable table;
  table.model = model;
  nlohmann::json samples = nlohmann::json::array();  // per class: [features..., ms] rows
  for (size_t c = 0; c < classes; ++c) {
    nlohmann::json rows_c = nlohmann::json::array();
    for (size_t r = 0; r < rows[c].size(); ++r) {
      std::vector<double> row(rows[c][r].begin(), rows[c][r].end());
      row.push_back(times[c][r]);
      rows_c.push_back(row);
    }
    samples.push_back(rows_c);
  }
  table.measurement = {{"samples", samples},
                       {"dense_measured_ms", median_of(dense_ms)},
                       {"outside_blocks_ms_median", median_of(outside)},
                       {"rounds", rounds}};
  // Checks: ratios to the dense source, both timed whole and alternated (the machine's drift
  // cancels), against the predicted ratios.
  table.validation = nlohmann::json::array();
  VisionTransformer dense = slice_model(source, dense_structure(config));
  auto dense_forward = whole(dense);
  for (int v = 0; v < options.validation_models; ++v) {
    const Structure structure = random_compact_structure(config, rng);
    const double measured =
        interleaved_latency(dense_forward, whole(slice_model(source, structure)), images, 1,
                            options.repeats)
            .ratio;
    const double predicted = model.predict_ms(config, structure) / model.source_ms;
    table.validation.push_back({{"predicted_ratio", predicted}, {"measured_ratio", measured}});
    if (!options.quiet) {
      std::printf("latency table: random compact model %d: predicted x%.3f of the dense model, "
                  "measured x%.3f (%+.1f%%)\n",
                  v + 1, predicted, measured, 100.0 * (predicted - measured) / measured);
    }
  }
  if (was_training) source.train();
  return table;
}

LatencyTable load_or_measure_latency_table(VisionTransformerImpl& source,
                                           const LatencyTableOptions& options) {
  const std::string dir =
      (options.cache_dir.empty() ? default_cache_dir() : options.cache_dir) + "/latency";
  std::string device = source.device().str();
  std::replace(device.begin(), device.end(), ':', '-');
  const std::string path =
      str_cat(dir, "/", source.config().name, "-b", options.batch, "-", device, ".json");
  const nlohmann::json key = latency_table_key(source, options);
  std::string why = "none cached";
  if (file_exists(path)) {
    try {
      const nlohmann::json cached = read_json(path);
      check(cached.is_object() && cached.contains("key") && cached.contains("model"), path,
            ": not a latency table (no 'key' and 'model')");
      const nlohmann::json& old_key = cached.at("key");
      std::string stale;
      for (const auto& [field, value] : key.items()) {
        if (!old_key.is_object() || !old_key.contains(field) || old_key.at(field) != value) {
          const std::string was = old_key.is_object() && old_key.contains(field)
                                      ? old_key.at(field).dump()
                                      : std::string("missing");
          const std::string now = value.dump();
          stale = str_cat("stale: ", field, " was ", was.substr(0, 120), ", now ",
                          now.substr(0, 120));
          break;
        }
      }
      if (stale.empty()) {
        LatencyTable table;
        table.model = latency_model_from_json(cached.at("model"), path);
        table.model.check_fits(source.config(), path);
        check(table.model.batch == options.batch, path, ": batch ", table.model.batch,
              " differs from its key's ", options.batch);
        table.measurement = cached.value("measurement", nlohmann::json::object());
        table.validation = cached.value("validation", nlohmann::json::array());
        table.path = path;
        table.origin = "read";
        if (!options.quiet) std::printf("latency table: %s (read)\n", path.c_str());
        return table;
      }
      why = stale;
    } catch (const std::exception& e) {
      why = str_cat("unreadable: ", e.what());
    }
  }
  if (!options.quiet) {
    std::printf("latency table: %s: measuring (%s)\n", path.c_str(), why.c_str());
    std::fflush(stdout);
  }
  LatencyTable table = measure_latency_table(source, options);
  table.path = path;
  table.origin = why;
  make_dirs(dir);
  write_json(path, {{"key", key},
                    {"model", latency_model_to_json(table.model)},
                    {"measurement", table.measurement},
                    {"validation", table.validation},
                    {"measured_at", utc_timestamp()}});
  if (!options.quiet) std::printf("latency table: written to %s\n", path.c_str());
  return table;
}

}  // namespace vitc
