// UVC end to end: stage 1 (search), the final Structure within 1% of the budget, slicing, and
// stage 2 (finetuning the compact model with the shared trainer and KD), with the record that
// goes into run.json. Used by `vitc uvc run`.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "compress/common/finetune.h"
#include "compress/uvc/search.h"
#include "data/dataset.h"
#include "train/trainer.h"

namespace vitc {

// UVC's stage 2: the shared finetuning (finetune.h) with UVC's loss (uvc/loss.h) and defaults.
FinetuneOptions uvc_finetune_defaults();

struct UvcRunOptions {
  UvcSearchOptions search;  // search.out_dir is normally <out>/search
  // finetune.train.out_dir is the output model directory
  FinetuneOptions finetune = uvc_finetune_defaults();
  double budget_tolerance = 0.01;  // relative; the final Structure must be this close to the budget
  int round_to = 1;  // the final Structure's v and MLP widths on the --round-to grid (repair.h)
  void validate() const;
};

struct UvcRunResult {
  VisionTransformer compact{nullptr};
  nlohmann::json record;  // teacher, search, structure, finetune, result sections of run.json
};

// `teacher` is only read. Writes the search directory and the compressed model directory.
UvcRunResult run_uvc(VisionTransformer teacher, const nlohmann::json& teacher_info,
                     const std::shared_ptr<const Dataset>& train_data,
                     const std::shared_ptr<const Dataset>& eval_data, const UvcRunOptions& options);

}  // namespace vitc
