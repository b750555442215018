// Named tensors of a module (timm key names) and strict loading that reports every problem.
#pragma once

#include <string>

#include <torch/nn/module.h>

#include "io/safetensors.h"

namespace vitc {

// Parameters and buffers by their dotted names, detached (shares memory with the module).
TensorMap state_dict(const torch::nn::Module& module);

// Copies `tensors` into the module's parameters. Every missing key, unexpected key and wrongly
// shaped tensor is collected and reported together, by name, in one vitc::Error that names
// `source` (the file the tensors came from). Tensors are converted to the parameter's dtype.
void load_state_dict(torch::nn::Module& module, const TensorMap& tensors, const std::string& source);

}  // namespace vitc
