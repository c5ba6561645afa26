// Causal linear attention with scalar decay (LIT / D / S), chunkwise form on the tensor cores
// through mma.sync (MODELS.md §1, chunkwise), and LION's backward sweep fused with the combine
// (MODELS.md §2): the kernel that la_chunk_tc and lion_backward_tc run for chunks of 64, d_k of
// 64 or 128 and d_v a multiple of 8. Same algorithm, outputs and roundings as the WMMA kernel
// in gpu/linear_attention_tc.cu (its header derives them, and describes den and BACK; the tests
// in tests/gpu/test_linear_attention_tc.cpp bound both): one block per head and 64 value columns
// walks the chunks in order with the state S [d_k, 64] in fp32 registers. Per chunk n, with
// A_s = A of the token before the chunk and A_e = A of its last token:
//   O = diag(exp(A_i − A_s)) Q S  +  (Q K^T ⊙ M) V,   M_ij = exp(A_i − A_j) for j <= i in the chunk
//   S <- exp(A_e − A_s) S + (diag(exp(A_e − A_j)) K)^T V
// What differs is how the products are held. WMMA's fragments are opaque, so the other kernel
// passes the masked scores and the decayed keys through shared memory; with mma.sync's known
// layouts (gpu/tc_mma.cuh) a warp's scores become the A operand of P V in registers, the key
// decay scales the A operand of K^T V as it is loaded, and one pass over each 16 keys of V feeds
// both P V and the state update. Only S's bf16 copy (the B operand of Q S, which every warp
// reads whole) goes through shared memory. The normalizer's z (S's response to a value of 1)
// is one more 8-column tile of the state update, with B = a column of ones, and its fp32 copy
// meets q in the lanes' Q fragments; the row sums of P are P times a column of ones.
//
// Warps: 4. For the output, warp w owns the chunk's rows 16w .. 16w + 15; for the state, rows
// 16 MG w .. of S (MG = d_k / 64 groups of 16).
#include <cuda_bf16.h>

#include <algorithm>
#include <string>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"
#include "gpu/tc_fragments.cuh"
#include "gpu/tc_mma.cuh"

namespace linscope::gpu {
namespace {

using bf16 = __nv_bfloat16;
using namespace tc;
using namespace tc::mma;

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kC = 64;   // chunk: 16 rows per warp
constexpr int kVT = 64;  // value columns per block
constexpr int kPad = 8;  // 16 bytes per shared row: ldmatrix's 8 rows hit 8 bank groups

// 4 bytes global -> shared, asynchronously (cp.async.ca takes 4, 8 or 16).
__device__ __forceinline__ void cp_async4(void* dst, const void* src) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(shared_address(dst)), "l"(src));
}

template <int KT, bool BACK>
struct ChunkLayout {
  static constexpr int DK = KT * 16, LDK = DK + kPad, LDV = kVT + kPad;
  static constexpr size_t q_elems = size_t(kC) * LDK;  // one Q buffer; K has two
  static constexpr size_t v_elems = size_t(kC) * LDV;  // per buffer
  static constexpr size_t s_elems = size_t(DK) * LDV;
  // Per buffer and row: the exponent (A_i − A_s) log2 e, exp(A_i − A_s) (Q S's row factor),
  // exp(A_e − A_i) (the key's decay into S); then exp(A_e − A_s) per buffer. Then z, fp32.
  static constexpr int kRowData = 3 * kC + 4;
  // BACK: each lane's F and den^F for the chunk, staged by asynchronous copies (F's by lane pairs).
  static constexpr size_t f_floats = BACK ? size_t(kThreads) * (2 * 8 * 2 + 2) : 0;
  static constexpr size_t bytes = sizeof(bf16) * (3 * q_elems + 2 * v_elems + s_elems) +
                                  sizeof(float) * (2 * kRowData + DK + f_floats);
};

// out: the numerators (BACK: holds the forward sweep's and becomes LION's output), divided by
// the normalizers when `divide` (the causal normalized model: no second pass over y). den: with
// `normalize` and not `divide` the forward sweep writes q_i^T z_i there from value tile 0's
// blocks; BACK reads the forward sweep's from it.
template <int KT, bool BACK>
__global__ void __launch_bounds__(kThreads, 2)
    la_chunk_mma_kernel(const bf16* __restrict__ q, const bf16* __restrict__ k,
                        const bf16* __restrict__ v, const double* __restrict__ A,
                        float* __restrict__ y, float* __restrict__ den, bool normalize, bool divide,
                        int L, int Dv) {
  using Lay = ChunkLayout<KT, BACK>;
  constexpr int DK = Lay::DK, LDK = Lay::LDK, LDV = Lay::LDV, MG = DK / 64;
  static_assert(DK % 64 == 0, "the state's rows split into 16-row groups over four warps");
  extern __shared__ __align__(16) unsigned char smem[];
  bf16* sQ = reinterpret_cast<bf16*>(smem);                    // 1 buffer
  bf16* sK = sQ + Lay::q_elems;                                // 2 buffers
  bf16* sV = sK + 2 * Lay::q_elems;                            // 2 buffers
  bf16* sS = sV + 2 * Lay::v_elems;                            // S's bf16 copy [DK][LDV]
  float* sR = reinterpret_cast<float*>(sS + Lay::s_elems);     // 2 x kRowData
  float* sZ = sR + 2 * Lay::kRowData;                          // z [DK], fp32
  float2* sF = reinterpret_cast<float2*>(sZ + DK);             // BACK: [2 rows][8 tiles][kThreads]
  float* sDen = reinterpret_cast<float*>(sF + 16 * kThreads);  // BACK: [2 rows][kThreads]

  const int head = blockIdx.y, c0 = blockIdx.x * kVT;
  const bf16* qh = q + static_cast<int64_t>(head) * L * DK;
  const bf16* kh = k + static_cast<int64_t>(head) * L * DK;
  const bf16* vh = v + static_cast<int64_t>(head) * L * Dv;
  const double* Ah = A + static_cast<int64_t>(head) * L;
  float* yh = y + static_cast<int64_t>(head) * L * Dv;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int chunks = (L + kC - 1) / kC;
  const bool normalizer = normalize;  // uniform
  // Token of row s of the sweep (BACK walks the sequence backwards, reading rows in place).
  auto token = [&](int s) { return BACK ? L - 1 - s : s; };

  // Copies: a thread moves the same 16 bytes of every KROWS-th (VROWS-th) row.
  constexpr int KC = DK / 8, KROWS = kThreads / KC, VC = kVT / 8, VROWS = kThreads / VC;
  static_assert(kThreads % KC == 0 && kC % KROWS == 0 && kC % VROWS == 0, "copy slots");
  const int kr = tid / KC, kx = (tid % KC) * 8, vr = tid / VC, vx = (tid % VC) * 8;
  const bool v_col_ok = c0 + vx < Dv;
  // Q has one buffer, refilled once every warp holds the chunk's Q fragments (load_q); K and V
  // alternate between two (load_kv).
  auto load_q = [&](int n) {
#pragma unroll
    for (int r = 0; r < kC; r += KROWS) {
      const int j = n * kC + kr + r;
      const bool ok = j < L;
      cp_async16(sQ + (kr + r) * LDK + kx, ok ? qh + token(j) * DK + kx : qh, ok);
    }
  };
  auto load_kv = [&](int n, int b) {
    const int j0 = n * kC;
#pragma unroll
    for (int r = 0; r < kC; r += KROWS) {
      const int j = j0 + kr + r;
      const bool ok = j < L;
      cp_async16(sK + b * Lay::q_elems + (kr + r) * LDK + kx, ok ? kh + token(j) * DK + kx : kh,
                 ok);
    }
#pragma unroll
    for (int r = 0; r < kC; r += VROWS) {
      const int j = j0 + vr + r;
      const bool ok = v_col_ok && j < L;
      cp_async16(sV + b * Lay::v_elems + (vr + r) * LDV + vx,
                 ok ? vh + token(j) * Dv + c0 + vx : vh, ok);
    }
  };
  // The decay data of chunk n (threads 0..63, one row each) from A values read one chunk
  // earlier (a_row, a_s, a_e), then the reads for chunk n + 1. Rows past L take the last token's
  // A, so every exponent stays finite; their keys get a zero decay.
  double a_row = 0.0, a_s = 0.0, a_e = 0.0;
  auto read_a = [&](int n) {
    if (tid >= kC || n >= chunks) return;
    const int j0 = n * kC, last = min(j0 + kC, L) - 1;
    a_row = Ah[min(j0 + tid, last)];
    a_s = j0 > 0 ? Ah[j0 - 1] : 0.0;
    a_e = Ah[last];
  };
  auto stage_decays = [&](int n, int b) {
    if (tid >= kC) return;
    float* R = sR + b * Lay::kRowData;
    const float e = static_cast<float>(a_row - a_s) * kLog2e;
    R[tid] = e;
    R[kC + tid] = exp2_ftz(e);
    R[2 * kC + tid] = n * kC + tid < L ? exp2_ftz(static_cast<float>(a_e - a_row) * kLog2e) : 0.f;
    if (tid == 0) R[3 * kC] = exp2_ftz(static_cast<float>(a_e - a_s) * kLog2e);
    read_a(n + 1);
  };

  read_a(0);
  load_q(0);
  load_kv(0, 0);
  cp_async_commit();
  stage_decays(0, 0);
  for (int e = tid; e < DK * LDV / 2; e += kThreads) reinterpret_cast<uint32_t*>(sS)[e] = 0u;
  for (int e = tid; e < DK; e += kThreads) sZ[e] = 0.f;

  const int g = lane >> 2, cq = 2 * (lane & 3);
  const int m8 = lane & 7, mlo = (lane >> 3) & 1, mhi = lane >> 4;
  // ldmatrix addresses (gpu/tc_mma.cuh: lanes 8m .. 8m + 7 address matrix m), buffer 0.
  const unsigned q_addr0 = shared_address(sQ + (16 * warp + m8 + 8 * mlo) * LDK + 8 * mhi);
  const unsigned kb_addr0 = shared_address(sK + (8 * mhi + m8) * LDK + 8 * mlo);  // K as B
  const unsigned ka_addr0 =  // K^T as A: tokens (8 mhi + m8), d_k columns 16 MG warp + 8 mlo
      shared_address(sK + (8 * mhi + m8) * LDK + 16 * MG * warp + 8 * mlo);
  const unsigned v_addr0 = shared_address(sV + (8 * mlo + m8) * LDV + 8 * mhi);
  const unsigned s_addr = shared_address(sS + (8 * mlo + m8) * LDV + 8 * mhi);
  constexpr unsigned kQBuf = sizeof(bf16) * Lay::q_elems, kVBuf = sizeof(bf16) * Lay::v_elems;
  constexpr unsigned kRow = sizeof(bf16) * LDK, kVRow = sizeof(bf16) * LDV;

  float st[MG][8][4] = {};  // S rows 16 (MG warp + mg) + g (+ 8), columns 8 n + cq (+ 1)
  float zt[MG][4] = {};     // z: column 0 of one more tile ([0], [2] in the lanes with cq = 0)
  // As B, a column of ones (column 0: the lanes with g = 0).
  const uint32_t ones_col = g == 0 ? kOnesBf16x2 : 0u;
  const int i_lo = 16 * warp + g, i_hi = i_lo + 8;  // this lane's output rows in the chunk

  for (int n = 0; n < chunks; ++n) {
    const int b = n & 1;
    cp_async_wait_all();
    __syncthreads();  // chunk n and S_n's bf16 copy are visible; buffer b ^ 1 is free
    const int row_lo = n * kC + i_lo, row_hi = n * kC + i_hi;
    if constexpr (BACK) {
      // This lane's F and den^F for the combine at the end of the chunk, in flight meanwhile.
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = h ? row_hi : row_lo;
        if (row >= L) continue;
        const int64_t tok = token(row);
        if (normalizer)
          cp_async4(sDen + h * kThreads + tid, den + static_cast<int64_t>(head) * L + tok);
        // Lane pairs (cq = 0, 2 and 4, 6) hold four adjacent columns: the even lane copies
        // 16 bytes for both (read by its neighbour after the __syncwarp below).
        if ((lane & 1) == 0) {
#pragma unroll
          for (int nt = 0; nt < 8; ++nt) {
            const bool ok = c0 + 8 * nt + cq < Dv;  // d_v % 8 == 0: all four columns or none
            cp_async16(sF + (h * 8 + nt) * kThreads + tid,
                       ok ? yh + tok * Dv + c0 + 8 * nt + cq : yh, ok);
          }
        }
      }
      cp_async_commit();
    }
    if (n + 1 < chunks) {
      load_kv(n + 1, b ^ 1);
      stage_decays(n + 1, b ^ 1);
    }
    cp_async_commit();
    const float* R = sR + b * Lay::kRowData;

    // Q's fragments, for Q S and Q K^T.
    uint32_t qa[KT][4];
#pragma unroll
    for (int kk = 0; kk < KT; ++kk) ldmatrix_x4(qa[kk], q_addr0 + kk * 32);
    // O = diag(exp(A_i − A_s)) Q S_n.
    float o[8][4];
#pragma unroll
    for (int kk = 0; kk < KT; ++kk)
#pragma unroll
      for (int cp = 0; cp < 4; ++cp) {
        uint32_t bs[4];
        ldmatrix_x4_trans(bs, s_addr + kk * 16 * kVRow + cp * 32);
        m16n8k16(o[2 * cp], qa[kk], bs[0], bs[1], kk == 0);
        m16n8k16(o[2 * cp + 1], qa[kk], bs[2], bs[3], kk == 0);
      }
    // q_i^T z for the normalizer, in fp32 from Q's fragments (a0, a2: row g; a1, a3: g + 8).
    float qz_lo = 0.f, qz_hi = 0.f;
    if (normalizer) {
#pragma unroll
      for (int kk = 0; kk < KT; ++kk) {
        const float2 za = *reinterpret_cast<const float2*>(sZ + 16 * kk + cq);
        const float2 zb = *reinterpret_cast<const float2*>(sZ + 16 * kk + cq + 8);
        const float2 q0 = unpack_bf16(qa[kk][0]), q1 = unpack_bf16(qa[kk][1]);
        const float2 q2 = unpack_bf16(qa[kk][2]), q3 = unpack_bf16(qa[kk][3]);
        qz_lo = fmaf(q0.x, za.x, fmaf(q0.y, za.y, fmaf(q2.x, zb.x, fmaf(q2.y, zb.y, qz_lo))));
        qz_hi = fmaf(q1.x, za.x, fmaf(q1.y, za.y, fmaf(q3.x, zb.x, fmaf(q3.y, zb.y, qz_hi))));
      }
    }
    __syncthreads();  // every warp has read S_n's and z_n's copies and Q: all may be refilled
    if (n + 1 < chunks) load_q(n + 1);
    cp_async_commit();
    {
      const float f_lo = R[kC + i_lo], f_hi = R[kC + i_hi];
#pragma unroll
      for (int nt = 0; nt < 8; ++nt) {
        o[nt][0] *= f_lo, o[nt][1] *= f_lo;
        o[nt][2] *= f_hi, o[nt][3] *= f_hi;
      }
    }
    // Scores Q K^T of the warp's 16 rows and the chunk's 64 keys, masked: M_ij = 2^(e_i − e_j)
    // with e = (A − A_s) log2 e (both float roundings of double differences; the exponent's
    // error is an ulp of |e| <= the chunk's total decay), 0 above the diagonal.
    float sc[8][4];
#pragma unroll
    for (int kk = 0; kk < KT; ++kk)
#pragma unroll
      for (int np = 0; np < 4; ++np) {
        uint32_t bk[4];
        ldmatrix_x4(bk, kb_addr0 + b * kQBuf + np * 16 * kRow + kk * 32);
        m16n8k16(sc[2 * np], qa[kk], bk[0], bk[1], kk == 0);
        m16n8k16(sc[2 * np + 1], qa[kk], bk[2], bk[3], kk == 0);
      }
    uint32_t p[4][4];
    {
      const float e_lo = R[i_lo], e_hi = R[i_hi];
#pragma unroll
      for (int nt = 0; nt < 8; ++nt) {
        const int j = 8 * nt + cq;
        const float2 ej = *reinterpret_cast<const float2*>(R + j);
        sc[nt][0] *= j <= i_lo ? exp2_ftz(e_lo - ej.x) : 0.f;
        sc[nt][1] *= j + 1 <= i_lo ? exp2_ftz(e_lo - ej.y) : 0.f;
        sc[nt][2] *= j <= i_hi ? exp2_ftz(e_hi - ej.x) : 0.f;
        sc[nt][3] *= j + 1 <= i_hi ? exp2_ftz(e_hi - ej.y) : 0.f;
        p[nt >> 1][(nt & 1) * 2] = pack_bf16(sc[nt][0], sc[nt][1]);
        p[nt >> 1][(nt & 1) * 2 + 1] = pack_bf16(sc[nt][2], sc[nt][3]);
      }
    }
    // S <- exp(A_e − A_s) S + K~^T V, and O += P V: each 16 keys of V feed both.
    const float gamma = R[3 * kC];
#pragma unroll
    for (int mg = 0; mg < MG; ++mg)
#pragma unroll
      for (int nt = 0; nt < 8; ++nt)
#pragma unroll
        for (int x = 0; x < 4; ++x) st[mg][nt][x] *= gamma;
#pragma unroll
    for (int mg = 0; mg < MG; ++mg)
#pragma unroll
      for (int x = 0; x < 4; ++x) zt[mg][x] *= gamma;
#pragma unroll
    for (int kk = 0; kk < 4; ++kk) {
      // K~^T's fragments: the keys' decay exp(A_e − A_j) applied to each pair of keys as it
      // is loaded (one bf16 rounding, as the other kernel's decayed keys).
      const float2 w_a = *reinterpret_cast<const float2*>(R + 2 * kC + 16 * kk + cq);
      const float2 w_b = *reinterpret_cast<const float2*>(R + 2 * kC + 16 * kk + cq + 8);
      uint32_t ka[MG][4];
#pragma unroll
      for (int mg = 0; mg < MG; ++mg) {
        ldmatrix_x4_trans(ka[mg], ka_addr0 + b * kQBuf + kk * 16 * kRow + mg * 32);
        // ldmatrix.trans of 8x8 blocks (keys x d_k): r0 keys 0-7 / d 0-7, r1 keys 0-7 / d 8-15,
        // r2 keys 8-15 / d 0-7, r3 keys 8-15 / d 8-15; as A (d_k x keys) that is a0, a1, a2, a3.
#pragma unroll
        for (int x = 0; x < 4; ++x) {
          const float2 w = x < 2 ? w_a : w_b;
          const float2 kv = unpack_bf16(ka[mg][x]);
          ka[mg][x] = pack_bf16(kv.x * w.x, kv.y * w.y);
        }
        if (normalizer) m16n8k16(zt[mg], ka[mg], ones_col, ones_col);
      }
#pragma unroll
      for (int cp = 0; cp < 4; ++cp) {
        uint32_t bv[4];
        ldmatrix_x4_trans(bv, v_addr0 + b * kVBuf + kk * 16 * kVRow + cp * 32);
        m16n8k16(o[2 * cp], p[kk], bv[0], bv[1]);
        m16n8k16(o[2 * cp + 1], p[kk], bv[2], bv[3]);
#pragma unroll
        for (int mg = 0; mg < MG; ++mg) {
          m16n8k16(st[mg][2 * cp], ka[mg], bv[0], bv[1]);
          m16n8k16(st[mg][2 * cp + 1], ka[mg], bv[2], bv[3]);
        }
      }
    }
    // The normalizer: den_i = Σ_j P_ij (the same rounded P) + exp(A_i − A_s) q_i^T z.
    float den_lo = 0.f, den_hi = 0.f;
    if (normalizer) {
      float rs[4];
#pragma unroll
      for (int kk = 0; kk < 4; ++kk) m16n8k16(rs, p[kk], kOnesBf16x2, kOnesBf16x2, kk == 0);
      qz_lo += __shfl_xor_sync(0xffffffffu, qz_lo, 1);
      qz_lo += __shfl_xor_sync(0xffffffffu, qz_lo, 2);
      qz_hi += __shfl_xor_sync(0xffffffffu, qz_hi, 1);
      qz_hi += __shfl_xor_sync(0xffffffffu, qz_hi, 2);
      den_lo = fmaf(R[kC + i_lo], qz_lo, rs[0]);
      den_hi = fmaf(R[kC + i_hi], qz_hi, rs[2]);
    }
    // Outputs of the chunk's rows.
    if constexpr (BACK) {
      // LION's combine: y_t = (F_t + B_t − P_tt v_t) / (den^F_t + den^B_t − P_tt), F and den^F
      // from the forward sweep, the diagonal counted by both sweeps removed with this sweep's
      // bf16 P_tt. Row i's P_ii sits in tile i / 8 (2 warp, or 2 warp + 1 for the row g + 8),
      // element i % 8: in the quad's lane g / 2, as x or y of its pair.
      uint32_t d_lo = 0, d_hi = 0;
#pragma unroll
      for (int kk = 0; kk < 4; ++kk)
        if (kk == warp) d_lo = p[kk][0], d_hi = p[kk][3];
      const float2 c_lo = unpack_bf16(d_lo), c_hi = unpack_bf16(d_hi);
      const int src = (lane & ~3) | (g >> 1);
      const float pd_lo = __shfl_sync(0xffffffffu, (g & 1) ? c_lo.y : c_lo.x, src);
      const float pd_hi = __shfl_sync(0xffffffffu, (g & 1) ? c_hi.y : c_hi.x, src);
      const bf16* vrow = sV + b * Lay::v_elems;
      // F and den^F (this lane's or its pair's copies: no block barrier needed) have landed; the
      // K, V and Q copies of the next chunk, committed after them, may still be in flight.
      asm volatile("cp.async.wait_group 2;\n" ::: "memory");
      __syncwarp();  // the even lanes' copies of F are their odd neighbours' too
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = h ? row_hi : row_lo, i = h ? i_hi : i_lo;
        if (row >= L) continue;
        const float pd = h ? pd_hi : pd_lo;
        const int64_t tok = token(row);
        const float scale =
            normalizer ? 1.f / (sDen[h * kThreads + tid] + (h ? den_hi : den_lo) - pd) : 1.f;
        // The row's shared reads first, then its stores (through generic pointers the compiler
        // cannot tell apart, each read would otherwise wait for the store before it).
        float2 f[8], vt[8];
#pragma unroll
        for (int nt = 0; nt < 8; ++nt) {
          f[nt] = sF[(h * 8 + nt) * kThreads + tid];
          vt[nt] = unpack_bf16(*reinterpret_cast<const uint32_t*>(vrow + i * LDV + 8 * nt + cq));
        }
#pragma unroll
        for (int nt = 0; nt < 8; ++nt) {
          const int col = c0 + 8 * nt + cq;
          if (col >= Dv) continue;
          *reinterpret_cast<float2*>(yh + tok * Dv + col) =
              make_float2((f[nt].x + o[nt][2 * h] - pd * vt[nt].x) * scale,
                          (f[nt].y + o[nt][2 * h + 1] - pd * vt[nt].y) * scale);
        }
      }
    } else {
      if (normalizer && !divide && blockIdx.x == 0 && (lane & 3) == 0) {
        if (row_lo < L) den[static_cast<int64_t>(head) * L + row_lo] = den_lo;
        if (row_hi < L) den[static_cast<int64_t>(head) * L + row_hi] = den_hi;
      }
      float s_lo = 1.f, s_hi = 1.f;
      if (divide) s_lo = 1.f / den_lo, s_hi = 1.f / den_hi;
#pragma unroll
      for (int nt = 0; nt < 8; ++nt) {
        const int col = c0 + 8 * nt + cq;
        if (col >= Dv) continue;  // Dv is a multiple of 8: both columns of the pair or neither
        if (row_lo < L)
          *reinterpret_cast<float2*>(yh + static_cast<int64_t>(row_lo) * Dv + col) =
              make_float2(o[nt][0] * s_lo, o[nt][1] * s_lo);
        if (row_hi < L)
          *reinterpret_cast<float2*>(yh + static_cast<int64_t>(row_hi) * Dv + col) =
              make_float2(o[nt][2] * s_hi, o[nt][3] * s_hi);
      }
    }
    // S_{n+1}'s bf16 copy for the next chunk's Q S (read after the barrier at the loop's top).
#pragma unroll
    for (int mg = 0; mg < MG; ++mg) {
      const int r = 16 * (MG * warp + mg) + g;
#pragma unroll
      for (int nt = 0; nt < 8; ++nt) {
        const int c = 8 * nt + cq;
        *reinterpret_cast<uint32_t*>(sS + r * LDV + c) = pack_bf16(st[mg][nt][0], st[mg][nt][1]);
        *reinterpret_cast<uint32_t*>(sS + (r + 8) * LDV + c) =
            pack_bf16(st[mg][nt][2], st[mg][nt][3]);
      }
      if (normalizer && cq == 0) {
        sZ[r] = zt[mg][0];
        sZ[r + 8] = zt[mg][2];
      }
    }
  }
}

template <int KT>
void launch(const bf16* q, const bf16* k, const bf16* v, const double* A, float* y, float* den,
            const Dims& d, MmaSweep sweep, cudaStream_t s) {
  const bool back = sweep == MmaSweep::kLionBackward;
  auto kernel = back ? la_chunk_mma_kernel<KT, true> : la_chunk_mma_kernel<KT, false>;
  const size_t smem = back ? ChunkLayout<KT, true>::bytes : ChunkLayout<KT, false>::bytes;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
        "cudaFuncSetAttribute(la_chunk_mma)");
  const dim3 grid(static_cast<unsigned>((d.Dv + kVT - 1) / kVT), static_cast<unsigned>(d.BH));
  const bool normalize = den != nullptr || sweep == MmaSweep::kNormalized;
  kernel<<<grid, kThreads, smem, s>>>(q, k, v, A, y, den, normalize, sweep == MmaSweep::kNormalized,
                                      static_cast<int>(d.L), static_cast<int>(d.Dv));
  check_launch("la_chunk_mma");
}

}  // namespace

bool la_chunk_mma_supported(const Dims& d, int64_t chunk) {
  return chunk == kC && (d.Dk == 64 || d.Dk == 128) && d.Dv % 8 == 0 && d.Dv > 0 &&
         d.L * std::max(d.Dk, d.Dv) < (int64_t{1} << 31) && d.BH < 65536;
}

void la_chunk_mma(const void* q, const void* k, const void* v, const double* A, float* y,
                  float* den, const Dims& d, MmaSweep sweep, cudaStream_t s) {
  if (!la_chunk_mma_supported(d, kC))
    throw BackendError("mma.sync chunkwise kernel: needs d_k 64 or 128, d_v a multiple of 8");
  const auto* q16 = static_cast<const bf16*>(q);
  const auto* k16 = static_cast<const bf16*>(k);
  const auto* v16 = static_cast<const bf16*>(v);
  if (d.Dk == 64)
    launch<4>(q16, k16, v16, A, y, den, d, sweep, s);
  else
    launch<8>(q16, k16, v16, A, y, den, d, sweep, s);
}

}  // namespace linscope::gpu
