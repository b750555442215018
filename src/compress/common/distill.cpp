// Distillation loss terms and the trainer LossFn that combines them.
#include "compress/common/distill.h"

#include <cmath>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "util/error.h"

namespace vitc {

void DistillOptions::validate(const std::string& flag_prefix) const {
  validate_settings(*this, flag_prefix);
}

nlohmann::json DistillOptions::to_json() const { return settings_to_json(*this); }

at::Tensor soft_distillation_term(const at::Tensor& student_logits,
                                  const at::Tensor& teacher_logits, double temperature) {
  check(student_logits.sizes() == teacher_logits.sizes(), "distillation: student logits ",
        student_logits.sizes(), " and teacher logits ", teacher_logits.sizes(), " differ in shape");
  const at::Tensor log_p_student = torch::log_softmax(student_logits / temperature, -1);
  const at::Tensor log_p_teacher = torch::log_softmax(teacher_logits / temperature, -1);
  const at::Tensor kl = (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(-1).mean();
  return kl * (temperature * temperature);
}

at::Tensor distillation_loss(const HeadOutputs& student, const at::Tensor& teacher_logits,
                             const at::Tensor& labels, const DistillOptions& options) {
  namespace F = torch::nn::functional;
  const auto ce_options = F::CrossEntropyFuncOptions().label_smoothing(options.label_smoothing);
  at::Tensor ce = F::cross_entropy(student.cls, labels, ce_options);
  if (student.dist.defined()) ce = (ce + F::cross_entropy(student.dist, labels, ce_options)) / 2;
  if (!options.uses_teacher()) return ce;
  check(teacher_logits.defined(), "distillation with --kd-alpha ", options.alpha,
        " needs the teacher's logits");
  const at::Tensor kd =
      soft_distillation_term(student.combined(), teacher_logits, options.temperature);
  return (1.0 - options.alpha) * ce + options.alpha * kd;
}

at::Tensor teacher_logits(VisionTransformerImpl& teacher, const at::Tensor& images) {
  torch::NoGradGuard no_grad;
  if (teacher.is_training()) teacher.eval();
  return teacher.forward(images);
}

LossFn make_distillation_loss(VisionTransformer teacher, const DistillOptions& options) {
  options.validate();
  check(!options.uses_teacher() || !teacher.is_empty(), "distillation with --kd-alpha ",
        options.alpha, " needs a teacher model");
  return [teacher, options](VisionTransformerImpl& student, const Batch& batch) mutable {
    const at::Tensor target =
        options.uses_teacher() ? teacher_logits(*teacher, batch.images) : at::Tensor();
    return distillation_loss(student.forward_heads(batch.images), target, batch.labels, options);
  };
}

}  // namespace vitc
