// Batched evaluation loop.
#include "train/evaluate.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "dist/sync.h"
#include "util/error.h"
#include "util/progress.h"

namespace vitc {

nlohmann::json eval_to_json(const EvalResult& r) {
  return {{"top1", r.top1}, {"top5", r.top5}, {"loss", r.loss}, {"images", r.images},
          {"seconds", r.seconds}, {"images_per_s", r.images_per_s()}};
}

Classifier classifier_of(VisionTransformerImpl& model, const ModelMasks* masks) {
  return {&model, model.config().name, model.config().num_classes, model.device(),
          [&model, masks](const at::Tensor& images) { return model.forward(images, masks); }};
}

Classifier classifier_of(ResNetImpl& model) {
  return {&model, model.config().name, model.config().num_classes, model.device(),
          [&model](const at::Tensor& images) { return model.forward(images); }};
}

EvalResult evaluate(VisionTransformerImpl& model, const Dataset& data, int64_t batch_size,
                    const ModelMasks* masks, bool show_progress) {
  return evaluate(classifier_of(model, masks), data, batch_size, show_progress);
}

EvalResult evaluate(const Classifier& model, const Dataset& data, int64_t batch_size,
                    bool show_progress) {
  check(batch_size > 0, "evaluation batch size must be positive, got ", batch_size);
  check(data.size() > 0, "cannot evaluate on data set '", data.name(),
        "': it holds no images (a top-1 of an empty set means nothing)");
  check(data.num_classes() <= model.num_classes, "data set '", data.name(), "' has ",
        data.num_classes(), " classes but model '", model.name, "' predicts ", model.num_classes);
  torch::NoGradGuard no_grad;
  const bool was_training = model.module->is_training();
  model.module->eval();
  const int64_t n = data.size();
  const int64_t steps = (n + batch_size - 1) / batch_size;
  Progress progress("eval", steps, !show_progress);
  int64_t correct1 = 0, correct5 = 0;
  double loss_sum = 0;
  const int k = std::min(5, model.num_classes);
  Stopwatch clock;
  for (int64_t s = 0; s < steps; ++s) {
    std::vector<int64_t> indices;
    for (int64_t i = s * batch_size; i < std::min(n, (s + 1) * batch_size); ++i) indices.push_back(i);
    const Batch batch = data.get_batch(indices).to(model.device);
    const at::Tensor logits = model.logits(batch.images);
    loss_sum += torch::cross_entropy_loss(logits, batch.labels, {}, at::Reduction::Sum).item<double>();
    const at::Tensor topk = std::get<1>(logits.topk(k, 1));
    const at::Tensor hits = topk.eq(batch.labels.unsqueeze(1));
    correct1 += hits.select(1, 0).sum().item<int64_t>();
    correct5 += hits.any(1).sum().item<int64_t>();
    progress.update(s + 1, static_cast<int64_t>(indices.size()),
                    {{"top1", 100.0 * correct1 / ((s + 1) * batch_size)}});
  }
  EvalResult r;
  r.images = n;
  r.seconds = clock.seconds();
  r.top1 = n > 0 ? 100.0 * correct1 / n : 0;
  r.top5 = n > 0 ? 100.0 * correct5 / n : 0;
  r.loss = n > 0 ? loss_sum / n : 0;
  progress.finish({{"top1", r.top1}, {"top5", r.top5}, {"loss", r.loss}});
  if (was_training) model.module->train();
  return r;
}

EvalResult evaluate_sharded(VisionTransformerImpl& model, const std::shared_ptr<const Dataset>& data,
                            int64_t batch_size, dist::Group* group, const ModelMasks* masks) {
  return evaluate_sharded(classifier_of(model, masks), data, batch_size, group);
}

EvalResult evaluate_sharded(const Classifier& model, const std::shared_ptr<const Dataset>& data,
                            int64_t batch_size, dist::Group* group) {
  if (group == nullptr) return evaluate(model, *data, batch_size);
  std::vector<int64_t> indices;
  for (int64_t i = group->rank(); i < data->size(); i += group->world_size()) indices.push_back(i);
  EvalResult local;
  if (!indices.empty()) local = evaluate(model, *make_subset(data, indices), batch_size);
  const double n = static_cast<double>(local.images);
  std::vector<double> sums = {local.top1 * n, local.top5 * n, local.loss * n, n};
  std::vector<double> slowest(group->world_size(), 0.0);
  slowest[group->rank()] = local.seconds;
  sums.insert(sums.end(), slowest.begin(), slowest.end());
  dist::allreduce_sum(*group, sums);
  EvalResult total;
  total.images = static_cast<int64_t>(std::llround(sums[3]));
  if (total.images > 0) {
    total.top1 = sums[0] / sums[3];
    total.top5 = sums[1] / sums[3];
    total.loss = sums[2] / sums[3];
  }
  for (size_t r = 4; r < sums.size(); ++r) total.seconds = std::max(total.seconds, sums[r]);
  return total;
}

}  // namespace vitc
