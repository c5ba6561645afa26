// GateLoop's associative scan (MODELS.md §3; GateLoop arXiv 2311.01927 eq. 1-4) as a blocked
// scan on the tensor cores, for bf16 q, k, v (RunOptions::bf16). CPU twin: core/gateloop/scan.cpp.
//
// A blocked scan combines the operator (a1, b1) ∘ (a2, b2) = (a2 a1, a2 b1 + b2) chunk by chunk:
// within a chunk of C = 64 tokens the combined pair of tokens j+1..i is (Π a, Σ_j (Π a) k_j v_j^T),
// which the tensor cores form as matrix products; across chunks the carried state S (complex,
// d_k x d_v) takes one step per chunk. With in-chunk cumulative log-magnitudes Λ_t and phases Φ_t
// per channel (Λ_e, Φ_e at the chunk's last token) and q, k real:
//   y_i = Σ_c q_ic e^{Λ_ic} Re(e^{iΦ_ic} S_c)                       (the carried state)
//       + Σ_{j<=i} [Σ_c q_ic k_jc e^{Λ_ic − Λ_jc} cos(Φ_ic − Φ_jc)] v_j   (surrogate attention
//                                                                    inside the chunk)
//   S  <- diag(e^{Λ_e + iΦ_e}) S + Σ_j diag(e^{Λ_e − Λ_j + i(Φ_e − Φ_j)}) k_j v_j^T
// cos(Φ_i − Φ_j) = cos Φ_i cos Φ_j + sin Φ_i sin Φ_j, so the chunk's scores are one real product
// over 2 d_k columns,  P = Q~ K~^T  with
//   Q~_i = q_i e^{Λ_i − Λ_e} (cos Φ_i, sin Φ_i),   K~_j = k_j e^{Λ_e − Λ_j} (cos Φ_j, sin Φ_j),
// the chunk's end as the common reference (K~'s factor <= 1; Q~'s >= 1, at most e^{−Λ_e}).
// The same K~ feeds the state: with X = e^{Λ_e} Re S + K~_cos^T V and Y = −e^{Λ_e} Im S +
// K~_sin^T V, the new state is Re S = cos Φ_e X + sin Φ_e Y, Im S = sin Φ_e X − cos Φ_e Y (a
// reflection per channel, in registers). And the carried part of y_i is Q~_i [X0; Y0] with
// X0, Y0 the accumulators before the product: [X0; Y0] in bf16 is the B operand of Q~ S.
//
// Range: Q~'s factor e^{Λ_i − Λ_e} and the copy's e^{Λ_e} must stay inside float's (and bf16's)
// exponent range, so every |Λ_i − Λ_e| and |Λ_e| of a chunk must be <= kMaxExponent nats
// (a chunk-average |a| >= e^{−80/64} = 0.29 per channel). A chunk beyond it raises *flag and the
// caller runs the fp32 scan instead (gateloop_scan_tc's result); within it every factor is a
// normal number and the products are exact up to the bf16 roundings the tests bound.
//
// Columns of the 2 d_k dimension (κ) come in blocks of 16: the cos parts of channels 8m..8m+7,
// then their sin parts. An m16n8k16 accumulator row g of block m is channel 8m + g's real part and
// row g + 8 its imaginary part, so the reflection never leaves the lane.
//
// Block: one head and a slice of its value columns, walking the chunks in order. Two shapes
// (GlLayout): W = 8 warps, 64 columns, chunks of 64 tokens (d_v <= 64); W = 16 warps, 128
// columns, chunks of 32 (d_v > 64), so that a head's operands are formed once rather than once
// per 64 columns: 3.00-3.10 against 3.28-3.33 ms at d = 128, L = 16384 (H200, side by side,
// docs/performance.md). On Hopper, d_v > 64 goes to the warpgroup kernel instead
// (gpu/gateloop_scan_wgmma.cu, 1.6-1.7x faster there); these shapes serve d_v <= 64 and every
// other device. Per chunk, after the chunk's lm, ph, q, k and V have landed (copied
// asynchronously during the previous chunk):
//  1. every thread sums log|a| and the phase of its channel pair over its token group;
//  2. each warp forms e^{Λ_e}, Φ_e of its state channels from those sums and turns its state
//     rows into [X0; Y0] and their bf16 copy; every thread writes its tokens' Q~, K~ rows;
//  3. warp (rg, cs): output rows 16 rg .. + 15 and CW value columns from CW cs (its scores are
//     recomputed by every warp of a row group: no exchange of P); state rows (κ) of MT blocks
//     of one 64-column slice.
// Three barriers a chunk: after the copies land, after the sums, after the operands.
// Sixteen warps on 64 columns (the preparation spread wider, each score tile formed once and
// shared) ran no faster: their 16 x 16 product tiles saturate shared memory
// (docs/performance.md, "GateLoop's scan with bulk copies").
#include <cuda_bf16.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gpu/cuda_check.h"
#include "gpu/gateloop_scan_prep.cuh"
#include "gpu/gateloop_tc.cuh"
#include "gpu/kernels.h"
#include "gpu/tc_bulk.cuh"
#include "gpu/tc_fragments.cuh"
#include "gpu/tc_mma.cuh"

namespace linscope::gpu {
namespace {

using bf16 = __nv_bfloat16;
using namespace tc;
using namespace tc::mma;
using namespace gateloop_tc;

constexpr int kPad = 8;  // 16 bytes per shared row: ldmatrix's 8 rows hit 8 bank groups

// Two block shapes. W = 8: 8 warps, chunks of 64 tokens, 64 value columns (two blocks per head
// at d_v = 128). W = 16: one block per head: 16 warps, all 128 value columns, chunks of 32
// tokens; the operands Q~, K~ are then formed once per head instead of once per 64 columns, and
// 32-token chunks keep the staging, Q~, K~, the state's copy for 128 columns and V in 174 KiB.
template <int DK, int W>
struct GlLayout {
  static constexpr int kWarps = W, kThreads = 32 * W;
  static constexpr int kC = W == 8 ? 64 : 32;    // chunk
  static constexpr int kVT = W == 8 ? 64 : 128;  // value columns per block
  static constexpr int KD = 2 * DK;              // κ: cos and sin parts
  static constexpr int LDO = KD + kPad;          // Q~, K~ rows
  static constexpr int LDV = kVT + kPad;
  static constexpr int NP = DK / 2;        // prep: channel pairs ...
  static constexpr int G = kThreads / NP;  // ... x token groups
  static constexpr int TPG = kC / G;       // tokens per group
  // Outputs: warp (rg, cs) has the 16 rows of row group rg and CW value columns from CW cs.
  static constexpr int RG = kC / 16, CS = W / RG, CW = kVT / CS;
  // State: 64 value columns per slice of WPS warps; a warp has MT row blocks (κ) of its slice.
  static constexpr int WPS = W / (kVT / 64), MT = KD / 16 / WPS;
  static_assert(kThreads % NP == 0 && kC % G == 0 && TPG >= 1 && MT >= 1, "prep and state split");
  static_assert(CW % 16 == 0 && RG * CS == W && WPS * (kVT / 64) == W && (RG == 2 || RG == 4),
                "warp tiles");
  // Byte offsets: lm, ph (fp32) and q, k (bf16) of the next chunk; Q~, K~; S's copy; V (two
  // buffers); the token groups' sums.
  static constexpr size_t raw = 0;
  static constexpr size_t qk = raw + (sizeof(float) + sizeof(bf16)) * 2 * kC * DK;
  static constexpr size_t s = qk + sizeof(bf16) * 2 * kC * LDO;
  static constexpr size_t v = s + sizeof(bf16) * KD * LDV;
  static constexpr size_t tot = v + sizeof(bf16) * 2 * kC * LDV;
  static constexpr size_t bytes = tot + sizeof(float) * 2 * G * DK;
};

template <int DK, int W>
__global__ void __launch_bounds__(32 * W, 1)
    gateloop_scan_tc_kernel(const bf16* __restrict__ q, const bf16* __restrict__ k,
                            const bf16* __restrict__ v, const float* __restrict__ lm,
                            const float* __restrict__ ph, float* __restrict__ y,
                            int* __restrict__ flag, int L, int Dv) {
  using Lay = GlLayout<DK, W>;
  constexpr int KD = Lay::KD, LDO = Lay::LDO, LDV = Lay::LDV, NP = Lay::NP, G = Lay::G;
  constexpr int TPG = Lay::TPG, MT = Lay::MT, KS = KD / 16;
  constexpr int kWarps = Lay::kWarps, kThreads = Lay::kThreads, kC = Lay::kC, kVT = Lay::kVT;
  constexpr int RG = Lay::RG, CW = Lay::CW, WPS = Lay::WPS;
  extern __shared__ __align__(16) unsigned char smem[];
  float* sLm = reinterpret_cast<float*>(smem + Lay::raw);   // [kC][DK]
  float* sPh = sLm + kC * DK;                               // [kC][DK]
  bf16* sQr = reinterpret_cast<bf16*>(sPh + kC * DK);       // q [kC][DK]
  bf16* sKr = sQr + kC * DK;                                // k [kC][DK]
  bf16* sQ = reinterpret_cast<bf16*>(smem + Lay::qk);       // Q~ [kC][LDO]
  bf16* sK = sQ + kC * LDO;                                 // K~ [kC][LDO]
  bf16* sS = reinterpret_cast<bf16*>(smem + Lay::s);        // [X0; Y0] [KD][LDV]
  bf16* sV = reinterpret_cast<bf16*>(smem + Lay::v);        // 2 x [kC][LDV]
  float* sTot = reinterpret_cast<float*>(smem + Lay::tot);  // [2][G][DK]: Σ log|a|, Σ phase

  const int head = blockIdx.y, c0 = blockIdx.x * kVT;
  const int64_t hk = static_cast<int64_t>(head) * L * DK;
  const bf16* qh = q + hk;
  const bf16* kh = k + hk;
  const float* lmh = lm + hk;
  const float* phh = ph + hk;
  const bf16* vh = v + static_cast<int64_t>(head) * L * Dv;
  float* yh = y + static_cast<int64_t>(head) * L * Dv;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int chunks = (L + kC - 1) / kC;

  // Copies of the next chunk. log|a|, phase, q and k: a chunk of each is one contiguous block of
  // rows in global memory and in shared memory, copied by the copy engine in four bulk copies
  // issued by thread 0 and completing on `raw_ready`; rows past L are zeroed by the threads (a
  // zero log-magnitude and phase keep Λ, Φ at the last token's, and zero keys add nothing to the
  // state). V's 64 columns of a row are strided in global memory: 16-byte cp.async.
  constexpr int VC = kVT / 8, VROWS = kThreads / VC;
  static_assert(kThreads % VC == 0 && kC % VROWS == 0, "copy slots");
  const int vr = tid / VC, vx = (tid % VC) * 8;
  const bool v_col_ok = c0 + vx < Dv;
  __shared__ uint64_t raw_ready;
  if (tid == 0) bulk::barrier_init(&raw_ready, 1);
  __syncthreads();
  auto load_next = [&](int n, int b) {
    const int rows = min(kC, L - n * kC);
    if (tid == 0) {
      const int64_t off = static_cast<int64_t>(n) * kC * DK;
      const unsigned f32 = sizeof(float) * rows * DK, b16 = sizeof(bf16) * rows * DK;
      bulk::arrive_expect(&raw_ready, 2 * (f32 + b16));
      bulk::copy(sLm, lmh + off, f32, &raw_ready);
      bulk::copy(sPh, phh + off, f32, &raw_ready);
      bulk::copy(sQr, qh + off, b16, &raw_ready);
      bulk::copy(sKr, kh + off, b16, &raw_ready);
    }
    for (int e = rows * DK + tid; e < kC * DK; e += kThreads)  // the last chunk's tail only
      sLm[e] = 0.f, sPh[e] = 0.f, sQr[e] = sKr[e] = __float2bfloat16(0.f);
#pragma unroll
    for (int r = 0; r < kC; r += VROWS) {
      const int j = n * kC + vr + r;
      const bool ok = v_col_ok && j < L;
      cp_async16(sV + b * kC * LDV + (vr + r) * LDV + vx,
                 ok ? vh + static_cast<int64_t>(j) * Dv + c0 + vx : vh, ok);
    }
    cp_async_commit();
  };

  // Prep thread: channels 2p, 2p + 1 over the tokens h TPG .. h TPG + TPG - 1 of the chunk.
  const int pp = tid % NP, ph_g = tid / NP, pc = 2 * pp, t_first = ph_g * TPG;
  const int kq = kappa(pc);  // cos part of (pc, pc + 1); sin part at kq + 8

  const int g = lane >> 2, cq = 2 * (lane & 3);
  const int m8 = lane & 7, mlo = (lane >> 3) & 1, mhi = lane >> 4;
  const int rg = warp & (RG - 1), cs = warp >> (RG == 4 ? 2 : 1);  // row group, column slice
  // state: row block, 64-column slice (one slice: kept constant, so that W = 8 compiles as before)
  const int ws = WPS == kWarps ? warp : warp % WPS, hs = WPS == kWarps ? 0 : warp / WPS;
  const int i_lo = 16 * rg + g, i_hi = i_lo + 8;
  // ldmatrix addresses (gpu/tc_mma.cuh: lanes 8m .. 8m + 7 address matrix m).
  const unsigned q_addr = shared_address(sQ + (16 * rg + m8 + 8 * mlo) * LDO + 8 * mhi);
  // K~ as B (keys x κ, no transpose) and K~^T as A (transposed): the same addresses.
  const unsigned k_addr = shared_address(sK + (8 * mhi + m8) * LDO + 8 * mlo);
  const unsigned s_addr = shared_address(sS + (8 * mlo + m8) * LDV + 8 * mhi + CW * cs);
  const unsigned v_addr = shared_address(sV + (8 * mlo + m8) * LDV + 8 * mhi);
  constexpr unsigned kRow = sizeof(bf16) * LDO, kVRow = sizeof(bf16) * LDV;
  constexpr unsigned kVBuf = sizeof(bf16) * kC * LDV;

  // State rows κ of blocks ws + WPS mt, columns 64 hs ..: [Re S; Im S] between chunks, [X; Y]
  // inside one.
  float st[MT][8][4] = {};
  bool out_of_range = false;

  load_next(0, 0);
  for (int n = 0; n < chunks; ++n) {
    const int b = n & 1;
    const int j0 = n * kC;
    bulk::wait(&raw_ready, n & 1);
    cp_async_wait_all();
    __syncthreads();  // chunk n's rows have landed (and the tail's zeros); V's too
    // First pass: the token group's sums.
    float2 sl, sp;
    group_sums<TPG, DK>(sLm, sPh, t_first, pc, sl, sp);
    *reinterpret_cast<float2*>(sTot + ph_g * DK + pc) = sl;
    *reinterpret_cast<float2*>(sTot + (G + ph_g) * DK + pc) = sp;
    __syncthreads();
    // The state's channels: e^{Λ_e} and Φ_e from the same sums (same order) as the prep's, and
    // [X0; Y0] = [e^{Λ_e} Re S; −e^{Λ_e} Im S], kept in the accumulators and copied as bf16.
    float co[MT], si[MT];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
      const int blk = ws + WPS * mt, ch = 8 * blk + g, r = 16 * blk + g;
      float lam_e = 0.f, phi_e = 0.f;
#pragma unroll
      for (int h = 0; h < G; ++h) lam_e += sTot[h * DK + ch], phi_e += sTot[(G + h) * DK + ch];
      sincos_reduced(phi_e, &si[mt], &co[mt]);
      const float e = exp2_ftz(lam_e * kLog2e);
#pragma unroll
      for (int nt = 0; nt < 8; ++nt) {
        st[mt][nt][0] *= e, st[mt][nt][1] *= e;
        st[mt][nt][2] *= -e, st[mt][nt][3] *= -e;
        const int c = 64 * hs + 8 * nt + cq;
        *reinterpret_cast<uint32_t*>(sS + r * LDV + c) = pack_bf16(st[mt][nt][0], st[mt][nt][1]);
        *reinterpret_cast<uint32_t*>(sS + (r + 8) * LDV + c) =
            pack_bf16(st[mt][nt][2], st[mt][nt][3]);
      }
    }
    // Second pass: Λ, Φ from the sums of the groups before, and the operands.
    {
      float2 lam, phi, lam_e, phi_e;
      group_prefix<G, DK>(sTot, ph_g, pc, lam, phi, lam_e, phi_e);
      const float worst = group_operands<TPG, DK, TPG>(
          sLm, sPh, sQr, sKr, t_first, pc, lam, phi, lam_e,
          [&](int row, uint32_t q_cos, uint32_t q_sin, uint32_t k_cos, uint32_t k_sin) {
            *reinterpret_cast<uint32_t*>(sQ + row * LDO + kq) = q_cos;
            *reinterpret_cast<uint32_t*>(sQ + row * LDO + kq + 8) = q_sin;
            *reinterpret_cast<uint32_t*>(sK + row * LDO + kq) = k_cos;
            *reinterpret_cast<uint32_t*>(sK + row * LDO + kq + 8) = k_sin;
          });
      out_of_range |= !(worst <= kMaxExponent);  // NaN included
    }
    __syncthreads();  // Q~, K~ and S's copy are visible; lm, ph, q, k may be refilled
    if (n + 1 < chunks) load_next(n + 1, b ^ 1);
    // O = Q~ [X0; Y0] (the carried state) and the scores Q~ K~^T of the row group's 16 rows and
    // the keys up to its last row (16 (rg + 1) of them).
    constexpr int NO = CW / 8, NS = kC / 8;  // 8-column tiles of O, of the scores
    float o[NO][4], sc[NS][4];
#pragma unroll
    for (int kk = 0; kk < KS; ++kk) {
      uint32_t qa[4];
      ldmatrix_x4(qa, q_addr + kk * 32);
#pragma unroll
      for (int cp = 0; cp < NO / 2; ++cp) {
        uint32_t bs[4];
        ldmatrix_x4_trans(bs, s_addr + kk * 16 * kVRow + cp * 32);
        m16n8k16(o[2 * cp], qa, bs[0], bs[1], kk == 0);
        m16n8k16(o[2 * cp + 1], qa, bs[2], bs[3], kk == 0);
      }
#pragma unroll
      for (int np = 0; np < RG; ++np) {
        if (np > rg) continue;  // warp-uniform: keys past the row group are all masked
        uint32_t bk[4];
        ldmatrix_x4(bk, k_addr + np * 16 * kRow + kk * 32);
        m16n8k16(sc[2 * np], qa, bk[0], bk[1], kk == 0);
        m16n8k16(sc[2 * np + 1], qa, bk[2], bk[3], kk == 0);
      }
    }
    // Causal mask inside the chunk (the decay is in the operands), P in bf16 as the A operand.
    uint32_t p[RG][4];
#pragma unroll
    for (int nt = 0; nt < NS; ++nt) {
      if ((nt >> 1) > rg) continue;
      const int j = 8 * nt + cq;
      const float a0 = j <= i_lo ? sc[nt][0] : 0.f, a1 = j + 1 <= i_lo ? sc[nt][1] : 0.f;
      const float a2 = j <= i_hi ? sc[nt][2] : 0.f, a3 = j + 1 <= i_hi ? sc[nt][3] : 0.f;
      p[nt >> 1][(nt & 1) * 2] = pack_bf16(a0, a1);
      p[nt >> 1][(nt & 1) * 2 + 1] = pack_bf16(a2, a3);
    }
    // O += P V over the keys up to the row group's last row.
#pragma unroll
    for (int kk = 0; kk < RG; ++kk) {
      if (kk > rg) continue;
#pragma unroll
      for (int cp = 0; cp < NO / 2; ++cp) {
        uint32_t bv[4];
        ldmatrix_x4_trans(bv, v_addr + b * kVBuf + kk * 16 * kVRow + (CW / 16 * cs + cp) * 32);
        m16n8k16(o[2 * cp], p[kk], bv[0], bv[1]);
        m16n8k16(o[2 * cp + 1], p[kk], bv[2], bv[3]);
      }
    }
    // [X; Y] = [X0; Y0] + K~^T V over the chunk's keys, then the reflection by Φ_e.
#pragma unroll
    for (int kk = 0; kk < RG; ++kk) {
      uint32_t ka[MT][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
        ldmatrix_x4_trans(ka[mt], k_addr + kk * 16 * kRow + (ws + WPS * mt) * 32);
#pragma unroll
      for (int cp = 0; cp < 4; ++cp) {
        uint32_t bv[4];
        ldmatrix_x4_trans(bv, v_addr + b * kVBuf + kk * 16 * kVRow + (4 * hs + cp) * 32);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          m16n8k16(st[mt][2 * cp], ka[mt], bv[0], bv[1]);
          m16n8k16(st[mt][2 * cp + 1], ka[mt], bv[2], bv[3]);
        }
      }
    }
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
      for (int nt = 0; nt < 8; ++nt)
#pragma unroll
        for (int x = 0; x < 2; ++x) {
          const float X = st[mt][nt][x], Y = st[mt][nt][x + 2];
          st[mt][nt][x] = fmaf(co[mt], X, si[mt] * Y);
          st[mt][nt][x + 2] = fmaf(si[mt], X, -co[mt] * Y);
        }
    }
    // Outputs of the warp's rows and columns.
    const int row_lo = j0 + i_lo, row_hi = j0 + i_hi;
#pragma unroll
    for (int nt = 0; nt < NO; ++nt) {
      const int col = c0 + CW * cs + 8 * nt + cq;
      if (col >= Dv) continue;  // Dv is a multiple of 8: both columns of the pair or neither
      if (row_lo < L)
        *reinterpret_cast<float2*>(yh + static_cast<int64_t>(row_lo) * Dv + col) =
            make_float2(o[nt][0], o[nt][1]);
      if (row_hi < L)
        *reinterpret_cast<float2*>(yh + static_cast<int64_t>(row_hi) * Dv + col) =
            make_float2(o[nt][2], o[nt][3]);
    }
  }
  if (out_of_range) *flag = 1;
}

template <int DK, int W>
void launch(const bf16* q, const bf16* k, const bf16* v, const float* lm, const float* ph, float* y,
            int* flag, const Dims& d, cudaStream_t s) {
  using Lay = GlLayout<DK, W>;
  constexpr size_t smem = Lay::bytes;
  static_assert(smem <= 227 * 1024, "fits an SM's shared memory");
  check(cudaFuncSetAttribute(gateloop_scan_tc_kernel<DK, W>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
        "cudaFuncSetAttribute(gateloop_scan_tc)");
  const dim3 grid(static_cast<unsigned>((d.Dv + Lay::kVT - 1) / Lay::kVT),
                  static_cast<unsigned>(d.BH));
  gateloop_scan_tc_kernel<DK, W><<<grid, Lay::kThreads, smem, s>>>(
      q, k, v, lm, ph, y, flag, static_cast<int>(d.L), static_cast<int>(d.Dv));
  check_launch("gateloop_scan_tc");
}

// LINSCOPE_GL_SCAN=8|16 forces a block shape, also over the warpgroup kernel (measuring).
int scan_warps(const Dims& d) {
  static const int forced = [] {
    const char* e = std::getenv("LINSCOPE_GL_SCAN");
    const std::string v = e ? e : "";
    return v == "8" ? 8 : v == "16" ? 16 : 0;
  }();
  if (forced) return forced;
  return d.Dv > 64 ? 16 : 8;
}

}  // namespace

bool gateloop_scan_tc_supported(const Dims& d) {
  return (d.Dk == 64 || d.Dk == 128) && d.Dv % 8 == 0 && d.Dv > 0 &&
         d.L * std::max(d.Dk, d.Dv) < (int64_t{1} << 31) && d.BH < 65536;
}

bool gateloop_scan_tc(const void* q, const void* k, const void* v, const float* lm, const float* ph,
                      float* y, int* flag, const Dims& d, cudaStream_t s) {
  if (!gateloop_scan_tc_supported(d))
    throw BackendError("GateLoop tensor-core scan: needs d_k 64 or 128, d_v a multiple of 8");
  check(cudaMemsetAsync(flag, 0, sizeof(int), s), "cudaMemsetAsync(flag)");
  const auto* q16 = static_cast<const bf16*>(q);
  const auto* k16 = static_cast<const bf16*>(k);
  const auto* v16 = static_cast<const bf16*>(v);
  // Hopper's warpgroup kernel where it runs (its tensor copies need v 16-byte aligned).
  if ((reinterpret_cast<uintptr_t>(v) & 15) == 0 && gateloop_scan_wgmma_supported(d)) {
    gateloop_scan_wgmma(q, k, v, lm, ph, y, flag, d, s);
    return !flag_raised(flag, s);
  }
  const bool wide = scan_warps(d) == 16;
  if (d.Dk == 64)
    wide ? launch<64, 16>(q16, k16, v16, lm, ph, y, flag, d, s)
         : launch<64, 8>(q16, k16, v16, lm, ph, y, flag, d, s);
  else
    wide ? launch<128, 16>(q16, k16, v16, lm, ph, y, flag, d, s)
         : launch<128, 8>(q16, k16, v16, lm, ph, y, flag, d, s);
  return !flag_raised(flag, s);
}

}  // namespace linscope::gpu
