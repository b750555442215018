// FTZ/DAZ through ATen (cpuinfo checks that the CPU has them).
#include "util/denormals.h"

#include <ATen/Context.h>

namespace vitc {

std::string configure_denormals(bool flush) {
  const bool supported = at::globalContext().setFlushDenormal(flush);
  if (!flush) return "IEEE subnormals";
  return supported ? "subnormals flushed to zero" : "IEEE subnormals (this CPU cannot flush them)";
}

}  // namespace vitc
