// The comparison's own measurement of every result, the same for all methods: exact MACs and
// parameters, top-1 on the test data, and latency at batch 1 and 64 timed interleaved with the
// teacher in one process, so that ratios compare like with like.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "train/any_model.h"
#include "train/evaluate.h"

namespace vitc {

struct ModelMeasurement {
  int64_t macs = 0;
  int64_t params = 0;
  EvalResult eval;
  double latency_b1_ms = 0, teacher_b1_ms = 0;    // medians
  double latency_b64_ms = 0, teacher_b64_ms = 0;
  nlohmann::json to_json() const;
};

// `repeats` timed rounds per batch size (4x as many at batch 1), after two warm-up rounds; a
// round times the teacher and the model back to back.
ModelMeasurement measure_model(const AnyModel& teacher, const AnyModel& model,
                               const Dataset& test, int repeats, int64_t eval_batch = 256);

}  // namespace vitc
