// state_dict / load_state_dict for LibTorch modules, strict and with complete error reports.
#include "model/state_dict.h"

#include <sstream>

#include <torch/torch.h>

#include "util/error.h"

namespace vitc {

TensorMap state_dict(const torch::nn::Module& module) {
  TensorMap out;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    out[item.key()] = item.value().detach();
  }
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    out[item.key()] = item.value().detach();
  }
  return out;
}

void load_state_dict(torch::nn::Module& module, const TensorMap& tensors, const std::string& source) {
  TensorMap own = state_dict(module);
  std::vector<std::string> missing, unexpected, mismatched, wrong_dtype;
  for (const auto& [name, target] : own) {
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      missing.push_back(name);
    } else if (it->second.sizes() != target.sizes()) {
      mismatched.push_back(str_cat(name, " (file ", it->second.sizes(), ", model ", target.sizes(), ")"));
    } else if (target.is_floating_point() && !it->second.is_floating_point()) {
      // An integer tensor converted to float is a silent wrong answer (a relabelled dtype).
      wrong_dtype.push_back(str_cat(name, " (file ", it->second.scalar_type(), ", expected a float "
                                    "dtype: F32, F16, BF16 or F64)"));
    }
  }
  for (const auto& [name, tensor] : tensors) {
    if (own.count(name) == 0) unexpected.push_back(name);
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty() || !wrong_dtype.empty()) {
    std::ostringstream msg;
    msg << "weights in '" << source << "' do not match the model:";
    if (!missing.empty()) msg << "\n  missing keys: " << join(missing);
    if (!unexpected.empty()) msg << "\n  unexpected keys: " << join(unexpected);
    if (!mismatched.empty()) msg << "\n  wrong shapes: " << join(mismatched, "; ");
    if (!wrong_dtype.empty()) msg << "\n  wrong dtypes: " << join(wrong_dtype, "; ");
    fail(msg.str());
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : own) {
    target.copy_(tensors.at(name).to(target.dtype()));
  }
}

}  // namespace vitc
