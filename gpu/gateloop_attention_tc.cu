// GateLoop's surrogate attention (its parallel form, GateLoop §3.2, MODELS.md §3) on the tensor
// cores, for bf16 q, k, v (RunOptions::bf16, no matrix requested). CPU twin:
// core/gateloop/parallel.cpp; the fp32 kernels: gateloop_attention in gpu/gateloop.cu.
//
//   y_i = Σ_{j<=i} [Σ_c q_ic k_jc e^{Λ_ic − Λ_jc} cos(Φ_ic − Φ_jc)] v_j
// with Λ, Φ the cumulative log-magnitudes and phases. As flash attention without a softmax: a
// block owns 128 or 256 query rows and walks the key tiles up to them, keeping scores and outputs
// in mma.sync registers; the L x L matrix is never stored. cos(Φ_i − Φ_j) = cos Φ_i cos Φ_j +
// sin Φ_i sin Φ_j makes each score one real product over 2 d_k columns, and the magnitude splits
// around 16-row groups and 64-token key tiles: with S_g = Λ just before row group g and E_t = Λ at
// key tile t's last token,
//   e^{Λ_i − Λ_j} = e^{Λ_i − S_g} · e^{S_g − E_t} · e^{E_t − Λ_j}.
// The outer factors go into per-token operands, formed in one pass over the inputs together with
// the cumulative sums (gl_attention_operands_kernel):
//   Q^_i = q_i e^{Λ_i − S_g(i)} (cos Φ_i, sin Φ_i),
//   K^_j = k_j e^{E_t(j) − Λ_j} (cos Φ_j, sin Φ_j),
// both <= |q|, |k|. The middle one is a per-channel factor of the (row group, key tile) pair,
// staged in shared memory in bf16 once per tile for the block's groups and applied to each warp's
// Q^ fragments as they come out of ldmatrix (one bf16x2 multiply per register; a build without it
// runs no faster). It is <= 1 below the diagonal (E_t precedes S_g); on the tile that holds the
// group it is the decay from the group's start to the tile's end, >= 1, which must stay a normal
// float: a 64-token tile whose decay in some channel exceeds kMaxExponent nats raises the flag and
// the caller runs the fp32 kernels instead.
//
// Why this shape (measured on the H200, docs/performance.md): each warp owns two groups of 16
// rows, so every K^ and V fragment it loads feeds two products (ldmatrix traffic, not the tensor
// cores, bounds a warp with one group), and a block spans all value columns up to 128 so that no
// block repeats Q^ K^^T for another column block. At d_k = 128, Q^ alone takes 66 KB of shared
// memory per 128 rows, so the block shapes below trade warps per SM against copies.
//
// Column order of the 2 d_k dimension (κ), as in gpu/gateloop_scan_tc.cu: blocks of 16 with the
// cos parts of channels 8m..8m+7, then their sin parts, so an A fragment's pairs (a0 / a1 cos,
// a2 / a3 sin) all belong to channels 8m + c, 8m + c + 1 and take the same two factors.
//
// Roundings (bf16, tests/gpu/test_gateloop_tc.cpp bounds them): Q^, the factor, their product,
// K^ and P: five per term.
//
// On a compute 9.0 device of an sm_90a build the L² step runs on Hopper's warpgroup products
// instead (gpu/gateloop_attention_wgmma.cu, same operands and roundings, 1.25-1.55x faster); the
// kernel below serves every other GPU and LINSCOPE_GL_PAR=mma.
#include <cuda_bf16.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gpu/cuda_check.h"
#include "gpu/gateloop_tc.cuh"
#include "gpu/kernels.h"
#include "gpu/tc_fragments.cuh"
#include "gpu/tc_mma.cuh"

namespace linscope::gpu {
namespace {

using bf16 = __nv_bfloat16;
using namespace tc;
using namespace tc::mma;
using namespace gateloop_tc;

constexpr int kGroupRows = kAttentionGroupRows;  // rows per group = the granularity of S_g
constexpr int kETile = kAttentionKeyTile;  // keys per tile of E_t (the range rule's 64 tokens)
constexpr int kPad = 8;  // 16 bytes per shared row: ldmatrix's 8 rows hit 8 bank groups

// ---- Operands: the cumulative sums and Q^, K^ in one pass
// ---------------------------------------- A block takes one head and 32 channels (16 pairs) and
// walks L in segments of 128 tokens; thread (pair p, slice s) owns tokens 8 s .. 8 s + 7 of the
// segment (two slices make a row group). The slices' sums are scanned in shared memory (double,
// with the carry from earlier segments), so every thread knows Λ and Φ before its group (S_g) and
// at the end of its key tile (E_t) before it forms its tokens' operands. Eight tokens a thread keep
// their inputs in registers between the sums and the operands without spilling. Inputs past L count
// as zero, so Λ stays at Λ_{L−1} beyond it.
constexpr int kOpPairs = 16, kOpSlices = 16, kOpThreads = kOpPairs * kOpSlices;
constexpr int kSlice = 8, kSegment = kOpSlices * kSlice;
constexpr int kSlicesPerGroup = kGroupRows / kSlice, kSlicesPerE = kETile / kSlice;
static_assert(kGroupRows % kSlice == 0 && kETile % kSlice == 0 && kSegment % kETile == 0,
              "slices tile the groups and the key tiles");

// bounds [BH, NB + 1, Dk] (NB = ceil(L / 16)): entry n is Λ before token 16 n (Λ_{min(16n,L)−1},
// 0 for n = 0): S_g of group n, and E_t of tile t at n = min(4 t + 4, NB).
__global__ void __launch_bounds__(kOpThreads)
    gl_attention_operands_kernel(const bf16* __restrict__ q, const bf16* __restrict__ k,
                                 const float* __restrict__ lm, const float* __restrict__ ph,
                                 bf16* __restrict__ qh_out, bf16* __restrict__ kh_out,
                                 double* __restrict__ bounds, int* __restrict__ flag, int L,
                                 int Dk) {
  __shared__ double s_start[2][kOpSlices][2 * kOpPairs];  // [Λ | Φ][slice][channel]
  __shared__ double s_carry[2][2 * kOpPairs];
  const int tid = threadIdx.x, p = tid % kOpPairs, sl = tid / kOpPairs;
  const int64_t head = blockIdx.y;
  const int cl = 2 * p, c = blockIdx.x * 2 * kOpPairs + cl;  // this thread's channels c, c + 1
  const int NB = (L + kGroupRows - 1) / kGroupRows;
  const int64_t row_base = head * L;
  double* bh = bounds + head * (NB + 1) * Dk;
  if (tid < 2 * 2 * kOpPairs) (&s_carry[0][0])[tid] = 0.0;
  bool bad = false;
  for (int seg0 = 0; seg0 < L; seg0 += kSegment) {
    const int t0 = seg0 + kSlice * sl;
    float2 a[kSlice], f[kSlice];
    uint32_t qv[kSlice], kv[kSlice];
#pragma unroll
    for (int u = 0; u < kSlice; ++u) {
      const int t = t0 + u;
      const bool ok = t < L;
      const int64_t e = (row_base + t) * Dk + c;
      a[u] = ok ? *reinterpret_cast<const float2*>(lm + e) : make_float2(0.f, 0.f);
      f[u] = ok ? *reinterpret_cast<const float2*>(ph + e) : make_float2(0.f, 0.f);
      qv[u] = ok ? *reinterpret_cast<const uint32_t*>(q + e) : 0u;
      kv[u] = ok ? *reinterpret_cast<const uint32_t*>(k + e) : 0u;
    }
    double sum[4] = {0.0, 0.0, 0.0, 0.0};  // Λ c, Λ c+1, Φ c, Φ c+1 over the slice
#pragma unroll
    for (int u = 0; u < kSlice; ++u)
      sum[0] += a[u].x, sum[1] += a[u].y, sum[2] += f[u].x, sum[3] += f[u].y;
    __syncthreads();  // the previous segment's readers of s_start are done
    s_start[0][sl][cl] = sum[0], s_start[0][sl][cl + 1] = sum[1];
    s_start[1][sl][cl] = sum[2], s_start[1][sl][cl + 1] = sum[3];
    __syncthreads();
    if (tid < 2 * 2 * kOpPairs) {  // one thread per (quantity, channel): exclusive scan
      const int qn = tid / (2 * kOpPairs), ch = tid % (2 * kOpPairs);
      double run = s_carry[qn][ch];
      for (int s = 0; s < kOpSlices; ++s) {
        const double x = s_start[qn][s][ch];
        s_start[qn][s][ch] = run;
        run += x;
      }
      s_carry[qn][ch] = run;
    }
    __syncthreads();
    // S_g (the start of this slice's group) and E_t (the start of the slice after this key tile).
    // Within the slice the walk is in float, relative to S_g: Λ_i − S_g sums at most 16 inputs,
    // E_t − Λ_i = (E_t − S_g) − (Λ_i − S_g) with the first term taken in double, and the phase
    // starts from Φ before the slice reduced to [−π, π] in double (Φ grows with L).
    const int sg = sl / kSlicesPerGroup * kSlicesPerGroup;
    const int se = (sl / kSlicesPerE + 1) * kSlicesPerE;
    float lq[2], lp[2], es[2];
#pragma unroll
    for (int x = 0; x < 2; ++x) {
      const double S = s_start[0][sg][cl + x];
      const double E = se < kOpSlices ? s_start[0][se][cl + x] : s_carry[0][cl + x];
      if (t0 < L && sl % kSlicesPerE == 0) bad |= !(S - E <= kMaxExponent);
      const double phi = s_start[1][sl][cl + x], kTwoPi = 6.283185307179586;
      lp[x] = static_cast<float>(phi - kTwoPi * rint(phi * (1.0 / kTwoPi)));
      lq[x] = static_cast<float>(s_start[0][sl][cl + x] - S);
      es[x] = static_cast<float>(E - S);
    }
    if (t0 < L && sl == sg)
      *reinterpret_cast<double2*>(bh + static_cast<int64_t>(t0 / kGroupRows) * Dk + c) =
          make_double2(s_start[0][sl][cl], s_start[0][sl][cl + 1]);
#pragma unroll
    for (int u = 0; u < kSlice; ++u) {
      const int t = t0 + u;
      const float2 qf = unpack_bf16(qv[u]), kf = unpack_bf16(kv[u]);
      const float lmv[2] = {a[u].x, a[u].y}, phv[2] = {f[u].x, f[u].y};
      const float qx[2] = {qf.x, qf.y}, kx[2] = {kf.x, kf.y};
      float qo[4], ko[4];
#pragma unroll
      for (int x = 0; x < 2; ++x) {
        lq[x] += lmv[x];
        lp[x] += phv[x];
        // MUFU forms, as in the scan (the tests allow their 2^-22 and ~1e-6): the argument is
        // kept in [−π, π] so that __sincosf is accurate.
        constexpr float kTwoPi = 6.2831853f;
        float sn, cs;
        __sincosf(lp[x] - kTwoPi * rintf(lp[x] * (1.f / kTwoPi)), &sn, &cs);
        const float fq = qx[x] * exp2_ftz(lq[x] * kLog2e);            // e^{Λ_i − S_g} <= 1
        const float fk = kx[x] * exp2_ftz((es[x] - lq[x]) * kLog2e);  // e^{E_t − Λ_i} <= 1
        qo[x] = fq * cs, qo[2 + x] = fq * sn;
        ko[x] = fk * cs, ko[2 + x] = fk * sn;
      }
      if (t < L) {
        const int64_t o = (row_base + t) * 2 * Dk + kappa(c);
        *reinterpret_cast<uint32_t*>(qh_out + o) = pack_bf16(qo[0], qo[1]);
        *reinterpret_cast<uint32_t*>(qh_out + o + 8) = pack_bf16(qo[2], qo[3]);
        *reinterpret_cast<uint32_t*>(kh_out + o) = pack_bf16(ko[0], ko[1]);
        *reinterpret_cast<uint32_t*>(kh_out + o + 8) = pack_bf16(ko[2], ko[3]);
      }
    }
  }
  __syncthreads();
  if (sl == 0)  // entry NB: Λ at the end (the carry; zero inputs past L leave it there)
    *reinterpret_cast<double2*>(bh + static_cast<int64_t>(NB) * Dk + c) =
        make_double2(s_carry[0][cl], s_carry[0][cl + 1]);
  if (bad) *flag = 1;
}

// ---- The attention ------------------------------------------------------------------------------
// A block: RG groups of 16 rows, G per warp; key tiles of TK keys (TK divides 64, so a key tile
// lies in one tile of E_t).
// KB: buffers of K^ tiles. With one, the next tile's K^ is copied during this tile's P V (a
// barrier between the products frees the buffer), which leaves room for 256 rows at d_k = 128.
template <int DK, int VT, int G, int RG, int TK, int KB>
struct AttLayout {
  static_assert(kETile % TK == 0 && TK % 16 == 0 && RG % G == 0, "tile shapes");
  static constexpr int KD = 2 * DK, KT = KD / 16, LDK = KD + kPad, LDV = VT + kPad;
  static constexpr int kRows = kGroupRows * RG, kWarps = RG / G, kThreads = 32 * kWarps;
  static constexpr size_t s_elems = size_t(RG) * DK;  // S_g (double) / factors (bf16)
  static constexpr size_t q_elems = size_t(kRows) * LDK;
  static constexpr size_t k_elems = size_t(TK) * LDK;  // per buffer
  static constexpr size_t v_elems = size_t(TK) * LDV;  // per buffer
  static constexpr size_t bytes =
      sizeof(double) * s_elems +
      sizeof(bf16) * (q_elems + KB * k_elems + 2 * v_elems + 2 * s_elems);
  // Blocks that fit an SM's 228 KB of shared memory (1 KB of it reserved per block), at most 2:
  // the register budget follows from it. (Three blocks of 128 rows with one K^ buffer would fit
  // at d_k = 64, but in 168 registers they spill and ran 19 % slower than two.)
  static constexpr int kMinBlocks = std::min<int>(2, (228 * 1024) / int(bytes + 1024));
};

// Block: kRows rows from row block rb (heaviest first), VT value columns from c0, one head.
template <int DK, int VT, int G, int RG, int TK, int KB>
__global__ void __launch_bounds__(AttLayout<DK, VT, G, RG, TK, KB>::kThreads,
                                  AttLayout<DK, VT, G, RG, TK, KB>::kMinBlocks)
    gl_attention_tc_kernel(const bf16* __restrict__ qhat, const bf16* __restrict__ khat,
                           const bf16* __restrict__ v, const double* __restrict__ bounds,
                           const int* __restrict__ flag, float* __restrict__ y, int L, int Dv,
                           int row_blocks) {
  if (*flag != 0) return;  // the operands pass found a tile out of range: fp32 kernels answer
  using Lay = AttLayout<DK, VT, G, RG, TK, KB>;
  constexpr int KD = Lay::KD, KT = Lay::KT, LDK = Lay::LDK, LDV = Lay::LDV;
  constexpr int kThreads = Lay::kThreads, kRows = Lay::kRows;
  extern __shared__ __align__(16) unsigned char smem[];
  double* sS = reinterpret_cast<double*>(smem);  // [group][channel]: S_g
  bf16* sQ = reinterpret_cast<bf16*>(sS + Lay::s_elems);
  bf16* sK = sQ + Lay::q_elems;       // 2 buffers
  bf16* sV = sK + KB * Lay::k_elems;  // 2 buffers
  bf16* sD = sV + 2 * Lay::v_elems;   // 2 buffers of [group][channel]: e^{S_g − E_t}

  const int head = blockIdx.x, c0 = blockIdx.y * VT;
  const int rb = row_blocks - 1 - static_cast<int>(blockIdx.z);  // causal: heaviest first
  const int row0 = rb * kRows;
  const int NB = (L + kGroupRows - 1) / kGroupRows;
  const bf16* qh = qhat + static_cast<int64_t>(head) * L * KD;
  const bf16* kh = khat + static_cast<int64_t>(head) * L * KD;
  const bf16* vh = v + static_cast<int64_t>(head) * L * Dv;
  const double* bh = bounds + static_cast<int64_t>(head) * (NB + 1) * DK;
  float* yh = y + static_cast<int64_t>(head) * L * Dv;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int tiles = (min(L, row0 + kRows) + TK - 1) / TK;

  // Copy slots: a thread copies the same 16 bytes of every KROWS-th (VROWS-th) row.
  constexpr int KC = KD / 8, KROWS = kThreads / KC, VC = VT / 8, VROWS = kThreads / VC;
  static_assert(kThreads % KC == 0 && kThreads % VC == 0 && TK % KROWS == 0 && TK % VROWS == 0 &&
                    kRows % KROWS == 0,
                "copy slots tile the rows");
  const int kr = tid / KC, kx = (tid % KC) * 8, vr = tid / VC, vx = (tid % VC) * 8;
  const bool v_col_ok = c0 + vx < Dv;
  auto load_k = [&](int t, int b) {
    const int j0 = t * TK;
#pragma unroll
    for (int r = 0; r < TK; r += KROWS) {
      const int j = j0 + kr + r;
      cp_async16(sK + b * Lay::k_elems + (kr + r) * LDK + kx,
                 j < L ? kh + static_cast<int64_t>(j) * KD + kx : kh, j < L);
    }
  };
  auto load_v = [&](int t, int b) {
    const int j0 = t * TK;
#pragma unroll
    for (int r = 0; r < TK; r += VROWS) {
      const int j = j0 + vr + r;
      const bool ok = v_col_ok && j < L;
      cp_async16(sV + b * Lay::v_elems + (vr + r) * LDV + vx,
                 ok ? vh + static_cast<int64_t>(j) * Dv + c0 + vx : vh, ok);
    }
  };
  // The pair factors of tile t: thread (channel ch, groups gs, gs + step, ...), E_t read one tile
  // ahead (e_next). A group whose rows all precede the tile takes 0 (its scores are cut anyway,
  // and e^{S_g − E_t} could overflow there).
  constexpr int kFactorsPerThread = RG * DK / kThreads;
  static_assert(RG * DK % kThreads == 0 && kThreads % DK == 0, "factor slots");
  const int ch = tid % DK, gs = tid / DK;
  constexpr int kPerE = kETile / TK;  // key tiles per tile of E_t
  auto e_of = [&](int t) {
    const int te = t / kPerE;
    return bh[static_cast<int64_t>(min(4 * te + 4, NB)) * DK + ch];
  };
  double e_next = e_of(0);
  auto stage_factors = [&](int t, int b) {
#pragma unroll
    for (int u = 0; u < kFactorsPerThread; ++u) {
      const int gr = gs + u * (kThreads / DK);
      const bool reached = t / kPerE * kETile <= row0 + kGroupRows * gr + kGroupRows - 1;
      const float x = static_cast<float>(sS[gr * DK + ch] - e_next);
      sD[b * Lay::s_elems + gr * DK + ch] = __float2bfloat16_rn(reached ? expf(x) : 0.f);
    }
    if (t + 1 < tiles) e_next = e_of(t + 1);
  };

  {
    constexpr int QROWS = KROWS;
#pragma unroll 4
    for (int r = 0; r < kRows; r += QROWS) {
      const int i = row0 + kr + r;
      cp_async16(sQ + (kr + r) * LDK + kx, i < L ? qh + static_cast<int64_t>(i) * KD + kx : qh,
                 i < L);
    }
  }
  load_k(0, 0);
  load_v(0, 0);
  cp_async_commit();
  for (int e = tid; e < RG * DK; e += kThreads)
    sS[e] = bh[static_cast<int64_t>(min(row0 / kGroupRows + e / DK, NB)) * DK + e % DK];
  __syncthreads();
  stage_factors(0, 0);

  const int g = lane >> 2, cq = 2 * (lane & 3);
  const int wr0 = row0 + kGroupRows * G * warp;  // the warp's first row
  const int m8 = lane & 7, mlo = (lane >> 3) & 1, mhi = lane >> 4;
  const unsigned q_addr =
      shared_address(sQ + (kGroupRows * G * warp + m8 + 8 * mlo) * LDK + 8 * mhi);
  const unsigned k_addr0 = shared_address(sK + (8 * mhi + m8) * LDK + 8 * mlo);
  const unsigned v_addr0 = shared_address(sV + (8 * mlo + m8) * LDV + 8 * mhi);
  constexpr unsigned kGroupBytes = kGroupRows * LDK * sizeof(bf16);
  constexpr unsigned kRowBytes = LDK * sizeof(bf16), kVRowBytes = LDV * sizeof(bf16);

  float o[G][VT / 8][4] = {};
  for (int t = 0; t < tiles; ++t) {
    const int b = t & 1, kb = KB == 2 ? b : 0;
    if (t + 1 < tiles) {
      if (KB == 2) load_k(t + 1, b ^ 1);
      load_v(t + 1, b ^ 1);
      stage_factors(t + 1, b ^ 1);
    }
    cp_async_commit();
    // Q and tile t have landed (with one K^ buffer, its copy was the group before this one).
    asm volatile("cp.async.wait_group 1;\n" ::: "memory");
    __syncthreads();
    const int j0 = t * TK;
    const bool active = wr0 < L && j0 <= wr0 + kGroupRows * G - 1;
    float s[G][TK / 8][4];
    if (active) {
      // S = (Q^ scaled per channel by the pair's factor) K^^T: each group's 16 rows x TK keys.
      const unsigned k_addr = k_addr0 + kb * unsigned(sizeof(bf16) * Lay::k_elems);
      const uint32_t* D =
          reinterpret_cast<const uint32_t*>(sD + b * Lay::s_elems + G * warp * DK + cq);
#pragma unroll
      for (int kk = 0; kk < KT; ++kk) {
        uint32_t a[G][4];
#pragma unroll
        for (int gi = 0; gi < G; ++gi) {
          ldmatrix_x4(a[gi], q_addr + gi * kGroupBytes + kk * 32);
          // channels 8 kk + cq, + 1: the same factor pair for all four registers
          const __nv_bfloat162 fd =
              *reinterpret_cast<const __nv_bfloat162*>(D + (gi * DK + 8 * kk) / 2);
#pragma unroll
          for (int x = 0; x < 4; ++x) {
#ifndef LINSCOPE_GL_NOSCALE  // (a timing variant without the factors, for measuring their cost)
            __nv_bfloat162 w = __hmul2(*reinterpret_cast<const __nv_bfloat162*>(&a[gi][x]), fd);
            a[gi][x] = *reinterpret_cast<const uint32_t*>(&w);
#endif
          }
        }
#pragma unroll
        for (int np = 0; np < TK / 16; ++np) {
          uint32_t bk[4];
          ldmatrix_x4(bk, k_addr + np * 16 * kRowBytes + kk * 32);
#pragma unroll
          for (int gi = 0; gi < G; ++gi) {
            m16n8k16(s[gi][2 * np], a[gi], bk[0], bk[1], kk == 0);
            m16n8k16(s[gi][2 * np + 1], a[gi], bk[2], bk[3], kk == 0);
          }
        }
      }
    }
    if (KB == 1) {  // every warp is done with this K^ tile: copy the next during P V
      __syncthreads();
      if (t + 1 < tiles) load_k(t + 1, 0);
      cp_async_commit();
    }
    if (active) {
      // The causal cut where the tile reaches a group's rows; P in bf16 as the A operand of P V.
      uint32_t p[G][TK / 16][4];
#pragma unroll
      for (int gi = 0; gi < G; ++gi) {
        const int i_lo = wr0 + kGroupRows * gi + g, i_hi = i_lo + 8;
        const bool diagonal = j0 + TK - 1 > wr0 + kGroupRows * gi;
#pragma unroll
        for (int n = 0; n < TK / 8; ++n) {
          const int j = j0 + 8 * n + cq;
          float a0 = s[gi][n][0], a1 = s[gi][n][1], a2 = s[gi][n][2], a3 = s[gi][n][3];
          if (diagonal) {
            a0 = j <= i_lo ? a0 : 0.f, a1 = j + 1 <= i_lo ? a1 : 0.f;
            a2 = j <= i_hi ? a2 : 0.f, a3 = j + 1 <= i_hi ? a3 : 0.f;
          }
          p[gi][n >> 1][(n & 1) * 2] = pack_bf16(a0, a1);
          p[gi][n >> 1][(n & 1) * 2 + 1] = pack_bf16(a2, a3);
        }
      }
      // O += P V.
      accumulate_pv(o, p, v_addr0 + b * unsigned(sizeof(bf16) * Lay::v_elems), kVRowBytes);
    }
    __syncthreads();  // buffer b is refilled by the next iteration's prefetch
  }
#pragma unroll
  for (int gi = 0; gi < G; ++gi)
#pragma unroll
    for (int n = 0; n < VT / 8; ++n) {
      const int col = c0 + 8 * n + cq;
      if (col >= Dv) continue;  // Dv is a multiple of 8: both columns of the pair or neither
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int i = wr0 + kGroupRows * gi + 8 * h + g;
        if (i < L)
          *reinterpret_cast<float2*>(yh + static_cast<int64_t>(i) * Dv + col) =
              make_float2(o[gi][n][2 * h], o[gi][n][2 * h + 1]);
      }
    }
}

template <int DK, int VT, int RG, int TK, int KB>
void launch(const bf16* qhat, const bf16* khat, const bf16* v, const double* bounds,
            const int* flag, float* y, const Dims& d, cudaStream_t s) {
  using Lay = AttLayout<DK, VT, 2, RG, TK, KB>;
  auto kernel = gl_attention_tc_kernel<DK, VT, 2, RG, TK, KB>;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(Lay::bytes)),
        "cudaFuncSetAttribute(gl_attention_tc)");
  const int row_blocks = static_cast<int>((d.L + Lay::kRows - 1) / Lay::kRows);
  const dim3 grid(static_cast<unsigned>(d.BH), static_cast<unsigned>((d.Dv + VT - 1) / VT),
                  static_cast<unsigned>(row_blocks));
  kernel<<<grid, Lay::kThreads, Lay::bytes, s>>>(
      qhat, khat, v, bounds, flag, y, static_cast<int>(d.L), static_cast<int>(d.Dv), row_blocks);
  check_launch("gl_attention_tc");
}

// Block shapes: "128", four warps with 64-key tiles in two buffers; "256x32", eight warps with
// 32-key tiles in two buffers; "256", eight warps with 64-key tiles and one K^ buffer. Measured
// on the H200 (docs/performance.md): at d_k = 128 "256" is fastest (3.19 ms at L = 4096 against
// 4.02 for "128" and 4.13 for "256x32"), since "128" fills its SM with one block of four warps;
// at d_k = 64, where two blocks of "128" fit, "128" is (1.56 against 1.71 ms). LINSCOPE_GL_SHAPE
// names one for measuring.
enum class Shape { k128, k256x32, k256, best };
Shape shape_asked() {
  static const Shape w = [] {
    const char* e = std::getenv("LINSCOPE_GL_SHAPE");
    const std::string v = e ? e : "";
    return v == "128"      ? Shape::k128
           : v == "256x32" ? Shape::k256x32
           : v == "256"    ? Shape::k256
                           : Shape::best;
  }();
  return w;
}

template <int DK, int VT>
void launch_any(const bf16* qhat, const bf16* khat, const bf16* v, const double* bounds,
                const int* flag, float* y, const Dims& d, cudaStream_t s) {
  Shape shape = shape_asked();
  if (shape == Shape::best) shape = DK == 128 ? Shape::k256 : Shape::k128;
  switch (shape) {
    case Shape::k128:
      return launch<DK, VT, 8, 64, 2>(qhat, khat, v, bounds, flag, y, d, s);
    case Shape::k256x32:
      return launch<DK, VT, 16, 32, 2>(qhat, khat, v, bounds, flag, y, d, s);
    default:
      return launch<DK, VT, 16, 64, 1>(qhat, khat, v, bounds, flag, y, d, s);
  }
}

size_t bounds_elems(const Dims& d) {
  return static_cast<size_t>(d.BH * ((d.L + kGroupRows - 1) / kGroupRows + 1) * d.Dk);
}

}  // namespace

bool gateloop_attention_tc_supported(const Dims& d) {
  return (d.Dk == 64 || d.Dk == 128) && d.Dv % 8 == 0 && d.Dv > 0 &&
         d.L * 2 * std::max(d.Dk, d.Dv) < (int64_t{1} << 31) && d.BH < 65536 &&
         (d.L + 127) / 128 < 65536;
}

size_t gateloop_attention_tc_workspace(const Dims& d) {
  const size_t n = static_cast<size_t>(d.BH * d.L * d.Dk);
  return sizeof(bf16) * 4 * n + sizeof(double) * bounds_elems(d);
}

bool gateloop_attention_tc(const void* q, const void* k, const void* v, const float* lm,
                           const float* ph, float* y, void* workspace, int* flag, const Dims& d,
                           cudaStream_t s) {
  if (!gateloop_attention_tc_supported(d))
    throw BackendError(
        "GateLoop tensor-core surrogate attention: needs d_k 64 or 128, d_v a multiple of 8");
  const int64_t n = d.BH * d.L * d.Dk;
  double* bounds = static_cast<double*>(workspace);
  bf16* qhat = reinterpret_cast<bf16*>(bounds + bounds_elems(d));
  bf16* khat = qhat + 2 * n;
  check(cudaMemsetAsync(flag, 0, sizeof(int), s), "cudaMemsetAsync(flag)");
  gl_attention_operands_kernel<<<dim3(static_cast<unsigned>(d.Dk / (2 * kOpPairs)),
                                      static_cast<unsigned>(d.BH)),
                                 kOpThreads, 0, s>>>(
      static_cast<const bf16*>(q), static_cast<const bf16*>(k), lm, ph, qhat, khat, bounds, flag,
      static_cast<int>(d.L), static_cast<int>(d.Dk));
  check_launch("gl_attention_operands_kernel");
  // No wait for the flag here: the L² kernels read it and write nothing when it is raised, and
  // the host learns it once, at the end (a wait here left the GPU idle between the two kernels).
  // Hopper's warpgroup kernel where it runs; its tensor copies need v 16-byte aligned (the
  // operands in the workspace are: cudaMalloc'd, at offsets of whole 64-channel rows).
  if ((reinterpret_cast<uintptr_t>(v) & 15) == 0 && gateloop_attention_wgmma_supported(d)) {
    gateloop_attention_wgmma(qhat, khat, v, bounds, flag, y, d, s);
    return !flag_raised(flag, s);
  }
  const auto* v16 = static_cast<const bf16*>(v);
  const bool wide = d.Dv > 64;
  if (d.Dk == 64)
    wide ? launch_any<64, 128>(qhat, khat, v16, bounds, flag, y, d, s)
         : launch_any<64, 64>(qhat, khat, v16, bounds, flag, y, d, s);
  else
    wide ? launch_any<128, 128>(qhat, khat, v16, bounds, flag, y, d, s)
         : launch_any<128, 64>(qhat, khat, v16, bounds, flag, y, d, s);
  return !flag_raised(flag, s);
}

}  // namespace linscope::gpu
