// Looking up cblas_sgemm and dnnl_sgemm once (see cblas_sgemm.h).
#include "model/cblas_sgemm.h"

#include <ATen/Context.h>

#include "util/process_symbol.h"

namespace vitc {

SgemmFn cblas_sgemm_or_null() {
  static const SgemmFn fn = [] {
    if (at::globalContext().hasMKL()) return SgemmFn{nullptr};
    return process_symbol<SgemmFn>("cblas_sgemm");
  }();
  return fn;
}

DnnlSgemmFn dnnl_sgemm_or_null() {
  static const DnnlSgemmFn fn = process_symbol<DnnlSgemmFn>("dnnl_sgemm");
  return fn;
}

}  // namespace vitc
