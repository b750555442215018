// head_attention_fused: one head's scores, exponentials and output in AVX-512 registers, 16
// queries per vector (see head_attention.h).
#include "model/head_attention.h"

#include <algorithm>
#include <limits>

#include "model/vector_math.h"
#include "util/error.h"

namespace vitc {

#if VITC_HAS_AVX512_KERNELS
namespace {

constexpr int kLanes = 16;     // queries per vector
constexpr int kMaxBlock = 16;  // q/k dims per scores pass and v dims per output pass (registers)

// GCC 12 warns that the intrinsics' own "undefined" source registers may be used uninitialized
// (GCC bug 105593, inside avx512fintrin.h); nothing of ours is.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

// 2^x for scores in base 2 minus their maximum (x <= 0): n = round(x), 2^(x - n) by a degree-6
// polynomial on [-1/2, 1/2] (Cephes exp2f's form, coefficients fitted here for the smallest
// relative error: 1.0e-7 in float evaluation), times 2^n by scalef. Below -126 it returns
// 2^-126 (as good as 0 next to the maximum's 1). NaN stays NaN (max returns its second operand).
__attribute__((target("avx512f"))) inline __m512 exp2_of_nonpositive(__m512 x) {
  const __m512 clamped = _mm512_max_ps(_mm512_set1_ps(-126.0f), x);
  const __m512 n = _mm512_roundscale_ps(clamped, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(clamped, n);
  __m512 p = _mm512_set1_ps(1.5370733e-04f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.3399841e-03f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.6183736e-03f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.5503290e-02f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4022648e-01f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9314718e-01f));
  return _mm512_scalef_ps(_mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f)), n);
}

// scores[t] (16 queries' lanes) = (accumulate ? scores[t] : 0) + sum_j<J q_lanes[j] * k[t][j]
// for the n keys; k's row t starts at k + t * ld. Returns the lanes' maxima of what it stored.
// J is a constant so that the 16-query vectors of q stay in registers.
template <int J>
__attribute__((target("avx512f"))) __m512 scores_block(const float* q_lanes, const float* k,
                                                       int64_t ld, int64_t n, float* scores,
                                                       bool accumulate) {
  __m512 q[J];
#pragma GCC unroll 16
  for (int j = 0; j < J; ++j) q[j] = _mm512_load_ps(q_lanes + j * kLanes);
  const __m512 zero = _mm512_setzero_ps();
  __m512 high0 = _mm512_set1_ps(-std::numeric_limits<float>::infinity()), high1 = high0;
  int64_t t = 0;
  for (; t + 4 <= n; t += 4) {  // four keys at once: four independent chains of J products
    const float* k0 = k + t * ld;
    const float* k1 = k0 + ld;
    const float* k2 = k1 + ld;
    const float* k3 = k2 + ld;
    float* s = scores + t * kLanes;
    __m512 a0 = accumulate ? _mm512_load_ps(s) : zero;
    __m512 a1 = accumulate ? _mm512_load_ps(s + kLanes) : zero;
    __m512 a2 = accumulate ? _mm512_load_ps(s + 2 * kLanes) : zero;
    __m512 a3 = accumulate ? _mm512_load_ps(s + 3 * kLanes) : zero;
#pragma GCC unroll 16
    for (int j = 0; j < J; ++j) {
      a0 = _mm512_fmadd_ps(q[j], _mm512_set1_ps(k0[j]), a0);
      a1 = _mm512_fmadd_ps(q[j], _mm512_set1_ps(k1[j]), a1);
      a2 = _mm512_fmadd_ps(q[j], _mm512_set1_ps(k2[j]), a2);
      a3 = _mm512_fmadd_ps(q[j], _mm512_set1_ps(k3[j]), a3);
    }
    _mm512_store_ps(s, a0);
    _mm512_store_ps(s + kLanes, a1);
    _mm512_store_ps(s + 2 * kLanes, a2);
    _mm512_store_ps(s + 3 * kLanes, a3);
    high0 = _mm512_max_ps(high0, _mm512_max_ps(a0, a1));
    high1 = _mm512_max_ps(high1, _mm512_max_ps(a2, a3));
  }
  for (; t < n; ++t) {
    const float* kt = k + t * ld;
    float* s = scores + t * kLanes;
    __m512 a = accumulate ? _mm512_load_ps(s) : zero;
#pragma GCC unroll 16
    for (int j = 0; j < J; ++j) a = _mm512_fmadd_ps(q[j], _mm512_set1_ps(kt[j]), a);
    _mm512_store_ps(s, a);
    high0 = _mm512_max_ps(high0, a);
  }
  return _mm512_max_ps(high0, high1);
}

// out_lanes[jv] (16 queries' lanes) = inverse * sum_t weights[t] * v[t][jv] for jv < JV, stored
// 16 floats apart. Several partial sums over t when JV is small, so that the chains overlap.
template <int JV>
__attribute__((target("avx512f"))) void values_block(const float* weights, const float* v,
                                                     int64_t ld, int64_t n, __m512 inverse,
                                                     float* out_lanes) {
  constexpr int kSets = JV <= 4 ? 4 : JV <= 8 ? 2 : 1;
  __m512 a[kSets][JV];
#pragma GCC unroll 16
  for (int s = 0; s < kSets; ++s)
#pragma GCC unroll 16
    for (int j = 0; j < JV; ++j) a[s][j] = _mm512_setzero_ps();
  int64_t t = 0;
  for (; t + kSets <= n; t += kSets) {
#pragma GCC unroll 4
    for (int s = 0; s < kSets; ++s) {
      const __m512 w = _mm512_load_ps(weights + (t + s) * kLanes);
      const float* vt = v + (t + s) * ld;
#pragma GCC unroll 16
      for (int j = 0; j < JV; ++j) a[s][j] = _mm512_fmadd_ps(w, _mm512_set1_ps(vt[j]), a[s][j]);
    }
  }
  for (; t < n; ++t) {
    const __m512 w = _mm512_load_ps(weights + t * kLanes);
    const float* vt = v + t * ld;
#pragma GCC unroll 16
    for (int j = 0; j < JV; ++j) a[0][j] = _mm512_fmadd_ps(w, _mm512_set1_ps(vt[j]), a[0][j]);
  }
#pragma GCC unroll 16
  for (int j = 0; j < JV; ++j) {
    __m512 total = a[0][j];
#pragma GCC unroll 4
    for (int s = 1; s < kSets; ++s) total = _mm512_add_ps(total, a[s][j]);
    _mm512_store_ps(out_lanes + j * kLanes, _mm512_mul_ps(total, inverse));
  }
}

// scores_block<width> for a run-time width in [1, kMaxBlock].
template <int J = kMaxBlock>
__attribute__((target("avx512f"))) __m512 scores_of_width(int width, const float* q_lanes,
                                                          const float* k, int64_t ld, int64_t n,
                                                          float* scores, bool accumulate) {
  if (width == J) return scores_block<J>(q_lanes, k, ld, n, scores, accumulate);
  if constexpr (J > 1) {
    return scores_of_width<J - 1>(width, q_lanes, k, ld, n, scores, accumulate);
  } else {
    return _mm512_setzero_ps();  // unreachable: widths are in [1, kMaxBlock]
  }
}

// values_block<width> for a run-time width in [1, kMaxBlock].
template <int JV = kMaxBlock>
__attribute__((target("avx512f"))) void values_of_width(int width, const float* weights,
                                                        const float* v, int64_t ld, int64_t n,
                                                        __m512 inverse, float* out_lanes) {
  if (width == JV) {
    values_block<JV>(weights, v, ld, n, inverse, out_lanes);
  } else if constexpr (JV > 1) {
    values_of_width<JV - 1>(width, weights, v, ld, n, inverse, out_lanes);
  }
}

__attribute__((target("avx512f"))) void attend(const float* q, const float* k, const float* v,
                                               int64_t ld_in, int64_t n, int qk_dim, int v_dim,
                                               float scale, float* out, int64_t ld_out,
                                               float* scratch) {
  float* scores = scratch;                            // n x 16: one key per row, queries in lanes
  float* q_lanes = scores + n * kLanes;               // qk_dim x 16: q * scale, queries in lanes
  float* out_lanes = q_lanes + int64_t{qk_dim} * kLanes;  // 16 x 16: v dims x queries
  // Scores in base 2: e^s = 2^(s log2 e), log2 e folded into q's scale.
  const float scale_log2 = static_cast<float>(scale * 1.4426950408889634);
  for (int64_t first = 0; first < n; first += kLanes) {
    const int queries = static_cast<int>(std::min<int64_t>(kLanes, n - first));
    for (int j = 0; j < qk_dim; ++j) {
      float* lanes = q_lanes + j * kLanes;
      for (int i = 0; i < queries; ++i) lanes[i] = q[(first + i) * ld_in + j] * scale_log2;
      for (int i = queries; i < kLanes; ++i) lanes[i] = 0.0f;  // scores 0: no NaN in unused lanes
    }
    __m512 high = _mm512_setzero_ps();
    if (qk_dim == 0) {
      std::fill(scores, scores + n * kLanes, 0.0f);
    } else {
      for (int j0 = 0; j0 < qk_dim; j0 += kMaxBlock) {
        high = scores_of_width(std::min(kMaxBlock, qk_dim - j0), q_lanes + j0 * kLanes, k + j0,
                               ld_in, n, scores, j0 > 0);
      }
    }
    __m512 sum0 = _mm512_setzero_ps(), sum1 = sum0;
    int64_t t = 0;
    for (; t + 2 <= n; t += 2) {
      float* s = scores + t * kLanes;
      const __m512 e0 = exp2_of_nonpositive(_mm512_sub_ps(_mm512_load_ps(s), high));
      const __m512 e1 = exp2_of_nonpositive(_mm512_sub_ps(_mm512_load_ps(s + kLanes), high));
      _mm512_store_ps(s, e0);
      _mm512_store_ps(s + kLanes, e1);
      sum0 = _mm512_add_ps(sum0, e0);
      sum1 = _mm512_add_ps(sum1, e1);
    }
    if (t < n) {
      float* s = scores + t * kLanes;
      const __m512 e = exp2_of_nonpositive(_mm512_sub_ps(_mm512_load_ps(s), high));
      _mm512_store_ps(s, e);
      sum0 = _mm512_add_ps(sum0, e);
    }
    const __m512 inverse = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(sum0, sum1));
    for (int j0 = 0; j0 < v_dim; j0 += kMaxBlock) {
      const int width = std::min(kMaxBlock, v_dim - j0);
      values_of_width(width, scores, v + j0, ld_in, n, inverse, out_lanes);
      for (int i = 0; i < queries; ++i) {
        float* row = out + (first + i) * ld_out + j0;
        for (int j = 0; j < width; ++j) row[j] = out_lanes[j * kLanes + i];
      }
    }
  }
}

#pragma GCC diagnostic pop

}  // namespace
#endif

bool head_attention_fused_available() {
#if VITC_HAS_AVX512_KERNELS
  return cpu_has_avx512f();
#else
  return false;
#endif
}

void head_attention_fused(const HeadAttentionTask& task, float* scratch) {
  check(head_attention_fused_available(), "head_attention_fused: this CPU has no AVX-512F");
#if VITC_HAS_AVX512_KERNELS
  attend(task.q, task.k, task.v, task.ld_in, task.tokens, task.qk_dim, task.v_dim, task.scale,
         task.out, task.ld_out, scratch);
#else
  (void)task;
  (void)scratch;
#endif
}

}  // namespace vitc
