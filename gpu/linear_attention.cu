// Causal linear attention with scalar decay (LIT / D / S), MODELS.md §1: the recurrent,
// chunkwise and parallel forms in fp32, on the CUDA backend. CPU twin: core/linear_attention/.
// The chunkwise kernels also take a per-channel decay (a gate per key channel, GLA-style):
// A [BH, L, Dk], the decay of state row r from its own channel's cumulative log.
#include <algorithm>
#include <cstdlib>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"

namespace linscope::gpu {
namespace {

constexpr int kScanThreads = 256;

// One block per head: each thread sums a contiguous segment in double, the segment totals are
// prefixed by one thread (256 of them), then every thread writes its segment's prefix sums.
__global__ void cumulative_log_kernel(const float* __restrict__ a, double* __restrict__ A,
                                      int64_t L) {
  __shared__ double totals[kScanThreads];
  const int64_t head = blockIdx.x;
  const float* ah = a + head * L;
  double* Ah = A + head * L;
  const int64_t seg = (L + kScanThreads - 1) / kScanThreads;
  const int64_t t0 = threadIdx.x * seg, t1 = min(L, t0 + seg);
  double sum = 0;
  for (int64_t t = t0; t < t1; ++t) sum += ah[t];
  totals[threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.x == 0) {
    double run = 0;
    for (int i = 0; i < kScanThreads; ++i) {
      const double x = totals[i];
      totals[i] = run;  // exclusive prefix
      run += x;
    }
  }
  __syncthreads();
  double run = totals[threadIdx.x];
  for (int64_t t = t0; t < t1; ++t) {
    run += ah[t];
    Ah[t] = run;
  }
}

// Per channel: A[t, c] = Σ_{m<=t} a[m, c] in double, one thread per (head, channel); adjacent
// threads take adjacent channels, so each step reads one coalesced row. The reads of eight steps
// are issued before their sum (the same additions in the same order): with one thread per
// channel the walk is bound by load latency, not bandwidth (1.37 ms at B·H = 128, L = 4096,
// d = 128 on the H200 when each load waited for the previous step).
__global__ void cumulative_log_channels_kernel(const float* __restrict__ a, double* __restrict__ A,
                                               int64_t BH, int64_t L, int64_t D) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= BH * D) return;
  const int64_t head = i / D, c = i % D;
  const float* ah = a + head * L * D + c;
  double* Ah = A + head * L * D + c;
  constexpr int kBatch = 8;
  double run = 0.0;
  int64_t t = 0;
  for (; t + kBatch <= L; t += kBatch) {
    float x[kBatch];
#pragma unroll
    for (int u = 0; u < kBatch; ++u) x[u] = ah[(t + u) * D];
#pragma unroll
    for (int u = 0; u < kBatch; ++u) {
      run += x[u];
      Ah[(t + u) * D] = run;
    }
  }
  for (; t < L; ++t) {
    run += ah[t * D];
    Ah[t * D] = run;
  }
}

// out [rows, Dv + 1] = [v, 1]: the value rows with the normalizer's column of ones, for kernels
// that take plain values (GateLoop's, which compute per-channel decay).
__global__ void append_ones_kernel(const float* __restrict__ v, float* __restrict__ out,
                                   int64_t rows, int64_t Dv) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= rows * (Dv + 1)) return;
  const int64_t t = e / (Dv + 1), c = e % (Dv + 1);
  out[e] = c < Dv ? v[t * Dv + c] : 1.0f;
}

// Cumulative log decay of token t for state row r: one per token (scalar decay, A [BH, L]) or
// one per channel (PC, A [BH, L, Dk]); Ah points at the head's first token.
template <bool PC>
__device__ __forceinline__ double log_decay_at(const double* Ah, int64_t t, int64_t r, int64_t Dk) {
  return PC ? Ah[t * Dk + r] : Ah[t];
}

// Value of column c of token t: v, or 1 in the normalizer column c == Dv.
__device__ __forceinline__ float value_at(const float* v, int64_t t, int64_t c, int64_t Dv) {
  return c < Dv ? v[t * Dv + c] : 1.0f;
}

// Recurrent form. Block = (head, 32 value columns); warp w holds state rows wR .. wR+R-1 of
// those columns in registers (R rows per thread), so the state never leaves the SM. Tokens come
// in tiles of T: q, k, v of the tile are staged in shared memory, every warp writes its partial
// q^T S for each token of the tile, and the partials are summed once per tile (one barrier per
// T tokens, not per token): the recurrence is latency bound (TARGETS.md).
constexpr int kRecWarps = 8;
constexpr int kRecTile = 16;

// NCOL columns per lane (the block's columns are lane + 32 j, j < NCOL, so value loads stay
// coalesced): each q, k value read from shared memory then feeds NCOL times as many FMAs.
template <int R, int W, int NCOL>
__global__ void __launch_bounds__(W * 32)
    la_recurrent_kernel(const float* __restrict__ q, const float* __restrict__ k,
                        const float* __restrict__ v, const float* __restrict__ a,
                        float* __restrict__ num, int64_t L, int64_t Dk, int64_t Dv, int64_t Dc) {
  constexpr int CW = 32 * NCOL;  // columns per block
  extern __shared__ float smem[];
  float* qs = smem;                 // [T][Dk]
  float* ks = qs + kRecTile * Dk;   // [T][Dk]
  float* vs = ks + kRecTile * Dk;   // [T][CW]
  float* lam = vs + kRecTile * CW;  // [T]
  float* part = lam + kRecTile;     // [W][T][CW]
  const int64_t head = blockIdx.y, c0 = static_cast<int64_t>(blockIdx.x) * CW;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const float* qh = q + head * L * Dk;
  const float* kh = k + head * L * Dk;
  const float* vh = v + head * L * Dv;
  const float* ah = a + head * L;
  float* nh = num + head * L * Dc;
  // Rows warp*R .. warp*R+R-1 of the state: contiguous, so q and k load 4 at a time.
  const bool vec4 = Dk % 4 == 0;
  float S[NCOL][R];
#pragma unroll
  for (int j = 0; j < NCOL; ++j)
#pragma unroll
    for (int r = 0; r < R; ++r) S[j][r] = 0.f;
  // The next tile's q, k, v, log λ are fetched into registers while this tile computes (the
  // loads' latency hides behind the math instead of stalling every warp at the barrier).
  // Needs 16-byte rows (Dk % 4 == 0) and Dk <= 256 (4 float4 of q and of k per thread).
  constexpr int kPf = kRecTile * 256 / 4 / (W * 32);
  constexpr int kPv = kRecTile * CW / (W * 32);
  const bool prefetch = vec4 && Dk <= 256;
  float4 pq[kPf], pk[kPf];
  float pv[kPv], pa = 0.f;
  auto fetch = [&](int64_t t0) {
    const int64_t T = min(static_cast<int64_t>(kRecTile), L - t0), n4 = T * Dk / 4;
    const float4* q4 = reinterpret_cast<const float4*>(qh + t0 * Dk);
    const float4* k4 = reinterpret_cast<const float4*>(kh + t0 * Dk);
#pragma unroll
    for (int m = 0; m < kPf; ++m) {
      const int64_t e = threadIdx.x + m * W * 32;
      if (e < n4) {
        pq[m] = q4[e];
        pk[m] = k4[e];
      }
    }
#pragma unroll
    for (int m = 0; m < kPv; ++m) {
      const int64_t e = threadIdx.x + m * W * 32;
      const int64_t cc = c0 + (e % CW);
      pv[m] = e < T * CW && cc < Dc ? value_at(vh, t0 + e / CW, cc, Dv) : 0.f;
    }
    pa = threadIdx.x < T ? ah[t0 + threadIdx.x] : 0.f;
  };
  if (prefetch) fetch(0);
  for (int64_t t0 = 0; t0 < L; t0 += kRecTile) {
    const int T = static_cast<int>(min(static_cast<int64_t>(kRecTile), L - t0));
    if (prefetch) {
      float4* qs4 = reinterpret_cast<float4*>(qs);
      float4* ks4 = reinterpret_cast<float4*>(ks);
#pragma unroll
      for (int m = 0; m < kPf; ++m) {
        const int64_t e = threadIdx.x + m * W * 32;
        if (e < T * Dk / 4) {
          qs4[e] = pq[m];
          ks4[e] = pk[m];
        }
      }
#pragma unroll
      for (int m = 0; m < kPv; ++m) vs[threadIdx.x + m * W * 32] = pv[m];
      if (threadIdx.x < T) lam[threadIdx.x] = __expf(pa);
    } else {
      for (int64_t e = threadIdx.x; e < T * Dk; e += blockDim.x) {
        qs[e] = qh[t0 * Dk + e];
        ks[e] = kh[t0 * Dk + e];
      }
      for (int e = threadIdx.x; e < T * CW; e += blockDim.x) {
        const int64_t cc = c0 + (e % CW);
        vs[e] = cc < Dc ? value_at(vh, t0 + e / CW, cc, Dv) : 0.f;
      }
      if (threadIdx.x < T) lam[threadIdx.x] = __expf(ah[t0 + threadIdx.x]);
    }
    __syncthreads();
    if (prefetch && t0 + kRecTile < L) fetch(t0 + kRecTile);
    for (int t = 0; t < T; ++t) {
      float vt[NCOL];
#pragma unroll
      for (int j = 0; j < NCOL; ++j) vt[j] = vs[t * CW + lane + 32 * j];
      const float lt = lam[t];
      const float* kt = ks + t * Dk;
      const float* qt = qs + t * Dk;
      float p[NCOL];
      if (R % 4 == 0 && vec4) {
        // 16-byte shared loads of q and k: 2 FMAs per 0.5 load instead of per 2 loads, as the
        // loop is bound by instruction issue, not by the FMAs.
        float p4[NCOL][4];
#pragma unroll
        for (int j = 0; j < NCOL; ++j) p4[j][0] = p4[j][1] = p4[j][2] = p4[j][3] = 0.f;
#pragma unroll
        for (int m = 0; m < R / 4; ++m) {
          const int64_t row = warp * R + 4 * m;
          if (row < Dk) {
            const float4 kk = *reinterpret_cast<const float4*>(kt + row);
            const float4 qq = *reinterpret_cast<const float4*>(qt + row);
#pragma unroll
            for (int j = 0; j < NCOL; ++j) {
              S[j][4 * m + 0] = fmaf(lt, S[j][4 * m + 0], kk.x * vt[j]);
              S[j][4 * m + 1] = fmaf(lt, S[j][4 * m + 1], kk.y * vt[j]);
              S[j][4 * m + 2] = fmaf(lt, S[j][4 * m + 2], kk.z * vt[j]);
              S[j][4 * m + 3] = fmaf(lt, S[j][4 * m + 3], kk.w * vt[j]);
              p4[j][0] = fmaf(qq.x, S[j][4 * m + 0], p4[j][0]);
              p4[j][1] = fmaf(qq.y, S[j][4 * m + 1], p4[j][1]);
              p4[j][2] = fmaf(qq.z, S[j][4 * m + 2], p4[j][2]);
              p4[j][3] = fmaf(qq.w, S[j][4 * m + 3], p4[j][3]);
            }
          }
        }
#pragma unroll
        for (int j = 0; j < NCOL; ++j) p[j] = (p4[j][0] + p4[j][1]) + (p4[j][2] + p4[j][3]);
      } else {
#pragma unroll
        for (int j = 0; j < NCOL; ++j) p[j] = 0.f;
#pragma unroll
        for (int r = 0; r < R; ++r) {
          const int64_t row = warp * R + r;
          if (row < Dk) {
#pragma unroll
            for (int j = 0; j < NCOL; ++j) {
              S[j][r] = fmaf(lt, S[j][r], kt[row] * vt[j]);
              p[j] = fmaf(qt[row], S[j][r], p[j]);
            }
          }
        }
      }
#pragma unroll
      for (int j = 0; j < NCOL; ++j) part[(warp * kRecTile + t) * CW + lane + 32 * j] = p[j];
    }
    __syncthreads();
    for (int e = threadIdx.x; e < T * CW; e += blockDim.x) {
      const int t = e / CW, l = e % CW;
      const int64_t cc = c0 + l;
      float sum = 0.f;
#pragma unroll
      for (int w = 0; w < W; ++w) sum += part[(w * kRecTile + t) * CW + l];
      if (cc < Dc) nh[(t0 + t) * Dc + cc] = sum;
    }
    __syncthreads();
  }
}

template <int R, int W, int NCOL>
void launch_recurrent(const float* q, const float* k, const float* v, const float* a, float* num,
                      const Dims& d, int64_t Dc, cudaStream_t s) {
  constexpr int CW = 32 * NCOL;
  const size_t bytes =
      sizeof(float) * (2 * kRecTile * d.Dk + kRecTile * CW + kRecTile + W * kRecTile * CW);
  check(cudaFuncSetAttribute(la_recurrent_kernel<R, W, NCOL>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
        "cudaFuncSetAttribute(la_recurrent)");
  const dim3 grid(static_cast<unsigned>((Dc + CW - 1) / CW), static_cast<unsigned>(d.BH));
  la_recurrent_kernel<R, W, NCOL><<<grid, W * 32, bytes, s>>>(q, k, v, a, num, d.L, d.Dk, d.Dv, Dc);
  check_launch("la_recurrent_kernel");
}

// Columns per lane. Measured on the H100 at B = 8, H = 16, L = 16384 (docs/performance.md):
// two columns per lane (64 per block) 9.36 ms against 12.01 with one at d = 128, 4.79 against
// 5.74 at d = 64; but LION's normalized sweeps (d_c = 129) got slower, 34.2 against 32.5 ms, as
// 64-column blocks leave a third block almost empty. So two columns when 64-column blocks cover
// d_c with no more idle columns than 32-column ones. LINSCOPE_REC_COLS=1|2 overrides, for tuning.
template <int R>
void launch_recurrent_cols(const float* q, const float* k, const float* v, const float* a,
                           float* num, const Dims& d, int64_t Dc, cudaStream_t s) {
  int cols = (Dc + 63) / 64 * 64 <= (Dc + 31) / 32 * 32 ? 2 : 1;
  if (const char* env = std::getenv("LINSCOPE_REC_COLS")) cols = std::atoi(env) == 2 ? 2 : 1;
  if (cols == 2) return launch_recurrent<R, kRecWarps, 2>(q, k, v, a, num, d, Dc, s);
  launch_recurrent<R, kRecWarps, 1>(q, k, v, a, num, d, Dc, s);
}

// Chunk states: block = (chunk, head, 32x32 tile of [Dk, Dc]).
constexpr int kTile = 32;

// PC: per-channel decay, the factor exp(A_end,r − A_j,r) differs per state row r.
template <bool PC>
__global__ void la_chunk_states_kernel(const float* __restrict__ k, const float* __restrict__ v,
                                       const double* __restrict__ A, float* __restrict__ dS,
                                       int64_t L, int64_t Dk, int64_t Dv, int64_t Dc, int64_t C) {
  __shared__ float kw[kTile][kTile + 1];  // [token][row]: k_j[r] exp(A_end - A_j)
  __shared__ float vt[kTile][kTile + 1];  // [token][col]
  const int64_t n = blockIdx.x, head = blockIdx.y;
  const int64_t col_tiles = (Dc + kTile - 1) / kTile;
  const int64_t r0 = (blockIdx.z / col_tiles) * kTile, c0 = (blockIdx.z % col_tiles) * kTile;
  const int64_t j0 = n * C, j1 = min(L, j0 + C);
  const double* Ah = A + head * L * (PC ? Dk : 1);
  const float* kh = k + head * L * Dk;
  const float* vh = v + head * L * Dv;
  const int tx = threadIdx.x & 31, ty = threadIdx.x >> 5;  // 32 x 8 threads, 4 rows each
  float acc[4] = {0.f, 0.f, 0.f, 0.f};
  for (int64_t jb = j0; jb < j1; jb += kTile) {
    for (int e = threadIdx.x; e < kTile * kTile; e += blockDim.x) {
      const int jj = e / kTile, x = e % kTile;
      const int64_t j = jb + jj;
      float kv = 0.f, vv = 0.f;
      if (j < j1) {
        const int64_t r = r0 + x;
        if (r < Dk)
          kv = kh[j * Dk + r] * __expf(static_cast<float>(log_decay_at<PC>(Ah, j1 - 1, r, Dk) -
                                                          log_decay_at<PC>(Ah, j, r, Dk)));
        if (c0 + x < Dc) vv = value_at(vh, j, c0 + x, Dv);
      }
      kw[jj][x] = kv;
      vt[jj][x] = vv;
    }
    __syncthreads();
    const int jn = static_cast<int>(min(static_cast<int64_t>(kTile), j1 - jb));
    for (int jj = 0; jj < jn; ++jj) {
      const float vv = vt[jj][tx];
#pragma unroll
      for (int i = 0; i < 4; ++i) acc[i] = fmaf(kw[jj][ty + 8 * i], vv, acc[i]);
    }
    __syncthreads();
  }
  const int64_t NC = (L + C - 1) / C;
  float* out = dS + ((head * NC + n) * Dk) * Dc;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int64_t r = r0 + ty + 8 * i, c = c0 + tx;
    if (r < Dk && c < Dc) out[r * Dc + c] = acc[i];
  }
}

template <bool PC>
__global__ void la_chunk_scan_kernel(float* __restrict__ dS, const double* __restrict__ A,
                                     int64_t L, int64_t Dk, int64_t Dc, int64_t C) {
  const int64_t head = blockIdx.y;
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= Dk * Dc) return;
  const int64_t NC = (L + C - 1) / C, r = e / Dc;
  const double* Ah = A + head * L * (PC ? Dk : 1);
  float* base = dS + head * NC * Dk * Dc + e;
  float S = 0.f;
  double prev_end = 0.0;  // A before the first token
  for (int64_t n = 0; n < NC; ++n) {
    const double end = log_decay_at<PC>(Ah, min(L, (n + 1) * C) - 1, r, Dk);
    const float d = base[n * Dk * Dc];
    base[n * Dk * Dc] = S;
    S = __expf(static_cast<float>(end - prev_end)) * S + d;
    prev_end = end;
  }
}

// Block attention: block = (16 rows, head). Scores of the rows against 32 keys at a time are
// staged in shared memory, then multiplied into the accumulators acc[16][Dc].
// PC (per-channel decay, causal only): the decay sits inside the dot product,
// P_ij = Σ_r q_ir k_jr exp(A_ir − A_jr) (MODELS.md §1; the CPU's core/linear_attention/
// scores.cpp), and the carried state's rows decay per channel.
constexpr int kRows = 16;
constexpr int kKeys = 32;

template <bool PC>
__global__ void __launch_bounds__(256)
    la_block_attention_kernel(const float* __restrict__ q, const float* __restrict__ k,
                              const float* __restrict__ v, const double* __restrict__ A,
                              const float* __restrict__ S_in, float* __restrict__ num, int64_t L,
                              int64_t Dk, int64_t Dv, int64_t Dc, int64_t C, bool bidir) {
  extern __shared__ float smem[];
  float* qs = smem;                   // [kRows][Dk]
  float* ks = qs + kRows * Dk;        // [kKeys][Dk + 1]
  float* vs = ks + kKeys * (Dk + 1);  // [kKeys][Dc]
  float* P = vs + kKeys * Dc;         // [kRows][kKeys]
  float* acc = P + kRows * kKeys;     // [kRows][Dc]
  const int64_t head = blockIdx.y, i0 = blockIdx.x * kRows;
  const int64_t rows = min(static_cast<int64_t>(kRows), L - i0);
  const float* qh = q + head * L * Dk;
  const float* kh = k + head * L * Dk;
  const float* vh = v + head * L * Dv;
  const double* Ah = A + head * L * (PC ? Dk : 1);
  for (int64_t e = threadIdx.x; e < kRows * Dk; e += blockDim.x)
    qs[e] = e < rows * Dk ? qh[i0 * Dk + e] : 0.f;
  for (int64_t e = threadIdx.x; e < kRows * Dc; e += blockDim.x) acc[e] = 0.f;
  // Keys needed by the tile: from the chunk start of its first row to its last row (causal), or
  // all keys (bidirectional).
  const int64_t jlo = bidir ? 0 : (i0 / C) * C;
  const int64_t jhi = bidir ? L : i0 + rows;
  for (int64_t jb = jlo; jb < jhi; jb += kKeys) {
    __syncthreads();
    const int64_t jn = min(static_cast<int64_t>(kKeys), jhi - jb);
    for (int64_t e = threadIdx.x; e < kKeys * Dk; e += blockDim.x) {
      const int64_t jj = e / Dk, r = e % Dk;
      ks[jj * (Dk + 1) + r] = jj < jn ? kh[(jb + jj) * Dk + r] : 0.f;
    }
    for (int64_t e = threadIdx.x; e < kKeys * Dc; e += blockDim.x) {
      const int64_t jj = e / Dc, cc = e % Dc;
      vs[e] = jj < jn ? value_at(vh, jb + jj, cc, Dv) : 0.f;
    }
    __syncthreads();
    for (int e = threadIdx.x; e < kRows * kKeys; e += blockDim.x) {
      const int ii = e / kKeys, jj = e % kKeys;
      const int64_t i = i0 + ii, j = jb + jj;
      float p = 0.f;
      bool live = ii < rows && jj < jn;
      if (!bidir) live = live && j <= i && j >= (i / C) * C;
      if (live && PC) {  // j <= i here: every exponent A_ir − A_jr <= 0
        for (int64_t r = 0; r < Dk; ++r)
          p = fmaf(qs[ii * Dk + r] * ks[jj * (Dk + 1) + r],
                   __expf(static_cast<float>(Ah[i * Dk + r] - Ah[j * Dk + r])), p);
      } else if (live) {
        for (int64_t r = 0; r < Dk; ++r) p = fmaf(qs[ii * Dk + r], ks[jj * (Dk + 1) + r], p);
        const double diff = j <= i ? Ah[i] - Ah[j] : Ah[j] - Ah[i];
        p *= __expf(static_cast<float>(diff));
      }
      P[e] = p;
    }
    __syncthreads();
    for (int64_t e = threadIdx.x; e < kRows * Dc; e += blockDim.x) {
      const int64_t ii = e / Dc, cc = e % Dc;
      float sum = acc[e];
      for (int jj = 0; jj < jn; ++jj) sum = fmaf(P[ii * kKeys + jj], vs[jj * Dc + cc], sum);
      acc[e] = sum;
    }
  }
  __syncthreads();
  const int64_t NC = (L + C - 1) / C;
  if (S_in && i0 / C == (i0 + rows - 1) / C) {
    // Every row of the tile is in chunk n: the inter-chunk term (Q_n ⊙ decay from the chunk
    // start) S_n is a small matrix product; S_n is staged through shared memory 32 rows at a
    // time, so each block reads it once (coalesced) instead of once per output element.
    const int64_t n = i0 / C;
    for (int64_t e = threadIdx.x; e < rows * Dk; e += blockDim.x) {
      const int64_t r = e % Dk;
      const double start = n == 0 ? 0.0 : log_decay_at<PC>(Ah, n * C - 1, r, Dk);
      qs[e] *= __expf(static_cast<float>(log_decay_at<PC>(Ah, i0 + e / Dk, r, Dk) - start));
    }
    const float* S = S_in + (head * NC + n) * Dk * Dc;
    for (int64_t r0 = 0; r0 < Dk; r0 += kKeys) {
      __syncthreads();
      const int64_t rn = min(static_cast<int64_t>(kKeys), Dk - r0);
      for (int64_t e = threadIdx.x; e < kKeys * Dc; e += blockDim.x)
        vs[e] = e / Dc < rn ? S[r0 * Dc + e] : 0.f;
      __syncthreads();
      for (int64_t e = threadIdx.x; e < kRows * Dc; e += blockDim.x) {
        const int64_t ii = e / Dc, cc = e % Dc;
        float sum = acc[e];
        for (int64_t rr = 0; rr < rn; ++rr)
          sum = fmaf(qs[ii * Dk + r0 + rr], vs[rr * Dc + cc], sum);
        acc[e] = sum;
      }
    }
    __syncthreads();
    for (int64_t e = threadIdx.x; e < rows * Dc; e += blockDim.x)
      num[(head * L + i0) * Dc + e] = acc[e];
    return;
  }
  for (int64_t e = threadIdx.x; e < rows * Dc; e += blockDim.x) {
    const int64_t ii = e / Dc, cc = e % Dc, i = i0 + ii;
    float y = acc[e];
    if (S_in) {
      const int64_t n = i / C;
      const float* S = S_in + (head * NC + n) * Dk * Dc;
      float inter = 0.f;
      for (int64_t r = 0; r < Dk; ++r) {  // row r decays by exp(A_ir − A_start,r)
        const double start = n == 0 ? 0.0 : log_decay_at<PC>(Ah, n * C - 1, r, Dk);
        const float g = __expf(static_cast<float>(log_decay_at<PC>(Ah, i, r, Dk) - start));
        inter = fmaf(qs[ii * Dk + r] * g, S[r * Dc + cc], inter);
      }
      y += inter;
    }
    num[(head * L + i) * Dc + cc] = y;
  }
}

__global__ void attention_matrix_kernel(const float* __restrict__ q, const float* __restrict__ k,
                                        const double* __restrict__ A, const float* __restrict__ num,
                                        float* __restrict__ att, int64_t L, int64_t Dk, int64_t Dv,
                                        int64_t Dc, bool bidir) {
  const int64_t head = blockIdx.z;
  const int64_t i = blockIdx.y, j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j >= L) return;
  float p = 0.f;
  if (bidir || j <= i) {
    const float* qi = q + (head * L + i) * Dk;
    const float* kj = k + (head * L + j) * Dk;
    for (int64_t r = 0; r < Dk; ++r) p = fmaf(qi[r], kj[r], p);
    const double* Ah = A + head * L;
    p *= __expf(static_cast<float>(j <= i ? Ah[i] - Ah[j] : Ah[j] - Ah[i]));
    if (Dc > Dv) p /= num[(head * L + i) * Dc + Dv];
  }
  att[(head * L + i) * L + j] = p;
}

__global__ void finish_kernel(const float* __restrict__ num, float* __restrict__ y, int64_t rows,
                              int64_t Dv, int64_t Dc) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= rows * Dv) return;
  const int64_t t = e / Dv, c = e % Dv;
  const float x = num[t * Dc + c];
  y[e] = Dc > Dv ? x / num[t * Dc + Dv] : x;
}

__global__ void divide_rows_kernel(const float* num, const float* __restrict__ den, float* y,
                                   int64_t rows, int64_t Dv) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e < rows * Dv) y[e] = num[e] / den[e / Dv];
}

unsigned blocks_for(int64_t n, int threads) {
  return static_cast<unsigned>((n + threads - 1) / threads);
}

}  // namespace

void cumulative_log(const float* a, double* A, const Dims& d, cudaStream_t s) {
  cumulative_log_kernel<<<static_cast<unsigned>(d.BH), kScanThreads, 0, s>>>(a, A, d.L);
  check_launch("cumulative_log_kernel");
}

void la_recurrent(const float* q, const float* k, const float* v, const float* a, float* num,
                  const Dims& d, int64_t Dc, cudaStream_t s) {
  // 8 warps. Measured on the H100 (docs/performance.md): 16 warps of 8 rows at d_k = 128 ran
  // 20 % slower (14.6 vs 12.2 ms at L = 16384), so W stays a template parameter for tuning only;
  // the columns per lane are chosen in launch_recurrent_cols.
  const int64_t R = (d.Dk + kRecWarps - 1) / kRecWarps;
  if (R <= 1) return launch_recurrent_cols<1>(q, k, v, a, num, d, Dc, s);
  if (R <= 2) return launch_recurrent_cols<2>(q, k, v, a, num, d, Dc, s);
  if (R <= 4) return launch_recurrent_cols<4>(q, k, v, a, num, d, Dc, s);
  if (R <= 8) return launch_recurrent_cols<8>(q, k, v, a, num, d, Dc, s);
  if (R <= 16) return launch_recurrent_cols<16>(q, k, v, a, num, d, Dc, s);
  if (R <= 32) return launch_recurrent_cols<32>(q, k, v, a, num, d, Dc, s);
  throw BackendError("recurrent kernel supports d_k <= 256, got " + std::to_string(d.Dk));
}

void cumulative_log_channels(const float* a, double* A, int64_t BH, int64_t L, int64_t D,
                             cudaStream_t s) {
  if (BH * L * D == 0) return;
  cumulative_log_channels_kernel<<<blocks_for(BH * D, 128), 128, 0, s>>>(a, A, BH, L, D);
  check_launch("cumulative_log_channels_kernel");
}

void append_ones_column(const float* v, float* out, int64_t rows, int64_t Dv, cudaStream_t s) {
  if (rows == 0) return;
  append_ones_kernel<<<blocks_for(rows * (Dv + 1), 256), 256, 0, s>>>(v, out, rows, Dv);
  check_launch("append_ones_kernel");
}

void la_chunk_states(const float* k, const float* v, const double* A, float* dS, const Dims& d,
                     int64_t Dc, int64_t C, cudaStream_t s, bool per_channel) {
  const int64_t NC = (d.L + C - 1) / C;
  const int64_t tiles = ((d.Dk + kTile - 1) / kTile) * ((Dc + kTile - 1) / kTile);
  const dim3 grid(static_cast<unsigned>(NC), static_cast<unsigned>(d.BH),
                  static_cast<unsigned>(tiles));
  if (per_channel)
    la_chunk_states_kernel<true><<<grid, 256, 0, s>>>(k, v, A, dS, d.L, d.Dk, d.Dv, Dc, C);
  else
    la_chunk_states_kernel<false><<<grid, 256, 0, s>>>(k, v, A, dS, d.L, d.Dk, d.Dv, Dc, C);
  check_launch("la_chunk_states_kernel");
}

void la_chunk_scan(float* dS, const double* A, const Dims& d, int64_t Dc, int64_t C, cudaStream_t s,
                   bool per_channel) {
  const dim3 grid(blocks_for(d.Dk * Dc, 256), static_cast<unsigned>(d.BH));
  if (per_channel)
    la_chunk_scan_kernel<true><<<grid, 256, 0, s>>>(dS, A, d.L, d.Dk, Dc, C);
  else
    la_chunk_scan_kernel<false><<<grid, 256, 0, s>>>(dS, A, d.L, d.Dk, Dc, C);
  check_launch("la_chunk_scan_kernel");
}

void la_block_attention(const float* q, const float* k, const float* v, const double* A,
                        const float* S_in, float* num, const Dims& d, int64_t Dc, int64_t C,
                        bool bidirectional, cudaStream_t s, bool per_channel) {
  if (per_channel && bidirectional)
    throw BackendError("block attention: per-channel decay is causal only");
  const size_t bytes =
      sizeof(float) * (kRows * d.Dk + kKeys * (d.Dk + 1) + kKeys * Dc + kRows * kKeys + kRows * Dc);
  auto* kernel = per_channel ? la_block_attention_kernel<true> : la_block_attention_kernel<false>;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(bytes)),
        "cudaFuncSetAttribute(la_block_attention)");
  const dim3 grid(blocks_for(d.L, kRows), static_cast<unsigned>(d.BH));
  kernel<<<grid, 256, bytes, s>>>(q, k, v, A, S_in, num, d.L, d.Dk, d.Dv, Dc, std::min(C, d.L),
                                  bidirectional);
  check_launch("la_block_attention_kernel");
}

void attention_matrix(const float* q, const float* k, const double* A, const float* num, float* att,
                      const Dims& d, int64_t Dc, bool bidirectional, cudaStream_t s) {
  const dim3 grid(blocks_for(d.L, 128), static_cast<unsigned>(d.L), static_cast<unsigned>(d.BH));
  attention_matrix_kernel<<<grid, 128, 0, s>>>(q, k, A, num, att, d.L, d.Dk, d.Dv, Dc,
                                               bidirectional);
  check_launch("attention_matrix_kernel");
}

void finish_numerators(const float* num, float* y, const Dims& d, int64_t Dc, cudaStream_t s) {
  const int64_t rows = d.BH * d.L;
  finish_kernel<<<blocks_for(rows * d.Dv, 256), 256, 0, s>>>(num, y, rows, d.Dv, Dc);
  check_launch("finish_kernel");
}

void divide_rows(const float* num, const float* den, float* y, const Dims& d, cudaStream_t s) {
  const int64_t rows = d.BH * d.L;
  if (rows * d.Dv == 0) return;
  divide_rows_kernel<<<blocks_for(rows * d.Dv, 256), 256, 0, s>>>(num, den, y, rows, d.Dv);
  check_launch("divide_rows_kernel");
}

}  // namespace linscope::gpu
