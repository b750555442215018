// A deep copy of a ViT: same config, same weights, own tensors (methods train or fold the copy,
// never the teacher another component still reads).
#pragma once

#include "model/vit.h"

namespace vitc {

// Same config, device, dtype and training mode; parameters copied, not shared.
VisionTransformer clone_model(VisionTransformerImpl& source);

}  // namespace vitc
