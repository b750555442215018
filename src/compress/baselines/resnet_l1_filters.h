// L1-norm filter pruning (Li et al., ICLR'17), the dense filter-level baseline DC-ViT's CNN table
// contrasts with block removal: inside every residual block, each inner conv keeps the output
// filters with the largest L1 norms (its next conv loses the matching inputs); block outputs and
// the stem stay whole, as in the paper's ResNet setting. One kept fraction for every inner conv:
// the largest whose compact model meets the MACs target.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "model/families/resnet/resnet.h"
#include "model/families/resnet/resnet_structure.h"
#include "compress/common/resnet_finish.h"
#include "train/evaluate.h"

namespace vitc {

// Every inner conv keeps max(1, ceil(keep_fraction * width)) filters, those of largest L1 norm.
ResNetStructure l1_filter_structure(ResNetImpl& model, double keep_fraction);

struct L1FilterChoice {
  ResNetStructure structure;
  double keep_fraction = 1;
  int64_t macs = 0;
};
// The largest kept fraction (to 1e-4) whose compact model has at most target_macs MACs. A target
// below the model with one filter per inner conv is refused, naming that model's MACs.
L1FilterChoice l1_filters_for_macs(ResNetImpl& model, int64_t target_macs);

struct ResNetL1Run {
  ResNet compact{nullptr};
  EvalResult teacher_eval;
  nlohmann::json record;  // teacher, settings (keep fraction, target), finish_resnet's record
};
// The baseline end to end on the few-shot images, finished as every CNN method (resnet_finish.h).
ResNetL1Run run_resnet_l1_filters(ResNet teacher, const nlohmann::json& teacher_info,
                                  const FewShotSet& few_shot, const Dataset& eval_data,
                                  int64_t target_macs, const ResNetFinishOptions& finish,
                                  const std::string& out_dir, int64_t eval_batch = 256);

}  // namespace vitc
