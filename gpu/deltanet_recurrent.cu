// DeltaNet's recurrent form on the CUDA backend (MODELS.md §4; CPU twin
// core/deltanet/recurrent.cpp):
//   S_t = S_{t-1} + β_t k_t (v_t - S_{t-1}^T k_t)^T,   y_t = S_t^T q_t.
// Per value column c, with a_c = k_t·S_{t-1}[:, c], b_c = q_t·S_{t-1}[:, c] and
// δ_c = β_t (v_tc - a_c), this is
//   y_tc = b_c + (q_t·k_t) δ_c,   S_t[:, c] = S_{t-1}[:, c] + k_t δ_c
// (y_t = q_t^T S_t with S_t expanded once): both dot products read the old state, so they are
// one pass and one reduction. The kernel takes tokens in pairs (t, u = t + 1) the same way: four
// dot products against S_{t-1}, one reduction, then δ_u corrected by (k_u·k_t) δ_t (the `step`
// below, with N = 2). Same FMAs as two single steps, half the dependent reductions.
//
// Layout: a group of LPC adjacent lanes holds NC value columns; lane g of the group keeps rows
// 4 (LPC j + g) + e (j < RPL/4, e < 4) of each in registers. Every column needs all of k_t and
// q_t each step, read from shared memory once per lane for its NC columns. A lane's float4 of
// k_t (or q_t) sits next to its group neighbours' (16·LPC contiguous bytes, the warp's other
// groups reading the same addresses), so the loads are free of bank conflicts. q, k, v and β
// stream through double-buffered shared memory in tiles of 16 to 64 tokens (cp.async); the
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
//    two columns); four columns a lane fit (249 registers) but leave four warps per SM: 11.3 ms;
//  - the work between steps (2026-12-01). Stall samples put only half of the kernel in the pair
//    steps: 30 % went to issuing the tile copies (4 bytes each, in row loops) and 25 % to the
//    per-token dot products (a warp per token, the block waiting at a barrier). 16-byte copies
//    in one run, the dot products 16 lanes a token in one pass, tiles of 32 tokens and eight
//    lanes again: 9.7 -> 8.1 ms (d = 64: 5.6 -> 4.1 ms). Nsight Compute now puts 76 % of the
//    samples in the steps, which are 86 % of the instructions, 78 % of them FFMA;
//  - with eight lanes of four columns, the 16 sums of a pair reduced by halving instead of a
//    butterfly (14 shuffles and adds instead of 48 each; lanes 0-3 form the δs, eight more
//    shuffles hand them to every lane): 8.09 -> 7.87 ms, in one call against a build without it.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"
#include "gpu/tc_fragments.cuh"

namespace linscope::gpu {
namespace {

// Tokens per step (the `step` below): pairs. Groups of four measured slower at both d = 64 and
// 128 (4.52 -> 5.15 ms at d = 64), their keys no longer fitting in registers for the update.
constexpr int kGroup = 2;
// Tokens per shared-memory tile: about 4096 floats of k per tile, so that the per-tile work
// (copies, dot products, two barriers) spreads over more steps where rows are short. H200,
// L = 16384, B·H = 128: d = 128 went 8.36 -> 8.11 ms with 32 tokens instead of 16, d = 64
// 4.52 -> 4.13 with 64; 64 tokens at d = 128 (200 KB of shared memory) took 10.2 ms.
__host__ __device__ constexpr int tile_tokens(int dkp) {
  return dkp >= 256 ? 16 : dkp >= 128 ? 32 : 64;
}
constexpr int kMaxThreads = 256;  // per block (up to 255 registers a thread)

__device__ __forceinline__ void cp_async4(float* dst, const float* src) {
  const auto d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(d), "l"(src));
}

// One tile buffer: k and q rows padded to DkP floats (the padding stays zero), v for the block's
// CB columns, and 2T scalars per token, for a group of T tokens starting at s (t = s + p):
// {β_t, q_t·k_{s+j} (j < T), k_t·k_{s+j} (j < T − 1)}, the entries with j > p (q) or j >= p (k)
// unused. Every part starts on a 16-byte boundary.
struct TileLayout {
  static constexpr int kScal = 2 * kGroup;  // scalars per token
  int dkp, cb, tile;
  __host__ __device__ int floats() const { return 2 * tile * dkp + tile * cb + kScal * tile; }
  __device__ float* k(float* b) const { return b; }
  __device__ float* q(float* b) const { return b + tile * dkp; }
  __device__ float* v(float* b) const { return b + 2 * tile * dkp; }
  __device__ float* scal(float* b) const { return v(b) + tile * cb; }
};

// NC consecutive floats in one load: a group's NC values of v_t (its first column is a multiple
// of NC, and the tile's v rows start on 16-byte boundaries: CB is a multiple of 4), or a lane's
// part of a k or q row in dots().
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

// C sums spread over a group of G lanes (G <= C, both powers of two) reduced by recursive halving:
// at each round a lane keeps half of its values (the lower half where its lane bit is 0), adds
// its partner's copy of them and sends the other half, so lane g ends with the full sums
// z[g·C/G .. (g + 1)·C/G). log2(G) rounds of C/2, C/4, ... shuffles (C − C/G in all) instead of
// log2(G)·C for a butterfly that leaves every sum on every lane.
template <int C, int G>
__device__ __forceinline__ void reduce_by_halving(float* z, int g) {
  if constexpr (G > 1) {
    constexpr int H = C / 2;
    const bool up = g & (G / 2);
#pragma unroll
    for (int i = 0; i < H; ++i) {
      const float send = up ? z[i] : z[H + i];
      const float keep = up ? z[H + i] : z[i];
      z[i] = keep + __shfl_xor_sync(0xffffffffu, send, G / 2);
    }
    reduce_by_halving<H, G / 2>(z, g);
  }
}

// e is a constant once the loops are unrolled.
__device__ __forceinline__ float component(const float4& a, int e) {
  return e == 0 ? a.x : e == 1 ? a.y : e == 2 ? a.z : a.w;
}

template <int LPC, int RPL, int NC>
__global__ void __launch_bounds__(kMaxThreads)
    deltanet_recurrent_kernel(const float* __restrict__ q, const float* __restrict__ k,
                              const float* __restrict__ v, const float* __restrict__ beta,
                              float* __restrict__ y, int64_t L, int Dk, int Dv, int CB) {
  constexpr int DkP = LPC * RPL, J = RPL / 4, R4 = DkP / 4;  // R4: a row in float4s
  constexpr int SW = TileLayout::kScal, T = kGroup, kTile = tile_tokens(DkP);
  static_assert(kTile % T == 0, "groups of T tokens never straddle two tiles");
  static_assert(RPL % 4 == 0 && 32 % LPC == 0 && NC <= LPC, "float4 rows, groups in a warp");
  extern __shared__ __align__(16) float sm[];
  const TileLayout lay{DkP, CB, kTile};
  const int tid = threadIdx.x, nthreads = blockDim.x, lane = tid & 31;
  const int g = tid % LPC, cg = tid / LPC * NC;  // lane in group, group's first column
  const int64_t head = blockIdx.y;
  const int c0 = blockIdx.x * CB;
  const float* qh = q + head * L * Dk;
  const float* kh = k + head * L * Dk;
  const float* vh = v + head * L * Dv;
  const float* bh = beta + head * L;
  // Lane n < NC of each group writes its group's column n; with the halving reduction (pairs of
  // tokens, eight lanes of four columns), lane 4 + n.
  constexpr bool kTranspose = LPC == 8 && NC == 4;
  const bool writer = g < NC && c0 + cg + g < Dv;
  const bool writer_t = g >= 4 && c0 + cg + g - 4 < Dv;
  float* yc = y + head * L * Dv + c0 + cg + g;

  // Padded rows of k and q and columns past d_v are never copied: zero them once, so that they
  // contribute nothing to the sums and those columns' states stay finite.
  for (int e = tid; e < 2 * lay.floats(); e += nthreads) sm[e] = 0.f;
  __syncthreads();

  // Copies of a tile. Where its k, q and v rows are contiguous in global and shared memory alike
  // (no padding, the block holds every value column: the benchmark's d = 64 and 128), one run
  // of 16-byte copies each; else one warp per token row, lanes along it. (Nsight Compute: with
  // the row loops and 4-byte copies, issuing took 30 % of the kernel's stall samples.)
  const bool vec = Dk % 4 == 0 && Dv % 4 == 0 &&
                   ((reinterpret_cast<uintptr_t>(q) | reinterpret_cast<uintptr_t>(k) |
                     reinterpret_cast<uintptr_t>(v)) &
                    15) == 0;
  const bool contiguous = vec && DkP == Dk && CB == Dv;  // then c0 == 0
  auto issue = [&](int64_t t0, float* b) {
    const int n = static_cast<int>(min(static_cast<int64_t>(kTile), L - t0));
    for (int e = tid; e < n; e += nthreads) cp_async4(lay.scal(b) + SW * e, bh + t0 + e);
    if (contiguous) {
      const int nk = n * Dk, nv = n * Dv;
      const float* kr = kh + t0 * Dk;
      const float* qr = qh + t0 * Dk;
      const float* vr = vh + t0 * Dv;
      for (int e = 4 * tid; e < nk; e += 4 * nthreads) {
        tc::cp_async16(lay.k(b) + e, kr + e, true);
        tc::cp_async16(lay.q(b) + e, qr + e, true);
      }
      for (int e = 4 * tid; e < nv; e += 4 * nthreads) tc::cp_async16(lay.v(b) + e, vr + e, true);
      tc::cp_async_commit();
      return;
    }
    for (int t = tid >> 5; t < n; t += nthreads >> 5) {
      const float* kr = kh + (t0 + t) * Dk;
      const float* qr = qh + (t0 + t) * Dk;
      const float* vr = vh + (t0 + t) * Dv + c0;
      if (vec) {
        for (int r = 4 * lane; r < Dk; r += 128) {
          tc::cp_async16(lay.k(b) + t * DkP + r, kr + r, true);
          tc::cp_async16(lay.q(b) + t * DkP + r, qr + r, true);
        }
        for (int cc = 4 * lane; cc < CB && c0 + cc < Dv; cc += 128)
          tc::cp_async16(lay.v(b) + t * CB + cc, vr + cc, true);
      } else {
        for (int r = lane; r < Dk; r += 32) {
          cp_async4(lay.k(b) + t * DkP + r, kr + r);
          cp_async4(lay.q(b) + t * DkP + r, qr + r);
        }
        for (int cc = lane; cc < CB && c0 + cc < Dv; cc += 32)
          cp_async4(lay.v(b) + t * CB + cc, vr + cc);
      }
    }
    tc::cp_async_commit();
  };
  // The dot products of a landed tile within each group of T tokens: 16 lanes a token, so that
  // one pass of the block covers the tile. Lane `seg` takes every 16th float4 of the rows (every
  // 16th float where DkP is not a multiple of 64; the padding is zero): 16 lanes read 16
  // adjacent vectors, free of bank conflicts. (One warp a token, two tokens in turn per warp:
  // a quarter of the kernel's stall samples, the block waiting at the barrier on those chains
  // of loads and five butterfly rounds.)
  auto dots = [&](int64_t t0, float* b) {
    constexpr int W = DkP % 64 == 0 ? 4 : 1;  // floats per load
    constexpr int NL = DkP / 16 / W;          // loads per lane and row
    const int n = static_cast<int>(min(static_cast<int64_t>(kTile), L - t0));
    for (int item = tid; item < 16 * kTile; item += nthreads) {  // whole warps: shuffles below
      const int t = item >> 4, seg = item & 15;
      const int p = t % T;  // tiles start on a group boundary
      const float* kt = lay.k(b) + t * DkP;
      const float* qt = lay.q(b) + t * DkP;
      const float* ks = kt - p * DkP;  // the group's first key
      float qk[T], kk[T - 1];
#pragma unroll
      for (int j = 0; j < T; ++j) qk[j] = 0.f;
#pragma unroll
      for (int j = 0; j < T - 1; ++j) kk[j] = 0.f;
#pragma unroll
      for (int i = 0; i < NL; ++i) {
        const int r = (seg + 16 * i) * W;
        float qr[W], kr[W];
        load_columns<W>(qt + r, qr);
        load_columns<W>(kt + r, kr);
#pragma unroll
        for (int j = 0; j < T; ++j) {
          float kj[W];
          load_columns<W>(ks + j * DkP + r, kj);
#pragma unroll
          for (int w = 0; w < W; ++w) {
            if (j <= p) qk[j] = fmaf(qr[w], kj[w], qk[j]);
            if (j < T - 1 && j < p) kk[j] = fmaf(kr[w], kj[w], kk[j]);
          }
        }
      }
#pragma unroll
      for (int off = 8; off > 0; off >>= 1) {
#pragma unroll
        for (int j = 0; j < T; ++j) qk[j] += __shfl_xor_sync(0xffffffffu, qk[j], off);
#pragma unroll
        for (int j = 0; j < T - 1; ++j) kk[j] += __shfl_xor_sync(0xffffffffu, kk[j], off);
      }
      if (seg == 0 && t < n) {
        float* sc = lay.scal(b) + SW * t;
#pragma unroll
        for (int j = 0; j < T; ++j) sc[1 + j] = qk[j];
#pragma unroll
        for (int j = 0; j < T - 1; ++j) sc[1 + T + j] = kk[j];
      }
    }
  };

  float S[NC][J][4];
#pragma unroll
  for (int n = 0; n < NC; ++n)
#pragma unroll
    for (int j = 0; j < J; ++j) S[n][j][0] = S[n][j][1] = S[n][j][2] = S[n][j][3] = 0.f;

  // N tokens t .. t + N − 1 from one pass over S = S_{t−1} (MODELS.md §4 unrolled N times):
  //   δ_i = β_i (v_i − k_i·S − Σ_{j<i} (k_i·k_j) δ_j),   y_i = q_i·S + Σ_{j<=i} (q_i·k_j) δ_j,
  //   S ← S + Σ_i k_i δ_i.
  // The same FMAs as N single steps, but one reduction and N times the independent sums per
  // pass. o: the first token's place in its group of T (the scalars' index base). Keys stay in
  // registers for the update: N·J <= 16 float4s in every layout (J <= 8).
  auto step = [&](auto n_tokens, const float4* kt4, const float4* qt4, const float* vr,
                  const float* sc, int o, float* yp) {
    constexpr int N = decltype(n_tokens)::value;
    static_assert(N * J <= 16, "a step's keys stay in registers for the update");
    float4 kh_[N][J];
    float x[2 * N * NC];  // per column n: k_i·S at x[2N n + i], q_i·S at x[2N n + N + i]
#pragma unroll
    for (int i = 0; i < 2 * N * NC; ++i) x[i] = 0.f;
#pragma unroll
    for (int j = 0; j < J; ++j) {
      float4 kj[N], qj[N];
#pragma unroll
      for (int i = 0; i < N; ++i) {
        kj[i] = kt4[i * R4 + LPC * j];
        qj[i] = qt4[i * R4 + LPC * j];
        kh_[i][j] = kj[i];
      }
      // Component by component across all 2 N NC sums, each in the order x, y, z, w of its
      // float4s. (Written sum by sum the same FMAs gave the same instruction count and time:
      // ptxas interleaves only about two chains either way, for the registers; Nsight Compute's
      // first stall in the steps stays "wait" on the FMA's fixed latency.)
#pragma unroll
      for (int e = 0; e < 4; ++e)
#pragma unroll
        for (int n = 0; n < NC; ++n) {
          float* xn = x + 2 * N * n;
#pragma unroll
          for (int i = 0; i < N; ++i) {
            xn[i] = fmaf(component(kj[i], e), S[n][j][e], xn[i]);
            xn[N + i] = fmaf(component(qj[i], e), S[n][j][e], xn[N + i]);
          }
        }
    }
    float d[N][NC], yo[N];
    if constexpr (kTranspose && N == 2) {
      // The 16 sums reduced by halving (reduce_by_halving): lane g ends with the full sums
      // z[2g], z[2g + 1], ordered so that lanes 0-3 hold {k_t·S, k_u·S} of column g and lanes 4-7
      // {q_t·S, q_u·S} of column g − 4. Lanes 0-3 form δ_t, δ_u of their column (the formulas
      // below), every lane takes all eight by shuffles for the update, and lanes 4-7 form y.
      float z[16];
#pragma unroll
      for (int n = 0; n < 4; ++n)
#pragma unroll
        for (int i = 0; i < 2; ++i) {
          z[2 * n + i] = x[4 * n + i];
          z[8 + 2 * n + i] = x[4 * n + 2 + i];
        }
      reduce_by_halving<16, 8>(z, g);
      const int own = g & 3, base = lane & ~7;
      const float* s0 = sc;
      const float* s1 = sc + SW;
      const float dt = s0[0] * (vr[own] - z[0]);
      const float du = s1[0] * (vr[CB + own] - fmaf(s1[1 + T + o], dt, z[1]));
#pragma unroll
      for (int n = 0; n < 4; ++n) {
        d[0][n] = __shfl_sync(0xffffffffu, dt, base + n);
        d[1][n] = __shfl_sync(0xffffffffu, du, base + n);
      }
      const float mt = __shfl_sync(0xffffffffu, dt, base + own);
      const float mu = __shfl_sync(0xffffffffu, du, base + own);
      yo[0] = fmaf(s0[1 + o], mt, z[0]);
      yo[1] = fmaf(s1[2 + o], mu, fmaf(s1[1 + o], mt, z[1]));
    } else {
      // The group's sums over its rows: log2(LPC) butterfly rounds, all sums together.
#pragma unroll
      for (int off = 1; off < LPC; off <<= 1)
#pragma unroll
        for (int i = 0; i < 2 * N * NC; ++i) x[i] += __shfl_xor_sync(0xffffffffu, x[i], off);
      float vv[N][NC];
#pragma unroll
      for (int i = 0; i < N; ++i) load_columns<NC>(vr + i * CB, vv[i]);
#pragma unroll
      for (int i = 0; i < N; ++i) {
        const float* si = sc + i * SW;
        yo[i] = 0.f;
#pragma unroll
        for (int n = 0; n < NC; ++n) {
          const float* xn = x + 2 * N * n;
          float a = xn[i];
#pragma unroll
          for (int j = 0; j < i; ++j) a = fmaf(si[1 + T + o + j], d[j][n], a);
          d[i][n] = si[0] * (vv[i][n] - a);
          float yi = xn[N + i];
#pragma unroll
          for (int j = 0; j <= i; ++j) yi = fmaf(si[1 + o + j], d[j][n], yi);
          yo[i] = g == n ? yi : yo[i];
        }
      }
    }
#pragma unroll
    for (int j = 0; j < J; ++j) {
      float4 kj[N];
#pragma unroll
      for (int i = 0; i < N; ++i) kj[i] = kh_[i][j];
#pragma unroll
      for (int n = 0; n < NC; ++n)
#pragma unroll
        for (int i = 0; i < N; ++i) {
          S[n][j][0] = fmaf(kj[i].x, d[i][n], S[n][j][0]);
          S[n][j][1] = fmaf(kj[i].y, d[i][n], S[n][j][1]);
          S[n][j][2] = fmaf(kj[i].z, d[i][n], S[n][j][2]);
          S[n][j][3] = fmaf(kj[i].w, d[i][n], S[n][j][3]);
        }
    }
    if (kTranspose && N == 2 ? writer_t : writer)
#pragma unroll
      for (int i = 0; i < N; ++i) yp[i * Dv - (kTranspose && N == 2 ? 4 : 0)] = yo[i];
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
    const float* sc = lay.scal(cur);
    const float* vr = lay.v(cur) + cg;
    float* yp = yc + t0 * Dv;
    auto run = [&](auto n_tokens, int t) {
      step(n_tokens, k4 + t * R4, q4 + t * R4, vr + t * CB, sc + t * SW, t % T, yp + t * Dv);
    };
    int t = 0;
    for (; t + T <= n_t; t += T) run(std::integral_constant<int, T>{}, t);
    if (t < n_t) run(std::integral_constant<int, 1>{}, t);  // an odd last tile's last token
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
  const TileLayout lay{LPC * RPL, cb, tile_tokens(LPC * RPL)};
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
  // column group up to d_k = 128, 16 lanes of 16 up to 256. Four lanes of 32 rows (two
  // butterfly rounds per sum instead of three, half the warps) were faster at 64 < d_k <= 128
  // while the per-tile work was heavier (9.3 against 9.9 ms); with the 16-byte copies, the
  // parallel dot products and 32-token tiles, eight lanes are: 8.11 against 8.41 ms (H200,
  // L = 16384, B·H = 128, d_v = 128). LINSCOPE_DN_LPC=4 picks four lanes there, for measuring.
  static const int lanes = [] {
    const char* env = std::getenv("LINSCOPE_DN_LPC");
    return env ? std::atoi(env) : 0;
  }();
  if (d.Dk > 64 && d.Dk <= 128 && lanes == 4) return launch<4, 32>(q, k, v, beta, y, d, s);
  if (d.Dk <= 16) return launch<4, 4>(q, k, v, beta, y, d, s);
  if (d.Dk <= 32) return launch<8, 4>(q, k, v, beta, y, d, s);
  if (d.Dk <= 64) return launch<8, 8>(q, k, v, beta, y, d, s);
  if (d.Dk <= 128) return launch<8, 16>(q, k, v, beta, y, d, s);
  if (d.Dk <= 256) return launch<16, 16>(q, k, v, beta, y, d, s);
  throw BackendError("DeltaNet recurrent kernel supports d_k <= 256, got " + std::to_string(d.Dk));
}

}  // namespace linscope::gpu
