// Slicing: a source model plus a Structure gives the compact model, a real ViT that carries only
// the kept rows and columns of every weight (no zero padding), and its model directory.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "model/structure.h"
#include "model/vit.h"

namespace vitc {

// Builds a model of compact_config(source config, structure) on the source's device and dtype,
// with weights copied from the kept rows/columns: qkv rows of the kept q, k and v dims of the
// kept heads (in head_compute_order), proj columns of the kept v dims, fc1 rows/bias and fc2
// columns of the kept neurons; embeddings, norms, biases of proj/fc2 and the head(s) as they
// are. Attention keeps the source's scale. Its logits equal the source's logits under
// structure_masks(structure) up to float rounding.
// Throws vitc::Error if the structure does not fit the model (naming block and field).
VisionTransformer slice_model(VisionTransformerImpl& source, const Structure& structure);

// Writes a compressed model directory: the compact model's weights and a model.json with
// "config" (the compact config), "structure" and "source_config", plus `extra` keys.
// load_model_dir checks the structure against the weights when it reads it back.
void save_compressed_model_dir(const std::string& dir, VisionTransformerImpl& compact,
                               const ViTConfig& source_config, const Structure& structure,
                               const nlohmann::json& extra = nlohmann::json::object());

}  // namespace vitc
