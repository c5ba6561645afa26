// GateLoop's surrogate attention (GateLoop §3.2, MODELS.md §3) on Hopper's warpgroup products:
// the L² step of gateloop_attention_tc (gpu/gateloop_attention_tc.cu), on the same operands and
// with the same roundings. That file's header derives them: per token Q^_i and K^_j, scaled
// relative to their 16-row group and 64-key tile, in the κ column order of 2 d_k (cos parts of
// eight channels, then their sin parts), and per (row group g, key tile t) pair and channel the
// factor e^{S_g − E_t} that bridges the two, so that
//   y_i = Σ_{j<=i} [Σ_κ Q^_iκ e^{S_g(i) − E_t(j)} K^_jκ] v_j.
//
// The block is organised as the linear-attention kernel (gpu/linear_attention_parallel_wgmma.cu),
// after FlashAttention-3: a producer warpgroup fills a ring of stages with tensor copies (K^ and
// V tiles, 128-byte swizzled) and two or three consumer warpgroups of 64 rows run tile t's
// P_t V_t under tile t + 1's scores. What differs is the factor. It belongs to a (row group,
// channel) pair, so it scales A, not B: each warp's 16 rows are exactly one row group, and the
// score product takes A from registers (wgmma's RS form), Q^ read by ldmatrix from the swizzled
// copy and multiplied per bf16x2 by the factor pair of its channels, as the mma.sync kernel does.
// The producer's threads compute each tile's factors (a channel and some of the block's groups
// each) into the stage, next to the tile's bytes.
//
// Built only by nvcc's sm_90a pass (LINSCOPE_WGMMA); gateloop_attention_tc runs it where
// gateloop_attention_wgmma_supported() says so and keeps the mma.sync kernel everywhere else.
#include <cuda.h>
#include <cuda_bf16.h>

#include <algorithm>
#include <string>

#include "gpu/cuda_check.h"
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
using gateloop_tc::kAttentionGroupRows;
using gateloop_tc::kAttentionKeyTile;

constexpr int kWgRows = 64;               // query rows per consumer warpgroup
constexpr int kKeys = kAttentionKeyTile;  // keys per tile: one factor per (group, tile)
static_assert(kWgRows % kKeys == 0, "a warpgroup's rows start a key tile");

// CONS consumer warpgroups of 64 rows, STAGES stages in the ring.
template <int DK, int VT, int CONS, int STAGES>
struct GlWgLayout {
  static constexpr int KD = 2 * DK, KT = KD / 16;
  static constexpr int kConsumers = CONS, kStages = STAGES;
  static constexpr int kRows = kWgRows * CONS;  // query rows per block
  static constexpr int kGroups = kRows / kAttentionGroupRows;
  static constexpr int kThreads = 128 * (1 + CONS);
  // Registers per thread after the hand-over (multiples of 8, all of them within 64 K):
  // 128 x 56 + 256 x 224 with two consumers, 128 x 56 + 384 x 152 with three.
  static constexpr int kProducerRegs = 56, kConsumerRegs = CONS == 2 ? 224 : 152;
  static_assert(128 * kProducerRegs + 128 * CONS * kConsumerRegs <= 65536, "registers");
  static constexpr size_t q_bytes = size_t(kRows) * KD * sizeof(bf16);
  static constexpr size_t k_bytes = size_t(kKeys) * KD * sizeof(bf16);
  static constexpr size_t v_bytes = size_t(kKeys) * VT * sizeof(bf16);
  // [group][channel], padded to the swizzle's 1024-byte atoms
  static constexpr size_t f_bytes = (size_t(kGroups) * DK * sizeof(bf16) + 1023) / 1024 * 1024;
  static constexpr size_t stage_bytes = k_bytes + v_bytes + f_bytes;
  static constexpr size_t bar_offset = q_bytes + kStages * stage_bytes;
  // (+ 1 KB: the dynamic shared memory's start is rounded up to 1024 bytes in the kernel)
  static constexpr size_t bytes = bar_offset + 2 * kStages * sizeof(uint64_t) + 1024;
  static_assert(q_bytes % 1024 == 0 && stage_bytes % 1024 == 0, "stages start on 1024 bytes");
  static_assert(bytes <= 227 * 1024, "fits an SM's shared memory");
};

template <int DK, int VT, int CONS, int STAGES>
__global__ void __launch_bounds__(GlWgLayout<DK, VT, CONS, STAGES>::kThreads, 1)
    gl_attention_wgmma_kernel(const __grid_constant__ CUtensorMap q_map,
                              const __grid_constant__ CUtensorMap k_map,
                              const __grid_constant__ CUtensorMap v_map,
                              const double* __restrict__ bounds, const int* __restrict__ flag,
                              float* __restrict__ y, int L, int Dv, int row_blocks) {
#ifdef LINSCOPE_WGMMA
  // The operands pass found a tile out of range: the fp32 kernels answer (the whole block leaves
  // before its barriers exist).
  if (*flag != 0) return;
  using Lay = GlWgLayout<DK, VT, CONS, STAGES>;
  constexpr int KD = Lay::KD, KT = Lay::KT, kStages = Lay::kStages, kRows = Lay::kRows;
  constexpr int kConsumers = Lay::kConsumers, kGroups = Lay::kGroups;
  extern __shared__ __align__(1024) unsigned char smem_raw[];
  unsigned char* smem = smem_raw + ((1024 - (shared_address(smem_raw) & 1023)) & 1023);
  auto stage = [&](int st) { return smem + Lay::q_bytes + st * Lay::stage_bytes; };
  auto stage_f = [&](int st) {
    return reinterpret_cast<bf16*>(stage(st) + Lay::k_bytes + Lay::v_bytes);
  };
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + Lay::bar_offset);
  uint64_t* empty = full + kStages;

  const int head = blockIdx.x, c0 = blockIdx.y * VT;
  const int row0 = (row_blocks - 1 - static_cast<int>(blockIdx.z)) * kRows;  // heaviest first
  const int NB = (L + kAttentionGroupRows - 1) / kAttentionGroupRows;
  const double* bh = bounds + static_cast<int64_t>(head) * (NB + 1) * DK;
  float* yh = y + static_cast<int64_t>(head) * L * Dv;
  // The warpgroup's index through a shuffle keeps the products' control flow visibly convergent
  // (ptxas serializes wgmma on paths it cannot prove uniform).
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wg_index = __shfl_sync(0xffffffffu, tid >> 7, 0);
  const int tiles = (min(L, row0 + kRows) + kKeys - 1) / kKeys;

  if (tid == 0) {
    for (int st = 0; st < kStages; ++st) {
      bulk::barrier_init(&full[st], 128);                // every producer thread, then the bytes
      bulk::barrier_init(&empty[st], 128 * kConsumers);  // every consumer thread
    }
  }
  __syncthreads();

  if (wg_index == 0) {
    // The producer warpgroup. Thread 0 announces each tile's bytes and issues its tensor copies
    // (boxes of 64 columns by 64 rows, 8 KB, swizzled; Q^ once, with the first tile); then every
    // thread writes its channel's factors for kGPT of the block's groups and arrives, which
    // publishes them. The copies complete on the barrier by themselves.
    wg::regs_dec<Lay::kProducerRegs>();
    constexpr int kGPT = kGroups * DK / 128;  // groups per thread
    static_assert(kGroups * DK % 128 == 0 && 128 % DK == 0, "factor slots");
    constexpr unsigned kTileBytes = unsigned(Lay::k_bytes + Lay::v_bytes);
    constexpr int kBox = kKeys * 128, kQBox = kWgRows * 128;
    const int ch = tid % DK, g0 = tid / DK * kGPT;
    double S[kGPT];  // S_g: Λ just before group g's first row (bounds' entry of the group)
#pragma unroll
    for (int u = 0; u < kGPT; ++u)
      S[u] = bh[static_cast<int64_t>(min(row0 / kAttentionGroupRows + g0 + u, NB)) * DK + ch];
    // E_t: Λ at the end of key tile t (entry 4 t + 4), read one tile ahead.
    auto e_of = [&](int t) {
      constexpr int kEntries = kKeys / kAttentionGroupRows;
      return bh[static_cast<int64_t>(min(kEntries * (t + 1), NB)) * DK + ch];
    };
    double e_next = e_of(0);
    for (int t = 0; t < tiles; ++t) {
      const int st = t % kStages, j0 = t * kKeys;
      if (t >= kStages) bulk::wait(&empty[st], ((t / kStages) - 1) & 1);
      if (tid == 0) {
        bulk::expect(&full[st], kTileBytes + (t == 0 ? unsigned(Lay::q_bytes) : 0u));
        if (t == 0) {
#pragma unroll
          for (int c = 0; c < kConsumers * KD / 64; ++c)  // rows row0 .., then row0 + 64 ..
            bulk::copy_box(smem + kQBox * c, &q_map, 64 * (c % (KD / 64)),
                           row0 + kWgRows * (c / (KD / 64)), head, &full[st]);
        }
#pragma unroll
        for (int c = 0; c < KD / 64; ++c)
          bulk::copy_box(stage(st) + kBox * c, &k_map, 64 * c, j0, head, &full[st]);
#pragma unroll
        for (int c = 0; c < VT / 64; ++c)
          bulk::copy_box(stage(st) + Lay::k_bytes + kBox * c, &v_map, c0 + 64 * c, j0, head,
                         &full[st]);
      }
      // A group whose rows all precede the tile takes 0: its scores are cut anyway, and
      // e^{S_g − E_t} could overflow there. Elsewhere the exponent is <= kMaxExponent (the
      // operands pass raised the flag otherwise).
      bf16* f = stage_f(st);
#pragma unroll
      for (int u = 0; u < kGPT; ++u) {
        const int gr = g0 + u;
        const bool reached = j0 <= row0 + kAttentionGroupRows * (gr + 1) - 1;
        const float x = static_cast<float>(S[u] - e_next) * kLog2e;
        f[gr * DK + ch] = __float2bfloat16_rn(reached ? exp2_ftz(x) : 0.f);
      }
      if (t + 1 < tiles) e_next = e_of(t + 1);
      bulk::arrive(&full[st]);
    }
    return;
  }

  wg::regs_inc<Lay::kConsumerRegs>();
  // A consumer warpgroup: 64 rows; warp wq of it the 16 rows (one row group) from wr0, this lane
  // rows g, g + 8.
  const int cw = wg_index - 1, wq = warp & 3;
  const int wg_row0 = row0 + kWgRows * cw, wr0 = wg_row0 + 16 * wq;
  const int g = lane >> 2, cq = 2 * (lane & 3);
  const int tiles_c = wg_row0 >= L ? 0 : min(tiles, wg_row0 / kKeys + 1);  // up to the diagonal

  // A fragments of Q^ straight from the swizzled boxes (chunk c of row r at c ^ (r % 8)): this
  // lane's ldmatrix row r = 16 wq + (lane & 7) + 8 ((lane >> 3) & 1) of the warpgroup's box, its
  // 16-byte chunk 2 (kk % 4) + (lane >> 4) of box kk / 4.
  constexpr unsigned kBox = kKeys * 128, kQBox = kWgRows * 128;
  const int m8 = lane & 7, r = 16 * wq + m8 + 8 * ((lane >> 3) & 1), mhi = lane >> 4;
  const unsigned q_row = shared_address(smem) + unsigned(cw * (KD / 64)) * kQBox + r * 128;
  unsigned q_chunk[4];
#pragma unroll
  for (int j = 0; j < 4; ++j) q_chunk[j] = unsigned(((2 * j + mhi) ^ m8) << 4);
  // K^ K-major, V MN-major, as in the linear-attention kernel: 8-row atoms 1024 bytes apart; a k
  // step is 32 bytes along κ inside a box (K^) or two atoms of keys (V).
  const uint64_t k_desc = wg::descriptor_sw128(shared_address(stage(0)), 16, 1024);
  const uint64_t v_desc = wg::descriptor_sw128(shared_address(stage(0) + Lay::k_bytes), kBox, 1024);
  auto d_step = [](int kk) { return uint64_t((kk >> 2) * kBox / 16 + (kk & 3) * 2); };
  constexpr uint64_t kStageUnits = Lay::stage_bytes / 16;

  float o[VT / 2];  // first written by the first product (accumulate = false)
  float s[kKeys / 2];
  using P = uint32_t[kKeys / 16][4];
  P pa;
  // The score product in two halves of κ, each with A built in the same 2 KT registers. A for
  // all 2 d_k columns at once (64 registers at d_k = 128) beside O, S and two P buffers is more
  // than a consumer has, and ptxas serializes the products then; at d_k = 64, where it fits, the
  // halves ran faster too (1.20-1.26 against 1.31-1.38 ms at L = 4096, docs/performance.md).
  constexpr int kHalf = KT / 2;
  uint32_t a[kHalf][4];

  // A of S_t's part h: Q^ scaled per channel by the warp's group factor of tile t; then the
  // part's products into s. The caller waits for the stage first.
  auto issue_scores_half = [&](int t, int h) {
    const int st = t % kStages;
    const bf16* F = stage_f(st) + (4 * cw + wq) * DK + cq;
#pragma unroll
    for (int x = 0; x < kHalf; ++x) {
      const int kk = kHalf * h + x;
      ldmatrix_x4(a[x], q_row + (kk >> 2) * kQBox + q_chunk[kk & 3]);
      // channels 8 kk + cq, + 1: the same factor pair for the cos (a0, a1) and sin (a2, a3) parts
      const __nv_bfloat162 fd = *reinterpret_cast<const __nv_bfloat162*>(F + 8 * kk);
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const __nv_bfloat162 w = __hmul2(*reinterpret_cast<const __nv_bfloat162*>(&a[x][e]), fd);
        a[x][e] = *reinterpret_cast<const uint32_t*>(&w);
      }
    }
    wg::fence();
#pragma unroll
    for (int x = 0; x < kHalf; ++x) {
      const int kk = kHalf * h + x;
      wg::mma_64x64_rs<false>(s, a[x], k_desc + st * kStageUnits + d_step(kk), kk > 0);
    }
    wg::commit();
  };
  auto issue_pv = [&](int t, const P& p) {
    wg::fence();
    wg::pv_rs<VT>(o, p, v_desc + (t % kStages) * kStageUnits, t > 0);
    wg::commit();
  };
  // Every thread arrives, so that racecheck sees each one's reads ordered before the refill.
  auto release = [&](int t) { bulk::arrive(&empty[t % kStages]); };
  // P_t in bf16 from the finished scores, cut above the diagonal where the tile reaches the
  // warp's rows.
  auto mask_tile = [&](int t, P& p) {
    const int j0 = t * kKeys;
    const bool diagonal = j0 + kKeys - 1 > wr0;
    const int i_lo = wr0 + g, i_hi = i_lo + 8;
#pragma unroll
    for (int n = 0; n < kKeys / 8; ++n) {
      const int j = j0 + 8 * n + cq;
      float a0 = s[4 * n], a1 = s[4 * n + 1], a2 = s[4 * n + 2], a3 = s[4 * n + 3];
      if (diagonal) {
        a0 = j <= i_lo ? a0 : 0.f, a1 = j + 1 <= i_lo ? a1 : 0.f;
        a2 = j <= i_hi ? a2 : 0.f, a3 = j + 1 <= i_hi ? a3 : 0.f;
      }
      p[n >> 1][(n & 1) * 2] = pack_bf16(a0, a1);
      p[n >> 1][(n & 1) * 2 + 1] = pack_bf16(a2, a3);
    }
  };
  // Tile t's P_t V_t runs while S_{t+1}'s second half of A is built and issued; once P_t V_t
  // is done the stage goes back and P is free, and once S_{t+1} is, it becomes P_{t+1}. The
  // other consumer warpgroup keeps the tensor cores busy across this one's waits. No issue is
  // conditional (that makes ptxas serialize every product).
  auto step = [&](int t) {
    bulk::wait(&full[(t + 1) % kStages], ((t + 1) / kStages) & 1);
    issue_scores_half(t + 1, 0);
    issue_pv(t, pa);
    wg::wait<1>();  // S_{t+1}'s first half: its A registers are free
    issue_scores_half(t + 1, 1);
    wg::wait<1>();  // P_t V_t
    release(t);
    wg::wait<0>();
    mask_tile(t + 1, pa);
  };
  if (tiles_c > 0) {
    bulk::wait(&full[0], 0);
    issue_scores_half(0, 0);
    wg::wait<0>();
    issue_scores_half(0, 1);
    wg::wait<0>();
    mask_tile(0, pa);
    for (int t = 0; t + 1 < tiles_c; ++t) step(t);
    issue_pv(tiles_c - 1, pa);
    wg::wait<0>();
    release(tiles_c - 1);
  }
  // The tile past warpgroup 0's rows is still handed back, once filled, so that every stage's
  // phases count both warpgroups.
  for (int t = tiles_c; t < tiles; ++t) {
    bulk::wait(&full[t % kStages], (t / kStages) & 1);
    release(t);
  }
  if (wr0 >= L) return;
  wg::store_rows<VT>(yh, o, wr0 + g, L, c0, Dv, {1.f, 1.f});
#endif  // LINSCOPE_WGMMA
}

template <int DK, int VT, int CONS, int STAGES>
void launch(const void* qhat, const void* khat, const void* v, const double* bounds,
            const int* flag, float* y, const Dims& d, cudaStream_t s) {
  const auto L = static_cast<uint64_t>(d.L), BH = static_cast<uint64_t>(d.BH);
  const CUtensorMap q_map = bf16_tensor_map_sw128(qhat, 2 * DK, L, BH, kWgRows);
  const CUtensorMap k_map = bf16_tensor_map_sw128(khat, 2 * DK, L, BH, kKeys);
  const CUtensorMap v_map = bf16_tensor_map_sw128(v, static_cast<uint64_t>(d.Dv), L, BH, kKeys);
  using Lay = GlWgLayout<DK, VT, CONS, STAGES>;
  auto kernel = gl_attention_wgmma_kernel<DK, VT, CONS, STAGES>;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(Lay::bytes)),
        "cudaFuncSetAttribute(gl_attention_wgmma)");
  const int row_blocks = static_cast<int>((d.L + Lay::kRows - 1) / Lay::kRows);
  const dim3 grid(static_cast<unsigned>(d.BH), static_cast<unsigned>((d.Dv + VT - 1) / VT),
                  static_cast<unsigned>(row_blocks));
  kernel<<<grid, Lay::kThreads, Lay::bytes, s>>>(q_map, k_map, v_map, bounds, flag, y,
                                                 static_cast<int>(d.L), static_cast<int>(d.Dv),
                                                 row_blocks);
  check_launch("gl_attention_wgmma");
}

}  // namespace

bool gateloop_attention_wgmma_supported(const Dims& d) {
  return sm90a_runs_here("LINSCOPE_GL_PAR") && (d.Dk == 64 || d.Dk == 128) && d.Dv % 8 == 0 &&
         d.Dv > 0 && d.L * 2 * std::max(d.Dk, d.Dv) < (int64_t{1} << 31) && d.BH < 65536 &&
         d.L / kWgRows < 65535;
}

void gateloop_attention_wgmma(const void* qhat, const void* khat, const void* v,
                              const double* bounds, const int* flag, float* y, const Dims& d,
                              cudaStream_t s) {
  if (!gateloop_attention_wgmma_supported(d))
    throw BackendError(
        "GateLoop surrogate attention on wgmma: needs an sm_90a build on a compute 9.0 device, "
        "d_k 64 or 128 and d_v a multiple of 8 (got d_k = " +
        std::to_string(d.Dk) + ", d_v = " + std::to_string(d.Dv) + ")");
  // Block shapes, measured on the H200 side by side (docs/performance.md): at d_k = 64 and d_v
  // <= 64 three consumer warpgroups (13.5 against 14.6-14.9 ms at L = 16384; five stages made no
  // difference); at d_v = 128 their accumulators do not fit 152 registers, so two. At d_k = 128
  // a K^ tile is 32 KB, and three stages are what fits beside Q^.
  if (d.Dk == 64)
    d.Dv > 64 ? launch<64, 128, 2, 4>(qhat, khat, v, bounds, flag, y, d, s)
              : launch<64, 64, 3, 4>(qhat, khat, v, bounds, flag, y, d, s);
  else
    d.Dv > 64 ? launch<128, 128, 2, 3>(qhat, khat, v, bounds, flag, y, d, s)
              : launch<128, 64, 2, 3>(qhat, khat, v, bounds, flag, y, d, s);
}

}  // namespace linscope::gpu
