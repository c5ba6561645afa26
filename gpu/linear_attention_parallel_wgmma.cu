// The parallel (L²) form of scalar-decay linear attention on Hopper's warpgroup products: the same
// algorithm, masks and roundings as gpu/linear_attention_parallel_tc.cu (its header explains the
// mask in log space around the block's reference A_r), with the block organised as in
// FlashAttention-3 so that the tensor cores never wait for the mask:
//  - a producer warp copies Q once and then the key tiles (K, V) with tensor copies into a ring
//    of kStages shared-memory stages, and writes the keys' exponents of the mask next to them.
//    Each stage is published by its bytes landing on an mbarrier (full) and handed back by the
//    consumers through another (empty): no block-wide barrier in the loop, and the producer
//    never waits for its own copies;
//  - two consumer warpgroups of 64 query rows each issue tile t's O += P_t V_t together with tile
//    t + 1's scores Q K_{t+1}^T, and mask and round tile t + 1 while P_t V_t still runs (P is
//    double-buffered in registers for that);
//  - setmaxnreg moves registers from the producer warpgroup to the consumers.
// Operands are in the 128-byte swizzled layout that the tensor copies write and wgmma reads
// without bank conflicts (gpu/tc_wgmma.cuh: descriptor_sw128). With unswizzled boxes of 16-byte
// rows the copy engine was the bottleneck (2.16 ms against 1.23 at d = 128, L = 4096; and per-
// thread 16-byte copies gated by the producer's own waits, 2.9 ms): docs/performance.md.
//
// Built only by nvcc's sm_90a pass (LINSCOPE_WGMMA); la_parallel_tc runs it where
// la_parallel_wgmma_supported() says so and keeps the mma.sync kernel everywhere else.
#include <cuda.h>
#include <cuda_bf16.h>

#include <cstdlib>
#include <string>
#include <type_traits>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"
#include "gpu/parallel_mask.cuh"
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

constexpr int kWgRows = 64;                  // query rows per consumer warpgroup
constexpr int kConsumers = 2;                // consumer warpgroups per block
constexpr int kRows = kWgRows * kConsumers;  // query rows per block
constexpr int kThreads = 128 * (1 + kConsumers);
constexpr int kStages = 4;
// Registers per thread after the hand-over: 128 x 56 + 256 x 224 <= 64 K.
constexpr int kProducerRegs = 56, kConsumerRegs = 224;
using mask::kExact, mask::kFuture, mask::kPast, mask::kPlain;

// NK keys per tile (64 or 128).
template <int KT, int VT, int NK>
struct WgLayout {
  static constexpr int DK = 16 * KT;
  static constexpr size_t q_bytes = size_t(kRows) * DK * sizeof(bf16);
  static constexpr size_t k_bytes = size_t(NK) * DK * sizeof(bf16);
  static constexpr size_t v_bytes = size_t(NK) * VT * sizeof(bf16);
  // Per key: (A_r − A_j) log2 e and the key factors for past and future tiles; then one flag per
  // 32 keys (any exponent nonzero), padded so that every stage starts on 1024 bytes (the
  // swizzle's atoms).
  static constexpr size_t e_bytes = NK == 64 ? 1024 : 2048;
  static_assert(3 * NK * sizeof(float) + NK / 32 * sizeof(int) <= e_bytes, "exponents fit");
  static constexpr size_t stage_bytes = k_bytes + v_bytes + e_bytes;
  static constexpr size_t bar_offset = q_bytes + kStages * stage_bytes;
  // (+ 1 KB: the dynamic shared memory's start is rounded up to 1024 bytes in the kernel)
  static constexpr size_t bytes = bar_offset + 2 * kStages * sizeof(uint64_t) + 1024;
  static_assert(q_bytes % 1024 == 0 && stage_bytes % 1024 == 0, "stages start on 1024 bytes");
  static_assert(bytes <= 227 * 1024, "fits an SM's shared memory");
};

template <int KT, int VT, int NK, bool BIDIR>
__global__ void __launch_bounds__(kThreads, 1)
    la_parallel_wgmma_kernel(const __grid_constant__ CUtensorMap q_map,
                             const __grid_constant__ CUtensorMap k_map,
                             const __grid_constant__ CUtensorMap v_map,
                             const double* __restrict__ A, float* __restrict__ y, int L, int Dv,
                             bool normalize, int row_blocks) {
#ifdef LINSCOPE_WGMMA
  using Lay = WgLayout<KT, VT, NK>;
  constexpr int DK = Lay::DK, kCols = NK;
  extern __shared__ __align__(1024) unsigned char smem_raw[];
  unsigned char* smem = smem_raw + ((1024 - (shared_address(smem_raw) & 1023)) & 1023);
  bf16* sQ = reinterpret_cast<bf16*>(smem);
  auto stage = [&](int st) { return smem + Lay::q_bytes + st * Lay::stage_bytes; };
  auto stage_k = [&](int st) { return reinterpret_cast<bf16*>(stage(st)); };
  auto stage_v = [&](int st) { return reinterpret_cast<bf16*>(stage(st) + Lay::k_bytes); };
  auto stage_e = [&](int st) {
    return reinterpret_cast<float*>(stage(st) + Lay::k_bytes + Lay::v_bytes);
  };
  auto stage_flags = [&](int st) { return reinterpret_cast<int*>(stage_e(st) + 3 * NK); };
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + Lay::bar_offset);
  uint64_t* empty = full + kStages;

  const int head = blockIdx.x, c0 = blockIdx.y * VT;
  // Causal blocks differ in work (row block b sees b + 1 tiles' worth): the heaviest go first.
  const int rb = BIDIR ? blockIdx.z : row_blocks - 1 - blockIdx.z;
  const int row0 = rb * kRows;
  const double* Ah = A + static_cast<int64_t>(head) * L;
  float* yh = y + static_cast<int64_t>(head) * L * Dv;
  // The warpgroup's index through a shuffle: the compiler then knows it is the same in every lane
  // and keeps the products' control flow convergent (ptxas serializes wgmma on divergent paths).
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wg_index = __shfl_sync(0xffffffffu, tid >> 7, 0);
  const int last_key = BIDIR ? L : min(L, row0 + kRows);
  const int tiles = (last_key + kCols - 1) / kCols;
  const double A_ref = Ah[row0];
  const double A_end = Ah[min(row0 + kRows, L) - 1];

  if (tid == 0) {
    for (int st = 0; st < kStages; ++st) {
      bulk::barrier_init(&full[st], 32);  // the producer warp's lanes, then the bytes
      bulk::barrier_init(&empty[st], 128 * kConsumers);  // every consumer thread
    }
  }
  __syncthreads();

  if (wg_index == 0) {
    // The producer: one warp. Per tile it waits for the stage to be free, writes the keys'
    // exponents, and lane 0 announces the bytes and issues the tensor copies: boxes of 64
    // columns (128 bytes, swizzled) by the tile's NK rows, kBox bytes apart (Q: 64 rows, 8 KB).
    // The copies complete on the full barrier by themselves; nothing here waits for them.
    wg::regs_dec<kProducerRegs>();
    if (warp != 0) return;
    constexpr unsigned kTileBytes = unsigned(Lay::k_bytes + Lay::v_bytes);
    constexpr int kQBox = kWgRows * 128, kBox = NK * 128;
    // A of keys j0 + lane + 32 h of the next tile: loaded one tile ahead, so that no global
    // round trip sits in the loop.
    constexpr int H = NK / 32;
    double a_next[H];
#pragma unroll
    for (int h = 0; h < H; ++h) a_next[h] = lane + 32 * h < L ? Ah[lane + 32 * h] : 0.0;
    for (int t = 0; t < tiles; ++t) {
      const int st = t % kStages, j0 = t * kCols;
      if (t >= kStages) bulk::wait(&empty[st], ((t / kStages) - 1) & 1);
      float* e = stage_e(st);
#pragma unroll
      for (int h = 0; h < H; ++h) {
        const int jl = lane + 32 * h, j = j0 + jl;
        const double a = a_next[h];
        const float x = j < L ? static_cast<float>(A_ref - a) * kLog2e : 0.f;
        e[jl] = x;
        e[kPast * kCols + jl] = exp2_ftz(x);
        if (BIDIR)
          e[kFuture * kCols + jl] = j < L ? exp2_ftz(static_cast<float>(a - A_end) * kLog2e) : 0.f;
        const bool nonzero = __ballot_sync(0xffffffffu, x != 0.f) != 0;
        if (lane == 0) stage_flags(st)[h] = nonzero;
        a_next[h] = j + kCols < L ? Ah[j + kCols] : 0.0;
      }
      // Every lane arrives, so each one's exponents are published by its own release.
      if (lane != 0) bulk::arrive(&full[st]);
      if (lane == 0) {
        bulk::arrive_expect(&full[st], kTileBytes + (t == 0 ? unsigned(Lay::q_bytes) : 0u));
        if (t == 0) {
#pragma unroll
          for (int c = 0; c < 2 * DK / 64; ++c)  // rows row0 .., then row0 + 64 ..
            bulk::copy_box(reinterpret_cast<unsigned char*>(sQ) + kQBox * c, &q_map,
                           64 * (c % (DK / 64)), row0 + kWgRows * (c / (DK / 64)), head, &full[st]);
        }
#pragma unroll
        for (int c = 0; c < DK / 64; ++c)
          bulk::copy_box(stage(st) + kBox * c, &k_map, 64 * c, j0, head, &full[st]);
#pragma unroll
        for (int c = 0; c < VT / 64; ++c)
          bulk::copy_box(stage(st) + Lay::k_bytes + kBox * c, &v_map, c0 + 64 * c, j0, head,
                         &full[st]);
      }
    }
    return;
  }

  wg::regs_inc<kConsumerRegs>();
  // A consumer warpgroup: 64 rows; warp wq of it the 16 rows from wr0, this lane rows g, g + 8.
  const int cw = wg_index - 1, wq = warp & 3;
  const int wg_row0 = row0 + kWgRows * cw, wr0 = wg_row0 + 16 * wq;
  const int g = lane >> 2, cq = 2 * (lane & 3);
  // Causal: the tiles up to the warpgroup's last row.
  const int tiles_c = wg_row0 >= L ? 0
                      : BIDIR      ? tiles
                                   : min(tiles, (wg_row0 + kWgRows - 1) / kCols + 1);

  int rows[2];
  float ra[2], f_past[2], f_future[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int i = wr0 + 8 * h + g, ic = min(i, L - 1);
    rows[h] = i;
    ra[h] = i < L ? static_cast<float>(Ah[i] - A_ref) * kLog2e : 0.f;
    f_past[h] = exp2_ftz(ra[h]);
    f_future[h] = BIDIR ? exp2_ftz(static_cast<float>(A_end - Ah[ic]) * kLog2e) : 0.f;
  }
  // The plain mask (no exponentials) needs every row of the warp and every key at A_r.
  const bool rows_decayed = __any_sync(0xffffffffu, ra[0] != 0.f || ra[1] != 0.f);

  // Descriptors of the swizzled boxes (gpu/tc_wgmma.cuh; offsets in 16-byte units): Q and K
  // K-major, 8-row atoms 1024 bytes apart, each 64 columns of d a box of rows x 128 bytes (Q: 64
  // rows, K: NK); V MN-major, 8-key atoms 1024 bytes apart (SBO) and each 64 value columns a box
  // of NK x 128 bytes (LBO). A k step of 16 is 32 bytes along d inside a box (Q, K) or two atoms
  // of keys (V).
  constexpr unsigned kQBox = kWgRows * 128, kBox = NK * 128;
  const uint64_t q_desc =
      wg::descriptor_sw128(shared_address(sQ + size_t(kWgRows) * DK * cw), 16, 1024);
  const uint64_t k_desc = wg::descriptor_sw128(shared_address(stage_k(0)), 16, 1024);
  const uint64_t v_desc = wg::descriptor_sw128(shared_address(stage_v(0)), kBox, 1024);
  auto d_step = [](int kk, unsigned box) { return uint64_t((kk >> 2) * box / 16 + (kk & 3) * 2); };
  constexpr uint64_t kStageUnits = Lay::stage_bytes / 16;

  // The loop as FlashAttention-3's intra-warpgroup overlap: tile t's P V and tile t + 1's scores
  // are issued together, and tile t + 1 is masked while P_t V_t still runs; P is double-buffered
  // for that (pa, pb), the scores are not.
  float o[VT / 2];                      // first written by the first product (accumulate = false)
  float den[4] = {0.f, 0.f, 0.f, 0.f};  // row sums of P: [0] row g, [2] row g + 8
  float s[NK / 2];
  uint32_t pa[NK / 16][4], pb[NK / 16][4];
  using P = uint32_t[NK / 16][4];

  auto issue_scores = [&](int t) {
    const int st = t % kStages;
    bulk::wait(&full[st], (t / kStages) & 1);
    wg::fence();
#pragma unroll
    for (int kk = 0; kk < KT; ++kk)
      if constexpr (NK == 128)
        wg::mma_64x128_ss(s, q_desc + d_step(kk, kQBox),
                          k_desc + st * kStageUnits + d_step(kk, kBox), kk > 0);
      else
        wg::mma_64x64_ss(s, q_desc + d_step(kk, kQBox),
                         k_desc + st * kStageUnits + d_step(kk, kBox), kk > 0);
    wg::commit();
  };
  auto issue_pv = [&](int t, const P& pk) {
    wg::fence();
    wg::pv_rs<VT>(o, pk, v_desc + (t % kStages) * kStageUnits, t > 0);
    wg::commit();
  };
  // Every thread arrives: its own release orders its reads of the stage before the producer's
  // next writes (one arrival per warp after __syncwarp is enough in the memory model, but
  // racecheck sees only each thread's own synchronisation).
  auto release = [&](int t) { bulk::arrive(&empty[t % kStages]); };
  // P_t = S_t ⊙ M rounded to bf16, from the (finished) scores in s.
  auto mask_tile = [&](int t, P& pk) {
    const int st = t % kStages, j0 = t * kCols;
    const bool past = j0 + kCols <= row0, future = BIDIR && j0 >= row0 + kRows;
    const float* eb = stage_e(st);
    const int* flags = stage_flags(st);
    bool any_key = false;
#pragma unroll
    for (int h = 0; h < NK / 32; ++h) any_key |= flags[h] != 0;
    const bool tile_decayed = __any_sync(0xffffffffu, rows_decayed || any_key);
    auto mask = [&](auto mode_tag) {
      constexpr int mode = decltype(mode_tag)::value;
      const bool diagonal = !BIDIR && j0 + kCols - 1 > wr0;
#pragma unroll
      for (int n = 0; n < NK / 8; ++n) {
        const int jl = 8 * n + cq;
        float2 e = make_float2(0.f, 0.f);
        if constexpr (mode != kPlain)
          e = *reinterpret_cast<const float2*>(eb + (mode == kExact ? 0 : mode * kCols) + jl);
        float x4[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) {
          // kPast carries the row's factor here: the mma.sync kernel scales O by it instead,
          // but a register write of an accumulator between products makes ptxas serialize them.
          const float row_factor = mode == kFuture ? f_future[u >> 1] : f_past[u >> 1];
          const bool cut = diagonal && j0 + jl + (u & 1) > rows[u >> 1];
          x4[u] = s[4 * n + u] *
                  mask::entry<mode, BIDIR>(ra[u >> 1], (u & 1) ? e.y : e.x, row_factor, cut);
        }
        pk[n >> 1][(n & 1) * 2] = pack_bf16(x4[0], x4[1]);
        pk[n >> 1][(n & 1) * 2 + 1] = pack_bf16(x4[2], x4[3]);
      }
      if (normalize) {
#pragma unroll
        for (int kk = 0; kk < NK / 16; ++kk) m16n8k16(den, pk[kk], kOnesBf16x2, kOnesBf16x2);
      }
    };
    if (!tile_decayed && (past || future))
      mask(std::integral_constant<int, kPlain>{});
    else if (past)
      mask(std::integral_constant<int, kPast>{});
    else if (future)
      mask(std::integral_constant<int, kFuture>{});
    else
      mask(std::integral_constant<int, kExact>{});
  };
  // One tile before the last: issue S_{t+1} and P_t V_t; once S_{t+1} is done (which also retires
  // P_{t-1} V_{t-1}, so stage t - 1 goes back to the producer), mask it into the other P buffer.
  // The last tiles are peeled off below: a conditional issue inside the loop makes ptxas
  // serialize every product.
  auto body = [&](int t, const P& cur, P& nxt) {
    issue_scores(t + 1);
    issue_pv(t, cur);
    wg::wait<1>();
    if (t > 0) release(t - 1);
    mask_tile(t + 1, nxt);
  };

  if (tiles_c > 0) {
    issue_scores(0);
    wg::wait<0>();
    mask_tile(0, pa);
    int t = 0;
    for (; t + 2 < tiles_c; t += 2) {
      body(t, pa, pb);
      body(t + 1, pb, pa);
    }
    if (t + 1 < tiles_c) {  // two tiles left
      body(t, pa, pb);
      issue_pv(t + 1, pb);
      wg::wait<0>();
      release(t);
      release(t + 1);
    } else {  // one
      issue_pv(t, pa);
      wg::wait<0>();
      if (t > 0) release(t - 1);
      release(t);
    }
  }
  // Tiles this warpgroup does not need (causal: the one past its rows) are still handed back,
  // once filled, so that every stage's phases count both warpgroups.
  for (int t = tiles_c; t < tiles; ++t) {
    bulk::wait(&full[t % kStages], (t / kStages) & 1);
    release(t);
  }
  if (wr0 >= L) return;
  float scale[2] = {1.f, 1.f};
  if (normalize) {
    scale[0] = 1.f / den[0];
    scale[1] = 1.f / den[2];
  }
  wg::store_rows<VT>(yh, o, rows[0], L, c0, Dv, scale);
#endif  // LINSCOPE_WGMMA
}

template <int KT, int VT, int NK, bool BIDIR>
void launch(const void* q, const void* k, const void* v, const double* A, float* y, const Dims& d,
            bool normalize, cudaStream_t s) {
  const auto L = static_cast<uint64_t>(d.L), BH = static_cast<uint64_t>(d.BH);
  const CUtensorMap q_map = bf16_tensor_map_sw128(q, 16 * KT, L, BH, kWgRows);
  const CUtensorMap k_map = bf16_tensor_map_sw128(k, 16 * KT, L, BH, NK);
  const CUtensorMap v_map = bf16_tensor_map_sw128(v, static_cast<uint64_t>(d.Dv), L, BH, NK);
  using Lay = WgLayout<KT, VT, NK>;
  auto kernel = la_parallel_wgmma_kernel<KT, VT, NK, BIDIR>;
  const size_t smem = Lay::bytes;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
        "cudaFuncSetAttribute(la_parallel_wgmma)");
  const int row_blocks = static_cast<int>((d.L + kRows - 1) / kRows);
  const dim3 grid(static_cast<unsigned>(d.BH), static_cast<unsigned>((d.Dv + VT - 1) / VT),
                  static_cast<unsigned>(row_blocks));
  kernel<<<grid, kThreads, smem, s>>>(q_map, k_map, v_map, A, y, static_cast<int>(d.L),
                                      static_cast<int>(d.Dv), normalize, row_blocks);
  check_launch("la_parallel_wgmma");
}

}  // namespace

bool la_parallel_wgmma_supported(const Dims& d) {
  return sm90a_runs_here("LINSCOPE_LA_PAR") && (d.Dk == 64 || d.Dk == 128) && d.Dv % 8 == 0 &&
         d.Dv > 0 && d.L * std::max(d.Dk, d.Dv) < (int64_t{1} << 31) && d.L / kRows < 65535;
}

void la_parallel_wgmma(const void* q, const void* k, const void* v, const double* A, float* y,
                       const Dims& d, bool bidirectional, bool normalize, cudaStream_t s) {
  if (!la_parallel_wgmma_supported(d))
    throw BackendError(
        "wgmma parallel form: needs an sm_90a build on a compute 9.0 device, d_k "
        "64 or 128 and d_v a multiple of 8 (got d_k = " +
        std::to_string(d.Dk) + ", d_v = " + std::to_string(d.Dv) + ")");
  const void *q16 = q, *k16 = k, *v16 = v;
  // Keys per tile: 128 at d_k = 64, whose products are half as long as at 128, so that each
  // tile's fixed costs (the barrier waits, the issue of the products, the flags) weigh half as
  // much: 0.68 against 0.83 ms for la S at L = 4096, 1.47 against 1.68 for LION-S (H200, side by
  // side, docs/performance.md). 64 at d_k = 128, where 128 would leave room for two stages only.
  // LINSCOPE_LA_PAR_KEYS=64|128 forces one at d_k = 64 (measuring).
  static const int forced_keys = [] {
    const char* e = std::getenv("LINSCOPE_LA_PAR_KEYS");
    const std::string v = e ? e : "";
    return v == "64" ? 64 : v == "128" ? 128 : 0;
  }();
  const int keys = forced_keys ? forced_keys : 128;
  auto go = [&](auto kt, auto nk) {
    constexpr int KT = decltype(kt)::value, NK = decltype(nk)::value;
    const bool wide = d.Dv > 64;
    if (bidirectional) {
      wide ? launch<KT, 128, NK, true>(q16, k16, v16, A, y, d, normalize, s)
           : launch<KT, 64, NK, true>(q16, k16, v16, A, y, d, normalize, s);
    } else {
      wide ? launch<KT, 128, NK, false>(q16, k16, v16, A, y, d, normalize, s)
           : launch<KT, 64, NK, false>(q16, k16, v16, A, y, d, normalize, s);
    }
  };
  using K64 = std::integral_constant<int, 64>;
  using K128 = std::integral_constant<int, 128>;
  if (d.Dk == 128)
    go(std::integral_constant<int, 8>{}, K64{});
  else
    keys == 128 ? go(std::integral_constant<int, 4>{}, K128{})
                : go(std::integral_constant<int, 4>{}, K64{});
}

}  // namespace linscope::gpu
