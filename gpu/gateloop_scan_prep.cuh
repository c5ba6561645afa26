// The blocked scan's preparation of a chunk, shared by its two kernels (gpu/gateloop_scan_tc.cu
// on mma.sync, gpu/gateloop_scan_wgmma.cu on wgmma): the thread of channels pc, pc + 1 and of a
// group of TPG tokens sums log|a| and the phase over its group, and, from every group's sums,
// forms its tokens' Q~ and K~ (gpu/gateloop_scan_tc.cu's header derives them). The chunk's
// inputs lie in shared memory as [tokens][DK] rows: lm, ph fp32, q, k bf16. Device code; include
// from .cu files only.
#pragma once
#include <cuda_bf16.h>

#include <cstdint>

#include "gpu/gateloop_tc.cuh"
#include "gpu/tc_mma.cuh"

namespace linscope::gpu::gateloop_tc {

constexpr float kTwoPi = 6.283185307179586f;

// sin.approx / cos.approx are accurate to ~1e-6 on [−π, π]: reduce the angle first.
__device__ __forceinline__ void sincos_reduced(float phi, float* s, float* c) {
  __sincosf(phi - kTwoPi * rintf(phi * (1.f / kTwoPi)), s, c);
}

// The group's sums of log|a| (sl) and phase (sp) over tokens t_first .. t_first + TPG − 1.
template <int TPG, int DK>
__device__ __forceinline__ void group_sums(const float* lm, const float* ph, int t_first, int pc,
                                           float2& sl, float2& sp) {
  sl = make_float2(0.f, 0.f), sp = sl;
#pragma unroll
  for (int t = 0; t < TPG; ++t) {
    const float2 a = *reinterpret_cast<const float2*>(lm + (t_first + t) * DK + pc);
    const float2 f = *reinterpret_cast<const float2*>(ph + (t_first + t) * DK + pc);
    sl.x += a.x, sl.y += a.y, sp.x += f.x, sp.y += f.y;
  }
}

// From the G groups' sums tot [2][G][DK] (log|a|, then phase): Λ and Φ just before group grp
// (lam, phi) and the chunk's Λ_e, Φ_e. Every thread of a channel pair adds the same sums in the
// same order, so the state's e^{Λ_e} matches the one inside the operands.
template <int G, int DK>
__device__ __forceinline__ void group_prefix(const float* tot, int grp, int pc, float2& lam,
                                             float2& phi, float2& lam_e, float2& phi_e) {
  lam = make_float2(0.f, 0.f), phi = lam, lam_e = lam, phi_e = lam;
#pragma unroll
  for (int h = 0; h < G; ++h) {
    const float2 a = *reinterpret_cast<const float2*>(tot + h * DK + pc);
    const float2 f = *reinterpret_cast<const float2*>(tot + (G + h) * DK + pc);
    if (h < grp) lam.x += a.x, lam.y += a.y, phi.x += f.x, phi.y += f.y;
    lam_e.x += a.x, lam_e.y += a.y, phi_e.x += f.x, phi_e.y += f.y;
  }
}

// The group's tokens' operands, each as four bf16 pairs of channels pc, pc + 1:
//   Q~_t = q_t e^{Λ_t − Λ_e} (cos Φ_t, sin Φ_t),   K~_t = k_t e^{Λ_e − Λ_t} (cos Φ_t, sin Φ_t),
// handed to put(row, q_cos, q_sin, k_cos, k_sin), UNROLL tokens at a time. Returns the largest
// of |Λ_e| and every |Λ_t − Λ_e| (NaN if any is), which the caller checks against
// kMaxExponent.
template <int TPG, int DK, int UNROLL, class Put>
__device__ __forceinline__ float group_operands(const float* lm, const float* ph,
                                                const __nv_bfloat16* q, const __nv_bfloat16* k,
                                                int t_first, int pc, float2 lam, float2 phi,
                                                float2 lam_e, Put put) {
  using tc::mma::exp2_ftz;
  using tc::mma::kLog2e;
  using tc::mma::pack_bf16;
  using tc::mma::unpack_bf16;
  float worst = fmaxf(fabsf(lam_e.x), fabsf(lam_e.y));
#pragma unroll UNROLL
  for (int t = 0; t < TPG; ++t) {
    const int row = t_first + t;
    const float2 a = *reinterpret_cast<const float2*>(lm + row * DK + pc);
    const float2 f = *reinterpret_cast<const float2*>(ph + row * DK + pc);
    lam.x += a.x, lam.y += a.y, phi.x += f.x, phi.y += f.y;
    const float x0 = lam.x - lam_e.x, x1 = lam.y - lam_e.y;
    worst = fmaxf(worst, fmaxf(fabsf(x0), fabsf(x1)));
    const float eq0 = exp2_ftz(x0 * kLog2e), eq1 = exp2_ftz(x1 * kLog2e);
    const float ek0 = exp2_ftz(-x0 * kLog2e), ek1 = exp2_ftz(-x1 * kLog2e);
    float s0, c0, s1, c1;
    sincos_reduced(phi.x, &s0, &c0);
    sincos_reduced(phi.y, &s1, &c1);
    const float2 qf = unpack_bf16(*reinterpret_cast<const uint32_t*>(q + row * DK + pc));
    const float2 kf = unpack_bf16(*reinterpret_cast<const uint32_t*>(k + row * DK + pc));
    const float qa0 = qf.x * eq0, qa1 = qf.y * eq1, ka0 = kf.x * ek0, ka1 = kf.y * ek1;
    put(row, pack_bf16(qa0 * c0, qa1 * c1), pack_bf16(qa0 * s0, qa1 * s1),
        pack_bf16(ka0 * c0, ka1 * c1), pack_bf16(ka0 * s0, ka1 * s1));
  }
  return worst;
}

}  // namespace linscope::gpu::gateloop_tc
