// Knowledge distillation (Hinton et al., 2015): cross-entropy on the labels plus a temperature-
// softened KL term towards a frozen teacher's logits. Generic: any method's finetuning can use it.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "model/vit.h"
#include "train/trainer.h"

namespace vitc {

// loss = (1 - alpha) * CE(student, labels) + alpha * T^2 * KL(softmax(t/T) || softmax(s/T))
// with KL averaged over the batch. alpha = 0 is plain cross-entropy and needs no teacher.
struct DistillOptions {
  double alpha = 0.0;
  double temperature = 1.0;
  double label_smoothing = 0.1;  // of the CE term

  bool uses_teacher() const { return alpha > 0; }
  void validate() const;  // throws vitc::Error naming the flag (--kd-alpha, --kd-temperature)
  nlohmann::json to_json() const;
};

// T^2 * KL(softmax(teacher/T) || softmax(student/T)), mean over the batch; 0 iff they agree.
at::Tensor soft_distillation_term(const at::Tensor& student_logits,
                                  const at::Tensor& teacher_logits, double temperature);

// The loss of one batch from the student's head outputs. The CE term is that of the trainer's
// classification_loss (both heads of a distilled student); the KD term uses the inference logits
// (HeadOutputs::combined). `teacher_logits` may be undefined when alpha = 0.
at::Tensor distillation_loss(const HeadOutputs& student, const at::Tensor& teacher_logits,
                             const at::Tensor& labels, const DistillOptions& options);

// The teacher's inference logits of `images`: eval mode, no autograd.
at::Tensor teacher_logits(VisionTransformerImpl& teacher, const at::Tensor& images);

// A LossFn for train_model (train/trainer.h). `teacher` may be empty ({nullptr}) when alpha = 0;
// otherwise it must predict the student's classes from the same images.
LossFn make_distillation_loss(VisionTransformer teacher, const DistillOptions& options);

}  // namespace vitc
