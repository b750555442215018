// The training settings every training stage shares (vitc train, finetuning, the methods'
// searches and few-shot finetuning), declared once: flag name, help, allowed values, JSON key.
// An options struct lists the ones it has in its visit_settings (util/settings.h); a stage may
// narrow a range or sharpen a help text with with_range / with_help.
#pragma once

#include "util/settings.h"

namespace vitc::setting {

inline const Setting kEpochs{"epochs", "epochs", Range::at_least(1)};
inline const Setting kBatchSize{"batch-size", "batch size (per process)", Range::at_least(1)};
inline const Setting kLr{"lr", "peak learning rate (AdamW, cosine schedule)", Range::positive()};
inline const Setting kMinLr{"min-lr", "final learning rate of the cosine schedule",
                            Range::at_least(0)};
inline const Setting kWarmupEpochs{"warmup-epochs", "linear learning-rate warmup in epochs",
                                   Range::at_least(0)};
inline const Setting kWeightDecay{"weight-decay", "AdamW weight decay", Range::at_least(0)};
inline const Setting kLabelSmoothing{"label-smoothing", "label smoothing",
                                     Range::half_open(0, 1)};
inline const Setting kClipGrad{"clip-grad", "max global gradient norm (0 = off)",
                               Range::at_least(0)};
inline const Setting kSeed{"seed", "seed of data order and augmentation"};
inline const Setting kMaxStepsPerEpoch{"max-steps-per-epoch", "truncate epochs (0 = full)",
                                       Range::at_least(0)};

}  // namespace vitc::setting
