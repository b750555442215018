// Where and in which precision models run: the --device and --precision every command that runs
// a model takes. fp32 is the default; bf16 is autocast (matrix products in bfloat16, weights,
// gradients, optimizer state and reductions in float32), on CPU and on CUDA.
#pragma once

#include <string>

#include <c10/core/Device.h>

namespace vitc {

enum class Precision { fp32, bf16 };

// "cpu", "cuda" or "cuda:N" ("cuda" is cuda:0); throws vitc::Error if CUDA is asked for but not
// available.
c10::Device parse_device(const std::string& name);

// The device of one process of a data-parallel run: a bare "cuda" becomes "cuda:<local_rank>" when
// the launcher gave a local rank (>= 0; torchrun's LOCAL_RANK), so that the processes on one
// machine use one GPU each; anything else is returned unchanged.
std::string process_device_name(const std::string& name, int local_rank);

// "fp32" or "bf16"; throws vitc::Error naming the accepted values otherwise.
Precision parse_precision(const std::string& name);
std::string precision_name(Precision precision);

// Turns autocast on (bf16) or off (fp32) for forward passes on `device`'s type in this thread,
// for the rest of the thread's life, with autocast's weight cache off (a cached low-precision
// copy would go stale when the optimizer updates the weights in place). Throws vitc::Error
// where the LibTorch in use cannot autocast to bf16 on that device.
void set_precision(const c10::Device& device, Precision precision);

// What set_precision last chose for `device`'s type in this thread.
Precision current_precision(const c10::Device& device);

}  // namespace vitc
