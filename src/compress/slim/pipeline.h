// ViT-Slim after the search: extract at one budget, evaluate, finetune the compact model with
// the shared trainer (CE, optionally distilled from the teacher) and write the compressed model
// directory. Used by `vitc slim extract` and `vitc slim run`.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "compress/common/finetune.h"
#include "compress/slim/extract.h"
#include "compress/slim/search_dir.h"
#include "data/dataset.h"

namespace vitc {

struct CompressResult {
  VisionTransformer compact{nullptr};
  nlohmann::json record;  // teacher, search, extraction, finetune and result sections of run.json
};

// Extracts from `search`, evaluates the teacher and the compact model on `eval_data` before and
// after finetuning, and writes finetune.train.out_dir as a compressed model directory (weights,
// model.json with the Structure and source config). `teacher` is only read.
CompressResult compress_from_search(const SearchDir& search, VisionTransformer teacher,
                                    const std::shared_ptr<const Dataset>& train_data,
                                    const std::shared_ptr<const Dataset>& eval_data,
                                    const ExtractOptions& extract, const FinetuneOptions& finetune);

}  // namespace vitc
