// Model inversion of a teacher into a small synthetic image set, and its PNG/safetensors files.
#include "compress/common/model_inversion.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <torch/torch.h>

#include "compress/common/data_parallel.h"
#include "data/random.h"
#include "dist/sync.h"
#include "io/png_writer.h"
#include "io/safetensors.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace vitc {

void InversionOptions::validate() const { validate_settings(*this, kFlagPrefix); }

int InversionOptions::jitter_for(int img_size) const {
  return jitter >= 0 ? jitter : static_cast<int>(std::lround(30.0 * img_size / 224.0));
}

nlohmann::json InversionOptions::to_json() const { return settings_to_json(*this); }

namespace {

enum : uint64_t { kTargetsStream = 101, kNoiseStream = 102, kJitterStream = 103 };

// Disables autograd on the teacher's parameters while alive (only the images are optimised).
class FrozenParameters {
 public:
  explicit FrozenParameters(torch::nn::Module& module) {
    for (auto& p : module.parameters()) {
      params_.push_back(p);
      flags_.push_back(p.requires_grad());
      p.set_requires_grad(false);
    }
  }
  ~FrozenParameters() {
    for (size_t i = 0; i < params_.size(); ++i) params_[i].set_requires_grad(flags_[i]);
  }

 private:
  std::vector<at::Tensor> params_;
  std::vector<bool> flags_;
};

double cosine_lr(double base, int64_t warmup, int64_t total, int64_t it) {
  if (it < warmup) return base * static_cast<double>(it + 1) / static_cast<double>(warmup);
  const double progress =
      static_cast<double>(it - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  return 0.5 * (1.0 + std::cos(M_PI * progress)) * base;
}

// Per channel [(0 - mean) / std, (1 - mean) / std]: the normalised image of valid pixels.
std::pair<std::vector<double>, std::vector<double>> pixel_bounds(const ModelInput& config) {
  std::vector<double> lo, hi;
  for (int c = 0; c < config.in_chans; ++c) {
    lo.push_back(-config.mean[c] / config.std[c]);
    hi.push_back((1.0 - config.mean[c]) / config.std[c]);
  }
  return {lo, hi};
}

void clamp_to_pixels(at::Tensor& images, const ModelInput& config) {
  const auto [lo, hi] = pixel_bounds(config);
  for (int c = 0; c < config.in_chans; ++c) images.select(1, c).clamp_(lo[c], hi[c]);
}

// [n,C,H,W] normalised -> per-image min-max scaled bytes [n,H,W,C] (what the PNGs hold).
at::Tensor to_bytes(const at::Tensor& images) {
  const at::Tensor flat = images.reshape({images.size(0), -1});
  const at::Tensor lo = std::get<0>(flat.min(1, true));
  const at::Tensor hi = std::get<0>(flat.max(1, true));
  const at::Tensor scaled = (flat - lo) / (hi - lo).clamp_min(1e-12);
  return (scaled * 255.0).round().clamp(0, 255).to(at::kByte).reshape(images.sizes())
      .permute({0, 2, 3, 1}).contiguous();
}

// Bytes [n,H,W,C] -> normalised [n,C,H,W] float, as a data loader would read the PNGs.
at::Tensor from_bytes(const at::Tensor& bytes, const ModelInput& config) {
  at::Tensor x = bytes.permute({0, 3, 1, 2}).to(at::kFloat) / 255.0;
  const at::Tensor mean = torch::tensor(config.mean, at::kFloat).view({1, -1, 1, 1});
  const at::Tensor std = torch::tensor(config.std, at::kFloat).view({1, -1, 1, 1});
  return ((x - mean) / std).contiguous();
}

Image8 image_of(const at::Tensor& hwc) {
  Image8 img;
  img.height = static_cast<int>(hwc.size(0));
  img.width = static_cast<int>(hwc.size(1));
  img.channels = static_cast<int>(hwc.size(2));
  const at::Tensor c = hwc.contiguous();
  img.pixels.assign(c.data_ptr<uint8_t>(), c.data_ptr<uint8_t>() + c.numel());
  return img;
}

}  // namespace

std::vector<int64_t> inversion_targets(int count, int num_classes, uint64_t seed) {
  check(count >= 1 && num_classes >= 1, "inversion targets: need count >= 1 and classes >= 1");
  std::vector<int64_t> out;
  for (int r = 0; r < count / num_classes; ++r)
    for (int c = 0; c < num_classes; ++c) out.push_back(c);
  const int extra = count % num_classes;
  const std::vector<int64_t> perm =
      seeded_permutation(num_classes, derive_seed({kTargetsStream, seed}));
  out.insert(out.end(), perm.begin(), perm.begin() + extra);
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// `base` plus the total-variation and L2 priors of the whole batch x (in that order of addition).
at::Tensor add_priors(const at::Tensor& base, const at::Tensor& x, const InversionOptions& options) {
  using torch::indexing::None;
  using torch::indexing::Slice;
  const auto d1 = x.index({"...", Slice(), Slice(None, -1)}) - x.index({"...", Slice(), Slice(1, None)});
  const auto d2 = x.index({"...", Slice(None, -1), Slice()}) - x.index({"...", Slice(1, None), Slice()});
  const auto d3 = x.index({"...", Slice(1, None), Slice(None, -1)}) -
                  x.index({"...", Slice(None, -1), Slice(1, None)});
  const auto d4 = x.index({"...", Slice(None, -1), Slice(None, -1)}) -
                  x.index({"...", Slice(1, None), Slice(1, None)});
  const double b = options.tv_beta;
  const at::Tensor tv = d1.norm().pow(b) + d2.norm().pow(b) + d3.norm().pow(b) + d4.norm().pow(b);
  const at::Tensor l2 = x.reshape({x.size(0), -1}).norm(2, 1).mean();
  return base + options.tv_weight * tv + options.l2_weight * l2;
}

}  // namespace

std::pair<at::Tensor, at::Tensor> inversion_loss(VisionTransformerImpl& teacher,
                                                 const at::Tensor& x, const at::Tensor& targets,
                                                 const InversionOptions& options) {
  return inversion_loss(subject_of(teacher), x, targets, options);
}

std::pair<at::Tensor, at::Tensor> inversion_loss(const InversionSubject& subject,
                                                 const at::Tensor& x, const at::Tensor& targets,
                                                 const InversionOptions& options) {
  const auto [logits, prior] = subject.forward(x);
  const at::Tensor ce = torch::cross_entropy_loss(logits, targets);
  const at::Tensor loss = add_priors(ce, x, options);
  return {prior.defined() ? loss + prior : loss, ce};
}

InversionSubject subject_of(VisionTransformerImpl& teacher) {
  return {&teacher, ModelInput(teacher.config()), teacher.device(),
          [&teacher](const at::Tensor& x) { return std::make_pair(teacher.forward(x), at::Tensor()); },
          false, nlohmann::json()};
}

SyntheticSet invert_teacher(VisionTransformerImpl& teacher, const InversionOptions& options,
                            dist::Group* group) {
  return invert_teacher(subject_of(teacher), options, group);
}

SyntheticSet invert_teacher(const InversionSubject& subject, const InversionOptions& options,
                            dist::Group* group) {
  options.validate();
  check(group == nullptr || !subject.batch_prior, "model inversion: the BatchNorm-statistics "
        "prior is a statistic of the whole batch and runs in one process (no --dist-*)");
  const ModelInput& config = subject.input;
  torch::nn::Module& teacher = *subject.module;
  const bool was_training = teacher.is_training();
  teacher.eval();
  FrozenParameters frozen(teacher);
  const c10::Device device = subject.device;
  const std::vector<int64_t> target_list =
      inversion_targets(options.count, config.num_classes, options.seed);
  const at::Tensor targets = torch::tensor(target_list, at::kLong).to(device);
  at::Generator gen = at::detail::createCPUGenerator(derive_seed({kNoiseStream, options.seed}));
  at::Tensor images =
      at::normal(0.0, 1.0, {options.count, config.in_chans, config.img_size, config.img_size}, gen)
          .to(device)
          .set_requires_grad(true);
  torch::optim::Adam adam({images},
                          torch::optim::AdamOptions(options.lr).betas({0.5, 0.9}).eps(1e-8));
  std::mt19937_64 rng(derive_seed({kJitterStream, options.seed}));
  const int jitter = options.jitter_for(config.img_size);
  const int64_t warmup = static_cast<int64_t>(std::llround(options.warmup_fraction * options.iterations));

  SyntheticSet set;
  nlohmann::json history = nlohmann::json::array();
  double best = std::numeric_limits<double>::infinity();
  int best_iteration = 0;
  at::Tensor best_images;
  Stopwatch clock;
  Progress progress("synthesize", options.iterations, options.quiet || !is_lead(group));
  // This rank's images (all of them for one process).
  at::Tensor shard;
  if (group != nullptr) {
    std::vector<int64_t> rows;
    for (int64_t i = group->rank(); i < options.count; i += group->world_size()) rows.push_back(i);
    shard = torch::tensor(rows, at::kLong).to(device);
  }
  for (int it = 0; it < options.iterations; ++it) {
    const double lr = cosine_lr(options.lr, warmup, options.iterations, it);
    static_cast<torch::optim::AdamOptions&>(adam.param_groups()[0].options()).lr(lr);
    const int64_t dy = static_cast<int64_t>(uniform_below(rng, 2 * jitter + 1)) - jitter;
    const int64_t dx = static_cast<int64_t>(uniform_below(rng, 2 * jitter + 1)) - jitter;
    const bool flip = options.flip && uniform_below(rng, 2) == 1;
    at::Tensor x = torch::roll(images, {dy, dx}, {2, 3});
    if (flip) x = torch::flip(x, {3});
    adam.zero_grad();
    double value = 0, ce_value = 0;
    if (group == nullptr) {
      const auto [loss, ce] = inversion_loss(subject, x, targets, options);
      value = loss.item<double>();
      ce_value = ce.item<double>();
      loss.backward();
    } else {
      // N x (this rank's cross-entropy sum) / count: the mean over the ranks is the batch mean.
      at::Tensor ce_part = x.sum() * 0.0;  // a rank without images adds nothing
      if (shard.numel() > 0) {
        ce_part = torch::nn::functional::cross_entropy(
                      subject.forward(x.index_select(0, shard)).first, targets.index_select(0, shard),
                      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum)) *
                  (static_cast<double>(group->world_size()) / options.count);
      }
      const at::Tensor loss = add_priors(ce_part, x, options);
      value = backward_and_average(loss, {images}, group);
      std::vector<double> ce_sum = {ce_part.item<double>()};
      dist::allreduce_sum(*group, ce_sum);
      ce_value = ce_sum[0] / group->world_size();
    }
    check(std::isfinite(value), "model inversion: loss became ", value, " at iteration ", it + 1,
          " (lower --synth-lr?)");
    if (value < best) {  // the iterate this loss belongs to (before the step)
      best = value;
      best_iteration = it + 1;
      best_images = images.detach().clone();
    }
    adam.step();
    {
      torch::NoGradGuard no_grad;
      at::Tensor data = images.detach();
      clamp_to_pixels(data, config);
    }
    if (it == 0 || (it + 1) % 50 == 0 || it + 1 == options.iterations) {
      history.push_back({{"iteration", it + 1}, {"loss", value}, {"ce", ce_value}, {"lr", lr}});
    }
    progress.update(it + 1, options.count, {{"loss", value}, {"ce", ce_value}});
  }
  progress.finish({{"best_loss", best}});
  teacher.train(was_training);

  const double dist_diff = agree_with_lead(group, {best_images});  // rank 0's on every rank
  set.raw = best_images.cpu();
  set.images = from_bytes(to_bytes(set.raw), config);
  set.targets = targets.cpu();
  set.info = {{"options", options.to_json()},
              {"jitter_pixels", jitter},
              {"targets", target_list},
              {"history", history},
              {"first_loss", history.front()["loss"]},
              {"best_loss", best},
              {"best_iteration", best_iteration},
              {"seconds", clock.seconds()}};
  set.info["teacher_agreement"] = target_agreement(subject, set);
  SyntheticSet raw_view = set;
  raw_view.images = set.raw;
  set.info["teacher_agreement_raw"] = target_agreement(subject, raw_view);
  if (subject.batch_prior) set.info["prior"] = "BatchNorm statistics (DeepInversion)";
  if (!subject.prior_settings.is_null()) set.info["prior_settings"] = subject.prior_settings;
  if (group != nullptr) set.info["dist_max_abs_diff"] = dist_diff;
  return set;
}

double target_agreement(VisionTransformerImpl& model, const SyntheticSet& set) {
  return target_agreement(subject_of(model), set);
}

double target_agreement(const InversionSubject& subject, const SyntheticSet& set) {
  torch::NoGradGuard no_grad;
  const bool was_training = subject.module->is_training();
  subject.module->eval();
  const at::Tensor predicted = subject.forward(set.images.to(subject.device)).first.argmax(-1).cpu();
  subject.module->train(was_training);
  return predicted.eq(set.targets).to(at::kDouble).mean().item<double>();
}

void save_synthetic_set(const std::string& dir, const SyntheticSet& set, const ModelInput& config) {
  make_dirs(dir + "/images");
  const at::Tensor bytes = to_bytes(set.raw);  // [n,H,W,C]
  const int64_t n = bytes.size(0), H = bytes.size(1), W = bytes.size(2), C = bytes.size(3);
  for (int64_t i = 0; i < n; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "/images/%03lld_class_%lld.png", static_cast<long long>(i),
                  static_cast<long long>(set.targets[i].item<int64_t>()));
    write_png(dir + name, image_of(bytes[i]));
  }
  // A contact sheet: 10 images per row, 2 px gray borders.
  const int64_t cols = std::min<int64_t>(10, n), rows = (n + cols - 1) / cols, pad = 2;
  at::Tensor grid = at::full({rows * (H + pad) + pad, cols * (W + pad) + pad, C}, 128, at::kByte);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t top = pad + (i / cols) * (H + pad), left = pad + (i % cols) * (W + pad);
    grid.slice(0, top, top + H).slice(1, left, left + W).copy_(bytes[i]);
  }
  write_png(dir + "/grid.png", image_of(grid));
  write_safetensors(dir + "/synthetic.safetensors",
                    {{"images", set.images}, {"raw", set.raw}, {"targets", set.targets}});
  nlohmann::json info = set.info;
  info["config"] = config.name;
  info["image_shape"] = {C, H, W};
  write_json(dir + "/synthetic.json", info);
}

SyntheticSet load_synthetic_set(const std::string& dir, const ModelInput& config) {
  const std::string path = dir + "/synthetic.safetensors";
  check(file_exists(path), "synthetic set '", dir, "': ", path,
        " is missing (create one with `vitc dcvit synth`)");
  TensorMap t = read_safetensors(path).tensors;
  for (const char* key : {"images", "raw", "targets"})
    check(t.count(key), path, ": tensor '", key, "' is missing");
  SyntheticSet set;
  set.images = t["images"].to(at::kFloat);
  set.raw = t["raw"].to(at::kFloat);
  set.targets = t["targets"].to(at::kLong);
  const std::vector<int64_t> shape = {set.images.size(0), config.in_chans, config.img_size,
                                      config.img_size};
  check(set.images.dim() == 4 && set.images.sizes() == at::IntArrayRef(shape) &&
            set.raw.sizes() == set.images.sizes(),
        path, ": images have shape ", set.images.sizes(), ", expected [n, ", config.in_chans, ", ",
        config.img_size, ", ", config.img_size, "] for model '", config.name, "'");
  check(set.targets.dim() == 1 && set.targets.size(0) == set.images.size(0), path,
        ": targets have shape ", set.targets.sizes(), ", expected [", set.images.size(0), "]");
  check(set.targets.numel() == 0 ||
            (set.targets.min().item<int64_t>() >= 0 &&
             set.targets.max().item<int64_t>() < config.num_classes),
        path, ": a target lies outside [0, ", config.num_classes, ")");
  const std::string info_path = dir + "/synthetic.json";
  set.info = file_exists(info_path) ? read_json(info_path) : nlohmann::json::object();
  return set;
}

}  // namespace vitc
