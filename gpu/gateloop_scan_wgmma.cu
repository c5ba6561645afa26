// GateLoop's blocked scan (gpu/gateloop_scan_tc.cu derives it: chunk operands Q~, K~, the
// carried complex state S, the reflection) on Hopper's warpgroup products, for d_v > 64. Same
// operands, same bf16 roundings (Q~, K~, P and the state's copy [X0; Y0]); CPU twin:
// core/gateloop/scan.cpp.
//
// Why another kernel. The mma.sync kernel's 16-warp block spends most of a chunk moving operands
// through shared memory: every warp loads its own A and B fragments, so Q~ is read eight times,
// the scores are formed by eight warps, and the state's bf16 copy is written and read back
// (about 7400 shared-memory wavefronts per chunk of 32 tokens, docs/performance.md). Here:
//  - the state is held transposed, S^T = [Re S; Im S]^T (d_v rows x 2 d_k columns κ), as the
//    accumulators of two consumer warpgroups of 64 value columns each. Then the carried part of
//    the outputs, O^T = [X0; Y0]^T Q~^T, takes [X0; Y0]^T as A straight from the registers
//    (wgmma's RS form): no copy of the state goes through shared memory;
//  - the state's update [X; Y]^T += V^T K~ and the chunk's O^T += V^T P^T read V, K~ and P
//    once per warpgroup from shared memory (A transposed: V lands [keys][v] from the tensor
//    copy);
//  - a producer warpgroup forms the next chunk's Q~, K~ and the scores P = tril(Q~ K~^T) (on its
//    own products) while the consumers run this chunk, in a ring of two stages. Its inputs
//    (log|a|, phase, q, k of a chunk: contiguous rows) arrive by bulk copies two chunks ahead.
//  - The rescale that turns the state into [X0; Y0] = [e^{Λ_e} Re S; −e^{Λ_e} Im S] rides on
//    the previous chunk's reflection: the producer writes per channel R = e^{Λ_e(n)} (cos
//    Φ_e(n−1), sin Φ_e(n−1)) into chunk n's stage, and the consumers, at the end of chunk n − 1,
//    turn [X; Y] into chunk n's [X0; Y0] in one pass: X0 = R_c X + R_s Y, Y0 = R_c Y − R_s X.
//    (A separate rescale pass held its factors in registers beside the state, and ptxas spilled.)
//
// Layouts. The κ order of gpu/gateloop_tc.cuh (blocks of 16: cos parts of channels 8m .. 8m + 7,
// then their sin parts). In S^T's accumulator (m64n128, per 8-column tile i: this lane's value
// rows g, g + 8 and κ columns 8i + cq, + 1), tile 2m holds channels 8m + cq, + 1's real parts and
// tile 2m + 1 their imaginary parts, in the same slots: the reflection stays in the lane. Two
// adjacent tiles are exactly the mma.sync A fragment of a k step of 16 κ columns. Q~ and K~ are
// stored [token][κ] in 64-column blocks of 128-byte rows, 128-byte swizzled: K-major as B of O^T (N
// = tokens), MN-major as B of the update (N = κ); P [query][key] K-major likewise; V [key][v] as
// the tensor copy writes it, the A of both products transposed.
//
// Chunks of 32 tokens: two stages of operands (46 KB each at d_k = 128) and two of inputs (48 KB)
// fit in 191 KB. P on the producer's wgmma (m64: half its rows are dropped) against three warps'
// mma.sync: 2.18-2.22 against 2.42-2.48 ms at d = 128, L = 16384 (H200, docs/performance.md).
//
// Built only by nvcc's sm_90a pass (LINSCOPE_WGMMA); gateloop_scan_tc runs it where
// gateloop_scan_wgmma_supported() says so.
#include <cuda.h>
#include <cuda_bf16.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "gpu/cuda_check.h"
#include "gpu/gateloop_scan_prep.cuh"
#include "gpu/gateloop_tc.cuh"
#include "gpu/kernels.h"
#include "gpu/sm90a.h"
#include "gpu/tc_bulk.cuh"
#include "gpu/tc_fragments.cuh"
#include "gpu/tc_mma.cuh"
#include "gpu/tc_wgmma.cuh"
#include "gpu/tensor_map.h"

namespace linscope::gpu {
namespace {

using bf16 = __nv_bfloat16;
using namespace tc;
using namespace tc::mma;
using namespace gateloop_tc;

constexpr int kVT = 128;  // value columns per block: two consumer warpgroups of 64

template <int DK>
struct GlScanWgLayout {
  static constexpr int kC = 32;                                  // tokens per chunk
  static constexpr int KD = 2 * DK, KS = KD / 16, KB = KD / 64;  // κ, its k steps, its blocks
  static constexpr int kThreads = 384;                           // producer, two consumers
  static constexpr int NP = DK / 2, G = 128 / NP, TPG = kC / G;  // prep: pairs x token groups
  // Registers after the hand-over. A block starts with 168 a thread (64 K / 384, rounded down to
  // 8), and the consumers can take only what the producer gives up: P + 2 C <= 3 x 168 (at 48 +
  // 2 x 232 the consumers wait forever). At 72 / 216 neither side spills; the consumers hold
  // S^T in 128 of theirs.
  static constexpr int kProducerRegs = 72, kConsumerRegs = 216;
  static constexpr unsigned kBlk = kC * 128;  // 64 columns of a chunk: 32 rows of 128 bytes
  // A stage (consumers read it): Q~, K~, P, V (two 64-column boxes), R per channel pair (the
  // header: e^{Λ_e} of this chunk times cos, sin Φ_e of the one before, for both channels).
  static constexpr size_t q_off = 0, k_off = KB * kBlk, p_off = 2 * KB * kBlk;
  static constexpr size_t v_off = p_off + kBlk, r_off = v_off + 2 * kBlk;
  static constexpr size_t stage_bytes = (r_off + NP * sizeof(float4) + 1023) / 1024 * 1024;
  // Inputs of a chunk (the producer reads them): log|a|, phase (fp32), q, k (bf16), [kC][DK].
  static constexpr size_t in_lm = 0, in_ph = in_lm + 4 * kC * DK, in_q = in_ph + 4 * kC * DK;
  static constexpr size_t in_k = in_q + 2 * kC * DK, in_bytes = in_k + 2 * kC * DK;
  static constexpr size_t in_off = 2 * stage_bytes;
  static constexpr size_t tot_off = in_off + 2 * in_bytes;  // [2][G][DK]: the groups' sums
  static constexpr size_t bar_off = tot_off + 2 * G * DK * sizeof(float);
  // (+ 1 KB: the dynamic shared memory's start is rounded up to 1024 bytes in the kernel)
  static constexpr size_t bytes = bar_off + 6 * sizeof(uint64_t) + 1024;
  static_assert(NP * G == 128 && kC % G == 0, "prep split");
  static_assert(kProducerRegs + 2 * kConsumerRegs <= 3 * 168, "registers");
  static_assert(bytes <= 227 * 1024, "fits an SM's shared memory");
};

// Byte offset of (row, κ) in a chunk's Q~ or K~: 64-column blocks, chunk c of row r at c ^ (r % 8).
template <int DK>
__device__ __forceinline__ unsigned swizzled(int row, int kap) {
  return unsigned(kap >> 6) * GlScanWgLayout<DK>::kBlk + unsigned(row) * 128 +
         ((((kap & 63) >> 3) ^ (row & 7)) << 4) + (kap & 7) * 2;
}

// The producer warpgroup's own barrier (0 is __syncthreads).
__device__ __forceinline__ void producer_sync() {
  asm volatile("bar.sync 1, 128;\n" ::: "memory");
}

template <int DK>
__global__ void __launch_bounds__(384, 1)
    gl_scan_wgmma_kernel(const __grid_constant__ CUtensorMap v_map, const bf16* __restrict__ q,
                         const bf16* __restrict__ k, const float* __restrict__ lm,
                         const float* __restrict__ ph, float* __restrict__ y,
                         int* __restrict__ flag, int L, int Dv) {
#ifdef LINSCOPE_WGMMA
  using Lay = GlScanWgLayout<DK>;
  constexpr int kC = Lay::kC, KS = Lay::KS, NP = Lay::NP, G = Lay::G, TPG = Lay::TPG;
  constexpr unsigned kBlk = Lay::kBlk;
  extern __shared__ __align__(1024) unsigned char smem_raw[];
  unsigned char* smem = smem_raw + ((1024 - (shared_address(smem_raw) & 1023)) & 1023);
  auto stage = [&](int s) { return smem + s * Lay::stage_bytes; };
  auto inputs = [&](int s) { return smem + Lay::in_off + s * Lay::in_bytes; };
  float* sTot = reinterpret_cast<float*>(smem + Lay::tot_off);
  uint64_t* in_ready = reinterpret_cast<uint64_t*>(smem + Lay::bar_off);  // inputs landed
  uint64_t* full = in_ready + 2;   // a stage's operands written and its V landed
  uint64_t* empty = in_ready + 4;  // a stage read by both consumers

  const int head = blockIdx.y, c0 = blockIdx.x * kVT;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  // The warpgroup's index through a shuffle keeps the products' control flow visibly convergent
  // (ptxas serializes wgmma on paths it cannot prove uniform).
  const int wg_index = __shfl_sync(0xffffffffu, tid >> 7, 0);
  const int chunks = (L + kC - 1) / kC;
  if (tid == 0) {
    for (int s = 0; s < 2; ++s) {
      bulk::barrier_init(&in_ready[s], 1);
      bulk::barrier_init(&full[s], 128);   // every producer thread, then V's bytes
      bulk::barrier_init(&empty[s], 256);  // every consumer thread
    }
  }
  __syncthreads();

  if (wg_index == 0) {
    // ---- The producer. ----
    wg::regs_dec<Lay::kProducerRegs>();
    const int64_t hk = static_cast<int64_t>(head) * L * DK;
    auto load_inputs = [&](int n) {  // thread 0
      const int s = n & 1, rows = min(kC, L - n * kC);
      unsigned char* in = inputs(s);
      const int64_t off = hk + static_cast<int64_t>(n) * kC * DK;
      const unsigned f32 = 4u * rows * DK, b16 = 2u * rows * DK;
      bulk::arrive_expect(&in_ready[s], 2 * (f32 + b16));
      bulk::copy(in + Lay::in_lm, lm + off, f32, &in_ready[s]);
      bulk::copy(in + Lay::in_ph, ph + off, f32, &in_ready[s]);
      bulk::copy(in + Lay::in_q, q + off, b16, &in_ready[s]);
      bulk::copy(in + Lay::in_k, k + off, b16, &in_ready[s]);
    };
    if (tid == 0) {
      load_inputs(0);
      if (chunks > 1) load_inputs(1);
    }
    // This thread's channels 2 pp, 2 pp + 1 over the tokens grp TPG .. grp TPG + TPG - 1.
    const int pp = tid % NP, grp = tid / NP, pc = 2 * pp, t_first = grp * TPG;
    const int kq = kappa(pc);  // cos part of (pc, pc + 1); sin part at kq + 8
    bool out_of_range = false;
    float4 prev = make_float4(1.f, 0.f, 1.f, 0.f);  // cos, sin of the previous chunk's Φ_e
    for (int n = 0; n < chunks; ++n) {
      const int s = n & 1, rows = min(kC, L - n * kC);
      unsigned char* in = inputs(s);
      unsigned char* st = stage(s);
      float* sLm = reinterpret_cast<float*>(in + Lay::in_lm);
      float* sPh = reinterpret_cast<float*>(in + Lay::in_ph);
      bf16* sQr = reinterpret_cast<bf16*>(in + Lay::in_q);
      bf16* sKr = reinterpret_cast<bf16*>(in + Lay::in_k);
      bulk::wait(&in_ready[s], (n >> 1) & 1);
      if (rows < kC) {  // the last chunk's tail: a zero log-magnitude and phase keep Λ, Φ at
                        // the last token's, and zero keys add nothing to the state
        for (int e = rows * DK + tid; e < kC * DK; e += 128)
          sLm[e] = 0.f, sPh[e] = 0.f, sQr[e] = sKr[e] = __float2bfloat16(0.f);
        producer_sync();
      }
      // The token group's sums of log|a| and phase.
      float2 sl, sp;
      group_sums<TPG, DK>(sLm, sPh, t_first, pc, sl, sp);
      *reinterpret_cast<float2*>(sTot + grp * DK + pc) = sl;
      *reinterpret_cast<float2*>(sTot + (G + grp) * DK + pc) = sp;
      producer_sync();
      // Λ, Φ before the group, and the chunk's Λ_e, Φ_e.
      float2 lam, phi, lam_e, phi_e;
      group_prefix<G, DK>(sTot, grp, pc, lam, phi, lam_e, phi_e);
      if (n >= 2) bulk::wait(&empty[s], ((n >> 1) - 1) & 1);  // chunk n - 2 has left the stage
      if (tid == 0) {  // V's two 64-column boxes (columns past d_v and rows past L: zeros)
        bulk::expect(&full[s], 2 * kBlk);
        bulk::copy_box(st + Lay::v_off, &v_map, c0, n * kC, head, &full[s]);
        bulk::copy_box(st + Lay::v_off + kBlk, &v_map, c0 + 64, n * kC, head, &full[s]);
      }
      if (grp == 0) {  // the pair's R (header), then this chunk's cos, sin Φ_e for the next
        const float e0 = exp2_ftz(lam_e.x * kLog2e), e1 = exp2_ftz(lam_e.y * kLog2e);
        reinterpret_cast<float4*>(st + Lay::r_off)[pp] =
            make_float4(e0 * prev.x, e0 * prev.y, e1 * prev.z, e1 * prev.w);
        sincos_reduced(phi_e.x, &prev.y, &prev.x);
        sincos_reduced(phi_e.y, &prev.w, &prev.z);
      }
      // The group's Q~ and K~ rows, swizzled.
      const float worst = group_operands<TPG, DK, 4>(
          sLm, sPh, sQr, sKr, t_first, pc, lam, phi, lam_e,
          [&](int row, uint32_t q_cos, uint32_t q_sin, uint32_t k_cos, uint32_t k_sin) {
            const unsigned cos_at = swizzled<DK>(row, kq), sin_at = swizzled<DK>(row, kq + 8);
            *reinterpret_cast<uint32_t*>(st + Lay::q_off + cos_at) = q_cos;
            *reinterpret_cast<uint32_t*>(st + Lay::q_off + sin_at) = q_sin;
            *reinterpret_cast<uint32_t*>(st + Lay::k_off + cos_at) = k_cos;
            *reinterpret_cast<uint32_t*>(st + Lay::k_off + sin_at) = k_sin;
          });
      out_of_range |= !(worst <= kMaxExponent);  // NaN included
      wg::fence_async_smem();                    // Q~, K~ feed the producer's own products
      producer_sync();  // Q~, K~ written; this chunk's inputs read by every producer thread
      if (tid == 0 && n + 2 < chunks) {
        wg::fence_async_smem();
        load_inputs(n + 2);
      }
      // P = Q~ K~^T on the warpgroup's products (m64: rows 32-63 read the next block's rows and
      // are dropped), then the causal mask; warps 0 and 1 hold queries 0-31.
      const uint64_t qd = wg::descriptor_sw128(shared_address(st + Lay::q_off), 16, 1024);
      const uint64_t kd = wg::descriptor_sw128(shared_address(st + Lay::k_off), 16, 1024);
      float acc[16];
      wg::fence();
#pragma unroll
      for (int kk = 0; kk < KS; ++kk) {
        const uint64_t step = (kk >> 2) * (kBlk / 16) + (kk & 3) * 2;
        wg::mma_64x32_ss<false, false>(acc, qd + step, kd + step, kk > 0);
      }
      wg::commit();
      wg::wait<0>();
      if (warp < 2) {
        const int cq = 2 * (lane & 3), i_lo = 16 * warp + (lane >> 2), i_hi = i_lo + 8;
#pragma unroll
        for (int nt = 0; nt < 4; ++nt) {
          const int j = 8 * nt + cq;
          const float a0 = j <= i_lo ? acc[4 * nt] : 0.f;
          const float a1 = j + 1 <= i_lo ? acc[4 * nt + 1] : 0.f;
          const float a2 = j <= i_hi ? acc[4 * nt + 2] : 0.f;
          const float a3 = j + 1 <= i_hi ? acc[4 * nt + 3] : 0.f;
          *reinterpret_cast<uint32_t*>(st + Lay::p_off + i_lo * 128 + ((nt ^ (i_lo & 7)) << 4) +
                                       cq * 2) = pack_bf16(a0, a1);
          *reinterpret_cast<uint32_t*>(st + Lay::p_off + i_hi * 128 + ((nt ^ (i_hi & 7)) << 4) +
                                       cq * 2) = pack_bf16(a2, a3);
        }
      }
      wg::fence_async_smem();  // Q~, K~, P are read by the consumers' products
      bulk::arrive(&full[s]);
    }
    if (out_of_range) *flag = 1;
    return;
  }

  // ---- A consumer warpgroup: value columns c0 + 64 cw .. + 63, this lane's rows of S^T the
  // columns vr and vr + 8. ----
  wg::regs_inc<Lay::kConsumerRegs>();
  constexpr int NH = Lay::KD / 128;  // m64n128 halves of S^T
  const int cw = wg_index - 1, lp = lane & 3, cq = 2 * lp;
  const int vr = c0 + 64 * cw + 16 * (warp & 3) + (lane >> 2);
  float* yh = y + static_cast<int64_t>(head) * L * Dv;
  // Descriptors of stage 0 (a stage further adds stage_bytes / 16). Q~ and P K-major as B; K~
  // MN-major as B (N = κ: 64-column blocks kBlk apart); V MN-major as A (M = this warpgroup's 64
  // value columns). 8-row atoms 1024 bytes apart; a k step is 32 bytes along a 128-byte row (Q~,
  // P) or two atoms (16 keys) of V and K~.
  const unsigned base = shared_address(smem);
  const uint64_t q_desc = wg::descriptor_sw128(base + Lay::q_off, 16, 1024);
  const uint64_t k_desc = wg::descriptor_sw128(base + Lay::k_off, kBlk, 1024);
  const uint64_t p_desc = wg::descriptor_sw128(base + Lay::p_off, 16, 1024);
  const uint64_t v_desc = wg::descriptor_sw128(base + Lay::v_off + cw * kBlk, kBlk, 1024);
  constexpr uint64_t kStageU = Lay::stage_bytes / 16, kKeyStep = 2048 / 16, kBlkU = kBlk / 16;

  float state[NH][64];  // S^T: [Re S; Im S]^T between chunks, [X; Y]^T inside one
#pragma unroll
  for (int hh = 0; hh < NH; ++hh)
#pragma unroll
    for (int e = 0; e < 64; ++e) state[hh][e] = 0.f;
  float o[16];            // O^T: this warp's 16 value rows x the chunk's 32 tokens
  constexpr int kAK = 8;  // k steps of A built at a time (a half of κ at d_k = 128)
  uint32_t a[kAK][4];     // A of O^T = [X0; Y0]^T Q~^T

  for (int n = 0; n < chunks; ++n) {
    const int s = n & 1;
    const uint64_t su = s * kStageU;
    const unsigned char* st = stage(s);
    bulk::wait(&full[s], (n >> 1) & 1);
    // O^T = [X0; Y0]^T Q~^T, kAK k steps of A at a time (A for all of κ would not fit beside S).
#pragma unroll
    for (int b = 0; b < KS / kAK; ++b) {
      if (b > 0) wg::wait<0>();  // the previous batch's A registers are free again
#pragma unroll
      for (int x = 0; x < kAK; ++x) {
        const int kk = kAK * b + x, hh = kk >> 3, c = 8 * (kk & 7);
        a[x][0] = pack_bf16(state[hh][c], state[hh][c + 1]);
        a[x][1] = pack_bf16(state[hh][c + 2], state[hh][c + 3]);
        a[x][2] = pack_bf16(state[hh][c + 4], state[hh][c + 5]);
        a[x][3] = pack_bf16(state[hh][c + 6], state[hh][c + 7]);
      }
      wg::fence();
#pragma unroll
      for (int x = 0; x < kAK; ++x) {
        const int kk = kAK * b + x;
        const uint64_t qk = q_desc + su + (kk >> 2) * kBlkU + (kk & 3) * 2;
        if (kk == 0)
          wg::mma_64x32_rs_first<false>(o, a[x], qk);
        else
          wg::mma_64x32_rs<false>(o, a[x], qk, true);
      }
      wg::commit();
    }
    // O^T += V^T P^T (the chunk's own keys), then [X; Y]^T = [X0; Y0]^T + V^T K~.
#pragma unroll
    for (int kk = 0; kk < 2; ++kk)
      wg::mma_64x32_ss<true, false>(o, v_desc + su + kk * kKeyStep, p_desc + su + kk * 2, true);
#pragma unroll
    for (int kk = 0; kk < 2; ++kk)
#pragma unroll
      for (int hh = 0; hh < NH; ++hh)
        wg::mma_64x128_ss<true, true>(state[hh], v_desc + su + kk * kKeyStep,
                                      k_desc + su + hh * 2 * kBlkU + kk * kKeyStep, true);
    wg::commit();
    wg::wait<0>();
    bulk::arrive(&empty[s]);  // the stage's operands are read: the producer may refill it
    // y: this lane's value columns vr, vr + 8 at tokens 8i + cq, + 1 (32-byte runs of columns).
    const int j0 = n * kC;
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int t = j0 + 8 * i + cq + (e & 1), col = vr + 8 * (e >> 1);
        if (t < L && col < Dv) yh[static_cast<int64_t>(t) * Dv + col] = o[4 * i + e];
      }
    if (n + 1 < chunks) {
      // The reflection by this chunk's Φ_e and the next chunk's e^{Λ_e} at once: with (ec, es)
      // = e^{Λ_e'} (cos Φ_e, sin Φ_e) from the next stage, X0' = ec X + es Y and Y0' = ec Y − es X.
      const int s1 = s ^ 1;
      bulk::wait(&full[s1], ((n + 1) >> 1) & 1);
      const float4* R = reinterpret_cast<const float4*>(stage(s1) + Lay::r_off);
#pragma unroll
      for (int hh = 0; hh < NH; ++hh)
#pragma unroll
        for (int mm = 0; mm < 8; ++mm) {
          const float4 c = R[4 * (8 * hh + mm) + lp];
#pragma unroll
          for (int x = 0; x < 4; ++x) {
            const float ec = x & 1 ? c.z : c.x, es = x & 1 ? c.w : c.y;
            const float X = state[hh][8 * mm + x], Y = state[hh][8 * mm + 4 + x];
            state[hh][8 * mm + x] = fmaf(ec, X, es * Y);
            state[hh][8 * mm + 4 + x] = fmaf(ec, Y, -es * X);
          }
        }
    }
  }
#endif  // LINSCOPE_WGMMA
}

template <int DK>
void launch(const void* q, const void* k, const void* v, const float* lm, const float* ph, float* y,
            int* flag, const Dims& d, cudaStream_t s) {
  using Lay = GlScanWgLayout<DK>;
  const CUtensorMap v_map =
      bf16_tensor_map_sw128(v, static_cast<uint64_t>(d.Dv), static_cast<uint64_t>(d.L),
                            static_cast<uint64_t>(d.BH), Lay::kC);
  auto kernel = gl_scan_wgmma_kernel<DK>;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(Lay::bytes)),
        "cudaFuncSetAttribute(gl_scan_wgmma)");
  const dim3 grid(static_cast<unsigned>((d.Dv + kVT - 1) / kVT), static_cast<unsigned>(d.BH));
  kernel<<<grid, Lay::kThreads, Lay::bytes, s>>>(v_map, static_cast<const bf16*>(q),
                                                 static_cast<const bf16*>(k), lm, ph, y, flag,
                                                 static_cast<int>(d.L), static_cast<int>(d.Dv));
  check_launch("gl_scan_wgmma");
}

}  // namespace

bool gateloop_scan_wgmma_supported(const Dims& d) {
  const char* e = std::getenv("LINSCOPE_GL_SCAN");
  const std::string forced = e ? e : "";
  if (forced == "8" || forced == "16") return false;  // an mma.sync block shape, forced
  return sm90a_runs_here("LINSCOPE_GL_SCAN") && (d.Dk == 64 || d.Dk == 128) && d.Dv % 8 == 0 &&
         d.Dv > 64 && d.L * std::max(d.Dk, d.Dv) < (int64_t{1} << 31) && d.BH < 65536;
}

void gateloop_scan_wgmma(const void* q, const void* k, const void* v, const float* lm,
                         const float* ph, float* y, int* flag, const Dims& d, cudaStream_t s) {
  if (!gateloop_scan_wgmma_supported(d))
    throw BackendError(
        "GateLoop scan on wgmma: needs an sm_90a build on a compute 9.0 device, d_k 64 or 128 and "
        "d_v a multiple of 8 above 64 (got d_k = " +
        std::to_string(d.Dk) + ", d_v = " + std::to_string(d.Dv) + ")");
  if (d.Dk == 64)
    launch<64>(q, k, v, lm, ph, y, flag, d, s);
  else
    launch<128>(q, k, v, lm, ph, y, flag, d, s);
}

}  // namespace linscope::gpu
