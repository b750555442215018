// Reuse, resume or inversion of the synthetic metric set, decided once for every rank.
#include "compress/dcvit/synthetic_source.h"

#include <cstdio>

#include "compress/common/data_parallel.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace vitc {

SyntheticSet synthesize(VisionTransformer teacher, const InversionOptions& options,
                        const std::string& dir, dist::Group* group) {
  return synthesize(subject_of(*teacher), options, dir, group);
}

SyntheticSet synthesize(const InversionSubject& subject, const InversionOptions& options,
                        const std::string& dir, dist::Group* group) {
  SyntheticSet set = invert_teacher(subject, options, group);
  if (is_lead(group)) save_synthetic_set(dir, set, subject.input);
  barrier(group);  // the set is on disk when any rank goes on
  if (is_lead(group))
    std::fprintf(stderr,
                 "synthetic set: %d images in %s (loss %.4f -> %.4f at iteration %d; the teacher "
                 "classifies %.0f%% as their targets) %s\n",
                 options.count, dir.c_str(), set.info["first_loss"].get<double>(),
                 set.info["best_loss"].get<double>(), set.info["best_iteration"].get<int>(),
                 100 * set.info["teacher_agreement"].get<double>(),
                 format_duration(set.info["seconds"].get<double>()).c_str());
  return set;
}

ObtainedSyntheticSet obtain_synthetic_set(VisionTransformer teacher, const InversionOptions& options,
                                          const SyntheticSource& source, dist::Group* group) {
  ObtainedSyntheticSet out;
  if (!source.reuse_dir.empty()) {
    out.set = load_synthetic_set(source.reuse_dir, teacher->config());
    out.record = {{"dir", source.reuse_dir}, {"reused", true}};
  } else if (lead_decides(group,
                          source.resume && file_exists(source.own_dir + "/synthetic.safetensors"),
                          str_cat("a synthetic set in ", source.own_dir))) {
    out.set = load_synthetic_set(source.own_dir, teacher->config());
    check(out.set.info.value("options", nlohmann::json()) == options.to_json(),
          "cannot resume: the synthetic set in ", source.own_dir,
          " was made with other --synth-* settings; use the same or a new --out");
    out.record = {{"dir", source.own_dir}, {"reused", true}};
  } else {
    out.set = synthesize(teacher, options, source.own_dir, group);
    out.record = {{"dir", source.own_dir}, {"reused", false}};
  }
  for (const char* k : {"options", "best_loss", "first_loss", "teacher_agreement", "seconds"})
    if (out.set.info.contains(k)) out.record[k] = out.set.info[k];
  return out;
}

}  // namespace vitc
