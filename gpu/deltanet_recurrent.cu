// DeltaNet's recurrent form on the CUDA backend (MODELS.md §4; CPU twin
// core/deltanet/recurrent.cpp):
//   S_t = S_{t-1} + β_t k_t (v_t - S_{t-1}^T k_t)^T,   y_t = S_t^T q_t.
// Per value column c, with a_c = k_t·S_{t-1}[:, c], b_c = q_t·S_{t-1}[:, c] and
// δ_c = β_t (v_tc - a_c), this is
//   y_tc = b_c + (q_t·k_t) δ_c,   S_t[:, c] = S_{t-1}[:, c] + k_t δ_c
// (y_t = q_t^T S_t with S_t expanded once). Both dot products read the old state, so a step is
// one pass over the column for two sums, one reduction of both, and one rank-1 update, instead
// of two reductions that wait on each other.
//
// Layout: a group of LPC adjacent lanes holds kCols value columns; lane g of the group keeps rows
// 4 (LPC j + g) + e (j < RPL/4, e < 4) of each in registers. Every column needs all of k_t and
// q_t each step, so what limits the step is how often those are read from shared memory: once
// per lane for its kCols columns here. Measured on the H200 (Nsight Compute, L = 16384, d = 128,
// B·H = 128): one column per lane (LPC = 4) ran at 78 % of the L1/shared throughput, stalled on
// it, 13.2 ms; the kernel before it spread a column over a whole warp and was bound by its
// 2 x 5 butterfly rounds per column and step (18.8 ms on the H100). With four columns per lane
// and LPC = 8 the shared reads fall 4x, a step costs 3 shuffle rounds over 8 sums, and the
// FMAs are the limit. The sums over a lane's rows are plain FMAs.
// q, k, v and β stream through double-buffered shared memory in tiles of kTile tokens
// (cp.async), and q_t·k_t is formed once per token and block when a tile lands. A lane's float4
// of k_t (or q_t) sits next to its group neighbours' (16·LPC contiguous bytes, the warp's other
// groups reading the same addresses), so the loads are free of bank conflicts.
#include <algorithm>
#include <string>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"
#include "gpu/tc_fragments.cuh"

namespace linscope::gpu {
namespace {

constexpr int kTile = 16;         // tokens per shared-memory tile
constexpr int kCols = 4;          // value columns per lane (one float4 of v per step)
constexpr int kMaxThreads = 512;  // per block

__device__ __forceinline__ void cp_async4(float* dst, const float* src) {
  const auto d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(d), "l"(src));
}

// One tile buffer: k and q rows padded to DkP floats (the padding stays zero), v for the block's
// CB columns, β and q·k per token. Every part starts on a 16-byte boundary.
struct TileLayout {
  int dkp, cb;
  __host__ __device__ int floats() const { return 2 * kTile * dkp + kTile * cb + 2 * kTile; }
  __device__ float* k(float* b) const { return b; }
  __device__ float* q(float* b) const { return b + kTile * dkp; }
  __device__ float* v(float* b) const { return b + 2 * kTile * dkp; }
  __device__ float* beta(float* b) const { return v(b) + kTile * cb; }
  __device__ float* qk(float* b) const { return beta(b) + kTile; }
};

template <int LPC, int RPL>
__global__ void __launch_bounds__(kMaxThreads)
    deltanet_recurrent_kernel(const float* __restrict__ q, const float* __restrict__ k,
                              const float* __restrict__ v, const float* __restrict__ beta,
                              float* __restrict__ y, int64_t L, int Dk, int Dv, int CB) {
  constexpr int DkP = LPC * RPL, J = RPL / 4;
  static_assert(RPL % 4 == 0 && 32 % LPC == 0 && kCols <= LPC, "float4 rows, groups in a warp");
  extern __shared__ __align__(16) float sm[];
  const TileLayout lay{DkP, CB};
  const int tid = threadIdx.x, nthreads = blockDim.x;
  const int g = tid % LPC, cg = tid / LPC * kCols;  // lane in group, group's first column
  const int64_t head = blockIdx.y;
  const int c0 = blockIdx.x * CB;
  const float* qh = q + head * L * Dk;
  const float* kh = k + head * L * Dk;
  const float* vh = v + head * L * Dv;
  const float* bh = beta + head * L;
  float* yh = y + head * L * Dv;

  // Padded rows of k and q and columns past d_v are never copied: zero them once, so that they
  // contribute nothing to the sums and those columns' states stay finite.
  for (int e = tid; e < 2 * lay.floats(); e += nthreads) sm[e] = 0.f;
  __syncthreads();

  auto issue = [&](int64_t t0, float* b) {
    const int n = static_cast<int>(min(static_cast<int64_t>(kTile), L - t0));
    for (int e = tid; e < n * Dk; e += nthreads) {
      const int t = e / Dk, r = e - t * Dk;
      cp_async4(lay.k(b) + t * DkP + r, kh + t0 * Dk + e);
      cp_async4(lay.q(b) + t * DkP + r, qh + t0 * Dk + e);
    }
    for (int e = tid; e < n * CB; e += nthreads) {
      const int t = e / CB, cc = e - t * CB;
      if (c0 + cc < Dv) cp_async4(lay.v(b) + t * CB + cc, vh + (t0 + t) * Dv + c0 + cc);
    }
    for (int e = tid; e < n; e += nthreads) cp_async4(lay.beta(b) + e, bh + t0 + e);
    tc::cp_async_commit();
  };
  // q_t·k_t of a landed tile, one warp per token.
  auto dot_qk = [&](int64_t t0, float* b) {
    const int n = static_cast<int>(min(static_cast<int64_t>(kTile), L - t0));
    const int lane = tid & 31;
    for (int t = tid >> 5; t < n; t += nthreads >> 5) {
      float s = 0.f;
      for (int r = lane; r < Dk; r += 32) s = fmaf(lay.q(b)[t * DkP + r], lay.k(b)[t * DkP + r], s);
#pragma unroll
      for (int off = 16; off > 0; off >>= 1) s += __shfl_xor_sync(0xffffffffu, s, off);
      if (lane == 0) lay.qk(b)[t] = s;
    }
  };

  float S[kCols][J][4];
#pragma unroll
  for (int n = 0; n < kCols; ++n)
#pragma unroll
    for (int j = 0; j < J; ++j) S[n][j][0] = S[n][j][1] = S[n][j][2] = S[n][j][3] = 0.f;

  issue(0, sm);
  tc::cp_async_wait_all();
  __syncthreads();
  dot_qk(0, sm);
  __syncthreads();
  for (int64_t t0 = 0, it = 0; t0 < L; t0 += kTile, ++it) {
    float* cur = sm + (it & 1) * lay.floats();  // arithmetic, not an array: no local memory
    float* nxt = sm + ((it + 1) & 1) * lay.floats();
    const bool more = t0 + kTile < L;
    if (more) issue(t0 + kTile, nxt);  // nxt was last read before the previous tile's barrier
    const int n_t = static_cast<int>(min(static_cast<int64_t>(kTile), L - t0));
    const float* bs = lay.beta(cur);
    const float* qk = lay.qk(cur);
    for (int t = 0; t < n_t; ++t) {
      const float4* k4 = reinterpret_cast<const float4*>(lay.k(cur) + t * DkP);
      const float4* q4 = reinterpret_cast<const float4*>(lay.q(cur) + t * DkP);
      float4 kr[J];
      float a[kCols], b[kCols];
#pragma unroll
      for (int n = 0; n < kCols; ++n) a[n] = b[n] = 0.f;
#pragma unroll
      for (int j = 0; j < J; ++j) {
        kr[j] = k4[LPC * j + g];
        const float4 qr = q4[LPC * j + g];
#pragma unroll
        for (int n = 0; n < kCols; ++n) {
          a[n] = fmaf(kr[j].x, S[n][j][0], a[n]);
          a[n] = fmaf(kr[j].y, S[n][j][1], a[n]);
          a[n] = fmaf(kr[j].z, S[n][j][2], a[n]);
          a[n] = fmaf(kr[j].w, S[n][j][3], a[n]);
          b[n] = fmaf(qr.x, S[n][j][0], b[n]);
          b[n] = fmaf(qr.y, S[n][j][1], b[n]);
          b[n] = fmaf(qr.z, S[n][j][2], b[n]);
          b[n] = fmaf(qr.w, S[n][j][3], b[n]);
        }
      }
#pragma unroll
      for (int off = 1; off < LPC; off <<= 1)
#pragma unroll
        for (int n = 0; n < kCols; ++n) {
          a[n] += __shfl_xor_sync(0xffffffffu, a[n], off);
          b[n] += __shfl_xor_sync(0xffffffffu, b[n], off);
        }
      const float4 vv = *reinterpret_cast<const float4*>(lay.v(cur) + t * CB + cg);
      const float vc[kCols] = {vv.x, vv.y, vv.z, vv.w};
      float delta[kCols], mine = 0.f;
#pragma unroll
      for (int n = 0; n < kCols; ++n) {
        delta[n] = bs[t] * (vc[n] - a[n]);
        if (g == n) mine = fmaf(qk[t], delta[n], b[n]);  // lane n of the group writes column n
      }
#pragma unroll
      for (int n = 0; n < kCols; ++n)
#pragma unroll
        for (int j = 0; j < J; ++j) {
          S[n][j][0] = fmaf(kr[j].x, delta[n], S[n][j][0]);
          S[n][j][1] = fmaf(kr[j].y, delta[n], S[n][j][1]);
          S[n][j][2] = fmaf(kr[j].z, delta[n], S[n][j][2]);
          S[n][j][3] = fmaf(kr[j].w, delta[n], S[n][j][3]);
        }
      const int c = c0 + cg + g;
      if (g < kCols && c < Dv) yh[(t0 + t) * Dv + c] = mine;
    }
    tc::cp_async_wait_all();
    __syncthreads();  // the next tile has landed; every lane is done with this one
    if (more) {
      dot_qk(t0 + kTile, nxt);
      __syncthreads();
    }
  }
}

// Columns per block: the most (kMaxThreads / LPC · kCols) while the blocks still give every SM
// one, else fewer for the parallelism (down to one warp); never more than d_v needs.
int columns_per_block(int lpc, const Dims& d) {
  const int per_warp = 32 / lpc * kCols, most = kMaxThreads / lpc * kCols;
  const int sms = multiprocessor_count();
  int cb = most;
  while (cb > per_warp && d.BH * ((d.Dv + cb - 1) / cb) < sms) cb /= 2;
  const int need = static_cast<int>((d.Dv + per_warp - 1) / per_warp * per_warp);
  return std::min(cb, need);
}

template <int LPC, int RPL>
void launch(const float* q, const float* k, const float* v, const float* beta, float* y,
            const Dims& d, cudaStream_t s) {
  const int cb = columns_per_block(LPC, d);
  const TileLayout lay{LPC * RPL, cb};
  const size_t smem = sizeof(float) * 2 * static_cast<size_t>(lay.floats());
  auto kernel = deltanet_recurrent_kernel<LPC, RPL>;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(smem)),
        "cudaFuncSetAttribute(deltanet_recurrent)");
  const dim3 grid(static_cast<unsigned>((d.Dv + cb - 1) / cb), static_cast<unsigned>(d.BH));
  kernel<<<grid, cb / kCols * LPC, smem, s>>>(q, k, v, beta, y, d.L, static_cast<int>(d.Dk),
                                              static_cast<int>(d.Dv), cb);
  check_launch("deltanet_recurrent_kernel");
}

}  // namespace

void deltanet_recurrent(const float* q, const float* k, const float* v, const float* beta, float* y,
                        const Dims& d, cudaStream_t s) {
  // A lane keeps RPL rows of four columns (4·RPL state registers): RPL = 16 up to d_k = 128 at 8
  // lanes per column group, 16 lanes for d_k up to 256; fewer rows for small d_k.
  if (d.Dk <= 16) return launch<4, 4>(q, k, v, beta, y, d, s);
  if (d.Dk <= 32) return launch<8, 4>(q, k, v, beta, y, d, s);
  if (d.Dk <= 64) return launch<8, 8>(q, k, v, beta, y, d, s);
  if (d.Dk <= 128) return launch<8, 16>(q, k, v, beta, y, d, s);
  if (d.Dk <= 256) return launch<16, 16>(q, k, v, beta, y, d, s);
  throw BackendError("DeltaNet recurrent kernel supports d_k <= 256, got " + std::to_string(d.Dk));
}

}  // namespace linscope::gpu
