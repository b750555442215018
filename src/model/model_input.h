// What a model takes in, whatever its family: name (for messages), input channels and side,
// classes, and the per-channel statistics its inputs are normalised with. Code that only needs
// these (model inversion, synthetic image sets, latency inputs) takes a ModelInput, which every
// family's config converts to.
#pragma once

#include <string>
#include <vector>

#include "model/config.h"
#include "model/families/resnet/resnet_config.h"

namespace vitc {

struct ModelInput {
  std::string name;
  int in_chans = 3;
  int img_size = 224;
  int num_classes = 1000;
  std::vector<double> mean, std;

  ModelInput() = default;
  ModelInput(const ViTConfig& c)  // NOLINT(google-explicit-constructor): every config is one
      : name(c.name), in_chans(c.in_chans), img_size(c.img_size), num_classes(c.num_classes),
        mean(c.mean), std(c.std) {}
  ModelInput(const ResNetConfig& c)  // NOLINT(google-explicit-constructor)
      : name(c.name), in_chans(c.in_chans), img_size(c.img_size), num_classes(c.num_classes),
        mean(c.mean), std(c.std) {}
};

}  // namespace vitc
