// LightNet's 1-D additive recurrence on the CUDA backend (MODELS.md §6; arXiv 2405.21022).
// CPU twin: core/lightnet/lightnet.cpp.
//
// With z_t = log δ_t = log Σ_{s<=t} e^{f_s}, LightNet's step
//   S_t = (δ_{t-1}/δ_t) S_{t-1} + (e^{f_t}/δ_t) k_t v_t^T
// is the linear-attention step S_t = λ_t S_{t-1} + k'_t v_t^T with a selective scalar decay
// log λ_t = z_{t-1} − z_t and keys k'_t = e^{f_t − z_t} k_t. The global (bidirectional) form
// reads S_L from every token: y_t = q_t^T Σ_s e^{f_s − z_L} k_s v_s^T, which is unnormalized
// LION-LIT bidirectional (a mask of ones) on keys k'_s = e^{f_s − z_L} k_s. So this file mostly
// rewrites the inputs, in log space (z in double, every weight e^{·} <= 1, decays as differences
// of logs, never ratios of sums); the recurrent and parallel kernels of linear_attention.cu and
// lion.cu do the rest, except the global recurrent form, which is the CPU's one scan to S_L and
// y = Q S_L (lightnet_global_readout, below) rather than LION's two sweeps.
//
// Per-channel weights f [BH, L, Dk] make the decay per channel: the same rewrite, one scan per
// channel, for the per-channel kernels of forward.cu (causal); the global form stays LION-LIT.
// MD-TPE and MD-LRPE act on the inputs before this rewrite (gpu/lightnet_position.cu).
#include <algorithm>
#include <cmath>
#include <string>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"

namespace linscope::gpu {
namespace {

constexpr int kThreads = 256;

// log(e^x + e^y) in double, with -inf (an empty sum) as its identity.
__device__ double log_add_exp(double x, double y) {
  if (x == -INFINITY) return y;
  if (y == -INFINITY) return x;
  const double m = fmax(x, y);
  return m + log1p(exp(-fabs(x - y)));
}

// One block per head; the log-sum-exp scan z_t = log Σ_{s<=t} e^{f_s} in three block-parallel
// passes, as any associative scan: (1) thread i reduces its run of ⌈L / kThreads⌉ consecutive
// tokens, (2) thread 0 scans the kThreads run totals (exclusive: z before each run), (3) each
// thread walks its run again from that prefix, writing log λ_t = z_{t−1} − z_t and the key
// weight's log f_t − z_t (causal), or f_t − z_L with no decay (global). One thread walking all
// of L was the 2-D grid's bottleneck: 65,536 dependent double exp/log1p steps at 256 × 256.
// Then every thread scales k.
__global__ void __launch_bounds__(kThreads)
    lightnet_inputs_kernel(const float* __restrict__ f, const float* __restrict__ k,
                           float* __restrict__ a, float* __restrict__ lw, float* __restrict__ k_out,
                           int64_t L, int64_t Dk, bool global) {
  __shared__ double prefix[kThreads + 1];  // prefix[i]: z before run i; prefix[kThreads] = z_L
  const int64_t head = blockIdx.x;
  const float* fh = f + head * L;
  float* ah = a + head * L;
  float* wh = lw + head * L;
  const int64_t run = (L + kThreads - 1) / kThreads;
  const int64_t t_a = min(L, threadIdx.x * run), t_b = min(L, t_a + run);
  double total = -INFINITY;
  for (int64_t t = t_a; t < t_b; ++t) total = log_add_exp(total, fh[t]);
  prefix[threadIdx.x + 1] = total;
  __syncthreads();
  if (threadIdx.x == 0) {
    double z = -INFINITY;
    for (int i = 0; i < kThreads; ++i) {
      const double run_total = prefix[i + 1];
      prefix[i] = z;
      z = log_add_exp(z, run_total);
    }
    prefix[kThreads] = z;
  }
  __syncthreads();
  if (global) {  // every key weighted by e^{f_s − z_L}, no decay
    const double zL = prefix[kThreads];
    for (int64_t t = t_a; t < t_b; ++t) {
      wh[t] = static_cast<float>(static_cast<double>(fh[t]) - zL);
      ah[t] = 0.0f;
    }
  } else {
    double z = prefix[threadIdx.x];
    for (int64_t t = t_a; t < t_b; ++t) {
      const double ft = fh[t];
      const double z_new = log_add_exp(z, ft);
      // Token 0: the state before it is zero, so its decay is irrelevant; e^{f_0 − z_0} = 1.
      ah[t] = t == 0 ? 0.0f : static_cast<float>(z - z_new);
      wh[t] = static_cast<float>(ft - z_new);
      z = z_new;
    }
  }
  __syncthreads();
  const float* kh = k + head * L * Dk;
  float* oh = k_out + head * L * Dk;
  for (int64_t i = threadIdx.x; i < L * Dk; i += blockDim.x) oh[i] = expf(wh[i / Dk]) * kh[i];
}

// Per-channel weights f [BH, L, Dk] (the paper's default, f = k): δ, the decay and the weight
// are per key channel c (core/lightnet/lightnet.cpp), so one thread per (head, channel) runs
// its own log-sum-exp scan in double; adjacent threads take adjacent channels, so each step
// reads one coalesced row of f and k. Causal: a [BH, L, Dk] = z_{t−1,c} − z_{t,c} and keys
// e^{f_tc − z_tc} k_tc. Global: keys e^{f_tc − z_Lc} k_tc (a second pass once z_L is known);
// the decay is then the scalar zero the launcher writes.
__global__ void lightnet_inputs_channels_kernel(const float* __restrict__ f,
                                                const float* __restrict__ k, float* __restrict__ a,
                                                float* __restrict__ k_out, int64_t BH, int64_t L,
                                                int64_t Dk, bool global) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= BH * Dk) return;
  const int64_t base = (i / Dk) * L * Dk + i % Dk;  // token 0 of this head and channel
  double z = f[base];
  if (global) {
    for (int64_t t = 1; t < L; ++t) z = log_add_exp(z, f[base + t * Dk]);
    for (int64_t t = 0; t < L; ++t) {
      const int64_t at = base + t * Dk;
      k_out[at] = expf(static_cast<float>(static_cast<double>(f[at]) - z)) * k[at];
    }
    return;
  }
  for (int64_t t = 0; t < L; ++t) {
    const int64_t at = base + t * Dk;
    const double ft = f[at];
    const double z_new = t == 0 ? ft : log_add_exp(z, ft);
    a[at] = t == 0 ? 0.0f : static_cast<float>(z - z_new);
    k_out[at] = expf(static_cast<float>(ft - z_new)) * k[at];
    z = z_new;
  }
}

// LightNet's global form, y_t = q_t^T S_L with S_L = Σ_s k'_s v_s^T (k' = the weighted keys
// lightnet_inputs writes): the CPU's one scan to S_L, then every token reads it
// (core/lightnet/lightnet.cpp). The scan has no output per step, so S_L is a plain sum over the
// tokens, formed here as one: block (segment p, head, entry group) sums its kSegEntries entries of
// k'_s v_s^T over the tokens of segment p (a tile at a time through shared memory) into
// part [BH, P, Dk·Dv]; lightnet_state_sum_kernel adds the P parts in a fixed order (the result
// does not depend on the launch), and lightnet_readout_kernel forms y = Q S_L.
constexpr int kSegEntries = kThreads * 16;  // entries of S per block: 16 accumulators a thread
constexpr int kTokTile = 32;                // tokens per shared tile, fewer for wide rows
constexpr int kTileFloats = 4096;           // shared floats for a tile's k' and v rows

__global__ void __launch_bounds__(kThreads)
    lightnet_state_part_kernel(const float* __restrict__ k, const float* __restrict__ v,
                               float* __restrict__ part, int64_t L, int Dk, int Dv, int64_t seg) {
  __shared__ float tile[kTileFloats];
  const int T = max(1, min(kTokTile, kTileFloats / (Dk + Dv)));
  float* ks = tile;           // [T][Dk]
  float* vs = tile + T * Dk;  // [T][Dv]
  const int64_t head = blockIdx.y, p = blockIdx.x, P = gridDim.x;
  const int64_t t_begin = p * seg, t_end = min(L, t_begin + seg);
  const int e0 = blockIdx.z * kSegEntries, entries = Dk * Dv;
  const float* kh = k + head * L * Dk;
  const float* vh = v + head * L * Dv;
  float acc[16];
  int row[16], col[16];
#pragma unroll
  for (int m = 0; m < 16; ++m) {
    const int e = min(e0 + static_cast<int>(threadIdx.x) + m * kThreads, entries - 1);
    acc[m] = 0.f;
    row[m] = e / Dv;
    col[m] = e - row[m] * Dv;
  }
  for (int64_t t0 = t_begin; t0 < t_end; t0 += T) {
    const int n = static_cast<int>(min(static_cast<int64_t>(T), t_end - t0));
    __syncthreads();  // the previous tile is read
    for (int e = threadIdx.x; e < n * Dk; e += blockDim.x) ks[e] = kh[t0 * Dk + e];
    for (int e = threadIdx.x; e < n * Dv; e += blockDim.x) vs[e] = vh[t0 * Dv + e];
    __syncthreads();
#pragma unroll
    for (int m = 0; m < 16; ++m) {
      float a = acc[m];
      for (int t = 0; t < n; ++t) a = fmaf(ks[t * Dk + row[m]], vs[t * Dv + col[m]], a);
      acc[m] = a;
    }
  }
  float* ph = part + (head * P + p) * static_cast<int64_t>(entries);
#pragma unroll
  for (int m = 0; m < 16; ++m) {
    const int e = e0 + threadIdx.x + m * kThreads;
    if (e < entries) ph[e] = acc[m];
  }
}

__global__ void lightnet_state_sum_kernel(const float* __restrict__ part, float* __restrict__ S,
                                          int64_t BH, int64_t P, int64_t entries) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= BH * entries) return;
  const int64_t head = i / entries, e = i % entries;
  const float* ph = part + head * P * entries + e;
  float s = 0.f;
  for (int64_t p = 0; p < P; ++p) s += ph[p * entries];
  S[i] = s;
}

// y [BH, L, Dv] = Q S_L, one thread per output entry (a dot product of length d_k).
__global__ void lightnet_readout_kernel(const float* __restrict__ q, const float* __restrict__ S,
                                        float* __restrict__ y, int64_t BH, int64_t L, int Dk,
                                        int Dv) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= BH * L * Dv) return;
  const int64_t row = i / Dv, head = row / L;
  const int c = static_cast<int>(i - row * Dv);
  const float* qr = q + row * Dk;
  const float* Sh = S + head * Dk * static_cast<int64_t>(Dv) + c;
  float a = 0.f;
  for (int r = 0; r < Dk; ++r) a = fmaf(qr[r], Sh[r * static_cast<int64_t>(Dv)], a);
  y[i] = a;
}

// Segments of L for the state sum: enough blocks for about two per SM, each at least kTokTile
// tokens.
int64_t state_segments(const Dims& d) {
  const int64_t groups = (d.Dk * d.Dv + kSegEntries - 1) / kSegEntries;
  const int64_t want = std::max<int64_t>(1, 2 * multiprocessor_count() / (d.BH * groups));
  return std::min<int64_t>(want, (d.L + kTokTile - 1) / kTokTile);
}

unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>((n + kThreads - 1) / kThreads);
}

}  // namespace

void lightnet_inputs(const float* f, const float* k, float* log_decay, float* log_weight,
                     float* k_scaled, const Dims& d, bool global, bool per_channel,
                     cudaStream_t s) {
  if (d.BH == 0 || d.L == 0) return;
  if (per_channel) {
    if (global)
      check(cudaMemsetAsync(log_decay, 0, sizeof(float) * d.BH * d.L, s),
            "cudaMemsetAsync (LightNet decays)");
    lightnet_inputs_channels_kernel<<<blocks_for(d.BH * d.Dk), kThreads, 0, s>>>(
        f, k, log_decay, k_scaled, d.BH, d.L, d.Dk, global);
    check_launch("lightnet_inputs (per channel)");
    return;
  }
  lightnet_inputs_kernel<<<static_cast<unsigned>(d.BH), kThreads, 0, s>>>(
      f, k, log_decay, log_weight, k_scaled, d.L, d.Dk, global);
  check_launch("lightnet_inputs");
}

size_t lightnet_global_workspace(const Dims& d) {
  return sizeof(float) * static_cast<size_t>(d.BH * (state_segments(d) + 1) * d.Dk * d.Dv);
}

void lightnet_global_readout(const float* q, const float* k_scaled, const float* v, float* y,
                             void* workspace, const Dims& d, cudaStream_t s) {
  if (d.BH == 0 || d.L == 0) return;
  if (d.Dk + d.Dv > kTileFloats)
    throw BackendError("LightNet global readout: d_k + d_v = " + std::to_string(d.Dk + d.Dv) +
                       " exceeds the " + std::to_string(kTileFloats) + " floats of its token tile");
  const int64_t P = state_segments(d), entries = d.Dk * d.Dv;
  const int64_t seg = (d.L + P - 1) / P;
  const int64_t P_used = (d.L + seg - 1) / seg;
  float* part = static_cast<float*>(workspace);
  float* S = part + d.BH * P_used * entries;
  const dim3 grid(static_cast<unsigned>(P_used), static_cast<unsigned>(d.BH),
                  static_cast<unsigned>((entries + kSegEntries - 1) / kSegEntries));
  lightnet_state_part_kernel<<<grid, kThreads, 0, s>>>(
      k_scaled, v, part, d.L, static_cast<int>(d.Dk), static_cast<int>(d.Dv), seg);
  check_launch("lightnet_state_part");
  lightnet_state_sum_kernel<<<blocks_for(d.BH * entries), kThreads, 0, s>>>(part, S, d.BH, P_used,
                                                                            entries);
  check_launch("lightnet_state_sum");
  lightnet_readout_kernel<<<blocks_for(d.BH * d.L * d.Dv), kThreads, 0, s>>>(
      q, S, y, d.BH, d.L, static_cast<int>(d.Dk), static_cast<int>(d.Dv));
  check_launch("lightnet_readout");
}

}  // namespace linscope::gpu
