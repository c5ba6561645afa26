// Where d_k is 64 or 128, the chunk 64 and d_v a multiple of 8, la_chunk_tc and lion_backward_tc
// run the mma.sync kernel of gpu/linear_attention_chunk_mma.cu instead (the same algorithm,
// about twice as fast: it keeps the products in registers); this one serves the other shapes.
//
// Causal linear attention with scalar decay (LIT / D / S), chunkwise form on the tensor cores:
// bf16 q, k, v, fp32 accumulation, fp32 state (MODELS.md §1, chunkwise; the structure of
// "fused chunk" kernels such as flash-linear-attention's). One block owns one head and VT value
// columns and walks the chunks in order, so the carried state S [Dk, VT] stays in the warps'
// accumulator registers and never makes the HBM round trip of the fp32 path (gpu/
// linear_attention.cu writes every chunk's state). Per chunk n of C tokens, with g_i = A_i -
// A_start (A = cumulative log decay in double, A_start = A of the token before the chunk):
//   P    = (Q K^T) ⊙ M,  M_ij = exp(A_i - A_j) for j <= i, else 0        (intra-chunk scores)
//   O    = P V + diag(exp(g)) Q S                                        (output rows)
//   S   <- exp(A_end - A_start) S + (diag(exp(A_end - A_j)) K)^T V       (state after the chunk)
// The four products run as 16x16x16 bf16 WMMA tiles. Intermediates rounded to bf16 on the way
// into a product: the masked scores P, the decayed keys, and the copy of S used by Q S (S itself
// accumulates in fp32). tests/gpu/test_linear_attention_tc.cpp derives the error bound from that.
//
// Where the time went (Nsight Compute, 2026-11-25, L = 4096, d = 128): the schedulers issued an
// instruction on 40 % of cycles with 16 warps per SM, i.e. the kernel was bound by the scalar
// instructions around the products, not by the tensor cores: every decay scaling passed through
// a shared scratch tile (store, reload, one double subtraction and exp per element), and the
// keys' decay took one exp per element (8192 per chunk). Now each accumulator element is scaled
// in registers, at the (row, column) that WMMA gave it — learned once per warp by loading a tile
// of known values (fragment_positions) — with per-row factors computed once per chunk.
#include <cuda_bf16.h>
#include <mma.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"
#include "gpu/tc_fragments.cuh"

namespace linscope::gpu {
namespace {

using bf16 = __nv_bfloat16;
using namespace tc;
constexpr int kTcWarps = 8;
constexpr int kTcMaxChunk = 64;
constexpr int kPad = 8;  // 16 bytes of padding per shared row: spreads rows over the banks

__global__ void to_bf16_kernel(const float* __restrict__ x, bf16* __restrict__ y, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = __float2bfloat16_rn(x[i]);
}

// The normalizer's state z is kept as kZParts partial vectors (z = their sum), each updated from
// its own quarter of the chunk's key rows, so the update is 16 short sums per thread, not 64.
constexpr int kZParts = 4;

template <int KT, int VT>
struct TcLayout {
  static constexpr int DK = KT * 16, LDK = DK + kPad, LDV = VT + kPad, LDP = kTcMaxChunk + kPad;
  static constexpr size_t q_off = 0;
  static constexpr size_t k_off = q_off + sizeof(bf16) * kTcMaxChunk * LDK;
  static constexpr size_t v_off = k_off + sizeof(bf16) * kTcMaxChunk * LDK;
  static constexpr size_t p_off = v_off + sizeof(bf16) * kTcMaxChunk * LDV;
  static constexpr size_t s_off = p_off + sizeof(bf16) * kTcMaxChunk * LDP;
  static constexpr size_t scratch_off = s_off + sizeof(bf16) * DK * LDV;
  static constexpr size_t a_off = scratch_off + sizeof(float) * kTcWarps * 256;
  static constexpr size_t e_off = a_off + sizeof(double) * (kTcMaxChunk + 1);
  static constexpr size_t f_off = e_off + sizeof(float) * kTcMaxChunk;
  static constexpr size_t z_off = f_off + sizeof(float) * kTcMaxChunk;
  static constexpr size_t d_off = z_off + sizeof(float) * kZParts * DK;
  // Second K and V buffers: chunk n + 1 streams in (cp.async) while chunk n computes.
  // (128-byte aligned: cp.async writes 16-byte vectors, and A's 65 doubles leave d_off at 8 mod 16)
  static constexpr size_t k2_off = (d_off + sizeof(float) * kTcMaxChunk + 127) / 128 * 128;
  static constexpr size_t v2_off = k2_off + sizeof(bf16) * kTcMaxChunk * LDK;
  static constexpr size_t bytes = v2_off + sizeof(bf16) * kTcMaxChunk * LDV;
  static_assert(k_off % 16 == 0 && v_off % 16 == 0 && k2_off % 16 == 0 && v2_off % 16 == 0 &&
                    (LDK * sizeof(bf16)) % 16 == 0 && (LDV * sizeof(bf16)) % 16 == 0,
                "cp.async and the 16-byte loads need 16-byte aligned rows");
};

// Eight bf16 (one 16-byte vector) times a float, rounded back to bf16 once.
__device__ __forceinline__ uint4 scale_bf16x8(uint4 v, float f) {
  uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int m = 0; m < 4; ++m) {
    __nv_bfloat162 h = *reinterpret_cast<__nv_bfloat162*>(&w[m]);
    const float2 x = __bfloat1622float2(h);
    h = __floats2bfloat162_rn(x.x * f, x.y * f);
    w[m] = *reinterpret_cast<uint32_t*>(&h);
  }
  return make_uint4(w[0], w[1], w[2], w[3]);
}

// Grid: x = value tile (fastest, so the tiles of one head run together and share q, k in L2),
// y = head. 8 warps. out [BH, L, Dv] (numerators; = y when the model does not normalize).
// den [BH, L] (may be null): the normalizer q_i^T z_i, z_i = Σ_{j<=i} exp(A_i − A_j) k_j, kept by
// the blocks of value tile 0 as a d_k-vector next to S. It is S's response to a value column of
// ones, but as its own column it cost a third 64-wide value tile (and unaligned rows): 9.40 ms
// against 4.83 without it at L = 16384, d = 128. Here it is two short sums per row and chunk:
// the row sums of the (bf16) masked scores P, the same P that multiplies V, and the carried
// part exp(A_i − A_start) q_i^T z_start; z <- exp(A_end − A_start) z + column sums of K~.
//
// BACK: LION's backward sweep (MODELS.md §2), fused with the combine. The kernel walks the
// reversed sequence s = L − 1 − t (A: the cumulative reverse-shifted decays) by reading q, k, v
// rows backwards, so no reversed copies exist; out holds the forward sweep's numerators F (y of
// the first launch) and den its normalizers (null: not normalized), and each output element
// becomes y_t = (F_t + B_t − P_tt v_t) / (den^F_t + den^B_t − P_tt): the diagonal, counted by
// both sweeps, is removed with the same bf16 P_tt the sweeps used. Every block then keeps z, as
// each needs den^B of its rows.
template <int KT, int VT, bool BACK>
__global__ void __launch_bounds__(kTcWarps * 32, 2)
    la_chunk_tc_kernel(const bf16* __restrict__ q, const bf16* __restrict__ k,
                       const bf16* __restrict__ v, const double* __restrict__ A,
                       float* __restrict__ out, float* __restrict__ den, int L, int Dv, int C) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using namespace nvcuda;
  using Lay = TcLayout<KT, VT>;
  constexpr int DK = Lay::DK, LDK = Lay::LDK, LDV = Lay::LDV, LDP = Lay::LDP;
  constexpr int VTT = VT / 16;  // value tiles of 16 columns
  constexpr int S_TILES = KT * VTT, S_PER_WARP = (S_TILES + kTcWarps - 1) / kTcWarps;
  constexpr int O_MAX = (kTcMaxChunk / 16) * VTT, O_PER_WARP = (O_MAX + kTcWarps - 1) / kTcWarps;
  constexpr int P_MAX = (kTcMaxChunk / 16) * (kTcMaxChunk / 16);
  constexpr int P_PER_WARP = (P_MAX + kTcWarps - 1) / kTcWarps;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* Qs = reinterpret_cast<bf16*>(smem + Lay::q_off);  // [C][LDK]
  // K [C][LDK] (decayed in place during the chunk) and V [C][LDV] alternate between two
  // buffers by chunk parity (kbuf, vbuf); Q has one, refilled once the chunk's last read of it is
  // done.
  auto kbuf = [&](int n) {
    return reinterpret_cast<bf16*>(smem + ((n & 1) ? Lay::k2_off : Lay::k_off));
  };
  auto vbuf = [&](int n) {
    return reinterpret_cast<bf16*>(smem + ((n & 1) ? Lay::v2_off : Lay::v_off));
  };
  bf16* Pb = reinterpret_cast<bf16*>(smem + Lay::p_off);  // [C][LDP] masked scores
  bf16* Sb = reinterpret_cast<bf16*>(smem + Lay::s_off);  // [DK][LDV] bf16 copy of S
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  float* scratch = reinterpret_cast<float*>(smem + Lay::scratch_off) + warp * 256;  // 16x16
  double* Ad = reinterpret_cast<double*>(smem + Lay::a_off);  // [C] chunk's A, [kMax] = A_start
  float* Es = reinterpret_cast<float*>(smem + Lay::e_off);    // [C] exp(A_i − A_start)
  float* Fs = reinterpret_cast<float*>(smem + Lay::f_off);    // [C] exp(A_end − A_j)
  float* Zs = reinterpret_cast<float*>(smem + Lay::z_off);    // [kZParts][DK] z, in parts
  float* Ds = reinterpret_cast<float*>(smem + Lay::d_off);    // [C] BACK: den^B of the chunk

  // Offsets inside a head fit in int (launch_any checks L * d < 2^31).
  const int64_t head = blockIdx.y;
  const int c0 = blockIdx.x * VT;
  const bf16* qh = q + head * L * DK;
  const bf16* kh = k + head * L * DK;
  const bf16* vh = v + head * L * Dv;
  const double* Ah = A + head * L;
  float* oh = out + head * L * Dv;
  const int CT = C / 16;
  const bf16 zero = __float2bfloat16_rn(0.f);
  const bool v_vec = Dv % 8 == 0;
  const bool normalizer = den != nullptr && (BACK || blockIdx.x == 0);  // uniform per block
  // Token of row `row` of the chunk starting at j0 (BACK: the sequence read backwards).
  auto token = [&](int j0, int row) { return BACK ? L - 1 - (j0 + row) : j0 + row; };

  const FragmentPositions pos = fragment_positions(scratch, lane);
  const bool pairs = adjacent_pairs(pos);
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> Sacc[S_PER_WARP];
#pragma unroll
  for (int m = 0; m < S_PER_WARP; ++m) wmma::fill_fragment(Sacc[m], 0.f);
  for (int e = threadIdx.x; e < DK * LDV; e += blockDim.x) Sb[e] = zero;
  for (int e = threadIdx.x; e < kZParts * DK; e += blockDim.x) Zs[e] = 0.f;

  const int NC = (L + C - 1) / C;
  // Chunk n's q, k, v rows into Qs, Kbuf[n & 1], Vbuf[n & 1], as asynchronous copies (rows past
  // L zero-filled); v rows that are not whole 16-byte vectors are stored directly.
  auto issue_loads = [&](int n) {
    const int j0 = n * C;
    const int cn = min(C, L - j0);
    bf16* Kd = kbuf(n);
    bf16* Vd = vbuf(n);
    for (int e = threadIdx.x; e < C * (DK / 8); e += blockDim.x) {
      const int row = e / (DK / 8), col = (e % (DK / 8)) * 8;
      const int off = (row < cn ? token(j0, row) : 0) * DK + col;
      cp_async16(Qs + row * LDK + col, qh + off, row < cn);
      cp_async16(Kd + row * LDK + col, kh + off, row < cn);
    }
    for (int e = threadIdx.x; e < C * (VT / 8); e += blockDim.x) {
      const int row = e / (VT / 8), col = (e % (VT / 8)) * 8;
      const int cc = c0 + col;
      bf16* dst = Vd + row * LDV + col;
      if (v_vec && cc + 8 <= Dv) {
        cp_async16(dst, vh + (row < cn ? token(j0, row) : 0) * Dv + cc, row < cn);
      } else {
#pragma unroll
        for (int x = 0; x < 8; ++x) {
          const int c = cc + x;
          dst[x] = row < cn && c < Dv ? vh[token(j0, row) * Dv + c] : zero;
        }
      }
    }
    cp_async_commit();
  };
  // Chunk n's decay factors. Rows past L take the last token's A, so every exponent stays
  // finite; each factor is the exponential of a difference taken in double, <= 1.
  auto decay_factors = [&](int n) {
    const int j0 = n * C;
    const int cn = min(C, L - j0);
    const double a_start = j0 > 0 ? Ah[j0 - 1] : 0.0, a_end = Ah[j0 + cn - 1];
    for (int i = threadIdx.x; i < C; i += blockDim.x) {
      const double ai = Ah[j0 + min(i, cn - 1)];
      Ad[i] = ai;
      Es[i] = __expf(static_cast<float>(ai - a_start));
      Fs[i] = __expf(static_cast<float>(a_end - ai));
    }
  };
  issue_loads(0);
  decay_factors(0);

  for (int n = 0; n < NC; ++n) {
    const int j0 = n * C;
    const int cn = min(C, L - j0);
    bf16* const Ks = kbuf(n);
    bf16* const Vs = vbuf(n);
    const double a_start = j0 > 0 ? Ah[j0 - 1] : 0.0, a_end = Ah[j0 + cn - 1];
    cp_async_wait_all();
    __syncthreads();  // chunk n's tiles and factors are in; chunk n − 1 is done with everything

    // ---- phase 1: masked scores P (lower-triangular tiles) and the inter-chunk Q S.
#pragma unroll
    for (int m = 0; m < P_PER_WARP; ++m) {
      const int t = warp + kTcWarps * m;
      if (t >= CT * CT) break;
      const int it = t / CT, jt = t % CT;
      bf16* dst = Pb + it * 16 * LDP + jt * 16;
      if (jt > it) continue;  // strictly above the diagonal: M = 0, and P V never reads it
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.f);
      mma_rows_t<KT>(acc, Qs + it * 16 * LDK, LDK, Ks + jt * 16 * LDK, LDK);  // Qs Ks^T
      // M_ij = exp(A_i − A_j): the pairwise difference in double (exact for any decay mix).
      if (pairs) {  // two adjacent columns per 32-bit store (tc::adjacent_pairs)
#pragma unroll
        for (int x = 0; x < kAccElems; x += 2) {
          const int ii = pos.row(x), jj = pos.col(x), i = it * 16 + ii, j = jt * 16 + jj;
          const double ai = Ad[i];
          const float w0 = j <= i ? __expf(static_cast<float>(ai - Ad[j])) : 0.f;
          const float w1 = j + 1 <= i ? __expf(static_cast<float>(ai - Ad[j + 1])) : 0.f;
          *reinterpret_cast<__nv_bfloat162*>(dst + ii * LDP + jj) =
              __floats2bfloat162_rn(acc.x[x] * w0, acc.x[x + 1] * w1);
        }
      } else {
#pragma unroll
        for (int x = 0; x < kAccElems; ++x) {
          const int ii = pos.row(x), jj = pos.col(x), i = it * 16 + ii, j = jt * 16 + jj;
          const float w = j <= i ? __expf(static_cast<float>(Ad[i] - Ad[j])) : 0.f;
          dst[ii * LDP + jj] = __float2bfloat16_rn(acc.x[x] * w);
        }
      }
    }
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> Oacc[O_PER_WARP];
#pragma unroll
    for (int m = 0; m < O_PER_WARP; ++m) {
      const int t = warp + kTcWarps * m;
      if (t >= CT * VTT) break;
      const int it = t / VTT, ct = t % VTT;
      wmma::fill_fragment(Oacc[m], 0.f);
      if (n == 0) continue;  // S = 0 before the first chunk
      mma_rows<KT>(Oacc[m], Qs + it * 16 * LDK, LDK, Sb + ct * 16, LDV);
      // Row i of Q S decays by exp(A_i - A_start).
#pragma unroll
      for (int x = 0; x < kAccElems; ++x) Oacc[m].x[x] *= Es[it * 16 + pos.row(x)];
    }
    __syncthreads();  // P complete; every read of the undecayed K and of Sb done

    // ---- phase 2: O += P V; keys decayed to the chunk end for the state update.
#pragma unroll
    for (int m = 0; m < O_PER_WARP; ++m) {
      const int t = warp + kTcWarps * m;
      if (t >= CT * VTT) break;
      const int it = t / VTT, ct = t % VTT;
      for (int jt = 0; jt <= it; ++jt) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> fb;
        load_shared(fa, Pb + it * 16 * LDP + jt * 16, LDP);
        load_shared(fb, Vs + jt * 16 * LDV + ct * 16, LDV);
        wmma::mma_sync(Oacc[m], fa, fb, Oacc[m]);
      }
    }
    if (normalizer) {
      // den_i = Σ_{j<=i} P_ij + exp(A_i − A_start) q_i^T z: four lanes per row, each every
      // fourth group of 8 scores and of 8 channels (16-byte loads), summed with two shuffles.
      // P's groups up to column i lie in tiles at or left of the diagonal: written this chunk,
      // with zeros above the diagonal.
      const int i = threadIdx.x >> 2, part = threadIdx.x & 3;
      float sp = 0.f, sz = 0.f;
      for (int g = part * 8; g <= i; g += 32) {
        const uint4 w = *reinterpret_cast<const uint4*>(Pb + i * LDP + g);
        const uint32_t u[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
        for (int h = 0; h < 4; ++h) {
          const float2 f = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&u[h]));
          sp += f.x + f.y;
        }
      }
      for (int g = part * 8; g < DK; g += 32) {
        const uint4 w = *reinterpret_cast<const uint4*>(Qs + i * LDK + g);
        const uint32_t u[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
        for (int h = 0; h < 4; ++h) {
          const float2 f = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&u[h]));
          float z0 = 0.f, z1 = 0.f;
#pragma unroll
          for (int r = 0; r < kZParts; ++r) {
            const float2 z = *reinterpret_cast<const float2*>(Zs + r * DK + g + 2 * h);
            z0 += z.x;
            z1 += z.y;
          }
          sz = fmaf(f.x, z0, fmaf(f.y, z1, sz));
        }
      }
      float d = fmaf(Es[i], sz, sp);
      d += __shfl_xor_sync(0xffffffffu, d, 1);
      d += __shfl_xor_sync(0xffffffffu, d, 2);
      if (BACK && part == 0)
        Ds[i] = d;  // read after the barrier below
      else if (part == 0 && i < cn)
        den[head * L + j0 + i] = d;
    }
    for (int e = threadIdx.x; e < C * (DK / 8); e += blockDim.x) {
      const int j = e / (DK / 8), col = (e % (DK / 8)) * 8;
      uint4* x = reinterpret_cast<uint4*>(Ks + j * LDK + col);
      *x = scale_bf16x8(*x, Fs[j]);
    }
    __syncthreads();  // decayed keys complete

    // ---- phase 3: S <- exp(A_end - A_start) S + K~^T V; write O. Its reads are K~, V, P, the
    // scratch and z, so chunk n + 1's q, k, v (other K, V buffers) and factors go in now.
    if (n + 1 < NC) {
      issue_loads(n + 1);
      decay_factors(n + 1);
    }
    const float gamma = __expf(static_cast<float>(a_end - a_start));
#pragma unroll
    for (int m = 0; m < S_PER_WARP; ++m) {
      const int t = warp + kTcWarps * m;
      if (t >= S_TILES) break;
      const int rt = t / VTT, ct = t % VTT;
#pragma unroll
      for (int x = 0; x < Sacc[m].num_elements; ++x) Sacc[m].x[x] *= gamma;
      for (int jt = 0; jt < CT; ++jt) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::col_major> fa;  // K~^T
        wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> fb;
        load_shared(fa, Ks + jt * 16 * LDK + rt * 16, LDK);
        load_shared(fb, Vs + jt * 16 * LDV + ct * 16, LDV);
        wmma::mma_sync(Sacc[m], fa, fb, Sacc[m]);
      }
      store_bf16(Sacc[m], Sb + rt * 16 * LDV + ct * 16, LDV, pos, pairs);
    }
    // z <- exp(A_end − A_start) z + Σ_j K~_j (its reads in phase 2 are done): thread = channel
    // pair and part r, summing rows r, r + kZParts, ... into its partial vector.
    if (normalizer && threadIdx.x < kZParts * (DK / 2)) {
      const int c = 2 * (threadIdx.x % (DK / 2)), r = threadIdx.x / (DK / 2);
      float s0 = 0.f, s1 = 0.f;
      for (int j = r; j < cn; j += kZParts) {
        const float2 f =
            __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(Ks + j * LDK + c));
        s0 += f.x;
        s1 += f.y;
      }
      float2* z = reinterpret_cast<float2*>(Zs + r * DK + c);
      *z = make_float2(fmaf(gamma, z->x, s0), fmaf(gamma, z->y, s1));
    }
    const bool direct = Dv % 8 == 0;  // 32-byte aligned rows: tiles stored straight to HBM
#pragma unroll
    for (int m = 0; m < O_PER_WARP; ++m) {
      const int t = warp + kTcWarps * m;
      if (t >= CT * VTT) break;
      const int it = t / VTT, ct = t % VTT;
      const int col = c0 + ct * 16;
      if (BACK) {  // the combine, through the warp's scratch so that rows go out coalesced
        wmma::store_matrix_sync(scratch, Oacc[m], 16, wmma::mem_row_major);
        __syncwarp();
        for (int e = lane; e < 256; e += 32) {
          const int i = it * 16 + (e >> 4), cc = ct * 16 + (e & 15);
          if (i >= cn || c0 + cc >= Dv) continue;
          const int tok = token(j0, i), at = tok * Dv + c0 + cc;
          const float pd = __bfloat162float(Pb[i * LDP + i]);  // P_tt = q_t·k_t (M_tt = 1)
          float y = oh[at] + scratch[e] - pd * __bfloat162float(Vs[i * LDV + cc]);
          if (den) y /= den[head * L + tok] + Ds[i] - pd;
          oh[at] = y;
        }
        __syncwarp();
        continue;
      }
      if (direct && it * 16 + 16 <= cn && col + 16 <= Dv) {
        wmma::store_matrix_sync(oh + (j0 + it * 16) * Dv + col, Oacc[m], static_cast<unsigned>(Dv),
                                wmma::mem_row_major);
        continue;
      }
      wmma::store_matrix_sync(scratch, Oacc[m], 16, wmma::mem_row_major);
      __syncwarp();
      for (int e = lane; e < 256; e += 32) {
        const int i = it * 16 + (e >> 4);
        const int c = col + (e & 15);
        if (i < cn && c < Dv) oh[(j0 + i) * Dv + c] = scratch[e];
      }
      __syncwarp();
    }
  }
#else
  __trap();  // built only for sm_80+ (bf16 WMMA); la_chunk_tc_supported() keeps callers away
#endif
}

template <int KT, int VT>
void launch_tc(const bf16* q, const bf16* k, const bf16* v, const double* A, float* out, float* den,
               const Dims& d, int C, bool back, cudaStream_t s) {
  const size_t bytes = TcLayout<KT, VT>::bytes;
  auto* kernel = back ? la_chunk_tc_kernel<KT, VT, true> : la_chunk_tc_kernel<KT, VT, false>;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(bytes)),
        "cudaFuncSetAttribute(la_chunk_tc)");
  const dim3 grid(static_cast<unsigned>((d.Dv + VT - 1) / VT), static_cast<unsigned>(d.BH));
  kernel<<<grid, kTcWarps * 32, bytes, s>>>(q, k, v, A, out, den, static_cast<int>(d.L),
                                            static_cast<int>(d.Dv), C);
  check_launch("la_chunk_tc_kernel");
}

template <int KT>
void launch_tc_vt(const bf16* q, const bf16* k, const bf16* v, const double* A, float* out,
                  float* den, const Dims& d, int C, bool back, cudaStream_t s) {
  // 64-column value tiles read q, k half as often and recompute Q K^T half as often, but give
  // half the blocks. Measured on the H100 (132 SMs) at B=8, H=16, L=16384, d=128: 256 blocks of
  // 64 columns 4.72 ms, 512 blocks of 32 columns 7.06 ms (docs/performance.md). So 64 columns as
  // long as they still give every SM a block; below that, 32 columns for the parallelism.
  // LINSCOPE_TC_VT=32|64 overrides, for tuning.
  const int sms = multiprocessor_count();
  int vt = d.BH * ((d.Dv + 63) / 64) >= sms ? 64 : 32;
  if (const char* env = std::getenv("LINSCOPE_TC_VT")) vt = std::atoi(env) == 64 ? 64 : 32;
  if (vt == 64) return launch_tc<KT, 64>(q, k, v, A, out, den, d, C, back, s);
  launch_tc<KT, 32>(q, k, v, A, out, den, d, C, back, s);
}

}  // namespace

bool la_chunk_tc_supported(int64_t Dk, int64_t chunk) {
  return (Dk == 16 || Dk == 32 || Dk == 64 || Dk == 128) && chunk % 16 == 0 && chunk >= 16 &&
         chunk <= kTcMaxChunk;
}

void to_bf16(const float* x, void* y, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  to_bf16_kernel<<<static_cast<unsigned>((n + 255) / 256), 256, 0, s>>>(x, static_cast<bf16*>(y),
                                                                        n);
  check_launch("to_bf16_kernel");
}

namespace {

void launch_any(const void* q, const void* k, const void* v, const double* A, float* out,
                float* den, const Dims& d, int64_t chunk, bool back, cudaStream_t s) {
  if (!la_chunk_tc_supported(d.Dk, chunk))
    throw BackendError(
        "tensor-core chunkwise: needs d_k in {16,32,64,128} and a chunk of 16..64 "
        "in steps of 16");
  if (d.L * std::max(d.Dk, d.Dv) >= (int64_t{1} << 31))
    throw BackendError("tensor-core chunkwise: L * d must stay below 2^31 per head");
  const auto* qb = static_cast<const bf16*>(q);
  const auto* kb = static_cast<const bf16*>(k);
  const auto* vb = static_cast<const bf16*>(v);
  const int C = static_cast<int>(chunk);
  with_key_tiles(d.Dk, [&](auto kt) {
    launch_tc_vt<decltype(kt)::value>(qb, kb, vb, A, out, den, d, C, back, s);
  });
}

// The mma.sync kernel where it applies; LINSCOPE_TC_MMA=0 keeps this one, for measuring.
bool use_mma(const Dims& d, int64_t chunk) {
  const char* env = std::getenv("LINSCOPE_TC_MMA");
  return !(env && std::string(env) == "0") && la_chunk_mma_supported(d, chunk);
}

}  // namespace

void la_chunk_tc(const void* q, const void* k, const void* v, const double* A, float* out,
                 float* den, const Dims& d, int64_t chunk, cudaStream_t s) {
  if (use_mma(d, chunk)) return la_chunk_mma(q, k, v, A, out, den, d, MmaSweep::kNumerators, s);
  launch_any(q, k, v, A, out, den, d, chunk, false, s);
}

void la_chunk_tc_normalized(const void* q, const void* k, const void* v, const double* A, float* y,
                            float* den, const Dims& d, int64_t chunk, cudaStream_t s) {
  if (use_mma(d, chunk)) return la_chunk_mma(q, k, v, A, y, nullptr, d, MmaSweep::kNormalized, s);
  launch_any(q, k, v, A, y, den, d, chunk, false, s);
  divide_rows(y, den, y, d, s);
}

void lion_backward_tc(const void* q, const void* k, const void* v, const double* A_rev, float* y,
                      const float* den, const Dims& d, int64_t chunk, cudaStream_t s) {
  if (use_mma(d, chunk))
    return la_chunk_mma(q, k, v, A_rev, y, const_cast<float*>(den), d, MmaSweep::kLionBackward, s);
  launch_any(q, k, v, A_rev, y, const_cast<float*>(den), d, chunk, true, s);
}

}  // namespace linscope::gpu
