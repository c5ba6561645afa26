// The parallel (L²) form of scalar-decay linear attention on the tensor cores: causal LIT / D / S
// (MODELS.md §1, y = (Q K^T ⊙ M) V with M_ij = exp(A_i − A_j) for j <= i) and bidirectional LION
// (MODELS.md §2, M_ij = exp(−|A_i − A_j|) over all j), with LION's row scaling C^-1 when the model
// normalizes. The CUDA twin of core/linear_attention/parallel.cpp and core/lion/parallel.cpp for
// RunOptions::bf16. On an sm_90a build and a compute 9.0 device, la_parallel_tc hands d_k 64 and
// 128 to the warpgroup kernel (gpu/linear_attention_parallel_wgmma.cu: same algorithm, masks and
// roundings, 1.3–1.45× faster); this mma.sync kernel serves every other case.
//
// The matrix is never stored: as in flash attention, a block owns kRows query rows and walks the
// key tiles, and each warp keeps its 32 rows' scores, mask and outputs in mma.sync registers
// (gpu/tc_mma.cuh gives their layout): S = Q K^T, P = S ⊙ M rounded to bf16 (the one rounding of
// an intermediate), O += P V. There is no softmax, so no running maximum and no rescaling; the
// normalizer is the row sum of the same bf16 P (P times a column of ones, on the tensor cores).
//
// The mask in log space, around a reference A_r (the block's first row). Every exponent is a
// difference taken in double (kernels.h: never a float A) and rounded to float once.
//  - Key tiles wholly before the block's rows: M_ij = exp(A_i − A_r) · exp(A_r − A_j), a row
//    factor kept per block and a key factor staged with the tile. Wholly after them (LION):
//    exp(A_end − A_i) · exp(A_j − A_end). Every factor is <= 1, so none overflows; a factor that
//    underflows belongs to an entry below 2^-126; the product is exact to a few ulps.
//  - The tiles that meet the block's rows (at most 256 + 64 tokens around A_r): one exponential
//    per entry of (A_i − A_r) + (A_r − A_j), whose float sum is off by an ulp of terms that span
//    at most those tokens' decay, and the causal cut.
//  - No exponentials at all where the rows and the tile's keys share A_r (LIT).
#include <cuda_bf16.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"
#include "gpu/parallel_mask.cuh"
#include "gpu/tc_fragments.cuh"
#include "gpu/tc_mma.cuh"

namespace linscope::gpu {
namespace {

using bf16 = __nv_bfloat16;
using namespace tc;
using namespace tc::mma;

// Each warp owns kGroups groups of 16 query rows, so every K and V fragment it loads from shared
// memory feeds kGroups products: with one group per warp, ldmatrix traffic (36 KB per warp and
// key tile at d = 128) rather than the tensor cores bounded the kernel. A block has W = 4 or 8
// warps (la_parallel_tc chooses).
constexpr int kGroups = 2;
constexpr int kWarpRows = 16 * kGroups;  // query rows per warp
constexpr int kCols = 64;                // keys per tile
constexpr int kPad = 8;  // 16 bytes per shared row: ldmatrix's 8 rows hit 8 bank groups
// Ways of forming a tile's mask (gpu/parallel_mask.cuh); kPast and kFuture also index the key
// factors in the staged per-key data.
using mask::kExact, mask::kFuture, mask::kPast, mask::kPlain;

template <int KT, int VT, int W>
struct ParallelLayout {
  static constexpr int DK = KT * 16, LDK = DK + kPad, LDV = VT + kPad;
  static constexpr int kRows = kWarpRows * W;  // query rows per block
  static constexpr size_t q_elems = size_t(kRows) * LDK;
  static constexpr size_t k_elems = size_t(kCols) * LDK;  // per buffer
  static constexpr size_t v_elems = size_t(kCols) * LDV;  // per buffer
  static constexpr size_t bytes =
      sizeof(bf16) * (q_elems + 2 * k_elems + 2 * v_elems) + sizeof(float) * 2 * 3 * kCols;
};

// One block: kRows query rows of one head, VT value columns from c0. Causal blocks see the key
// tiles up to their last row, bidirectional ones all of them.
template <int KT, int VT, bool BIDIR, int W>
__global__ void __launch_bounds__(W * 32, W == 4 ? 2 : 1)
    la_parallel_tc_kernel(const bf16* __restrict__ q, const bf16* __restrict__ k,
                          const bf16* __restrict__ v, const double* __restrict__ A,
                          float* __restrict__ y, int L, int Dv, bool normalize, int row_blocks) {
  using Lay = ParallelLayout<KT, VT, W>;
  constexpr int DK = Lay::DK, LDK = Lay::LDK, LDV = Lay::LDV, G = kGroups;
  constexpr int kThreads = W * 32, kRows = Lay::kRows;
  extern __shared__ __align__(16) unsigned char smem[];
  bf16* sQ = reinterpret_cast<bf16*>(smem);
  bf16* sK = sQ + Lay::q_elems;
  bf16* sV = sK + 2 * Lay::k_elems;
  // Per buffer and key: the exponent (A_r − A_j) log2 e, and the key's factors of the mask for
  // tiles wholly before or after the block's rows (kPast, kFuture below).
  float* sB = reinterpret_cast<float*>(sV + 2 * Lay::v_elems);
  // Per buffer, one word per staging warp: whether any of its keys' exponents is nonzero. A block
  // whose rows and keys all share A_r (LIT: every log λ zero) then skips the exponentials.
  __shared__ int s_decayed[2][kCols / 32];

  const int head = blockIdx.x, c0 = blockIdx.y * VT;
  // Causal blocks differ in work (row block b sees b + 1 tiles' worth): the heaviest go first.
  const int rb = BIDIR ? blockIdx.z : row_blocks - 1 - blockIdx.z;
  const int row0 = rb * kRows;
  const bf16* qh = q + static_cast<int64_t>(head) * L * DK;
  const bf16* kh = k + static_cast<int64_t>(head) * L * DK;
  const bf16* vh = v + static_cast<int64_t>(head) * L * Dv;
  const double* Ah = A + static_cast<int64_t>(head) * L;
  float* yh = y + static_cast<int64_t>(head) * L * Dv;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const double A_ref = Ah[row0];

  const int last_key = BIDIR ? L : min(L, row0 + kRows);
  const int tiles = (last_key + kCols - 1) / kCols;

  // Loads of key tile t into buffer b: K and V rows by 16-byte copies (zero past L and d_v), the
  // per-key exponents (A_r − A_j) log2 e from a value of A fetched one tile ahead (a_next). A
  // thread copies the same 16 bytes of every KROWS-th (VROWS-th) row, so its offsets are fixed
  // once here and each pass only steps a row.
  constexpr int KC = DK / 8, KROWS = kThreads / KC, VC = VT / 8, VROWS = kThreads / VC;
  static_assert(kThreads % KC == 0 && kThreads % VC == 0 &&
                    (kCols % KROWS == 0 || KROWS % kCols == 0) && kCols % VROWS == 0 &&
                    kRows % KROWS == 0,
                "copy slots tile the rows");
  const int kr = tid / KC, kx = (tid % KC) * 8, vr = tid / VC, vx = (tid % VC) * 8;
  const bool v_col_ok = c0 + vx < Dv;
  const bf16* k_src = kh + kr * DK + kx;
  const bf16* v_src = vh + vr * Dv + c0 + vx;
  bf16* const k_dst = sK + kr * LDK + kx;
  bf16* const v_dst = sV + vr * LDV + vx;
  auto load_tile = [&](int t, int b) {
    const int j0 = t * kCols;
#pragma unroll
    for (int r = 0; r < kCols; r += KROWS) {
      if (KROWS > kCols && kr >= kCols) break;  // more copy slots than a tile has rows
      const bool ok = j0 + kr + r < L;
      cp_async16(k_dst + b * Lay::k_elems + r * LDK, ok ? k_src + (j0 + r) * DK : kh, ok);
    }
#pragma unroll
    for (int r = 0; r < kCols; r += VROWS) {
      const bool ok = v_col_ok && j0 + vr + r < L;
      cp_async16(v_dst + b * Lay::v_elems + r * LDV, ok ? v_src + (j0 + r) * Dv : vh, ok);
    }
  };
  double a_next = 0.0;  // A of key tid in the tile after the one being staged
  const int last_row = min(row0 + kRows, L) - 1;
  const double A_end = Ah[last_row];
  auto stage_exponents = [&](int t, int b) {
    if (tid >= kCols) return;  // whole warps: kCols is a multiple of 32
    const int j = t * kCols + tid;
    const float e = j < L ? static_cast<float>(A_ref - a_next) * kLog2e : 0.f;
    float* eb = sB + b * 3 * kCols;
    eb[tid] = e;
    eb[kPast * kCols + tid] = exp2_ftz(e);
    if (BIDIR)
      eb[kFuture * kCols + tid] =
          j < L ? exp2_ftz(static_cast<float>(a_next - A_end) * kLog2e) : 0.f;
    const unsigned nonzero = __ballot_sync(0xffffffffu, e != 0.f);
    if (lane == 0) s_decayed[b][warp] = nonzero != 0;
    const int jn = j + kCols;
    a_next = jn < L ? Ah[jn] : 0.0;
  };

#pragma unroll
  for (int r = 0; r < kRows; r += KROWS) {
    const int i = row0 + kr + r;
    cp_async16(sQ + (kr + r) * LDK + kx, i < L ? qh + i * DK + kx : qh, i < L);
  }
  load_tile(0, 0);
  cp_async_commit();
  if (tid < kCols) a_next = tid < L ? Ah[tid] : 0.0;
  stage_exponents(0, 0);

  // This lane's rows, g and g + 8 of each of the warp's groups, and their exponents
  // (A_i − A_r) log2 e.
  const int g = lane >> 2, cq = 2 * (lane & 3);
  const int wr0 = row0 + 16 * G * warp;
  int rows[G][2];
  float ra[G][2];
#pragma unroll
  for (int gi = 0; gi < G; ++gi)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int i = wr0 + 16 * gi + 8 * h + g;
      rows[gi][h] = i;
      ra[gi][h] = i < L ? static_cast<float>(Ah[i] - A_ref) * kLog2e : 0.f;
    }
  // The rows' factors of the mask on tiles wholly before the block (exp(A_i − A_r), times the
  // key's exp(A_r − A_j)) and wholly after it (exp(A_end − A_i), times exp(A_j − A_end)): every
  // factor is at most 1, so neither overflows, and one that underflows belongs to an entry
  // below 2^-126 itself. Two multiplies per entry instead of an exponential.
  float f_past[G][2], f_future[G][2];
#pragma unroll
  for (int gi = 0; gi < G; ++gi)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int i = min(rows[gi][h], L - 1);
      f_past[gi][h] = exp2_ftz(ra[gi][h]);
      f_future[gi][h] = BIDIR ? exp2_ftz(static_cast<float>(A_end - Ah[i]) * kLog2e) : 0.f;
    }
  bool rows_decayed = false;
#pragma unroll
  for (int gi = 0; gi < G; ++gi) rows_decayed |= ra[gi][0] != 0.f || ra[gi][1] != 0.f;
  rows_decayed = __syncthreads_or(rows_decayed);

  // ldmatrix row addresses of this lane (gpu/tc_mma.cuh: lanes 8m..8m+7 address matrix m).
  const int m8 = lane & 7, mlo = (lane >> 3) & 1, mhi = lane >> 4;
  const unsigned q_addr = shared_address(sQ + (16 * G * warp + m8 + 8 * mlo) * LDK + 8 * mhi);
  const unsigned k_addr0 = shared_address(sK + (8 * mhi + m8) * LDK + 8 * mlo);
  const unsigned v_addr0 = shared_address(sV + (8 * mlo + m8) * LDV + 8 * mhi);
  constexpr unsigned kGroupBytes = 16 * LDK * sizeof(bf16);

  float o[G][VT / 8][4] = {};
  float den[G][4] = {};  // row sums of P from the tensor cores: [0] row g, [2] row g + 8
  // Tiles wholly before the block share each row's factor exp(A_i − A_r): their P carries only
  // the key's, and the sums so far take the row's once, before the warp's first other tile.
  bool rows_applied = false;
  auto apply_row_factors = [&] {
    if (rows_applied) return;
    rows_applied = true;
#pragma unroll
    for (int gi = 0; gi < G; ++gi) {
#pragma unroll
      for (int n = 0; n < VT / 8; ++n)
#pragma unroll
        for (int u = 0; u < 4; ++u) o[gi][n][u] *= f_past[gi][u >> 1];
#pragma unroll
      for (int u = 0; u < 4; ++u) den[gi][u] *= f_past[gi][u >> 1];
    }
  };

  for (int t = 0; t < tiles; ++t) {
    const int b = t & 1;
    if (t + 1 < tiles) {
      load_tile(t + 1, b ^ 1);
      stage_exponents(t + 1, b ^ 1);
    }
    cp_async_commit();
    asm volatile("cp.async.wait_group 1;\n" ::: "memory");  // Q and tile t have landed
    __syncthreads();

    const int j0 = t * kCols;
    const bool active = wr0 < L && (BIDIR || j0 <= wr0 + 16 * G - 1);
    const bool past = j0 + kCols <= row0, future = BIDIR && j0 >= row0 + kRows;
    if (active) {
      if (!past) apply_row_factors();
      // S = Q K^T for each group's 16 rows x 64 keys: 8 accumulators of 16 x 8 per group, every
      // K fragment used by all groups.
      float s[G][8][4];
      const unsigned k_addr = k_addr0 + b * unsigned(sizeof(bf16) * Lay::k_elems);
#pragma unroll
      for (int kk = 0; kk < KT; ++kk) {
        uint32_t a[G][4];
#pragma unroll
        for (int gi = 0; gi < G; ++gi) ldmatrix_x4(a[gi], q_addr + gi * kGroupBytes + kk * 32);
#pragma unroll
        for (int np = 0; np < 4; ++np) {
          uint32_t bk[4];
          ldmatrix_x4(bk, k_addr + np * 16 * LDK * unsigned(sizeof(bf16)) + kk * 32);
#pragma unroll
          for (int gi = 0; gi < G; ++gi) {
            m16n8k16(s[gi][2 * np], a[gi], bk[0], bk[1], kk == 0);
            m16n8k16(s[gi][2 * np + 1], a[gi], bk[2], bk[3], kk == 0);
          }
        }
      }
      // P = S ⊙ M, rounded to bf16 as the A operand of P V (and, times a column of ones, the
      // normalizer's row sums of the same rounded P).
      const float* eb = sB + b * 3 * kCols;
      uint32_t p[G][4][4];
      // How the tile's mask entries are formed (block-uniform). On tiles before or after all of
      // the block's rows: not at all (no decay) or as the product of a row and a key factor. On
      // the tiles that meet the block's rows: one exponential each, and the causal cut.
      auto mask = [&](auto mode_tag) {
        constexpr int mode = decltype(mode_tag)::value;
#pragma unroll
        for (int gi = 0; gi < G; ++gi) {
          const bool diagonal = !BIDIR && j0 + kCols - 1 > wr0 + 16 * gi;
#pragma unroll
          for (int n = 0; n < 8; ++n) {
            const int jl = 8 * n + cq;
            float2 e = make_float2(0.f, 0.f);
            if constexpr (mode != kPlain)
              e = *reinterpret_cast<const float2*>(eb + (mode == kExact ? 0 : mode * kCols) + jl);
#pragma unroll
            for (int u = 0; u < 4; ++u) {
              // (kPast: the row's factor comes in apply_row_factors)
              const float row_factor = mode == kFuture ? f_future[gi][u >> 1] : 1.f;
              const bool cut = diagonal && j0 + jl + (u & 1) > rows[gi][u >> 1];
              s[gi][n][u] *=
                  mask::entry<mode, BIDIR>(ra[gi][u >> 1], (u & 1) ? e.y : e.x, row_factor, cut);
            }
            p[gi][n >> 1][(n & 1) * 2] = pack_bf16(s[gi][n][0], s[gi][n][1]);
            p[gi][n >> 1][(n & 1) * 2 + 1] = pack_bf16(s[gi][n][2], s[gi][n][3]);
          }
          if (normalize) {
#pragma unroll
            for (int kk = 0; kk < 4; ++kk) m16n8k16(den[gi], p[gi][kk], kOnesBf16x2, kOnesBf16x2);
          }
        }
      };
      bool tile_decayed = rows_decayed;
#pragma unroll
      for (int w = 0; w < kCols / 32; ++w) tile_decayed |= s_decayed[b][w] != 0;
      if (!tile_decayed && (past || future))
        mask(std::integral_constant<int, kPlain>{});
      else if (past)
        mask(std::integral_constant<int, kPast>{});
      else if (future)
        mask(std::integral_constant<int, kFuture>{});
      else  // (with no decay every exponent is 0: M = 1 below the diagonal, 0 above)
        mask(std::integral_constant<int, kExact>{});
      // O += P V.
      accumulate_pv(o, p, v_addr0 + b * unsigned(sizeof(bf16) * Lay::v_elems),
                    LDV * unsigned(sizeof(bf16)));
    }
    __syncthreads();  // buffer b is reloaded by the next iteration's prefetch
  }

  if (wr0 >= L) return;
  apply_row_factors();  // (a walk of past tiles only has none left to do it)
#pragma unroll
  for (int gi = 0; gi < G; ++gi) {
    float scale[2] = {1.f, 1.f};
    if (normalize) {
      scale[0] = 1.f / den[gi][0];
      scale[1] = 1.f / den[gi][2];
    }
#pragma unroll
    for (int n = 0; n < VT / 8; ++n) {
      const int col = c0 + 8 * n + cq;
      if (col >= Dv) continue;  // Dv is a multiple of 8: both columns of the pair or neither
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int i = rows[gi][h];
        if (i < L)
          *reinterpret_cast<float2*>(yh + static_cast<int64_t>(i) * Dv + col) =
              make_float2(o[gi][n][2 * h] * scale[h], o[gi][n][2 * h + 1] * scale[h]);
      }
    }
  }
}

template <int KT, int VT, bool BIDIR, int W>
void launch(const bf16* q, const bf16* k, const bf16* v, const double* A, float* y, const Dims& d,
            bool normalize, cudaStream_t s) {
  using Lay = ParallelLayout<KT, VT, W>;
  auto kernel = la_parallel_tc_kernel<KT, VT, BIDIR, W>;
  const size_t smem = Lay::bytes;
  constexpr int kRows = Lay::kRows;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
        "cudaFuncSetAttribute(la_parallel_tc)");
  const int row_blocks = static_cast<int>((d.L + kRows - 1) / kRows);
  const dim3 grid(static_cast<unsigned>(d.BH), static_cast<unsigned>((d.Dv + VT - 1) / VT),
                  static_cast<unsigned>(row_blocks));
  kernel<<<grid, W * 32, smem, s>>>(q, k, v, A, y, static_cast<int>(d.L), static_cast<int>(d.Dv),
                                    normalize, row_blocks);
  check_launch("la_parallel_tc");
}

// Eight warps (256 rows) share each K and V tile where that pays, four (128 rows) elsewhere.
// Measured on the H200 in one call (docs/performance.md): eight take 7 % off LION at d = 128
// (3.45 -> 3.22 ms at L = 4096) and 4 % at d = 64, 8 % off the causal form at d = 128 and
// L = 16384 (26.0 -> 24.1 ms), and tie it at L = 4096; but the causal form at d = 64, L = 4096
// lost 8 % (0.87 -> 0.94 ms): there a 256-row block idles more of its warps on the tiles that
// cross its rows, against less work per tile. LINSCOPE_LA_PAR_WARPS=4|8 forces one (measuring).
int warps_per_block(const Dims& d, bool bidirectional) {
  static const int forced = [] {
    const char* e = std::getenv("LINSCOPE_LA_PAR_WARPS");
    const std::string v = e ? e : "";
    return v == "4" ? 4 : v == "8" ? 8 : 0;
  }();
  if (forced) return forced;
  return bidirectional || d.Dk == 128 ? 8 : 4;
}

}  // namespace

bool la_parallel_tc_supported(const Dims& d) {
  const bool dk = d.Dk == 16 || d.Dk == 32 || d.Dk == 64 || d.Dk == 128;
  return dk && d.Dv % 8 == 0 && d.Dv > 0 && d.L * std::max(d.Dk, d.Dv) < (int64_t{1} << 31) &&
         d.L / (4 * kWarpRows) < 65535;
}

void la_parallel_tc(const void* q, const void* k, const void* v, const double* A, float* y,
                    const Dims& d, bool bidirectional, bool normalize, cudaStream_t s) {
  if (!la_parallel_tc_supported(d))
    throw BackendError(
        "tensor-core parallel form: needs d_k in {16, 32, 64, 128}, d_v a multiple "
        "of 8 and L * d below 2^31 (got d_k = " +
        std::to_string(d.Dk) + ", d_v = " + std::to_string(d.Dv) + ", L = " + std::to_string(d.L) +
        ")");
  // The tensor copies of the warpgroup kernel need 16-byte aligned tensors (cudaMalloc gives
  // 256; a view into a larger buffer may not).
  const bool aligned = ((reinterpret_cast<uintptr_t>(q) | reinterpret_cast<uintptr_t>(k) |
                         reinterpret_cast<uintptr_t>(v)) &
                        15) == 0;
  if (aligned && la_parallel_wgmma_supported(d)) {
    la_parallel_wgmma(q, k, v, A, y, d, bidirectional, normalize, s);
    return;
  }
  const auto* q16 = static_cast<const bf16*>(q);
  const auto* k16 = static_cast<const bf16*>(k);
  const auto* v16 = static_cast<const bf16*>(v);
  // 128 value columns per block keep 64 accumulator registers per lane; narrower heads take 64
  // so that no block computes Q K^T for empty columns.
  with_key_tiles(d.Dk, [&](auto kt) {
    constexpr int KT = decltype(kt)::value;
    auto go = [&](auto w) {
      constexpr int W = decltype(w)::value;
      const bool wide = d.Dv > 64;
      if (bidirectional) {
        wide ? launch<KT, 128, true, W>(q16, k16, v16, A, y, d, normalize, s)
             : launch<KT, 64, true, W>(q16, k16, v16, A, y, d, normalize, s);
      } else {
        wide ? launch<KT, 128, false, W>(q16, k16, v16, A, y, d, normalize, s)
             : launch<KT, 64, false, W>(q16, k16, v16, A, y, d, normalize, s);
      }
    };
    if (warps_per_block(d, bidirectional) == 8)
      go(std::integral_constant<int, 8>{});
    else
      go(std::integral_constant<int, 4>{});
  });
}

}  // namespace linscope::gpu
