// Skip costs: one forward with every block run, then one with each block skipped.
#include "compress/uvc/skip_cost.h"

#include <torch/torch.h>

#include "compress/uvc/loss.h"

namespace vitc {

at::Tensor measure_skip_costs(VisionTransformerImpl& student, const at::Tensor& images,
                              const at::Tensor& teacher_logits, const at::Tensor& labels,
                              const DistillOptions& loss) {
  torch::NoGradGuard no_grad;
  const int depth = static_cast<int>(student.config().blocks.size());
  const auto options = images.options();
  const auto loss_with = [&](int skipped) {
    ModelMasks masks;
    masks.blocks.resize(depth);
    for (int l = 0; l < depth; ++l)
      masks.blocks[l].gate = torch::full({}, l == skipped ? 0.0 : 1.0, options);
    return uvc_loss(student.forward_heads(images, &masks), teacher_logits, labels, loss)
        .item<double>();
  };
  const double all_run = loss_with(-1);
  at::Tensor costs = torch::zeros({depth}, torch::kFloat64);
  for (int l = 0; l < depth; ++l) costs[l] = loss_with(l) - all_run;
  return costs;
}

}  // namespace vitc
