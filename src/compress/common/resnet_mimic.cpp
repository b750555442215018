// ResNet feature mimicking: loss, trainable parts and the trainee.
#include "compress/common/resnet_mimic.h"

#include <torch/torch.h>

namespace vitc {

at::Tensor resnet_feature_mimic_loss(ResNetImpl& student, ResNetImpl& teacher,
                                     const at::Tensor& images) {
  at::Tensor target;
  {
    torch::NoGradGuard no_grad;
    target = teacher.forward_features(images);
  }
  return torch::mse_loss(student.forward_features(images), target);
}

namespace {

int last_trained(const ResNetImpl& model, int last_block) {
  return last_block < 0 ? model.config().depth() - 1 : last_block;
}

}  // namespace

void set_resnet_trainable(ResNetImpl& model, int last_block) {
  const int last = last_trained(model, last_block);
  for (auto& p : model.parameters()) p.set_requires_grad(true);
  for (auto& p : model.fc->parameters()) p.set_requires_grad(false);
  for (int i = last + 1; i < model.config().depth(); ++i) {
    for (auto& p : model.block(i)->parameters()) p.set_requires_grad(false);
  }
}

Trainee resnet_mimic_trainee(ResNet& student, ResNet teacher, int last_block) {
  set_resnet_trainable(*student, last_block);
  Trainee t = trainee_of(student, 0.0);
  ResNetImpl& s = *student;
  const int last = last_trained(s, last_block);
  t.loss = [&s, teacher, last](const Batch& batch) mutable {
    teacher->eval();
    for (int i = last + 1; i < s.config().depth(); ++i) s.block(i)->eval();
    return resnet_feature_mimic_loss(s, *teacher, batch.images);  // batch.labels unused
  };
  return t;
}

}  // namespace vitc
