// --device and --precision: parsing, and autocast for LibTorch 1.13 (per-device-type setters)
// and 2.4+ (setters that take the device type).
#include "util/compute.h"

#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "util/error.h"

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define VITC_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace vitc {

c10::Device parse_device(const std::string& name) {
  check(name == "cpu" || name.rfind("cuda", 0) == 0, "--device must be cpu or cuda[:N], got '",
        name, "'");
  if (name == "cpu") return c10::Device(c10::kCPU);
  check(torch::cuda::is_available(), "--device ", name,
        ": CUDA is not available (this LibTorch is built without CUDA or no GPU is visible)");
  c10::Device device(c10::kCUDA);
  try {
    device = c10::Device(name);
  } catch (const c10::Error&) {
    fail("--device: cannot parse '", name, "' (expected cuda or cuda:N)");
  }
  const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  check(!device.has_index() || device.index() < count, "--device ", name, ": only ", count,
        " CUDA device(s) visible");
  // A bare "cuda" is the first visible GPU, named with its index so that it compares equal to
  // the device of the tensors placed there.
  return device.has_index() ? device : c10::Device(c10::kCUDA, 0);
}

std::string process_device_name(const std::string& name, int local_rank) {
  return name == "cuda" && local_rank >= 0 ? "cuda:" + std::to_string(local_rank) : name;
}

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::fp32;
  if (name == "bf16") return Precision::bf16;
  fail("--precision must be fp32 or bf16, got '", name, "'");
}

std::string precision_name(Precision precision) {
  return precision == Precision::bf16 ? "bf16" : "fp32";
}

void set_precision(const c10::Device& device, Precision precision) {
  check(device.is_cpu() || device.is_cuda(), "--precision: autocast is supported on cpu and cuda, not ",
        device.str());
  const bool on = precision == Precision::bf16;
  at::autocast::set_autocast_cache_enabled(false);
#ifdef VITC_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(device.type(), at::kBFloat16);
  at::autocast::set_autocast_enabled(device.type(), on);
#else
  if (device.is_cpu()) {
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(on);
  } else {
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(on);
  }
#endif
}

Precision current_precision(const c10::Device& device) {
#ifdef VITC_AUTOCAST_BY_DEVICE_TYPE
  const bool on = at::autocast::is_autocast_enabled(device.type());
#else
  const bool on = device.is_cpu() ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
  return on ? Precision::bf16 : Precision::fp32;
}

}  // namespace vitc
