// PRACTISE on ResNets: candidate scoring, the MACs budget, and the finetuned compact model.
#include "compress/practise/resnet_practise.h"

#include <algorithm>
#include <numeric>
#include <random>

#include <torch/torch.h>

#include "compress/common/feature_mimic.h"
#include "compress/common/resnet_block_budget.h"
#include "compress/common/resnet_mimic.h"
#include "compress/practise/resnet_adaptors.h"
#include "model/families/resnet/resnet_complexity.h"
#include "model/families/resnet/resnet_model_dir.h"
#include "model/families/resnet/resnet_structure.h"
#include "train/evaluate.h"
#include "util/error.h"
#include "util/progress.h"

namespace vitc {
namespace {


// Mean pre-pool feature MSE of `model` with `dropped` skipped and `adaptors` applied against the
// teacher's, over `data`'s images without augmentation.
double adapted_mse(ResNetImpl& model, const std::set<int>& dropped, const ResNetAdaptors& adaptors,
                   ResNetImpl& teacher, const Dataset& data, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model.eval();
  teacher.eval();
  double sum = 0;
  int64_t n = 0;
  for (int64_t start = 0; start < data.size(); start += batch_size) {
    std::vector<int64_t> idx;
    for (int64_t i = start; i < std::min(data.size(), start + batch_size); ++i) idx.push_back(i);
    const at::Tensor images = data.get_batch(idx).images.to(model.device());
    const at::Tensor loss = torch::mse_loss(adapted_resnet_features(model, dropped, adaptors, images),
                                            teacher.forward_features(images));
    sum += loss.item<double>() * static_cast<double>(idx.size());
    n += static_cast<int64_t>(idx.size());
  }
  return sum / static_cast<double>(n);
}

double latency_reduction(ResNetImpl& teacher, int block, const ResNetLatencyFn& latency,
                         int repeats) {
  const ResNetConfig& c = teacher.config();
  const double full = static_cast<double>(resnet_cost(c).macs);
  if (!latency) return 100.0 * (full - static_cast<double>(resnet_macs_without(c, {block}))) / full;
  ResNet dropped = slice_resnet(teacher, drop_resnet_blocks(c, full_resnet_structure(c), {block}));
  dropped->eval();
  return interleaved_reduction_percent([&] { return latency(teacher); },
                                       [&] { return latency(*dropped); }, repeats);
}

}  // namespace

std::vector<int> ResNetPractiseRanking::order() const {
  std::vector<int> o;
  for (const auto& s : scores) o.push_back(s.block);
  return o;
}

nlohmann::json ResNetPractiseRanking::to_json(const ResNetConfig& config) const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : scores) {
    list.push_back({{"block", s.block},
                    {"name", config.block_name(s.block)},
                    {"mse_before", s.mse_before},
                    {"recoverability", s.recoverability},
                    {"latency_reduction_percent", s.latency_reduction},
                    {"score", s.score},
                    {"recover", s.recover}});
  }
  return {{"method", "practise block scoring (ResNet: 1x1-conv adaptors, pre-pool feature MSE)"},
          {"order", order()},
          {"scores", list},
          {"latency_source", latency_source},
          {"seconds", seconds}};
}

ResNetPractiseRanking rank_resnet_practise(ResNet teacher, const FewShotSet& few_shot,
                                           const PractiseSettings& settings,
                                           const ResNetLatencyFn& latency) {
  settings.recover.validate();
  check(!settings.candidates.empty(), "PRACTISE: no candidate blocks");
  check(settings.dist == nullptr, "PRACTISE on a ResNet runs in one process (no --dist-*)");
  check(settings.latency_repeats >= 1, "--latency-repeats must be at least 1 for PRACTISE scoring");
  const ResNetConfig& c = teacher->config();
  for (int b : settings.candidates) {
    check(b >= 0 && b < c.depth() && resnet_block_droppable(c, b), "PRACTISE: block ", b,
          " of model '", c.name, "' is not a candidate (droppable: every block but a stage's first)");
  }
  Stopwatch clock;
  ResNetPractiseRanking r;
  r.latency_source = latency ? "measured" : "macs";
  teacher->eval();
  for (int b : settings.candidates) {
    ResNetPractiseScore s;
    s.block = b;
    const std::set<int> dropped = {b};
    ResNetAdaptors adaptors = make_resnet_adaptors(*teacher, dropped);
    s.mse_before = adapted_mse(*teacher, dropped, adaptors, *teacher, *few_shot.images, 256);
    ResNetImpl& model = *teacher;
    const AdaptorProbe probe{
        adaptors.parameters(), &model, &model, model.device(),
        [&](const at::Tensor& images) { return adapted_resnet_features(model, dropped, adaptors, images); },
        [&](const at::Tensor& images) { return model.forward_features(images); }};
    s.recover = train_adaptor_probe(probe, few_shot.images, settings.recover, settings.quiet);
    s.recover["adaptors"] = adaptors.count();
    s.recoverability = adapted_mse(*teacher, dropped, adaptors, *teacher, *few_shot.images, 256);
    s.latency_reduction = latency_reduction(*teacher, b, latency, settings.latency_repeats);
    check(s.latency_reduction > 0, "PRACTISE: dropping block ", c.block_name(b),
          " did not reduce the measured latency (", s.latency_reduction,
          "%, measured again with up to 7x --latency-repeats rounds); the machine is too noisy: "
          "raise --latency-repeats, or use --latency-proxy-macs");
    s.score = s.recoverability / s.latency_reduction;
    if (!settings.quiet) {
      std::fprintf(stderr,
                   "practise %s: feature MSE %.5f -> %.5f after adaptors (%zu), latency -%.2f%%, "
                   "score %.6f\n",
                   c.block_name(b).c_str(), s.mse_before, s.recoverability, adaptors.count(),
                   s.latency_reduction, s.score);
    }
    r.scores.push_back(s);
  }
  std::stable_sort(r.scores.begin(), r.scores.end(),
                   [](const auto& a, const auto& b) { return a.score < b.score; });
  r.seconds = clock.seconds();
  return r;
}

std::vector<int> random_drop_order(const std::vector<int>& candidates, uint64_t seed) {
  std::vector<int> order = candidates;
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

}  // namespace vitc
