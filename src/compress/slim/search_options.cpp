// ViT-Slim search settings: validation, the settings a resume must match, result records.
#include <cmath>

#include "compress/slim/search.h"
#include "util/error.h"

namespace vitc {

nlohmann::json SearchOptions::trajectory_json() const {
  return {{"epochs", epochs},
          {"batch_size", batch_size},
          {"lr", lr},
          {"weight_decay", weight_decay},
          {"clip_grad", clip_grad},
          {"lambda_attn", lambdas.attn},
          {"lambda_mlp", lambdas.mlp},
          {"lambda_tokens", lambdas.tokens},
          {"tokens", tokens},
          {"freeze_weights", freeze_weights},
          {"kd_alpha", loss.alpha},
          {"kd_temperature", loss.temperature},
          {"label_smoothing", loss.label_smoothing},
          {"seed", seed},
          {"augment_pad", augment.pad},
          {"augment_hflip", augment.hflip},
          {"max_steps_per_epoch", max_steps_per_epoch}};
}

void SearchOptions::validate() const {
  check(epochs >= 1, "--epochs must be at least 1, got ", epochs);
  check(batch_size >= 1, "--batch-size must be at least 1, got ", batch_size);
  check(lr > 0 && std::isfinite(lr), "--lr must be positive, got ", lr);
  check(weight_decay >= 0, "--weight-decay must be >= 0, got ", weight_decay);
  check(clip_grad >= 0, "--clip-grad must be >= 0 (0 disables it), got ", clip_grad);
  check(lambdas.attn >= 0 && lambdas.mlp >= 0 && lambdas.tokens >= 0,
        "--lambda-attn, --lambda-mlp and --lambda-tokens must be >= 0, got ", lambdas.attn, ", ",
        lambdas.mlp, ", ", lambdas.tokens);
  loss.validate();
  check(augment.pad >= 0, "augmentation padding must be >= 0, got ", augment.pad);
  check(eval_batch_size >= 1, "evaluation batch size must be at least 1, got ", eval_batch_size);
  check(max_steps_per_epoch >= 0, "--max-steps-per-epoch must be >= 0, got ", max_steps_per_epoch);
  check(!out_dir.empty(), "an output directory (--out) is required");
}

nlohmann::json SearchResult::to_json() const {
  return {{"history", history},
          {"resumed_after_epoch", resumed_after_epoch},
          {"reused_finished_search", reused},
          {"seconds", seconds},
          {"search_seconds", search_seconds},
          {"post_search_eval", post_search_eval},
          {"masks", slim_mask_stats(masks)}};
}

}  // namespace vitc
