// Where DC-ViT's synthetic metric set comes from: another run's directory (--synth), this run's
// own <out>/synth when --resume finds it made with the same settings, or a new inversion of the
// teacher, saved there. One decision for every rank of a data-parallel run.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "compress/common/model_inversion.h"
#include "dist/group.h"

namespace vitc {

struct SyntheticSource {
  std::string reuse_dir;  // a finished set to use as it is ("" = none)
  std::string own_dir;    // where this run keeps (or finds, with resume) its own set
  bool resume = false;
};

struct ObtainedSyntheticSet {
  SyntheticSet set;
  // {"dir", "reused", and of the set's info: options, best_loss, first_loss, teacher_agreement,
  // seconds}
  nlohmann::json record;
};

// Inverts the teacher, saves the set in `dir` (rank 0) and prints a summary line (rank 0). With a group every rank inverts its share and returns rank 0's set.
SyntheticSet synthesize(VisionTransformer teacher, const InversionOptions& options,
                        const std::string& dir, dist::Group* group = nullptr);
// The same for a teacher of any family (ResNets: compress/common/bn_statistics_prior.h).
SyntheticSet synthesize(const InversionSubject& subject, const InversionOptions& options,
                        const std::string& dir, dist::Group* group = nullptr);

// Reuses, resumes or makes the set. A set in own_dir made with other --synth-* settings is
// refused on resume, naming the directory.
ObtainedSyntheticSet obtain_synthetic_set(VisionTransformer teacher, const InversionOptions& options,
                                          const SyntheticSource& source,
                                          dist::Group* group = nullptr);

}  // namespace vitc
