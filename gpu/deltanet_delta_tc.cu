// DeltaNet's corrected values Δ on the tensor cores (mma.sync, the state in registers): the pass
// that DeltaNet's parallel form runs between the UT transform (gpu/deltanet_ut_tc.cu) and the L²
// product (gpu/linear_attention_parallel_tc.cu). CPU twin: the chunk loop of
// core/deltanet/chunkwise.cpp, which forms the same Ũ.
//
// Per chunk of C tokens with entering state S (d_k x d_v) and W = T K, U = T V from the UT
// transform (MODELS.md §4; Yang et al. 2024, §3):
//   Ũ = U − W S   (the delta rule's δ_t = β_t (v_t − S_{t−1}^T k_t) of the chunk's tokens),
//   S ← S + K^T Ũ.
// deltanet_state_tc_kernel in gpu/deltanet_tc.cu does the same with WMMA, through shared memory,
// next to the chunkwise outputs; Nsight Compute put it at 13 % of the parallel form at L = 4096,
// d = 128 (docs/performance.md). Here S lives in mma.sync accumulators, and only its bf16 copy,
// the B operand of W S, goes through shared memory: 254 against 378 µs for that pass at the
// profiler's clocks (L = 4096, d = 128, B H = 128). That is still about 4 µs a chunk, the latency
// of its two dependent phases rather than bytes (DRAM 0.53 GB, L2 1.4 GB in those 254 µs). One
// block for all 128 value columns (W and K read once; 170 registers, one block an SM) took
// 227 µs in the profiler but was no faster in the forward call.
//
// Block: one head and VT value columns, 8 warps, walking the chunks in order.
//   phase 1, warp w: Ũ's rows 16 (w % 4) .. + 15 and columns VT/2 (w / 4) .. of them, over d_k;
//   phase 2, warp w: S's rows and columns of its tile (d_k = 128: rows 16 w and all VT columns;
//            d_k = 64: rows 16 (w % 4) and half the columns), over the chunk's 64 keys.
// W, U and K of the next chunk are loaded (two buffers) while this one is computed (one buffer,
// each part loaded under the other phase: 263 µs); Ũ is written over U's buffer. Two barriers a
// chunk.
// Rounded to bf16, as in the WMMA pass (tests/gpu/test_deltanet.cpp states the bound): W, U and
// K (stored so), S's copy that enters W S, and Ũ (stored so, as Δ); S accumulates in fp32.
// Chunks shorter than 64 tokens (C = 16 .. 48 for short sequences, and the last chunk) are
// padded with zero rows of W, U and K, which add nothing.
#include <cuda_bf16.h>

#include <algorithm>

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
constexpr int kThreads = 32 * kWarps;
constexpr int kRows = 64;  // tokens a chunk tile holds (C <= 64)
constexpr int kPad = 8;    // 16 bytes per shared row: ldmatrix's 8 rows hit 8 bank groups

template <int DK, int VT>
struct DeltaLayout {
  static constexpr int LDK = DK + kPad, LDV = VT + kPad;
  // Phase 1: 8-column tiles of a warp's half of Ũ's columns. Phase 2: a warp's S tile.
  static constexpr int NT1 = VT / 16;
  static constexpr int SR = DK / 16;       // S's 16-row blocks
  static constexpr int SC = kWarps / SR;   // warps sharing one: column groups
  static constexpr int NT2 = VT / 8 / SC;  // 8-column tiles per warp
  static_assert(SR * SC == kWarps && NT2 % 2 == 0 && NT1 % 2 == 0, "warp tiles");
  // Byte offsets: per buffer W, K [kRows][LDK] and U, then Ũ, [kRows][LDV]; S's bf16 copy
  // [DK][LDV]. 104 KB at d_k = 128, VT = 64: two blocks an SM.
  static constexpr size_t w = 0;
  static constexpr size_t k = w + sizeof(bf16) * kRows * LDK;
  static constexpr size_t u = k + sizeof(bf16) * kRows * LDK;
  static constexpr size_t buf = u + sizeof(bf16) * kRows * LDV;  // bytes per buffer
  static constexpr size_t s = 2 * buf;
  static constexpr size_t bytes = s + sizeof(bf16) * DK * LDV;
  static_assert(buf % 16 == 0, "16-byte aligned buffers");
};

// Grid: x = value tile, y = head. k, w [BH, L, DK] and u [BH, L, Dv] bf16; Ũ is written over u,
// each chunk's rows after they were read.
template <int DK, int VT>
__global__ void __launch_bounds__(kThreads, 2)
    deltanet_delta_tc_kernel(const bf16* __restrict__ k, const bf16* __restrict__ w, bf16* u, int L,
                             int Dv, int C) {
  using Lay = DeltaLayout<DK, VT>;
  constexpr int LDK = Lay::LDK, LDV = Lay::LDV, NT1 = Lay::NT1, SC = Lay::SC, NT2 = Lay::NT2;
  extern __shared__ __align__(16) unsigned char smem[];
  bf16* sW = reinterpret_cast<bf16*>(smem + Lay::w);  // buffer b: + b Lay::buf bytes
  bf16* sK = reinterpret_cast<bf16*>(smem + Lay::k);
  bf16* sU = reinterpret_cast<bf16*>(smem + Lay::u);  // U, then Ũ
  bf16* sS = reinterpret_cast<bf16*>(smem + Lay::s);
  constexpr int kBuf = static_cast<int>(Lay::buf / sizeof(bf16));  // elements per buffer

  const int head = blockIdx.y, c0 = blockIdx.x * VT;
  const bf16* kh = k + static_cast<int64_t>(head) * L * DK;
  const bf16* wh = w + static_cast<int64_t>(head) * L * DK;
  bf16* uh = u + static_cast<int64_t>(head) * L * Dv;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int chunks = (L + C - 1) / C;
  auto rows = [&](int n) { return min(C, L - n * C); };

  // Copy slots: a thread moves the same 16 bytes of every KR-th row of W and K, and of every
  // VR-th row of U (Dv % 8 == 0: a 16-byte vector is wholly inside or outside [0, Dv)).
  constexpr int KC = DK / 8, KR = kThreads / KC, VC = VT / 8, VR = kThreads / VC;
  static_assert(kThreads % KC == 0 && kRows % KR == 0 && kThreads % VC == 0 && kRows % VR == 0,
                "copy slots tile the rows");
  const int kr = tid / KC, kx = (tid % KC) * 8, vr = tid / VC, vx = (tid % VC) * 8;
  const bool v_col_ok = c0 + vx < Dv;
  auto load = [&](int n, int b) {  // chunk n into buffer b, as one group
    const int j0 = n * C, cn = rows(n), o = b * kBuf;
#pragma unroll
    for (int r = 0; r < kRows; r += KR) {
      const bool ok = kr + r < cn;
      const int off = ok ? (j0 + kr + r) * DK + kx : 0;
      cp_async16(sW + o + (kr + r) * LDK + kx, wh + off, ok);
      cp_async16(sK + o + (kr + r) * LDK + kx, kh + off, ok);
    }
#pragma unroll
    for (int r = 0; r < kRows; r += VR) {
      const bool ok = v_col_ok && vr + r < cn;
      cp_async16(sU + o + (vr + r) * LDV + vx, ok ? uh + (j0 + vr + r) * Dv + c0 + vx : uh, ok);
    }
    cp_async_commit();
  };

  const int g = lane >> 2, cq = 2 * (lane & 3);
  const int m8 = lane & 7, mlo = (lane >> 3) & 1, mhi = lane >> 4;
  // Phase 1 tile: rows 16 rg, columns h1 .. h1 + VT/2 - 1.
  const int rg = warp & 3, h1 = (warp >> 2) * (VT / 2);
  // Phase 2 tile: S rows 16 sr, columns h2 .. h2 + 8 NT2 - 1.
  const int sr = warp / SC, h2 = (warp % SC) * 8 * NT2;
  // ldmatrix addresses (gpu/tc_mma.cuh: lanes 8m .. 8m + 7 address matrix m): W as A; S's copy
  // and Ũ as B through .trans; K^T as A through .trans (the same addresses as K as B).
  const unsigned w_addr = shared_address(sW + (16 * rg + m8 + 8 * mlo) * LDK + 8 * mhi);
  const unsigned s_addr = shared_address(sS + (8 * mlo + m8) * LDV + 8 * mhi + h1);
  const unsigned k_addr = shared_address(sK + (8 * mhi + m8) * LDK + 8 * mlo + 16 * sr);
  const unsigned ut_addr = shared_address(sU + (8 * mlo + m8) * LDV + 8 * mhi + h2);
  constexpr unsigned kRowK = sizeof(bf16) * LDK, kRowV = sizeof(bf16) * LDV;
  constexpr unsigned kBufBytes = static_cast<unsigned>(Lay::buf);

  float st[NT2][4] = {};  // S's tile (fp32)
  for (int e = tid; e < DK * LDV / 2; e += kThreads) reinterpret_cast<uint32_t*>(sS)[e] = 0u;
  load(0, 0);

  for (int n = 0; n < chunks; ++n) {
    const int b = n & 1, j0 = n * C, cn = rows(n);
    cp_async_wait_all();
    __syncthreads();  // chunk n landed; S's copy complete; buffer b ^ 1 read
    if (n + 1 < chunks) load(n + 1, b ^ 1);
    const unsigned bo = b * kBufBytes;
    bf16* const sUb = sU + b * kBuf;
    // ---- phase 1: Ũ = U − W S for the warp's tile, over U (each element read and written by
    // the same lane).
    float x[NT1][4];
#pragma unroll
    for (int kk = 0; kk < DK / 16; ++kk) {
      uint32_t a[4];
      ldmatrix_x4(a, w_addr + bo + kk * 32);
#pragma unroll
      for (int cp = 0; cp < NT1 / 2; ++cp) {
        uint32_t bs[4];
        ldmatrix_x4_trans(bs, s_addr + kk * 16 * kRowV + cp * 32);
        m16n8k16(x[2 * cp], a, bs[0], bs[1], kk == 0);
        m16n8k16(x[2 * cp + 1], a, bs[2], bs[3], kk == 0);
      }
    }
#pragma unroll
    for (int nt = 0; nt < NT1; ++nt) {
      const int col = h1 + 8 * nt + cq;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        uint32_t* e = reinterpret_cast<uint32_t*>(sUb + (16 * rg + 8 * h + g) * LDV + col);
        const float2 uu = unpack_bf16(*e);
        *e = pack_bf16(uu.x - x[nt][2 * h], uu.y - x[nt][2 * h + 1]);
      }
    }
    __syncthreads();  // Ũ complete; S's copy read

    // Δ's rows of this chunk over U's (which are in shared memory already).
#pragma unroll
    for (int r = 0; r < kRows; r += VR) {
      if (v_col_ok && vr + r < cn)
        *reinterpret_cast<uint4*>(uh + static_cast<int64_t>(j0 + vr + r) * Dv + c0 + vx) =
            *reinterpret_cast<const uint4*>(sUb + (vr + r) * LDV + vx);
    }
    // ---- phase 2: S += K^T Ũ, and S's bf16 copy for the next chunk.
#pragma unroll
    for (int kk = 0; kk < kRows / 16; ++kk) {
      uint32_t a[4];
      ldmatrix_x4_trans(a, k_addr + bo + kk * 16 * kRowK);
#pragma unroll
      for (int cp = 0; cp < NT2 / 2; ++cp) {
        uint32_t bs[4];
        ldmatrix_x4_trans(bs, ut_addr + bo + kk * 16 * kRowV + cp * 32);
        m16n8k16(st[2 * cp], a, bs[0], bs[1]);
        m16n8k16(st[2 * cp + 1], a, bs[2], bs[3]);
      }
    }
#pragma unroll
    for (int nt = 0; nt < NT2; ++nt) {
      const int col = h2 + 8 * nt + cq;
#pragma unroll
      for (int h = 0; h < 2; ++h)
        *reinterpret_cast<uint32_t*>(sS + (16 * sr + 8 * h + g) * LDV + col) =
            pack_bf16(st[nt][2 * h], st[nt][2 * h + 1]);
    }
  }
}

template <int DK, int VT>
void launch(const bf16* k, const bf16* w, bf16* u, const Dims& d, int C, cudaStream_t s) {
  auto* kernel = deltanet_delta_tc_kernel<DK, VT>;
  constexpr size_t smem = DeltaLayout<DK, VT>::bytes;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
        "cudaFuncSetAttribute(deltanet_delta_tc)");
  const dim3 grid(static_cast<unsigned>((d.Dv + VT - 1) / VT), static_cast<unsigned>(d.BH));
  kernel<<<grid, kThreads, smem, s>>>(k, w, u, static_cast<int>(d.L), static_cast<int>(d.Dv), C);
  check_launch("deltanet_delta_tc");
}

template <int DK>
void launch_vt(const bf16* k, const bf16* w, bf16* u, const Dims& d, int C, bool wide,
               cudaStream_t s) {
  // As the WMMA pass chooses: 64-column tiles while they still give every SM a block.
  if (wide || d.BH * ((d.Dv + 63) / 64) >= multiprocessor_count())
    launch<DK, 64>(k, w, u, d, C, s);
  else
    launch<DK, 32>(k, w, u, d, C, s);
}

}  // namespace

bool deltanet_delta_tc_supported(const Dims& d, int64_t chunk) {
  return (d.Dk == 64 || d.Dk == 128) && d.Dv % 8 == 0 && d.Dv > 0 && chunk >= 1 && chunk <= kRows &&
         d.L * std::max(d.Dk, d.Dv) < (int64_t{1} << 31) && d.BH < 65536;
}

void deltanet_delta_tc(const void* k16, const void* w16, void* u16, const Dims& d, int64_t chunk,
                       cudaStream_t s, bool beside_other_work) {
  if (!deltanet_delta_tc_supported(d, chunk))
    throw BackendError("DeltaNet Δ pass (mma.sync): needs d_k 64 or 128, d_v a multiple of 8");
  const auto* k = static_cast<const bf16*>(k16);
  const auto* w = static_cast<const bf16*>(w16);
  auto* u = static_cast<bf16*>(u16);
  const int C = static_cast<int>(chunk);
  if (d.Dk == 64)
    launch_vt<64>(k, w, u, d, C, beside_other_work, s);
  else
    launch_vt<128>(k, w, u, d, C, beside_other_work, s);
}

}  // namespace linscope::gpu
