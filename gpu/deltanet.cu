// DeltaNet's recurrent form on the CUDA backend (MODELS.md §4):
//   S_t = S_{t-1} - β_t k_t (k_t^T S_{t-1} - v_t^T),   y_t = q_t^T S_t.
// CPU twin: core/deltanet/recurrent.cpp.
//
// Layout: block = (head, 4·kCols value columns), 4 warps of kCols columns each. Inside a warp the
// 32 lanes split the d_k rows (lane, lane+32, ...), and each lane keeps its rows of the warp's
// columns in registers. Each token needs k_t^T S_{t-1} for every column before the update and
// q_t^T S_t after it: both are sums over rows, i.e. warp reductions (butterfly shuffles), done
// for the kCols columns together so their shuffle chains overlap. No block barrier at all: the
// warps' columns are independent, which is what makes the delta rule's per-step latency short.
#include <cuda_bf16.h>

#include <algorithm>
#include <string>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"

namespace linscope::gpu {
namespace {

constexpr int kWarps = 4;  // warps per block

// kCols value columns per warp: 8 gives more independent shuffle chains per warp, 4 twice the
// warps (used when d_v is small and 8 would leave the SMs with too few warps).
template <int RK, int kCols>
__global__ void __launch_bounds__(kWarps * 32)
    deltanet_recurrent_kernel(const float* __restrict__ q, const float* __restrict__ k,
                              const float* __restrict__ v, const float* __restrict__ beta,
                              float* __restrict__ y, int64_t L, int64_t Dk, int64_t Dv) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t head = blockIdx.y;
  const int64_t c0 = (static_cast<int64_t>(blockIdx.x) * kWarps + warp) * kCols;
  if (c0 >= Dv) return;  // whole warp idle: no barrier below, so this is safe
  const float* qh = q + head * L * Dk;
  const float* kh = k + head * L * Dk;
  const float* vh = v + head * L * Dv;
  const float* bh = beta + head * L;
  float* yh = y + head * L * Dv;
  float S[kCols][RK];
#pragma unroll
  for (int c = 0; c < kCols; ++c)
#pragma unroll
    for (int r = 0; r < RK; ++r) S[c][r] = 0.f;
  // Registers for token t, prefetched one token ahead so the global loads overlap the math.
  float kn[RK], qn[RK], vn = 0.f, bn = 0.f;
  auto load = [&](int64_t t, float* kk, float* qq, float& vv, float& bb) {
#pragma unroll
    for (int r = 0; r < RK; ++r) {
      const int64_t row = lane + 32 * r;
      kk[r] = row < Dk ? kh[t * Dk + row] : 0.f;
      qq[r] = row < Dk ? qh[t * Dk + row] : 0.f;
    }
    vv = lane < kCols && c0 + lane < Dv ? vh[t * Dv + c0 + lane] : 0.f;
    bb = bh[t];
  };
  load(0, kn, qn, vn, bn);
  for (int64_t t = 0; t < L; ++t) {
    float kt[RK], qt[RK];
#pragma unroll
    for (int r = 0; r < RK; ++r) {
      kt[r] = kn[r];
      qt[r] = qn[r];
    }
    const float vlane = vn, b = bn;
    if (t + 1 < L) load(t + 1, kn, qn, vn, bn);
    // u_c = k_t^T S_{t-1}[:, c], summed over the warp's rows.
    float u[kCols];
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      float s = 0.f;
#pragma unroll
      for (int r = 0; r < RK; ++r) s = fmaf(kt[r], S[c][r], s);
      u[c] = s;
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1)
#pragma unroll
      for (int c = 0; c < kCols; ++c) u[c] += __shfl_xor_sync(0xffffffffu, u[c], off);
    // S += k_t β (v_t - u)^T, then o_c = q_t^T S_t[:, c].
    float o[kCols];
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      const float vc = __shfl_sync(0xffffffffu, vlane, c);
      const float delta = b * (vc - u[c]);
      float s = 0.f;
#pragma unroll
      for (int r = 0; r < RK; ++r) {
        S[c][r] = fmaf(kt[r], delta, S[c][r]);
        s = fmaf(qt[r], S[c][r], s);
      }
      o[c] = s;
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1)
#pragma unroll
      for (int c = 0; c < kCols; ++c) o[c] += __shfl_xor_sync(0xffffffffu, o[c], off);
    // Lane c writes column c (every lane holds every sum after the butterfly).
    float mine = 0.f;
#pragma unroll
    for (int c = 0; c < kCols; ++c)
      if (lane == c) mine = o[c];
    if (lane < kCols && c0 + lane < Dv) yh[t * Dv + c0 + lane] = mine;
  }
}

template <int RK, int kCols>
void launch_cols(const float* q, const float* k, const float* v, const float* beta, float* y,
                 const Dims& d, cudaStream_t s) {
  const int64_t per_block = kWarps * kCols;
  const dim3 grid(static_cast<unsigned>((d.Dv + per_block - 1) / per_block),
                  static_cast<unsigned>(d.BH));
  deltanet_recurrent_kernel<RK, kCols>
      <<<grid, kWarps * 32, 0, s>>>(q, k, v, beta, y, d.L, d.Dk, d.Dv);
  check_launch("deltanet_recurrent_kernel");
}

template <int RK>
void launch(const float* q, const float* k, const float* v, const float* beta, float* y,
            const Dims& d, cudaStream_t s) {
  if (d.Dv >= 128) return launch_cols<RK, 8>(q, k, v, beta, y, d, s);
  launch_cols<RK, 4>(q, k, v, beta, y, d, s);
}

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

// Two blocks per SM (128 registers): with the column in registers the kernel took 164 and ran
// one block of 8 warps per SM, latency bound (Nsight Compute: 12.5 % occupancy, 13.4 ms of the
// 15.0 ms tensor-core chunkwise form at L = 16384, d = 128).
__global__ void __launch_bounds__(kDnThreads, 2)
    deltanet_ut_kernel(const float* __restrict__ k, const float* __restrict__ v,
                       const float* __restrict__ beta, float* __restrict__ W,
                       __nv_bfloat16* __restrict__ W16, float* __restrict__ U, int64_t L, int Dk,
                       int Dv, int C) {
  extern __shared__ float sm[];
  // K's rows padded by one float: G's dot products have lanes on consecutive rows j, which
  // without it all hit one bank (a 32-way conflict that made this kernel ~10x slower).
  const int LK = Dk + 1;
  float* Ks = sm;          // [C][LK]
  float* G = Ks + C * LK;  // [C][C]: k_i·k_j, j < i
  float* bs = G + C * C;   // [C]
  const int64_t head = blockIdx.y, c0 = static_cast<int64_t>(blockIdx.x) * C;
  const int n = static_cast<int>(L - c0 < C ? L - c0 : C);
  const float* kh = k + (head * L + c0) * Dk;
  const float* vh = v + (head * L + c0) * Dv;
  for (int e = threadIdx.x; e < n * Dk; e += blockDim.x) Ks[(e / Dk) * LK + e % Dk] = kh[e];
  for (int e = threadIdx.x; e < n; e += blockDim.x) bs[e] = beta[head * L + c0 + e];
  __syncthreads();
  for (int e = threadIdx.x; e < n * n; e += blockDim.x) {
    const int i = e / n, j = e % n;
    float g = 0.f;
    if (j < i)
      for (int c = 0; c < Dk; ++c) g = fmaf(Ks[i * LK + c], Ks[j * LK + c], g);
    G[i * C + j] = g;
  }
  __syncthreads();
  // Forward substitution. Every column of W (from k) and U (from v) is an independent system,
  // so a thread owns whole columns: the column's n values live in registers (loaded and stored
  // coalesced across the warp), no barrier per row, and each row's sum over j < i runs in four
  // interleaved partial sums instead of one chain of dependent FMAs through shared memory.
  float* wh = W ? W + (head * L + c0) * Dk : nullptr;
  __nv_bfloat16* w16 = W16 ? W16 + (head * L + c0) * Dk : nullptr;
  float* uh = U + (head * L + c0) * Dv;
  for (int col = threadIdx.x; col < Dk + Dv; col += blockDim.x) {
    const bool is_w = col < Dk;
    const float* src = is_w ? kh + col : vh + (col - Dk);
    const int stride = is_w ? Dk : Dv;
    float x[kUtMaxChunk];
#pragma unroll
    for (int i = 0; i < kUtMaxChunk; ++i) x[i] = i < n ? src[i * stride] : 0.f;
#pragma unroll
    for (int i = 0; i < kUtMaxChunk; ++i) {
      if (i >= n) break;
      float p[4] = {x[i], 0.f, 0.f, 0.f};
#pragma unroll
      for (int j = 0; j < i; ++j) p[j & 3] = fmaf(-G[i * C + j], x[j], p[j & 3]);
      x[i] = bs[i] * ((p[0] + p[1]) + (p[2] + p[3]));
    }
    // W in fp32 for the fp32 state pass, or rounded once to bf16 for the tensor-core one.
#pragma unroll
    for (int i = 0; i < kUtMaxChunk; ++i) {
      if (i >= n) break;
      if (!is_w)
        uh[i * Dv + (col - Dk)] = x[i];
      else if (w16)
        w16[i * Dk + col] = __float2bfloat16_rn(x[i]);
      else
        wh[i * Dk + col] = x[i];
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
  const int LK = Dk + 1;    // padded rows, as in deltanet_ut_kernel (the scores' bank conflicts)
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
  (void)Dv;  // W and U go from registers to global memory
  return sizeof(float) * static_cast<size_t>(C * (Dk + 1) + C * C + C);
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
  deltanet_ut_kernel<<<ugrid, ut_threads(d.Dk, d.Dv), ub, s>>>(k, v, beta, W, nullptr, U, d.L, Dk,
                                                               Dv, Ci);
  check_launch("deltanet_ut_kernel");
  auto state_kernel = shared ? deltanet_state_kernel<true> : deltanet_state_kernel<false>;
  check(cudaFuncSetAttribute(state_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(sb)),
        "cudaFuncSetAttribute(deltanet_state)");
  state_kernel<<<static_cast<unsigned>(d.BH), kDnThreads, sb, s>>>(q, k, W, U, y, S, d.L, Dk, Dv,
                                                                   Ci);
  check_launch("deltanet_state_kernel");
}

bool deltanet_chunk_tc_supported(const Dims& d, int64_t chunk) {
  return la_chunk_tc_supported(d.Dk, chunk) && chunk <= d.L &&
         ut_smem(d.Dk, d.Dv, chunk) <= kDnSmemLimit;
}

size_t deltanet_chunk_tc_workspace(const Dims& d) {
  return static_cast<size_t>(d.BH * d.L) * (2 * d.Dk + sizeof(float) * d.Dv);  // W16, U
}

void deltanet_chunk_tc(const void* q16, const void* k16, const float* k, const float* v,
                       const float* beta, float* y, void* workspace, const Dims& d, int64_t chunk,
                       cudaStream_t s) {
  if (!deltanet_chunk_tc_supported(d, chunk))
    throw BackendError(
        "DeltaNet tensor-core chunkwise: needs d_k in {16,32,64,128}, a chunk of 16..64 in "
        "steps of 16 and at most L, and the UT tiles in shared memory");
  auto* W16 = static_cast<__nv_bfloat16*>(workspace);
  float* U = reinterpret_cast<float*>(W16 + d.BH * d.L * d.Dk);  // 16-byte aligned: Dk % 16 == 0
  const size_t ub = ut_smem(d.Dk, d.Dv, chunk);
  check(cudaFuncSetAttribute(deltanet_ut_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(ub)),
        "cudaFuncSetAttribute(deltanet_ut)");
  const dim3 ugrid(static_cast<unsigned>((d.L + chunk - 1) / chunk), static_cast<unsigned>(d.BH));
  deltanet_ut_kernel<<<ugrid, ut_threads(d.Dk, d.Dv), ub, s>>>(
      k, v, beta, nullptr, W16, U, d.L, static_cast<int>(d.Dk), static_cast<int>(d.Dv),
      static_cast<int>(chunk));
  check_launch("deltanet_ut_kernel");
  deltanet_state_tc(q16, k16, W16, U, y, d, chunk, s);
}

void deltanet_recurrent(const float* q, const float* k, const float* v, const float* beta, float* y,
                        const Dims& d, cudaStream_t s) {
  const int64_t RK = (d.Dk + 31) / 32;
  if (RK <= 1) return launch<1>(q, k, v, beta, y, d, s);
  if (RK <= 2) return launch<2>(q, k, v, beta, y, d, s);
  if (RK <= 4) return launch<4>(q, k, v, beta, y, d, s);
  if (RK <= 8) return launch<8>(q, k, v, beta, y, d, s);
  throw BackendError("DeltaNet recurrent kernel supports d_k <= 256, got " + std::to_string(d.Dk));
}

}  // namespace linscope::gpu
