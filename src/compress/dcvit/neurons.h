// Which MLP neurons a compressed DC-ViT block keeps: a seeded random subset (the reference's
// default 'rand_sample') or the most important ones on the few-shot images (an option).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "model/masks.h"
#include "model/vit.h"

namespace vitc {

enum class NeuronChoice { kRandom, kImportance };
NeuronChoice parse_neuron_choice(const std::string& text);  // "random" | "importance"
std::string to_string(NeuronChoice choice);

// `keep` of the block's `hidden` neurons, drawn by a shuffle seeded with (seed, block), sorted.
std::vector<int> random_neurons(int hidden, int keep, uint64_t seed, int block);

// Importance of each MLP neuron of `block` as the compressed block would use it (attention
// removed: the MLP sees norm2 of the block's input): mean |GELU(fc1 . norm2(x))| over the images'
// tokens times the L2 norm of the neuron's fc2 column. The model runs under `masks` (the blocks
// compressed so before), eval mode, no autograd; only images of `data` are read.
std::vector<double> neuron_importance(VisionTransformerImpl& model, const ModelMasks& masks,
                                      int block, const Dataset& data, int64_t batch_size = 256);

// The `keep` most important neurons (ties by index), sorted.
std::vector<int> important_neurons(const std::vector<double>& importance, int keep);

}  // namespace vitc
