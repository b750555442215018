// The finishing path every CNN method shares: the compact ResNet of a structure (blocks dropped,
// inner channels pruned) is sliced from the teacher, finetuned by feature mimicking on the
// few-shot images (every block; BatchNorm in train mode), evaluated and written as a model
// directory with its structure and source config.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "compress/common/feature_mimic.h"
#include "compress/common/few_shot.h"
#include "data/dataset.h"
#include "model/families/resnet/resnet.h"
#include "model/families/resnet/resnet_structure.h"
#include "train/evaluate.h"

namespace vitc {

struct ResNetFinishOptions {
  MimicOptions mimic;
  bool resume = false;
  bool quiet = false;
  std::string method;  // recorded in model.json ("compressed_by")
};

struct ResNetFinished {
  ResNet compact{nullptr};
  nlohmann::json record;  // dropped, dropped_names, kept_inner, finetune, result
};

// run.json's "result" of a compressed ResNet: its evaluation, MACs and parameters, and their
// fractions of the source's.
nlohmann::json resnet_result_json(const EvalResult& eval, const ResNetConfig& source,
                                  const ResNetConfig& compact);

// Saves the compressed model in `dir` with its structure and source config.
void save_compressed_resnet(const std::string& dir, ResNetImpl& compact, const ResNetConfig& source,
                            const ResNetStructure& structure, const std::string& compressed_by);

// Slices `structure` from the teacher, finetunes it (stage in out_dir/finetune), evaluates it on
// `eval_data` and writes out_dir.
ResNetFinished finish_resnet(ResNet teacher, const FewShotSet& few_shot,
                             const ResNetStructure& structure, const ResNetFinishOptions& options,
                             const Dataset& eval_data, const std::string& out_dir,
                             int64_t eval_batch = 256);

}  // namespace vitc
