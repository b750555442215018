// Shared DC-ViT stage helpers: neuron choice and stage keys.
#include "compress/dcvit/settings.h"

#include "compress/common/data_parallel.h"
#include "util/error.h"

namespace vitc {

nlohmann::json DcvitSettings::to_json() const {
  return {{"candidates", candidates},
          {"neurons", to_string(neurons)},
          {"neuron_seed", neuron_seed},
          {"round_to", round_to},
          {"mimic", mimic.to_json()},
          {"rank_epochs", ranking_mimic().epochs}};
}

std::vector<int> choose_neurons(VisionTransformerImpl& model, const ModelMasks& masks, int block,
                                int hidden, const DcvitInputs& in, const DcvitSettings& settings) {
  const int source_hidden = model.config().blocks[static_cast<size_t>(block)].mlp_hidden;
  std::vector<int> kept =
      settings.neurons == NeuronChoice::kRandom
          ? random_neurons(source_hidden, hidden, settings.neuron_seed, block)
          : important_neurons(neuron_importance(model, masks, block, *in.few_shot.images), hidden);
  if (settings.dist) {
    std::vector<double> values(kept.begin(), kept.end());
    broadcast_values(settings.dist.get(), values);
    for (size_t i = 0; i < kept.size(); ++i) kept[i] = static_cast<int>(values[i]);
  }
  return kept;
}

nlohmann::json stage_key_base(const DcvitInputs& in, const DcvitSettings& settings) {
  return {{"teacher", in.teacher_info},
          {"few_shot_indices", in.few_shot.indices},
          {"neurons", to_string(settings.neurons)},
          {"neuron_seed", settings.neuron_seed}};
}

}  // namespace vitc
