// UVC's training loss: cross-entropy plus soft distillation from the uncompressed teacher; for a
// DeiT-style student with a distillation token, the KD term goes through the distillation head
// and the CE term through the class head (DeiT's DistillationLoss, which UVC uses).
#pragma once

#include "compress/common/distill.h"
#include "model/vit.h"
#include "train/trainer.h"

namespace vitc {

// Plain student: distillation_loss (compress/common/distill.h) on the class logits.
// Distilled student: (1 - alpha) · CE(cls, labels) + alpha · T² · KL(teacher_T || dist_T); with
// alpha = 0 the mean CE of both heads (the trainer's classification loss).
at::Tensor uvc_loss(const HeadOutputs& student, const at::Tensor& teacher_logits,
                    const at::Tensor& labels, const DistillOptions& options);

// A LossFn for train_model (stage 2). `teacher` may be empty when alpha = 0.
LossFn make_uvc_loss(VisionTransformer teacher, const DistillOptions& options);

}  // namespace vitc
