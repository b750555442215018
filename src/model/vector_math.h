// Scalar float functions written so that GCC and Clang vectorise the loops that call them (no
// library calls, no branches), and VITC_VECTOR_CLONES, which compiles a function for AVX-512,
// AVX2 and the baseline and picks one at run time, and what the hand-written AVX-512 row kernels
// (layer_norm_rows.cpp, softmax_rows.cpp) need: the intrinsics and a run-time CPU check.
// (A GELU on the same footing, erf by Abramowitz-Stegun 7.1.26, was 1.15x slower than ATen's
// vectorised kernel; model/gelu.h's fitted rational in AVX-512 registers takes 0.50-0.61 of it.)
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__INTEL_COMPILER)
#define VITC_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define VITC_HAS_AVX512_KERNELS 1
#include <immintrin.h>
#else
#define VITC_VECTOR_CLONES
#define VITC_HAS_AVX512_KERNELS 0
#endif

namespace vitc {

#if VITC_HAS_AVX512_KERNELS
// Whether this CPU runs AVX-512F code (checked once).
inline bool cpu_has_avx512f() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

// The lanes of a row of n floats that its last, partial 16-float vector holds (n % 16 of them;
// 0 when n is a multiple of 16), as the mask of the AVX-512 kernels' masked loads and stores.
inline __mmask16 tail_lanes16(int64_t n) { return static_cast<__mmask16>((1u << (n % 16)) - 1u); }
#endif

}  // namespace vitc

namespace vitc::vecmath {

// e^x: Cephes' single-precision exponential (degree-6 polynomial on [-ln2/2, ln2/2], about 1
// ulp); 0 below -87.3 (e^-inf included), clamped above 88.4.
inline float exp(float x) {
  const float lowest = -87.33654f;  // below: the result is 0 (exp(-inf) included)
  const float clamped = std::min(std::max(x, lowest), 88.37626f);
  // n = round(x / ln 2) by the 1.5 * 2^23 trick (round to nearest, no library call).
  const float shifter = 12582912.0f;
  const float n = (clamped * 1.44269504088896341f + shifter) - shifter;
  float r = clamped - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return x < lowest ? 0.0f : e * scale;
}

}  // namespace vitc::vecmath
