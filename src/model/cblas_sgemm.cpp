// Looking up cblas_sgemm and dnnl_sgemm once (see cblas_sgemm.h).
#include "model/cblas_sgemm.h"

#include <dlfcn.h>

#include <ATen/Context.h>

namespace vitc {

SgemmFn cblas_sgemm_or_null() {
  static const SgemmFn fn = [] {
    if (at::globalContext().hasMKL()) return SgemmFn{nullptr};
    return reinterpret_cast<SgemmFn>(::dlsym(RTLD_DEFAULT, "cblas_sgemm"));
  }();
  return fn;
}

DnnlSgemmFn dnnl_sgemm_or_null() {
  static const DnnlSgemmFn fn = reinterpret_cast<DnnlSgemmFn>(::dlsym(RTLD_DEFAULT, "dnnl_sgemm"));
  return fn;
}

}  // namespace vitc
