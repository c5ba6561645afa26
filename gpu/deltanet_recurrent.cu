// DeltaNet's recurrent form on the CUDA backend (MODELS.md §4; CPU twin
// core/deltanet/recurrent.cpp):
//   S_t = S_{t-1} + β_t k_t (v_t - S_{t-1}^T k_t)^T,   y_t = S_t^T q_t.
// Per value column c, with a_c = k_t·S_{t-1}[:, c], b_c = q_t·S_{t-1}[:, c] and
// δ_c = β_t (v_tc - a_c), this is
//   y_tc = b_c + (q_t·k_t) δ_c,   S_t[:, c] = S_{t-1}[:, c] + k_t δ_c
// (y_t = q_t^T S_t with S_t expanded once): both dot products read the old state, so they are
// one pass and one reduction. The kernel takes tokens in pairs (t, u = t + 1) the same way: four
// dot products against S_{t-1}, one reduction, then δ_u corrected by (k_u·k_t) δ_t (the `pair`
// step below). Same FMAs as two single steps, half the dependent reductions.
//
// Layout: a group of LPC adjacent lanes holds NC value columns; lane g of the group keeps rows
// 4 (LPC j + g) + e (j < RPL/4, e < 4) of each in registers. Every column needs all of k_t and
// q_t each step, read from shared memory once per lane for its NC columns. A lane's float4 of
// k_t (or q_t) sits next to its group neighbours' (16·LPC contiguous bytes, the warp's other
// groups reading the same addresses), so the loads are free of bank conflicts. q, k, v and β
// stream through double-buffered shared memory in tiles of kTile tokens (cp.async); the
// per-token dot products q_t·k_t, k_u·k_t, q_u·k_t are formed once per block when a tile lands.
//
// How it got here, on the H200 at L = 16384, d = 128, B·H = 128 (docs/performance.md):
//  - one column per warp (the kernel before): 2 x 5 butterfly rounds per column and step, bound
//    by the shuffles, 18.8 ms;
//  - one column per lane, 4 lanes: 78 % of the L1/shared throughput, stalled on it, 13.2 ms;
//  - four columns per lane, 8 lanes: 4x fewer shared reads, 11.0 ms; pairs, 10.0 ms (at d = 64,
//    where the SMs hold only four warps each, pairs gave 10.1 -> 8.4 ms: latency bound there);
//  - at 64 < d_k <= 128, four lanes of 32 rows and two columns (two butterfly rounds per sum
//    instead of three), and v in one vector load: 9.9 -> 9.2 ms;
//  - the remaining gap to the FMA floor (3.1 ms): FFMA is 56 % of the 6.1·10⁹ executed warp
//    instructions (the rest shuffles and adds of the reductions, shared loads, addressing),
//    issued at ~2.5 per cycle per SM with two warps per scheduler (Nsight Compute, eight lanes).
//    Four lanes double the shared loads per FMA (each lane reads 32 rows of k and q for only
//    two columns); four columns a lane fit (249 registers) but leave four warps per SM: 11.3 ms.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"
#include "gpu/tc_fragments.cuh"

namespace linscope::gpu {
namespace {

constexpr int kTile = 16;  // tokens per shared-memory tile
static_assert(kTile % 2 == 0, "pairs (t, t + 1) with t even never straddle two tiles");
constexpr int kMaxThreads = 256;  // per block (up to 255 registers a thread)

__device__ __forceinline__ void cp_async4(float* dst, const float* src) {
  const auto d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(d), "l"(src));
}

// One tile buffer: k and q rows padded to DkP floats (the padding stays zero), v for the block's
// CB columns, and one float4 of scalars per token, read with one load: {β_t, q_t·k_t,
// k_t·k_{t-1}, q_t·k_{t-1}} (the last two for odd t, the second token of a pair). Every part
// starts on a 16-byte boundary.
struct TileLayout {
  int dkp, cb;
  __host__ __device__ int floats() const { return 2 * kTile * dkp + kTile * cb + 4 * kTile; }
  __device__ float* k(float* b) const { return b; }
  __device__ float* q(float* b) const { return b + kTile * dkp; }
  __device__ float* v(float* b) const { return b + 2 * kTile * dkp; }
  __device__ float* scal(float* b) const { return v(b) + kTile * cb; }
};

// A group's NC values of v_t in one load: its first column is a multiple of NC, and the tile's
// v rows start on 16-byte boundaries (CB is a multiple of 4).
template <int NC>
__device__ __forceinline__ void load_columns(const float* p, float (&out)[NC]) {
  if constexpr (NC == 4) {
    const float4 t = *reinterpret_cast<const float4*>(p);
    out[0] = t.x, out[1] = t.y, out[2] = t.z, out[3] = t.w;
  } else if constexpr (NC == 2) {
    const float2 t = *reinterpret_cast<const float2*>(p);
    out[0] = t.x, out[1] = t.y;
  } else {
#pragma unroll
    for (int n = 0; n < NC; ++n) out[n] = p[n];
  }
}

template <int LPC, int RPL, int NC>
__global__ void __launch_bounds__(kMaxThreads)
    deltanet_recurrent_kernel(const float* __restrict__ q, const float* __restrict__ k,
                              const float* __restrict__ v, const float* __restrict__ beta,
                              float* __restrict__ y, int64_t L, int Dk, int Dv, int CB) {
  constexpr int DkP = LPC * RPL, J = RPL / 4, R4 = DkP / 4;  // R4: a row in float4s
  static_assert(RPL % 4 == 0 && 32 % LPC == 0 && NC <= LPC, "float4 rows, groups in a warp");
  extern __shared__ __align__(16) float sm[];
  const TileLayout lay{DkP, CB};
  const int tid = threadIdx.x, nthreads = blockDim.x, lane = tid & 31;
  const int g = tid % LPC, cg = tid / LPC * NC;  // lane in group, group's first column
  const int64_t head = blockIdx.y;
  const int c0 = blockIdx.x * CB;
  const float* qh = q + head * L * Dk;
  const float* kh = k + head * L * Dk;
  const float* vh = v + head * L * Dv;
  const float* bh = beta + head * L;
  // Lane n < NC of each group writes its group's column n.
  const bool writer = g < NC && c0 + cg + g < Dv;
  float* yc = y + head * L * Dv + c0 + cg + g;

  // Padded rows of k and q and columns past d_v are never copied: zero them once, so that they
  // contribute nothing to the sums and those columns' states stay finite.
  for (int e = tid; e < 2 * lay.floats(); e += nthreads) sm[e] = 0.f;
  __syncthreads();

  // One warp per token row (no index division per element), lanes along the row.
  auto issue = [&](int64_t t0, float* b) {
    const int n = static_cast<int>(min(static_cast<int64_t>(kTile), L - t0));
    for (int t = tid >> 5; t < n; t += nthreads >> 5) {
      const float* kr = kh + (t0 + t) * Dk;
      const float* qr = qh + (t0 + t) * Dk;
      const float* vr = vh + (t0 + t) * Dv + c0;
      for (int r = lane; r < Dk; r += 32) {
        cp_async4(lay.k(b) + t * DkP + r, kr + r);
        cp_async4(lay.q(b) + t * DkP + r, qr + r);
      }
      for (int cc = lane; cc < CB && c0 + cc < Dv; cc += 32)
        cp_async4(lay.v(b) + t * CB + cc, vr + cc);
    }
    for (int e = tid; e < n; e += nthreads) cp_async4(lay.scal(b) + 4 * e, bh + t0 + e);
    tc::cp_async_commit();
  };
  // The dot products of a landed tile, one warp per token.
  auto dots = [&](int64_t t0, float* b) {
    const int n = static_cast<int>(min(static_cast<int64_t>(kTile), L - t0));
    for (int t = tid >> 5; t < n; t += nthreads >> 5) {
      const bool odd = t & 1;
      const float* kt = lay.k(b) + t * DkP;
      const float* qt = lay.q(b) + t * DkP;
      float s = 0.f, sk = 0.f, sq = 0.f;
      for (int r = lane; r < Dk; r += 32) {
        s = fmaf(qt[r], kt[r], s);
        if (odd) {
          sk = fmaf(kt[r], kt[r - DkP], sk);
          sq = fmaf(qt[r], kt[r - DkP], sq);
        }
      }
#pragma unroll
      for (int off = 16; off > 0; off >>= 1) {
        s += __shfl_xor_sync(0xffffffffu, s, off);
        sk += __shfl_xor_sync(0xffffffffu, sk, off);
        sq += __shfl_xor_sync(0xffffffffu, sq, off);
      }
      if (lane == 0) {
        float* sc = lay.scal(b) + 4 * t;
        sc[1] = s;
        sc[2] = sk;
        sc[3] = sq;
      }
    }
  };

  float S[NC][J][4];
#pragma unroll
  for (int n = 0; n < NC; ++n)
#pragma unroll
    for (int j = 0; j < J; ++j) S[n][j][0] = S[n][j][1] = S[n][j][2] = S[n][j][3] = 0.f;

  // The group's sums over its rows: log2(LPC) butterfly rounds, all sums together.
  auto reduce = [](float* x, int count) {
#pragma unroll
    for (int off = 1; off < LPC; off <<= 1)
#pragma unroll
      for (int i = 0; i < 2 * NC * 2; ++i)
        if (i < count) x[i] += __shfl_xor_sync(0xffffffffu, x[i], off);
  };

  // Tokens t and u = t + 1 from one pass over S = S_{t-1} (MODELS.md §4 unrolled twice):
  //   δ_t = β_t (v_t - k_t·S),  δ_u = β_u (v_u - k_u·S - (k_u·k_t) δ_t),
  //   y_t = q_t·S + (q_t·k_t) δ_t,  y_u = q_u·S + (q_u·k_t) δ_t + (q_u·k_u) δ_u,
  //   S ← S + k_t δ_t + k_u δ_u.
  // The same FMAs as two steps, but one reduction and twice the independent sums per pass.
  auto pair = [&](const float4* kt4, const float4* qt4, const float* vr, float4 st, float4 su,
                  float* yp) {
    float4 kt[J], ku[J];
    float x[4 * NC];  // a_t, a_u, b_t, b_u per column: k_t·S, k_u·S, q_t·S, q_u·S
#pragma unroll
    for (int i = 0; i < 4 * NC; ++i) x[i] = 0.f;
#pragma unroll
    for (int j = 0; j < J; ++j) {
      kt[j] = kt4[LPC * j];
      ku[j] = kt4[R4 + LPC * j];
      const float4 qt = qt4[LPC * j], qu = qt4[R4 + LPC * j];
#pragma unroll
      for (int n = 0; n < NC; ++n) {
        const float s0 = S[n][j][0], s1 = S[n][j][1], s2 = S[n][j][2], s3 = S[n][j][3];
        float* xn = x + 4 * n;
        xn[0] = fmaf(kt[j].w, s3, fmaf(kt[j].z, s2, fmaf(kt[j].y, s1, fmaf(kt[j].x, s0, xn[0]))));
        xn[1] = fmaf(ku[j].w, s3, fmaf(ku[j].z, s2, fmaf(ku[j].y, s1, fmaf(ku[j].x, s0, xn[1]))));
        xn[2] = fmaf(qt.w, s3, fmaf(qt.z, s2, fmaf(qt.y, s1, fmaf(qt.x, s0, xn[2]))));
        xn[3] = fmaf(qu.w, s3, fmaf(qu.z, s2, fmaf(qu.y, s1, fmaf(qu.x, s0, xn[3]))));
      }
    }
    reduce(x, 4 * NC);
    float dt[NC], du[NC], yt = 0.f, yu = 0.f, vt[NC], vu[NC];
    load_columns<NC>(vr, vt);
    load_columns<NC>(vr + CB, vu);
#pragma unroll
    for (int n = 0; n < NC; ++n) {
      const float* xn = x + 4 * n;
      dt[n] = st.x * (vt[n] - xn[0]);
      du[n] = su.x * (vu[n] - fmaf(su.z, dt[n], xn[1]));
      const float ytn = fmaf(st.y, dt[n], xn[2]);
      const float yun = fmaf(su.y, du[n], fmaf(su.w, dt[n], xn[3]));
      yt = g == n ? ytn : yt;
      yu = g == n ? yun : yu;
    }
#pragma unroll
    for (int n = 0; n < NC; ++n)
#pragma unroll
      for (int j = 0; j < J; ++j) {
        S[n][j][0] = fmaf(ku[j].x, du[n], fmaf(kt[j].x, dt[n], S[n][j][0]));
        S[n][j][1] = fmaf(ku[j].y, du[n], fmaf(kt[j].y, dt[n], S[n][j][1]));
        S[n][j][2] = fmaf(ku[j].z, du[n], fmaf(kt[j].z, dt[n], S[n][j][2]));
        S[n][j][3] = fmaf(ku[j].w, du[n], fmaf(kt[j].w, dt[n], S[n][j][3]));
      }
    if (writer) {
      yp[0] = yt;
      yp[Dv] = yu;
    }
  };
  // One token (the last of an odd tile): y_t = q_t·S + (q_t·k_t) δ_t, S ← S + k_t δ_t.
  auto single = [&](const float4* kt4, const float4* qt4, const float* vr, float4 st, float* yp) {
    float4 kt[J];
    float x[2 * NC];  // a_t, b_t per column
#pragma unroll
    for (int i = 0; i < 2 * NC; ++i) x[i] = 0.f;
#pragma unroll
    for (int j = 0; j < J; ++j) {
      kt[j] = kt4[LPC * j];
      const float4 qt = qt4[LPC * j];
#pragma unroll
      for (int n = 0; n < NC; ++n) {
        const float s0 = S[n][j][0], s1 = S[n][j][1], s2 = S[n][j][2], s3 = S[n][j][3];
        float* xn = x + 2 * n;
        xn[0] = fmaf(kt[j].w, s3, fmaf(kt[j].z, s2, fmaf(kt[j].y, s1, fmaf(kt[j].x, s0, xn[0]))));
        xn[1] = fmaf(qt.w, s3, fmaf(qt.z, s2, fmaf(qt.y, s1, fmaf(qt.x, s0, xn[1]))));
      }
    }
    reduce(x, 2 * NC);
    float dt[NC], yt = 0.f, vt[NC];
    load_columns<NC>(vr, vt);
#pragma unroll
    for (int n = 0; n < NC; ++n) {
      dt[n] = st.x * (vt[n] - x[2 * n]);
      const float ytn = fmaf(st.y, dt[n], x[2 * n + 1]);
      yt = g == n ? ytn : yt;
    }
#pragma unroll
    for (int n = 0; n < NC; ++n)
#pragma unroll
      for (int j = 0; j < J; ++j) {
        S[n][j][0] = fmaf(kt[j].x, dt[n], S[n][j][0]);
        S[n][j][1] = fmaf(kt[j].y, dt[n], S[n][j][1]);
        S[n][j][2] = fmaf(kt[j].z, dt[n], S[n][j][2]);
        S[n][j][3] = fmaf(kt[j].w, dt[n], S[n][j][3]);
      }
    if (writer) yp[0] = yt;
  };

  issue(0, sm);
  tc::cp_async_wait_all();
  __syncthreads();
  dots(0, sm);
  __syncthreads();
  for (int64_t t0 = 0, it = 0; t0 < L; t0 += kTile, ++it) {
    float* cur = sm + (it & 1) * lay.floats();  // arithmetic, not an array: no local memory
    float* nxt = sm + ((it + 1) & 1) * lay.floats();
    const bool more = t0 + kTile < L;
    if (more) issue(t0 + kTile, nxt);  // nxt was last read before the previous tile's barrier
    const int n_t = static_cast<int>(min(static_cast<int64_t>(kTile), L - t0));
    const float4* k4 = reinterpret_cast<const float4*>(lay.k(cur)) + g;
    const float4* q4 = reinterpret_cast<const float4*>(lay.q(cur)) + g;
    const float4* sc = reinterpret_cast<const float4*>(lay.scal(cur));
    const float* vr = lay.v(cur) + cg;
    float* yp = yc + t0 * Dv;
    int t = 0;
    for (; t + 1 < n_t; t += 2)
      pair(k4 + t * R4, q4 + t * R4, vr + t * CB, sc[t], sc[t + 1], yp + t * Dv);
    if (t < n_t) single(k4 + t * R4, q4 + t * R4, vr + t * CB, sc[t], yp + t * Dv);
    tc::cp_async_wait_all();
    __syncthreads();  // the next tile has landed; every lane is done with this one
    if (more) {
      dots(t0 + kTile, nxt);
      __syncthreads();
    }
  }
}

// Columns per block: the most (kMaxThreads / LPC · NC) while the blocks still give every SM
// one, else fewer for the parallelism (down to one warp); never more than d_v needs.
int columns_per_block(int lpc, int nc, const Dims& d) {
  const int per_warp = 32 / lpc * nc, most = kMaxThreads / lpc * nc;
  const int sms = multiprocessor_count();
  int cb = most;
  while (cb > per_warp && d.BH * ((d.Dv + cb - 1) / cb) < sms) cb /= 2;
  const int need = static_cast<int>((d.Dv + per_warp - 1) / per_warp * per_warp);
  return std::min(cb, need);
}

template <int LPC, int RPL, int NC>
void launch_kernel(const float* q, const float* k, const float* v, const float* beta, float* y,
                   const Dims& d, cudaStream_t s) {
  const int cb = columns_per_block(LPC, NC, d);
  const TileLayout lay{LPC * RPL, cb};
  const size_t smem = sizeof(float) * 2 * static_cast<size_t>(lay.floats());
  auto kernel = deltanet_recurrent_kernel<LPC, RPL, NC>;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(smem)),
        "cudaFuncSetAttribute(deltanet_recurrent)");
  const dim3 grid(static_cast<unsigned>((d.Dv + cb - 1) / cb), static_cast<unsigned>(d.BH));
  kernel<<<grid, cb / NC * LPC, smem, s>>>(q, k, v, beta, y, d.L, static_cast<int>(d.Dk),
                                           static_cast<int>(d.Dv), cb);
  check_launch("deltanet_recurrent_kernel");
}

// Four value columns per lane while that still leaves about two warps per scheduler (8 per SM)
// to hide the step's latency, else two, which doubles the warps (d = 64, B·H = 128 on the H200:
// 5.6 ms with two columns, 7.0 ms with four; d = 128: 9.7 ms with four, 10.0 ms with two).
// LINSCOPE_DN_COLS=2|4 overrides, for measuring.
template <int LPC, int RPL>
void launch(const float* q, const float* k, const float* v, const float* beta, float* y,
            const Dims& d, cudaStream_t s) {
  static const int forced = [] {
    const char* env = std::getenv("LINSCOPE_DN_COLS");
    return env ? std::atoi(env) : 0;
  }();
  const double warps_per_sm_at_4 =
      static_cast<double>(d.BH) * d.Dv * LPC / 4 / 32 / multiprocessor_count();
  const int cols = forced == 2 || forced == 4 ? forced : (warps_per_sm_at_4 >= 7.5 ? 4 : 2);
  if (cols == 2) return launch_kernel<LPC, RPL, 2>(q, k, v, beta, y, d, s);
  launch_kernel<LPC, RPL, 4>(q, k, v, beta, y, d, s);
}

}  // namespace

void deltanet_recurrent(const float* q, const float* k, const float* v, const float* beta, float* y,
                        const Dims& d, cudaStream_t s) {
  // A lane keeps RPL rows of its columns (NC·RPL state registers): 16 rows at 8 lanes per
  // column group up to d_k = 64, 32 rows at 4 lanes up to 128, 16 lanes of 16 up to 256.
  // 64 < d_k <= 128: four lanes of 32 rows (two butterfly rounds per sum instead of three)
  // measured 9.3 ms against 9.9 ms with eight lanes of 16 (H200, L = 16384, B·H = 128, d_v = 128,
  // two columns a lane); at d_k = 64 eight lanes stay faster (5.6 against 6.8 ms).
  // LINSCOPE_DN_LPC=8 picks eight lanes there, for measuring.
  static const int lanes = [] {
    const char* env = std::getenv("LINSCOPE_DN_LPC");
    return env ? std::atoi(env) : 0;
  }();
  if (d.Dk > 64 && d.Dk <= 128 && lanes != 8) return launch<4, 32>(q, k, v, beta, y, d, s);
  if (d.Dk <= 16) return launch<4, 4>(q, k, v, beta, y, d, s);
  if (d.Dk <= 32) return launch<8, 4>(q, k, v, beta, y, d, s);
  if (d.Dk <= 64) return launch<8, 8>(q, k, v, beta, y, d, s);
  if (d.Dk <= 128) return launch<8, 16>(q, k, v, beta, y, d, s);
  if (d.Dk <= 256) return launch<16, 16>(q, k, v, beta, y, d, s);
  throw BackendError("DeltaNet recurrent kernel supports d_k <= 256, got " + std::to_string(d.Dk));
}

}  // namespace linscope::gpu
