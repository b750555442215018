// Adapted forward pass over the model's own modules (no model change) and the adaptor training.
#include "compress/practise/adaptors.h"

#include <cmath>

#include <torch/torch.h>

#include "compress/common/data_parallel.h"
#include "data/loader.h"
#include "model/layer_norm_rows.h"
#include "model/linear.h"
#include "util/error.h"
#include "util/progress.h"

namespace vitc {

std::vector<at::Tensor> Adaptors::parameters() const {
  std::vector<at::Tensor> out;
  for (const auto* group : {&after, &pre})
    for (const auto& [block, linear] : *group)
      for (const auto& p : linear->parameters()) out.push_back(p);
  return out;
}

namespace {

torch::nn::Linear identity_linear(int dim, const c10::Device& device) {
  torch::nn::Linear linear(dim, dim);
  torch::NoGradGuard no_grad;
  linear->weight.copy_(torch::eye(dim));
  linear->bias.zero_();
  linear->to(device);
  return linear;
}

}  // namespace

Adaptors make_adaptors(const VisionTransformerImpl& model, const std::set<int>& dropped) {
  check(!dropped.empty(), "PRACTISE adaptors: no dropped block");
  const ViTConfig& config = model.config();
  const c10::Device device = model.parameters().front().device();
  const int first = *dropped.begin(), last = *dropped.rbegin();
  Adaptors a;
  for (int b = 0; b < config.depth(); ++b) {
    if (dropped.count(b)) continue;
    const BlockSpec& spec = config.blocks[static_cast<size_t>(b)];
    if (b < last && spec.has_mlp()) a.after.emplace(b, identity_linear(config.block_dim(b), device));
    if (b > first && spec.has_attention()) a.pre.emplace(b, identity_linear(config.block_dim(b), device));
  }
  return a;
}

at::Tensor adapted_features(VisionTransformerImpl& model, const std::set<int>& dropped,
                            const Adaptors& adaptors, const at::Tensor& images) {
  at::Tensor x = model.embed(images);
  for (int b = 0; b < model.config().depth(); ++b) {
    x = model.block_input(b, x);
    if (dropped.count(b)) continue;
    Block block = model.block(b);
    const BlockSpec& spec = block->spec();
    if (spec.skip) continue;
    if (spec.has_attention()) {
      at::Tensor y = layer_norm_last_dim(x, *block->norm1);
      const auto pre = adaptors.pre.find(b);
      if (pre != adaptors.pre.end()) y = apply_linear(pre->second, y);
      x = x + block->scaled_attention(block->attend(y));
    }
    if (spec.has_mlp()) {
      at::Tensor m = block->scaled_mlp(block->mlp->forward(layer_norm_last_dim(x, *block->norm2)));
      const auto after = adaptors.after.find(b);
      if (after != adaptors.after.end()) m = apply_linear(after->second, m);
      x = x + m;
    }
  }
  return layer_norm_last_dim(x, *model.norm);
}

void RecoverOptions::validate() const { validate_settings(*this, kFlagPrefix); }

nlohmann::json RecoverOptions::to_json() const {
  nlohmann::json j = settings_to_json(*this);
  j["optimizer"] = "sgd";
  j["loss"] = "mse(final-norm features, all tokens)";
  return j;
}

nlohmann::json train_adaptors(VisionTransformerImpl& model, const std::set<int>& dropped,
                              Adaptors& adaptors, VisionTransformerImpl& teacher,
                              const std::shared_ptr<const Dataset>& data,
                              const RecoverOptions& options, bool quiet, dist::Group* group) {
  const AdaptorProbe probe{
      adaptors.parameters(), &model, &teacher, model.device(),
      [&](const at::Tensor& images) { return adapted_features(model, dropped, adaptors, images); },
      [&](const at::Tensor& images) { return teacher.forward_features(images); }};
  return train_adaptor_probe(probe, data, options, quiet, group);
}

nlohmann::json train_adaptor_probe(const AdaptorProbe& probe,
                                   const std::shared_ptr<const Dataset>& data,
                                   const RecoverOptions& options, bool quiet, dist::Group* group) {
  options.validate();
  Stopwatch clock;
  std::vector<std::pair<at::Tensor, bool>> frozen;
  for (auto& p : probe.student->parameters()) {
    frozen.emplace_back(p, p.requires_grad());
    p.set_requires_grad(false);
  }
  probe.student->eval();
  probe.teacher->eval();
  DataLoader loader(data, sharded_training_loader_options(*data, options.batch_size, options.seed,
                                                          options.augment, group));
  const int64_t per_epoch = loader.steps_per_epoch();
  const int64_t total = per_epoch * options.epochs;
  const int64_t decay_step = static_cast<int64_t>(std::llround(options.decay_at * total));
  const std::vector<at::Tensor>& params = probe.parameters;
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(options.lr)
                                    .momentum(options.momentum)
                                    .weight_decay(options.weight_decay));
  double first = 0, last = 0;
  int64_t step = 0;
  Progress progress("recover", total, quiet || !is_lead(group) || total == 0);
  for (int e = 0; e < options.epochs; ++e) {
    loader.start_epoch(e);
    Batch batch;
    for (int64_t s = 0; s < per_epoch && loader.next(batch); ++s) {
      batch = batch.to(probe.device);
      const double lr = step < decay_step ? options.lr : options.lr * 0.1;
      static_cast<torch::optim::SGDOptions&>(sgd.param_groups()[0].options()).lr(lr);
      at::Tensor target;
      {
        torch::NoGradGuard no_grad;
        target = probe.teacher_features(batch.images);
      }
      sgd.zero_grad();
      const at::Tensor loss = torch::mse_loss(probe.student_features(batch.images), target);
      // With a group: the mean over the ranks, gradients averaged (data_parallel.h).
      const double value = backward_and_average(loss, params, group);
      check(std::isfinite(value), "PRACTISE recovery: loss became ", value, " at step ", step + 1,
            " (lower --recover-lr?)");
      sgd.step();
      if (step == 0) first = value;
      last = value;
      ++step;
      progress.update(step, batch.images.size(0) * world_of(group), {{"loss", value}, {"lr", lr}});
    }
  }
  if (total > 0) progress.finish({{"loss", last}});
  for (auto& [p, flag] : frozen) p.set_requires_grad(flag);
  nlohmann::json record = {
      {"steps", step}, {"first_loss", first}, {"last_loss", last}, {"seconds", clock.seconds()}};
  if (group != nullptr) record["dist_max_abs_diff"] = agree_with_lead(group, params);
  return record;
}

double adapted_logit_kl(VisionTransformerImpl& model, const std::set<int>& dropped,
                        const Adaptors& adaptors, VisionTransformerImpl& teacher,
                        const Dataset& data, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  check(data.size() > 0, "PRACTISE: no images to score on");
  model.eval();
  teacher.eval();
  double sum = 0;
  for (int64_t start = 0; start < data.size(); start += batch_size) {
    std::vector<int64_t> idx;
    for (int64_t i = start; i < std::min(data.size(), start + batch_size); ++i) idx.push_back(i);
    const at::Tensor images = data.get_batch(idx).images;
    const at::Tensor lt = torch::log_softmax(teacher.forward(images), -1);
    const at::Tensor ls = torch::log_softmax(
        model.head_outputs(adapted_features(model, dropped, adaptors, images)).combined(), -1);
    sum += (lt.exp() * (lt - ls)).sum().item<double>();
  }
  return sum / static_cast<double>(data.size());
}

}  // namespace vitc
