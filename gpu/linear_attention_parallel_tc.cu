// The parallel (L²) form of scalar-decay linear attention on the tensor cores: causal LIT / D / S
// (MODELS.md §1, y = (Q K^T ⊙ M) V with M_ij = exp(A_i − A_j) for j <= i) and bidirectional LION
// (MODELS.md §2, M_ij = exp(−|A_i − A_j|) over all j), with LION's row scaling C^-1 when the model
// normalizes. The CUDA twin of core/linear_attention/parallel.cpp and core/lion/parallel.cpp for
// RunOptions::bf16.
//
// The matrix is never stored: as in flash attention, a block owns kRows query rows and walks the
// key tiles, and each warp keeps its 16 rows' scores, mask and outputs in mma.sync registers
// (gpu/tc_mma.cuh gives their layout): S = Q K^T, P = S ⊙ M rounded to bf16 (the one rounding of
// an intermediate), O += P V. There is no softmax, so no running maximum and no rescaling; the
// normalizer is the row sum of the same bf16 P.
//
// The mask in log space. With a reference A_r (the block's first row), the exponent of M_ij is
//   A_i − A_j = (A_i − A_r) + (A_r − A_j),
// each part a difference taken in double (kernels.h: never a float A) and rounded to float once:
// a per-row term in registers, a per-key term staged with the key tile. For causal j <= i both
// parts are <= 0 when j <= r, so the float sum has no cancellation and a relative error of an
// ulp; the nonzero entries (exponent above −126 in base 2) are then exact to ~1e-5 relative.
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

constexpr int kWarps = 8;
constexpr int kRows = 16 * kWarps;  // query rows per block: 16 per warp
constexpr int kCols = 64;           // keys per tile
constexpr int kPad = 8;             // 16 bytes per shared row: ldmatrix's 8 rows hit 8 bank groups
constexpr float kLog2e = 1.4426950408889634f;

template <int KT, int VT>
struct ParallelLayout {
  static constexpr int DK = KT * 16, LDK = DK + kPad, LDV = VT + kPad;
  static constexpr size_t q_elems = size_t(kRows) * LDK;
  static constexpr size_t k_elems = size_t(kCols) * LDK;  // per buffer
  static constexpr size_t v_elems = size_t(kCols) * LDV;  // per buffer
  static constexpr size_t bytes =
      sizeof(bf16) * (q_elems + 2 * k_elems + 2 * v_elems) + sizeof(float) * 2 * kCols;
};

// One block: kRows query rows of one head, VT value columns from c0. Causal blocks see the key
// tiles up to their last row, bidirectional ones all of them.
template <int KT, int VT, bool BIDIR>
__global__ void __launch_bounds__(kWarps * 32, 2)
    la_parallel_tc_kernel(const bf16* __restrict__ q, const bf16* __restrict__ k,
                          const bf16* __restrict__ v, const double* __restrict__ A,
                          float* __restrict__ y, int L, int Dv, bool normalize, int row_blocks) {
  using Lay = ParallelLayout<KT, VT>;
  constexpr int DK = Lay::DK, LDK = Lay::LDK, LDV = Lay::LDV;
  extern __shared__ __align__(16) unsigned char smem[];
  bf16* sQ = reinterpret_cast<bf16*>(smem);
  bf16* sK = sQ + Lay::q_elems;
  bf16* sV = sK + 2 * Lay::k_elems;
  float* sB = reinterpret_cast<float*>(sV + 2 * Lay::v_elems);  // per-key exponents, 2 buffers

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
  // per-key exponents (A_r − A_j) log2 e from a value of A fetched one tile ahead (a_next).
  auto load_tile = [&](int t, int b) {
    const int j0 = t * kCols;
    bf16* dk = sK + b * Lay::k_elems;
    bf16* dv = sV + b * Lay::v_elems;
    for (int c = tid; c < kCols * (DK / 8); c += kWarps * 32) {
      const int r = c / (DK / 8), x = (c % (DK / 8)) * 8, j = j0 + r;
      cp_async16(dk + r * LDK + x, j < L ? kh + j * DK + x : kh, j < L);
    }
    for (int c = tid; c < kCols * (VT / 8); c += kWarps * 32) {
      const int r = c / (VT / 8), x = (c % (VT / 8)) * 8, j = j0 + r;
      const bool ok = j < L && c0 + x < Dv;
      cp_async16(dv + r * LDV + x, ok ? vh + j * Dv + c0 + x : vh, ok);
    }
  };
  double a_next = 0.0;  // A of key tid in the tile after the one being staged
  auto stage_exponents = [&](int t, int b) {
    if (tid >= kCols) return;
    const int j = t * kCols + tid;
    sB[b * kCols + tid] = j < L ? static_cast<float>(A_ref - a_next) * kLog2e : 0.f;
    const int jn = j + kCols;
    a_next = jn < L ? Ah[jn] : 0.0;
  };

  for (int c = tid; c < kRows * (DK / 8); c += kWarps * 32) {
    const int r = c / (DK / 8), x = (c % (DK / 8)) * 8, i = row0 + r;
    cp_async16(sQ + r * LDK + x, i < L ? qh + i * DK + x : qh, i < L);
  }
  load_tile(0, 0);
  cp_async_commit();
  if (tid < kCols) a_next = tid < L ? Ah[tid] : 0.0;
  stage_exponents(0, 0);

  // This lane's rows (g and g + 8 of the warp's 16) and their exponents (A_i − A_r) log2 e.
  const int g = lane >> 2, cq = 2 * (lane & 3);
  const int wr0 = row0 + 16 * warp;
  const int i0 = wr0 + g, i1 = i0 + 8;
  const float ra0 = i0 < L ? static_cast<float>(Ah[i0] - A_ref) * kLog2e : 0.f;
  const float ra1 = i1 < L ? static_cast<float>(Ah[i1] - A_ref) * kLog2e : 0.f;

  // ldmatrix row addresses of this lane (gpu/tc_mma.cuh: lanes 8m..8m+7 address matrix m).
  const int m8 = lane & 7, mlo = (lane >> 3) & 1, mhi = lane >> 4;
  const unsigned q_addr = shared_address(sQ + (16 * warp + m8 + 8 * mlo) * LDK + 8 * mhi);
  const unsigned k_addr0 = shared_address(sK + (8 * mhi + m8) * LDK + 8 * mlo);
  const unsigned v_addr0 = shared_address(sV + (8 * mlo + m8) * LDV + 8 * mhi);

  float o[VT / 8][4] = {};
  float den0 = 0.f, den1 = 0.f;

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
    const bool active = wr0 < L && (BIDIR || j0 <= wr0 + 15);
    if (active) {
      // S = Q K^T for 16 rows x 64 keys: 8 accumulators of 16 x 8.
      float s[8][4] = {};
      const unsigned k_addr = k_addr0 + b * unsigned(sizeof(bf16) * Lay::k_elems);
#pragma unroll
      for (int kk = 0; kk < KT; ++kk) {
        uint32_t a[4];
        ldmatrix_x4(a, q_addr + kk * 32);
#pragma unroll
        for (int np = 0; np < 4; ++np) {
          uint32_t bk[4];
          ldmatrix_x4(bk, k_addr + np * 16 * LDK * unsigned(sizeof(bf16)) + kk * 32);
          m16n8k16(s[2 * np], a, bk[0], bk[1]);
          m16n8k16(s[2 * np + 1], a, bk[2], bk[3]);
        }
      }
      // P = S ⊙ M, rounded to bf16 as the A operand of P V (and summed for the normalizer).
      const bool diagonal = !BIDIR && j0 + kCols - 1 > wr0;
      const float* eb = sB + b * kCols;
      uint32_t p[4][4];
#pragma unroll
      for (int n = 0; n < 8; ++n) {
        const int jl = 8 * n + cq;
        const float2 e = *reinterpret_cast<const float2*>(eb + jl);
        float x[4] = {ra0 + e.x, ra0 + e.y, ra1 + e.x, ra1 + e.y};
#pragma unroll
        for (int u = 0; u < 4; ++u) {
          float m = BIDIR ? exp2f(-fabsf(x[u])) : exp2f(x[u]);
          if (diagonal && j0 + jl + (u & 1) > (u < 2 ? i0 : i1)) m = 0.f;
          s[n][u] *= m;
        }
        const uint32_t lo = pack_bf16(s[n][0], s[n][1]), hi = pack_bf16(s[n][2], s[n][3]);
        p[n >> 1][(n & 1) * 2] = lo;
        p[n >> 1][(n & 1) * 2 + 1] = hi;
        if (normalize) {
          const float2 l2 = unpack_bf16(lo), h2 = unpack_bf16(hi);
          den0 += l2.x + l2.y;
          den1 += h2.x + h2.y;
        }
      }
      // O += P V: V's 16 x 16 blocks through ldmatrix.trans give B for two 8-column tiles.
      const unsigned v_addr = v_addr0 + b * unsigned(sizeof(bf16) * Lay::v_elems);
#pragma unroll
      for (int kk = 0; kk < 4; ++kk) {
#pragma unroll
        for (int cp = 0; cp < VT / 16; ++cp) {
          uint32_t bv[4];
          ldmatrix_x4_trans(bv, v_addr + kk * 16 * LDV * unsigned(sizeof(bf16)) + cp * 32);
          m16n8k16(o[2 * cp], p[kk], bv[0], bv[1]);
          m16n8k16(o[2 * cp + 1], p[kk], bv[2], bv[3]);
        }
      }
    }
    __syncthreads();  // buffer b is reloaded by the next iteration's prefetch
  }

  if (wr0 >= L) return;
  float s0 = 1.f, s1 = 1.f;
  if (normalize) {  // the quad's four lanes hold disjoint columns of the same two rows
    den0 += __shfl_xor_sync(0xffffffffu, den0, 1);
    den0 += __shfl_xor_sync(0xffffffffu, den0, 2);
    den1 += __shfl_xor_sync(0xffffffffu, den1, 1);
    den1 += __shfl_xor_sync(0xffffffffu, den1, 2);
    s0 = 1.f / den0;
    s1 = 1.f / den1;
  }
#pragma unroll
  for (int n = 0; n < VT / 8; ++n) {
    const int col = c0 + 8 * n + cq;
    if (col >= Dv) continue;  // Dv is a multiple of 8: both columns of the pair or neither
    if (i0 < L)
      *reinterpret_cast<float2*>(yh + static_cast<int64_t>(i0) * Dv + col) =
          make_float2(o[n][0] * s0, o[n][1] * s0);
    if (i1 < L)
      *reinterpret_cast<float2*>(yh + static_cast<int64_t>(i1) * Dv + col) =
          make_float2(o[n][2] * s1, o[n][3] * s1);
  }
}

template <int KT, int VT, bool BIDIR>
void launch(const bf16* q, const bf16* k, const bf16* v, const double* A, float* y, const Dims& d,
            bool normalize, cudaStream_t s) {
  auto kernel = la_parallel_tc_kernel<KT, VT, BIDIR>;
  const size_t smem = ParallelLayout<KT, VT>::bytes;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
        "cudaFuncSetAttribute(la_parallel_tc)");
  const int row_blocks = static_cast<int>((d.L + kRows - 1) / kRows);
  const dim3 grid(static_cast<unsigned>(d.BH), static_cast<unsigned>((d.Dv + VT - 1) / VT),
                  static_cast<unsigned>(row_blocks));
  kernel<<<grid, kWarps * 32, smem, s>>>(q, k, v, A, y, static_cast<int>(d.L),
                                         static_cast<int>(d.Dv), normalize, row_blocks);
  check_launch("la_parallel_tc");
}

}  // namespace

bool la_parallel_tc_supported(const Dims& d) {
  const bool dk = d.Dk == 16 || d.Dk == 32 || d.Dk == 64 || d.Dk == 128;
  return dk && d.Dv % 8 == 0 && d.Dv > 0 && d.L * std::max(d.Dk, d.Dv) < (int64_t{1} << 31) &&
         d.L / kRows < 65535;
}

void la_parallel_tc(const void* q, const void* k, const void* v, const double* A, float* y,
                    const Dims& d, bool bidirectional, bool normalize, cudaStream_t s) {
  if (!la_parallel_tc_supported(d))
    throw BackendError(
        "tensor-core parallel form: needs d_k in {16, 32, 64, 128}, d_v a multiple "
        "of 8 and L * d below 2^31 (got d_k = " +
        std::to_string(d.Dk) + ", d_v = " + std::to_string(d.Dv) + ", L = " + std::to_string(d.L) +
        ")");
  const auto* q16 = static_cast<const bf16*>(q);
  const auto* k16 = static_cast<const bf16*>(k);
  const auto* v16 = static_cast<const bf16*>(v);
  // 128 value columns per block keep 64 accumulator registers per lane; narrower heads take 64
  // so that no block computes Q K^T for empty columns.
  with_key_tiles(d.Dk, [&](auto kt) {
    constexpr int KT = decltype(kt)::value;
    const bool wide = d.Dv > 64;
    if (bidirectional) {
      wide ? launch<KT, 128, true>(q16, k16, v16, A, y, d, normalize, s)
           : launch<KT, 64, true>(q16, k16, v16, A, y, d, normalize, s);
    } else {
      wide ? launch<KT, 128, false>(q16, k16, v16, A, y, d, normalize, s)
           : launch<KT, 64, false>(q16, k16, v16, A, y, d, normalize, s);
    }
  });
}

}  // namespace linscope::gpu
