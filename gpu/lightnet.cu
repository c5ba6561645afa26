// LightNet's 1-D additive recurrence on the CUDA backend (MODELS.md §6; arXiv 2405.21022).
// CPU twin: core/lightnet/lightnet.cpp.
//
// With z_t = log δ_t = log Σ_{s<=t} e^{f_s}, LightNet's step
//   S_t = (δ_{t-1}/δ_t) S_{t-1} + (e^{f_t}/δ_t) k_t v_t^T
// is the linear-attention step S_t = λ_t S_{t-1} + k'_t v_t^T with a selective scalar decay
// log λ_t = z_{t-1} − z_t and keys k'_t = e^{f_t − z_t} k_t. The global (bidirectional) form
// reads S_L from every token: y_t = q_t^T Σ_s e^{f_s − z_L} k_s v_s^T, which is unnormalized
// LION-LIT bidirectional (a mask of ones) on keys k'_s = e^{f_s − z_L} k_s. So this file only
// rewrites the inputs, in log space (z in double, every weight e^{·} <= 1, decays as differences
// of logs, never ratios of sums); the recurrent, chunkwise and parallel kernels of
// linear_attention.cu and lion.cu do the rest.
//
// MD-TPE and MD-LRPE (core/lightnet/position.h, their N = 1 cases) act on the inputs before
// that rewrite, in the CPU's order: MD-TPE on q, k, v, then MD-LRPE on q and k; with MD-TPE the
// attention matrix of the given v is A (I + T), one more backward scan per row.
#include <cmath>

#include "core/lightnet/position_constants.h"
#include "gpu/cuda_check.h"
#include "gpu/kernels.h"

namespace linscope::gpu {
namespace {

constexpr int kThreads = 256;

// One block per head. Thread 0 runs the log-sum-exp scan over t (sequential by nature, O(L)
// per head, cheap next to the O(L·Dk·Dv) recurrence), leaving log λ_t and the key weight's log
// f_t − z_t (causal) in `a` and `lw`; then every thread scales k.
__global__ void lightnet_inputs_kernel(const float* __restrict__ f, const float* __restrict__ k,
                                       float* __restrict__ a, float* __restrict__ lw,
                                       float* __restrict__ k_out, int64_t L, int64_t Dk,
                                       bool global) {
  const int64_t head = blockIdx.x;
  const float* fh = f + head * L;
  float* ah = a + head * L;
  float* wh = lw + head * L;
  if (threadIdx.x == 0) {
    double z = fh[0];
    ah[0] = 0.0f;  // the state before token 0 is zero: its decay is irrelevant
    wh[0] = 0.0f;  // e^{f_0 − z_0} = 1
    for (int64_t t = 1; t < L; ++t) {
      const double ft = fh[t];
      const double m = fmax(z, ft);
      const double z_new = m + log1p(exp(-fabs(z - ft)));
      ah[t] = static_cast<float>(z - z_new);
      wh[t] = static_cast<float>(ft - z_new);
      z = z_new;
    }
    if (global) {  // every key weighted by e^{f_s − z_L}, no decay
      for (int64_t t = 0; t < L; ++t) {
        wh[t] = static_cast<float>(static_cast<double>(fh[t]) - z);
        ah[t] = 0.0f;
      }
    }
  }
  __syncthreads();
  const float* kh = k + head * L * Dk;
  float* oh = k_out + head * L * Dk;
  for (int64_t i = threadIdx.x; i < L * Dk; i += blockDim.x) oh[i] = expf(wh[i / Dk]) * kh[i];
}

// MD-TPE for N = 1 (core/lightnet/position.h): x_t ← x_t + u_t with u_t = λ u_{t−1} + (1 − λ) x_t,
// one causal scan per head and channel; adjacent threads take adjacent channels, so every step
// reads and writes one coalesced row. The float arithmetic is the CPU's (md_tpe_apply).
__global__ void lightnet_tpe_kernel(float* __restrict__ x, int64_t BH, int64_t L, int64_t D) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= BH * D) return;
  const int64_t head = i / D, c = i % D;
  float* xh = x + head * L * D + c;
  const auto lam = static_cast<float>(lightnet::kTpeDecay);
  const auto one = static_cast<float>(1.0 - lightnet::kTpeDecay);
  float u = 0.0f;
  for (int64_t t = 0; t < L; ++t) {
    const float src = xh[t * D];
    u = lam * u + one * src;
    xh[t * D] = src + u;
  }
}

// MD-LRPE for N = 1: channel pair m of token t turns by φ = θ_m t, θ_m = base^{−2m/D} (RoPE's
// frequencies), in double as the CPU's md_lrpe_rotate. One thread per (head, token, pair).
__global__ void lightnet_lrpe_kernel(float* __restrict__ x, int64_t BH, int64_t L, int64_t D) {
  const int64_t pairs = D / 2;
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= BH * L * pairs) return;
  const int64_t m = i % pairs, row = i / pairs, t = row % L;
  const double theta =
      pow(lightnet::kLrpeBase, -2.0 * static_cast<double>(m) / static_cast<double>(D));
  double sn = 0, cs = 1;
  sincos(theta * static_cast<double>(t), &sn, &cs);
  float* p = x + row * D + 2 * m;
  const double a = p[0], b = p[1];
  p[0] = static_cast<float>(cs * a - sn * b);
  p[1] = static_cast<float>(sn * a + cs * b);
}

// att ← att (I + T): (a (I + T))_p = a_p + Σ_{p' ≥ p} (1 − λ) λ^{p'−p} a_{p'}, a backward scan
// along each row (the CPU's with_tpe). One thread per row: the matrix is the views' L <= a few
// thousand, where this pass costs far less than forming the matrix.
__global__ void lightnet_tpe_attention_kernel(float* __restrict__ att, int64_t rows, int64_t L) {
  const int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (r >= rows) return;
  float* a = att + r * L;
  const auto lam = static_cast<float>(lightnet::kTpeDecay);
  const auto one = static_cast<float>(1.0 - lightnet::kTpeDecay);
  float u = 0.0f;
  for (int64_t p = L - 1; p >= 0; --p) {
    const float src = a[p];
    u = lam * u + one * src;
    a[p] = src + u;
  }
}

unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>((n + kThreads - 1) / kThreads);
}

}  // namespace

void lightnet_inputs(const float* f, const float* k, float* log_decay, float* log_weight,
                     float* k_scaled, const Dims& d, bool global, cudaStream_t s) {
  if (d.BH == 0 || d.L == 0) return;
  lightnet_inputs_kernel<<<static_cast<unsigned>(d.BH), kThreads, 0, s>>>(
      f, k, log_decay, log_weight, k_scaled, d.L, d.Dk, global);
  check_launch("lightnet_inputs");
}

void lightnet_tpe(float* x, int64_t BH, int64_t L, int64_t D, cudaStream_t s) {
  if (BH * L * D == 0) return;
  lightnet_tpe_kernel<<<blocks_for(BH * D), kThreads, 0, s>>>(x, BH, L, D);
  check_launch("lightnet_tpe");
}

void lightnet_lrpe(float* x, int64_t BH, int64_t L, int64_t D, cudaStream_t s) {
  if (BH * L * (D / 2) == 0) return;
  lightnet_lrpe_kernel<<<blocks_for(BH * L * (D / 2)), kThreads, 0, s>>>(x, BH, L, D);
  check_launch("lightnet_lrpe");
}

void lightnet_tpe_attention(float* att, int64_t BH, int64_t L, cudaStream_t s) {
  if (BH * L == 0) return;
  lightnet_tpe_attention_kernel<<<blocks_for(BH * L), kThreads, 0, s>>>(att, BH * L, L);
  check_launch("lightnet_tpe_attention");
}

}  // namespace linscope::gpu
