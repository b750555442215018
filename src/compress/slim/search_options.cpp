// ViT-Slim search settings: validation, the settings a resume must match, result records.
#include <cmath>

#include "compress/slim/search.h"
#include "util/error.h"

namespace vitc {

nlohmann::json SearchOptions::trajectory_json() const { return settings_to_json(*this); }

void SearchOptions::validate(const std::string& flag_prefix) const {
  validate_settings(*this, flag_prefix);
  check(eval_batch_size >= 1, "evaluation batch size must be at least 1, got ", eval_batch_size);
  check(!out_dir.empty(), "an output directory (--out) is required");
}

nlohmann::json SearchResult::to_json() const {
  return {{"history", history},
          {"resumed_after_epoch", resumed_after_epoch},
          {"reused_finished_search", reused},
          {"seconds", seconds},
          {"search_seconds", search_seconds},
          {"post_search_eval", post_search_eval},
          {"masks", slim_mask_stats(masks, model->config())}};
}

}  // namespace vitc
