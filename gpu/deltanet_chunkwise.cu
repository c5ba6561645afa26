// DeltaNet's chunkwise form on the CUDA backend (MODELS.md §4; CPU twin
// core/deltanet/chunkwise.cpp). The recurrent form is gpu/deltanet_recurrent.cu.

#include <algorithm>
#include <cstdint>
#include <string>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"
#include "gpu/tc_fragments.cuh"

namespace linscope::gpu {
namespace {

// Chunkwise form via the WY/UT representation (Yang et al. 2024, §3; MODELS.md §4; CPU twin
// core/deltanet/chunkwise.cpp). Inside a chunk starting from state S_0, the delta rule's
// update S_t = S_{t-1} + β_t k_t (v_t − S_{t-1}^T k_t)^T unrolls to S_t = S_0 + Σ_{j<=t} k_j ũ_j^T
// with ũ_j = u_j − S_0^T w_j, where u and w solve the unit-lower-triangular systems
//   u_i = β_i (v_i − Σ_{j<i} (k_i·k_j) u_j),   w_i = β_i (k_i − Σ_{j<i} (k_i·k_j) w_j)
// (the UT transform: U = T V, W = T K with T = (I + tril(diag(β) K K^T, −1))^{-1} diag(β)).
// Then per chunk: Y = Q S_0 + tril(Q K^T) Ũ and S ← S_0 + K^T Ũ.
// Two kernels: W and U depend on no state, so (1) computes them for every chunk at once
// (B·H·L/C blocks); (2) one block per head walks the chunks with the state in shared memory
// (global memory, L2-resident, when d_k·d_v does not fit).
constexpr int kDnThreads = 256;
constexpr int kUtMaxChunk = 64;  // deltanet_chunk_size() never exceeds it

// The fp32 UT transform (the fp32 chunkwise form; the tensor-core form has its own,
// gpu/deltanet_ut_tc.cu). Two blocks per SM (128 registers): with the column in registers the
// kernel took 164 and ran one block of 8 warps per SM, latency bound (Nsight Compute: 12.5 %
// occupancy, 13.4 ms of the 15.0 ms tensor-core chunkwise form it then served, L = 16384,
// d = 128).
__global__ void __launch_bounds__(kDnThreads, 2)
    deltanet_ut_kernel(const float* __restrict__ k, const float* __restrict__ v,
                       const float* __restrict__ beta, float* __restrict__ W, float* __restrict__ U,
                       int64_t L, int Dk, int Dv, int C) {
  extern __shared__ __align__(16) float sm[];
  const int KP = (Dk + 3) / 4 * 4;  // K's row in float4s, zero-padded
  const int LK = KP + 4;            // row stride: see the G loop
  const int GS = (C + 3) / 4 * 4;   // G's row stride, float4-aligned
  float* G = sm;                    // [C][GS]: k_i·k_j, read for j < i
  float* Ks = G + C * GS;           // [C][LK]
  float* bs = Ks + C * LK;          // [GS]: whole float4s (the unrolled loop below loads β so)
  float* Vs = bs + GS;              // [C][Dv]
  const int64_t head = blockIdx.y, c0 = static_cast<int64_t>(blockIdx.x) * C;
  const int n = static_cast<int>(L - c0 < C ? L - c0 : C);
  const float* kh = k + (head * L + c0) * Dk;
  const float* vh = v + (head * L + c0) * Dv;
  // K and V stream in with cp.async, K first: G needs only K, so V lands while G is formed, and
  // the substitution then reads both from shared memory (it read its columns from global memory
  // and waited on them: long-scoreboard stalls were the first reason in Nsight Compute).
  // Rows that are not whole 16-byte vectors go the plain way.
  const bool k_vec = Dk % 4 == 0 && (reinterpret_cast<uintptr_t>(k) & 15) == 0;
  const bool v_vec = Dv % 4 == 0 && (reinterpret_cast<uintptr_t>(v) & 15) == 0;
  if (k_vec) {
    for (int e = threadIdx.x; e < n * (KP / 4); e += blockDim.x) {
      const int i = e / (KP / 4), c = 4 * (e - i * (KP / 4));
      tc::cp_async16(Ks + i * LK + c, kh + i * Dk + c, true);
    }
  } else {
    for (int e = threadIdx.x; e < n * KP; e += blockDim.x) {
      const int i = e / KP, c = e - i * KP;
      Ks[i * LK + c] = c < Dk ? kh[i * Dk + c] : 0.f;
    }
  }
  tc::cp_async_commit();
  if (v_vec) {
    for (int e = threadIdx.x; e < n * Dv / 4; e += blockDim.x)
      tc::cp_async16(Vs + 4 * e, vh + 4 * e, true);
  } else {
    for (int e = threadIdx.x; e < n * Dv; e += blockDim.x) Vs[e] = vh[e];
  }
  tc::cp_async_commit();
  for (int e = threadIdx.x; e < n; e += blockDim.x) bs[e] = beta[head * L + c0 + e];
  asm volatile("cp.async.wait_group 1;\n" ::: "memory");  // K has landed (V may not have)
  __syncthreads();
  // G = K K^T in 4 x 4 register tiles, rows ib + 16 r against rows jb + 16 s, all over float4
  // slices of the rows (8 loads per 64 FMAs; the one-entry-per-thread loop before read two floats
  // per FMA and was most of this kernel's time). The 8 lanes of a quarter warp share ib (one
  // broadcast) and take consecutive jb, i.e. consecutive rows 16 bytes of banks apart (LK is a
  // multiple of 4 floats but not of 32), so no load has a bank conflict.
  for (int tile = threadIdx.x; tile < 256; tile += blockDim.x) {
    const int ib = tile >> 4, jb = tile & 15;
    if (ib >= n || jb >= n) continue;
    int ri[4], rj[4];
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      ri[r] = min(ib + 16 * r, n - 1);  // rows past n: a valid row, result not stored
      rj[r] = min(jb + 16 * r, n - 1);
    }
    float acc[4][4] = {};
    for (int c = 0; c < KP; c += 4) {
      float4 a[4], b[4];
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        a[r] = *reinterpret_cast<const float4*>(Ks + ri[r] * LK + c);
        b[r] = *reinterpret_cast<const float4*>(Ks + rj[r] * LK + c);
      }
#pragma unroll
      for (int r = 0; r < 4; ++r)
#pragma unroll
        for (int s = 0; s < 4; ++s) {
          float g = acc[r][s];
          g = fmaf(a[r].x, b[s].x, g);
          g = fmaf(a[r].y, b[s].y, g);
          g = fmaf(a[r].z, b[s].z, g);
          acc[r][s] = fmaf(a[r].w, b[s].w, g);
        }
    }
#pragma unroll
    for (int r = 0; r < 4; ++r)
#pragma unroll
      for (int s = 0; s < 4; ++s) {
        const int i = ib + 16 * r, j = jb + 16 * s;
        if (i < n && j < i) G[i * GS + j] = acc[r][s];
      }
  }
  tc::cp_async_wait_all();  // V
  __syncthreads();
  // Forward substitution. Every column of W (from k) and U (from v) is an independent system,
  // so a thread owns whole columns: the column's n values live in registers (loaded and stored
  // coalesced across the warp), no barrier per row, and each row's sum over j < i runs in four
  // interleaved partial sums instead of one chain of dependent FMAs through shared memory.
  float* wh = W + (head * L + c0) * Dk;
  float* uh = U + (head * L + c0) * Dv;
  for (int col = threadIdx.x; col < Dk + Dv; col += blockDim.x) {
    const bool is_w = col < Dk;
    const float* src = is_w ? Ks + col : Vs + (col - Dk);
    const int stride = is_w ? LK : Dv;
    float x[kUtMaxChunk];
#pragma unroll
    for (int i = 0; i < kUtMaxChunk; ++i) x[i] = i < n ? src[i * stride] : 0.f;
#pragma unroll
    for (int i = 0; i < kUtMaxChunk; ++i) {
      if (i >= n) break;
      // G's row in float4 loads (one broadcast per four FMAs), the last i % 4 singly.
      float p[4] = {x[i], 0.f, 0.f, 0.f};
      const float4* gi = reinterpret_cast<const float4*>(G + i * GS);
#pragma unroll
      for (int j4 = 0; j4 < i / 4; ++j4) {
        const float4 g = gi[j4];
        p[0] = fmaf(-g.x, x[4 * j4], p[0]);
        p[1] = fmaf(-g.y, x[4 * j4 + 1], p[1]);
        p[2] = fmaf(-g.z, x[4 * j4 + 2], p[2]);
        p[3] = fmaf(-g.w, x[4 * j4 + 3], p[3]);
      }
#pragma unroll
      for (int j = i / 4 * 4; j < i; ++j) p[j & 3] = fmaf(-G[i * GS + j], x[j], p[j & 3]);
      x[i] = bs[i] * ((p[0] + p[1]) + (p[2] + p[3]));
    }
#pragma unroll
    for (int i = 0; i < kUtMaxChunk; ++i) {
      if (i >= n) break;
      if (is_w)
        wh[i * Dk + col] = x[i];
      else
        uh[i * Dv + (col - Dk)] = x[i];
    }
  }
}

template <bool kSharedState>
__global__ void __launch_bounds__(kDnThreads)
    deltanet_state_kernel(const float* __restrict__ q, const float* __restrict__ k,
                          const float* __restrict__ W, const float* __restrict__ U,
                          float* __restrict__ y, float* __restrict__ state, int64_t L, int Dk,
                          int Dv, int C) {
  extern __shared__ float sm[];
  // Rows padded by one float: Q K^T's lanes run over consecutive rows j, which at a stride of
  // d_k floats would all hit one bank.
  const int LK = Dk + 1;
  float* Qs = sm;           // [C][LK]
  float* Ks = Qs + C * LK;  // [C][LK]
  float* Ws = Ks + C * LK;  // [C][Dk]
  float* Us = Ws + C * Dk;  // [C][Dv]: U, then Ũ
  float* G = Us + C * Dv;   // [C][C]: q_i·k_j
  float* Ss = G + C * C;    // [Dk][Dv] when kSharedState
  const int64_t head = blockIdx.x;
  float* S = kSharedState ? Ss : state + head * static_cast<int64_t>(Dk) * Dv;
  for (int e = threadIdx.x; e < Dk * Dv; e += blockDim.x) S[e] = 0.f;
  for (int64_t c0 = 0; c0 < L; c0 += C) {
    const int n = static_cast<int>(L - c0 < C ? L - c0 : C);
    const int64_t at = head * L + c0;
    for (int e = threadIdx.x; e < n * Dk; e += blockDim.x) {
      const int pe = (e / Dk) * LK + e % Dk;
      Qs[pe] = q[at * Dk + e];
      Ks[pe] = k[at * Dk + e];
      Ws[e] = W[at * Dk + e];
    }
    for (int e = threadIdx.x; e < n * Dv; e += blockDim.x) Us[e] = U[at * Dv + e];
    __syncthreads();
    // Ũ = U − W S_0 (in place), and the scores q_i·k_j for j <= i.
    for (int e = threadIdx.x; e < n * Dv; e += blockDim.x) {
      const int i = e / Dv, col = e % Dv;
      float acc = Us[e];
      for (int c = 0; c < Dk; ++c) acc = fmaf(-Ws[i * Dk + c], S[c * Dv + col], acc);
      Us[e] = acc;
    }
    for (int e = threadIdx.x; e < n * n; e += blockDim.x) {
      const int i = e / n, j = e % n;
      float g = 0.f;
      if (j <= i)
        for (int c = 0; c < Dk; ++c) g = fmaf(Qs[i * LK + c], Ks[j * LK + c], g);
      G[i * C + j] = g;
    }
    __syncthreads();
    // Y = Q S_0 + tril(Q K^T) Ũ.
    for (int e = threadIdx.x; e < n * Dv; e += blockDim.x) {
      const int i = e / Dv, col = e % Dv;
      float acc = 0.f;
      for (int c = 0; c < Dk; ++c) acc = fmaf(Qs[i * LK + c], S[c * Dv + col], acc);
      for (int j = 0; j <= i; ++j) acc = fmaf(G[i * C + j], Us[j * Dv + col], acc);
      y[(at + i) * Dv + col] = acc;
    }
    __syncthreads();  // every read of S_0 is done
    // S ← S_0 + K^T Ũ.
    for (int e = threadIdx.x; e < Dk * Dv; e += blockDim.x) {
      const int r = e / Dv, col = e % Dv;
      float acc = S[e];
      for (int j = 0; j < n; ++j) acc = fmaf(Ks[j * LK + r], Us[j * Dv + col], acc);
      S[e] = acc;
    }
    __syncthreads();
  }
}

constexpr size_t kDnSmemLimit = 200 * 1024;

// Threads of the UT kernel: one per column of W and U, in whole warps, at most kDnThreads (then
// each thread takes several columns). At d = 64 (128 columns) a full 256 left half idle.
unsigned ut_threads(int64_t Dk, int64_t Dv) {
  return static_cast<unsigned>(std::min<int64_t>(kDnThreads, (Dk + Dv + 31) / 32 * 32));
}

size_t ut_smem(int64_t Dk, int64_t Dv, int64_t C) {
  const int64_t lk = (Dk + 3) / 4 * 4 + 4, gs = (C + 3) / 4 * 4;
  return sizeof(float) * static_cast<size_t>(C * gs + C * lk + gs + C * Dv);
}
size_t state_smem(int64_t Dk, int64_t Dv, int64_t C, bool shared_state) {
  return sizeof(float) * static_cast<size_t>(2 * C * (Dk + 1) + C * Dk + C * Dv + C * C +
                                             (shared_state ? Dk * Dv : 0));
}
// The state stays in shared memory when it takes at most 96 KB (d_k·d_v <= 24576: d = 128).
// (Splitting the value columns over blocks was measured slower: 257 vs 94 ms at L = 16384,
// d = 128, as every block recomputes Q K^T and reloads Q, K, W.)
bool shared_state(const Dims& d) {
  return sizeof(float) * static_cast<size_t>(d.Dk * d.Dv) <= 96 * 1024;
}

}  // namespace

int64_t deltanet_chunk_size(const Dims& d, int64_t requested) {
  // The requested chunk, at most 64 and L, halved until both kernels' tiles fit in shared
  // memory (the result does not depend on the chunk size beyond rounding).
  int64_t C = std::max<int64_t>(1, std::min<int64_t>({requested, 64, d.L}));
  while (C > 1 && (state_smem(d.Dk, d.Dv, C, shared_state(d)) > kDnSmemLimit ||
                   ut_smem(d.Dk, d.Dv, C) > kDnSmemLimit))
    C /= 2;
  return C;
}

size_t deltanet_chunk_workspace(const Dims& d) {
  // W [BH, L, Dk], U [BH, L, Dv], and the state [BH, Dk, Dv] when it lives in global memory.
  return sizeof(float) * static_cast<size_t>(d.BH * d.L * (d.Dk + d.Dv) +
                                             (shared_state(d) ? 0 : d.BH * d.Dk * d.Dv));
}

void deltanet_chunkwise(const float* q, const float* k, const float* v, const float* beta, float* y,
                        void* workspace, const Dims& d, int64_t chunk, cudaStream_t s) {
  const int64_t C = deltanet_chunk_size(d, chunk);
  const bool shared = shared_state(d);
  const size_t ub = ut_smem(d.Dk, d.Dv, C), sb = state_smem(d.Dk, d.Dv, C, shared);
  if (ub > kDnSmemLimit || sb > kDnSmemLimit)
    throw BackendError("DeltaNet chunkwise kernel: d_k = " + std::to_string(d.Dk) +
                       ", d_v = " + std::to_string(d.Dv) + " do not fit in shared memory");
  float* W = static_cast<float*>(workspace);
  float* U = W + d.BH * d.L * d.Dk;
  float* S = U + d.BH * d.L * d.Dv;
  const int Dk = static_cast<int>(d.Dk), Dv = static_cast<int>(d.Dv), Ci = static_cast<int>(C);
  check(cudaFuncSetAttribute(deltanet_ut_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(ub)),
        "cudaFuncSetAttribute(deltanet_ut)");
  const dim3 ugrid(static_cast<unsigned>((d.L + C - 1) / C), static_cast<unsigned>(d.BH));
  deltanet_ut_kernel<<<ugrid, ut_threads(d.Dk, d.Dv), ub, s>>>(k, v, beta, W, U, d.L, Dk, Dv, Ci);
  check_launch("deltanet_ut_kernel");
  auto state_kernel = shared ? deltanet_state_kernel<true> : deltanet_state_kernel<false>;
  check(cudaFuncSetAttribute(state_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(sb)),
        "cudaFuncSetAttribute(deltanet_state)");
  state_kernel<<<static_cast<unsigned>(d.BH), kDnThreads, sb, s>>>(q, k, W, U, y, S, d.L, Dk, Dv,
                                                                   Ci);
  check_launch("deltanet_state_kernel");
}

}  // namespace linscope::gpu
