// Deep copy of a ViT through its state dict.
#include "model/clone_model.h"

#include "model/state_dict.h"

namespace vitc {

VisionTransformer clone_model(VisionTransformerImpl& source) {
  VisionTransformer copy(source.config());
  copy->to(source.device(), source.options().dtype().toScalarType());
  load_state_dict(*copy, state_dict(source), "model '" + source.config().name + "'");
  copy->train(source.is_training());
  return copy;
}

}  // namespace vitc
