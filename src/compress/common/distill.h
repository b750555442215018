// Knowledge distillation (Hinton et al., 2015): cross-entropy on the labels plus a temperature-
// softened KL term towards a frozen teacher's logits. Generic: any method's finetuning can use it.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "model/vit.h"
#include "train/trainer.h"

namespace vitc {

// loss = (1 - alpha) * CE(student, labels) + alpha * T^2 * KL(softmax(t/T) || softmax(s/T))
// with KL averaged over the batch. alpha = 0 is plain cross-entropy and needs no teacher.
namespace setting {
inline const Setting kKdAlpha{"kd-alpha", "weight of distillation from the teacher (0 = CE only)",
                              Range::closed(0, 1)};
inline const Setting kKdTemperature{"kd-temperature", "distillation temperature",
                                    Range::positive()};
}  // namespace setting

struct DistillOptions {
  double alpha = 0.0;
  double temperature = 1.0;
  double label_smoothing = 0.1;  // of the CE term

  // The distillation settings alone (a finetuning's label smoothing is its trainer's).
  template <class Self, class Visitor>
  static void visit_kd_settings(Self& self, Visitor& v) {
    v(setting::kKdAlpha, self.alpha);
    v(setting::kKdTemperature, self.temperature);
  }
  template <class Self, class Visitor>
  static void visit_settings(Self& self, Visitor& v) {
    visit_kd_settings(self, v);
    v(setting::kLabelSmoothing, self.label_smoothing);
  }
  bool uses_teacher() const { return alpha > 0; }
  // Throws vitc::Error naming the flag (--<flag_prefix>kd-alpha, ...).
  void validate(const std::string& flag_prefix = "") const;
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
