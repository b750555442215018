// Shared by the CUDA tests (CTest label `cuda`): every test starts with VITC_REQUIRE_CUDA(), which
// skips it (GTEST_SKIP, reported by CTest as "Skipped") where LibTorch sees no CUDA device, so the
// CPU suite runs them without failing, and runs on cuda_test_device().
#pragma once

#include <cstdlib>
#include <string>

#include <ATen/Context.h>
#include <c10/core/Device.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

namespace vitc::test {

// Where the CUDA tests run: cuda:0 when LibTorch sees a GPU. Without one they skip, except in
// the <name>_on_cpu builds (compiled with VITC_CUDA_TESTS_ON_CPU) or with the environment
// variable VITC_CUDA_TESTS_ON_CPU=1: a dry run on the CPU, which checks the tests' own logic
// (command lines, files, tolerances) on a machine without a GPU; only the device differs.
inline bool cuda_tests_on_cpu() {
#ifdef VITC_CUDA_TESTS_ON_CPU
  return true;
#else
  const char* v = std::getenv("VITC_CUDA_TESTS_ON_CPU");
  return v != nullptr && std::string(v) == "1";
#endif
}
inline bool cuda_tests_can_run() { return torch::cuda::is_available() || cuda_tests_on_cpu(); }
inline c10::Device cuda_test_device() {
  return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
}

}  // namespace vitc::test

#define VITC_REQUIRE_CUDA()                                                                   \
  do {                                                                                        \
    if (!vitc::test::cuda_tests_can_run()) {                                                  \
      GTEST_SKIP() << "no CUDA device visible to this LibTorch (a CPU-only build or no GPU); " \
                      "VITC_CUDA_TESTS_ON_CPU=1 runs these tests on the CPU instead";         \
    }                                                                                         \
  } while (false)

namespace vitc::test {

// Comparisons with the CPU want full float32 on the GPU: PyTorch lets cuDNN convolutions (the
// patch embedding) use TF32 by default, which rounds inputs to 10 mantissa bits. Restores the
// previous setting when the scope ends.
class Fp32OnCuda {
 public:
  Fp32OnCuda()
      : cudnn_(at::globalContext().allowTF32CuDNN()), cublas_(at::globalContext().allowTF32CuBLAS()) {
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setAllowTF32CuBLAS(false);
  }
  ~Fp32OnCuda() {
    at::globalContext().setAllowTF32CuDNN(cudnn_);
    at::globalContext().setAllowTF32CuBLAS(cublas_);
  }
  Fp32OnCuda(const Fp32OnCuda&) = delete;
  Fp32OnCuda& operator=(const Fp32OnCuda&) = delete;

 private:
  bool cudnn_, cublas_;
};

}  // namespace vitc::test
