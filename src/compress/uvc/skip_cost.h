// The task term of UVC's block gates in vitc: what skipping each block costs in the search loss,
// measured on a batch (a finite difference), not the loss's derivative in the keep value at
// keep ~ 1, which is near zero at the teacher-matching optimum and carries mostly noise
// (docs/uvc.md "Block gates").
#pragma once

#include <vector>

#include <ATen/Tensor.h>

#include "compress/common/distill.h"
#include "model/vit.h"

namespace vitc {

// [L] float64 on the CPU, around the gates' current decision `skipped` (UvcDecision::skip): for
// each block l, uvc_loss with block l skipped minus uvc_loss with block l run, every
// other block as decided, on `images` (no gradients; `teacher_logits` may be undefined when the
// loss does not use the teacher). For a skipped block it is what restoring it would gain.
at::Tensor measure_skip_costs(VisionTransformerImpl& student, const at::Tensor& images,
                              const at::Tensor& teacher_logits, const at::Tensor& labels,
                              const DistillOptions& loss, const std::vector<bool>& skipped);

}  // namespace vitc
