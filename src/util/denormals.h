// Subnormal float arithmetic on CPU. Measured (docs/families.md, "Training speed"): Swin's
// shifted-window mask adds -100 to the scores of tokens from other windows, so softmax gives
// them exp(-100) ~ 4e-44, a subnormal float; every product with one (attention times values,
// softmax backward, the gradients of both matmuls) takes the CPU's slow microcode path. With
// subnormals flushed to zero (FTZ/DAZ) an fm_swin training step took 2.01 s instead of 2.71 s
// (3 steps, batch 128). Values below 1.2e-38 become 0, which changes no logit visibly.
#pragma once

#include <string>

namespace vitc {

// flush: subnormal inputs and results become 0 (x86 FTZ and DAZ) in this thread and in the
// threads it starts afterwards (they inherit the floating-point environment: torch's intra-op
// pool starts on its first parallel region). OpenBLAS's pool, started when the library loaded,
// keeps IEEE subnormals; GEMMs small enough to run on the calling thread (attention's) do not.
// false restores IEEE subnormals. Returns a description for the `threads:` line, e.g.
// "subnormals flushed to zero".
std::string configure_denormals(bool flush);

}  // namespace vitc
