// Skip costs: one forward with the gates' decision, then one with each block's decision flipped.
#include "compress/uvc/skip_cost.h"

#include <torch/torch.h>

#include "compress/uvc/loss.h"

namespace vitc {

at::Tensor measure_skip_costs(VisionTransformerImpl& student, const at::Tensor& images,
                              const at::Tensor& teacher_logits, const at::Tensor& labels,
                              const DistillOptions& loss, const std::vector<bool>& skipped) {
  torch::NoGradGuard no_grad;
  const int depth = static_cast<int>(skipped.size());
  const auto options = images.options();
  const auto loss_with = [&](int flipped) {
    ModelMasks masks;
    masks.blocks.resize(depth);
    for (int l = 0; l < depth; ++l)
      masks.blocks[l].gate = torch::full({}, (l == flipped) == skipped[l] ? 1.0 : 0.0, options);
    return uvc_loss(student.forward_heads(images, &masks), teacher_logits, labels, loss)
        .item<double>();
  };
  const double decided = loss_with(-1);
  at::Tensor costs = torch::zeros({depth}, torch::kFloat64);
  for (int l = 0; l < depth; ++l) {
    const double flipped = loss_with(l);
    costs[l] = skipped[l] ? decided - flipped : flipped - decided;
  }
  return costs;
}

}  // namespace vitc
