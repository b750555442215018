// Evaluation plus interleaved teacher/model latency.
#include "experiment/measure.h"

#include "report/latency.h"
#include "util/error.h"

namespace vitc {

nlohmann::json ModelMeasurement::to_json() const {
  return {{"macs", macs},
          {"params", params},
          {"eval", eval_to_json(eval)},
          {"latency_ms", {{"batch1", latency_b1_ms}, {"batch64", latency_b64_ms}}},
          {"teacher_latency_ms", {{"batch1", teacher_b1_ms}, {"batch64", teacher_b64_ms}}},
          {"latency_ratio",
           {{"batch1", latency_b1_ms / teacher_b1_ms}, {"batch64", latency_b64_ms / teacher_b64_ms}}}};
}

namespace {

std::pair<double, double> interleaved_medians(const AnyModel& teacher, const AnyModel& model,
                                              int64_t batch,
                                              int repeats) {
  const at::Tensor images =
      latency_input(teacher.input.in_chans, teacher.input.img_size, batch, teacher.classifier.device);
  std::vector<double> t, m;
  for (int i = 0; i < repeats + 2; ++i) {
    const double tt = time_forward_ms(teacher.classifier.logits, images),
                 tm = time_forward_ms(model.classifier.logits, images);
    if (i >= 2) t.push_back(tt), m.push_back(tm);
  }
  return {summarize_latency(t, batch, 2).median_ms, summarize_latency(m, batch, 2).median_ms};
}

}  // namespace

ModelMeasurement measure_model(const AnyModel& teacher, const AnyModel& model,
                               const Dataset& test, int repeats, int64_t eval_batch) {
  check(repeats > 0, "latency repeats must be positive, got ", repeats);
  teacher.classifier.module->eval();
  model.classifier.module->eval();
  ModelMeasurement m;
  m.macs = model.macs;
  m.params = model.params;
  m.eval = evaluate(model.classifier, test, eval_batch);
  std::tie(m.teacher_b1_ms, m.latency_b1_ms) = interleaved_medians(teacher, model, 1, 4 * repeats);
  std::tie(m.teacher_b64_ms, m.latency_b64_ms) = interleaved_medians(teacher, model, 64, repeats);
  return m;
}

}  // namespace vitc
