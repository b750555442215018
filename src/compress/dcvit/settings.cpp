// Shared DC-ViT stage helpers: neuron choice and stage keys.
#include "compress/dcvit/settings.h"

#include "util/error.h"

namespace vitc {

nlohmann::json DcvitSettings::to_json() const {
  return {{"candidates", candidates},
          {"neurons", to_string(neurons)},
          {"neuron_seed", neuron_seed},
          {"mimic", mimic.to_json()}};
}

std::vector<int> choose_neurons(VisionTransformerImpl& model, const ModelMasks& masks, int block,
                                int hidden, const DcvitInputs& in, const DcvitSettings& settings) {
  const int source_hidden = model.config().blocks[static_cast<size_t>(block)].mlp_hidden;
  if (settings.neurons == NeuronChoice::kRandom)
    return random_neurons(source_hidden, hidden, settings.neuron_seed, block);
  return important_neurons(neuron_importance(model, masks, block, *in.few_shot.images), hidden);
}

nlohmann::json stage_key_base(const DcvitInputs& in, const DcvitSettings& settings) {
  return {{"teacher", in.teacher_info},
          {"few_shot_indices", in.few_shot.indices},
          {"neurons", to_string(settings.neurons)},
          {"neuron_seed", settings.neuron_seed}};
}

}  // namespace vitc
