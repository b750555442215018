// Shared by the CNN methods' tests: a small ResNet of fm_resnet's layout whose BatchNorm running
// statistics are those of the data the test feeds, so that activations stay of order one through
// its nine blocks, as in a trained network.
#pragma once

#include <functional>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "model/families/resnet/resnet.h"

namespace vitc::test {

// fm_resnet (three stages of three basic blocks) at `planes` widths on img_size x img_size inputs:
// weights drawn with std 0.2 (BatchNorm weights 1 + that), then 30 train-mode passes over
// `calibration` batches set the running statistics; returned in eval mode.
inline ResNet calibrated_small_resnet(int img_size, const std::vector<int>& planes, uint64_t seed,
                                      const std::function<at::Tensor(at::Generator&)>& calibration) {
  ResNetConfig c = named_resnet_config("fm_resnet");
  c.name = "small_resnet";
  c.img_size = img_size;
  c.stem_width = planes.front();
  c.planes = planes;
  for (auto& b : c.blocks) b.inner = {c.planes[b.stage]};
  ResNet model = make_resnet(c, seed);
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed + 1);
  for (auto& p : model->named_parameters()) {
    const bool bn_weight = p.key().find("bn") != std::string::npos && p.key().find("weight") != std::string::npos;
    const at::Tensor noise = at::normal(0.0, 0.2, p.value().sizes(), gen);
    p.value().copy_(bn_weight ? 1.0 + noise : noise);
  }
  model->train();
  for (int i = 0; i < 30; ++i) model->forward(calibration(gen));
  model->eval();
  return model;
}

// Standard-normal batches of 32 one-channel images of side `img_size`.
inline std::function<at::Tensor(at::Generator&)> normal_images(int img_size) {
  return [img_size](at::Generator& gen) { return at::normal(0.0, 1.0, {32, 1, img_size, img_size}, gen); };
}

}  // namespace vitc::test
