// UVC's KD loss, with the DeiT distillation head where the student has one.
#include "compress/uvc/loss.h"

#include <torch/torch.h>

#include "util/error.h"

namespace vitc {

at::Tensor uvc_loss(const HeadOutputs& student, const at::Tensor& teacher_logits,
                    const at::Tensor& labels, const DistillOptions& options) {
  if (!student.dist.defined() || !options.uses_teacher())
    return distillation_loss(student, teacher_logits, labels, options);
  namespace F = torch::nn::functional;
  check(teacher_logits.defined(), "UVC distillation with --kd-alpha ", options.alpha,
        " needs the teacher's logits");
  const at::Tensor ce = F::cross_entropy(
      student.cls, labels, F::CrossEntropyFuncOptions().label_smoothing(options.label_smoothing));
  const at::Tensor kd = soft_distillation_term(student.dist, teacher_logits, options.temperature);
  return (1.0 - options.alpha) * ce + options.alpha * kd;
}

LossFn make_uvc_loss(VisionTransformer teacher, const DistillOptions& options) {
  options.validate();
  check(!options.uses_teacher() || !teacher.is_empty(), "UVC distillation with --kd-alpha ",
        options.alpha, " needs a teacher model");
  return [teacher, options](VisionTransformerImpl& student, const Batch& batch) mutable {
    const at::Tensor target =
        options.uses_teacher() ? teacher_logits(*teacher, batch.images) : at::Tensor();
    return uvc_loss(student.forward_heads(batch.images), target, batch.labels, options);
  };
}

}  // namespace vitc
