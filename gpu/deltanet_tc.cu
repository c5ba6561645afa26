// DeltaNet's chunkwise form (WY/UT, MODELS.md §4) with its state pass on the tensor cores: bf16
// q, k, W and U, fp32 state and accumulation (RunOptions::bf16). CPU twin
// core/deltanet/chunkwise.cpp; W and U come from the tensor-core UT transform in
// gpu/deltanet_ut_tc.cu (the fp32 kernels are in gpu/deltanet_chunkwise.cu).
//
// Per chunk with entering state S (d_k x d_v), W = T K and U = T V from the UT transform:
//   Ũ = U − W S,   O = Q S + tril(Q K^T) Ũ,   S ← S + K^T Ũ.
// One block owns one head and VT value columns (every product above splits by value columns:
// (W S)[:, c] = W S[:, c]) and walks the chunks in order with S in WMMA accumulators, as
// gpu/linear_attention_tc.cu does; there is no decay, and the intra-chunk values are Ũ, which
// depend on the state, so they are formed in phase 1 next to Q S.
// Rounded to bf16: q, k, W and U (stored so), the copy of S that enters W S and Q S (S itself
// accumulates in fp32), P = tril(Q K^T), and Ũ. tests/gpu/test_deltanet.cpp states the bound.
//
// Ũ's rows are the delta rule's δ_t = β_t (v_t − S_{t−1}^T k_t) (the triangular solve inside the
// chunk and W S account for every earlier token), so y = tril(Q K^T) Δ over the whole sequence:
// DeltaNet's parallel form is linear attention without decay on the values Δ. The pass without
// its outputs (kY = false) writes Δ in bf16 over U, each block its own rows and columns once they
// are in shared memory, and deltanet_parallel_tc hands it to the parallel (L²) kernel. At d_k 64
// and 128 the parallel form takes Δ from gpu/deltanet_delta_tc.cu instead (mma.sync, the state in
// registers: 1.5x faster than this pass).
#include <cuda_bf16.h>
#include <mma.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"
#include "gpu/side_stream.h"
#include "gpu/tc_fragments.cuh"

namespace linscope::gpu {
namespace {

using bf16 = __nv_bfloat16;
using namespace tc;
constexpr int kWarps = 8;
constexpr int kMaxChunk = 64;
constexpr int kPad = 8;  // 16 bytes per shared row: spreads rows over the banks

template <int KT, int VT>
struct DnLayout {
  static constexpr int DK = KT * 16, LDK = DK + kPad, LDV = VT + kPad, LDP = kMaxChunk + kPad;
  static constexpr size_t q_off = 0;
  static constexpr size_t k_off = q_off + sizeof(bf16) * kMaxChunk * LDK;
  static constexpr size_t w_off = k_off + sizeof(bf16) * kMaxChunk * LDK;
  static constexpr size_t u_off = w_off + sizeof(bf16) * kMaxChunk * LDK;  // Ũ, bf16
  static constexpr size_t p_off = u_off + sizeof(bf16) * kMaxChunk * LDV;  // P; then O staging
  static constexpr size_t s_off = p_off + sizeof(bf16) * kMaxChunk * LDP;
  static constexpr size_t uf_off = s_off + sizeof(bf16) * DK * LDV;  // U, bf16
  static constexpr size_t bytes = uf_off + sizeof(bf16) * kMaxChunk * LDV;
  static_assert(k_off % 16 == 0 && w_off % 16 == 0 && uf_off % 16 == 0 &&
                    (LDK * sizeof(bf16)) % 16 == 0 && p_off % 32 == 0,
                "cp.async needs 16-byte aligned rows, WMMA 32-byte aligned tiles");
  static_assert(sizeof(bf16) * kMaxChunk * LDP >= sizeof(float) * kWarps * 256,
                "P's tile doubles as the per-warp O staging");
};

// Grid: x = value tile, y = head. q, k, w [BH, L, DK] and u [BH, L, Dv] bf16; y [BH, L, Dv] fp32
// (kY), or with !kY no q, no y, and Ũ written over u (so u is not __restrict__).
// Per chunk, four barriers: (top) Q, W, U in; (K) K in, Ũ written; (mid) P written, Q, W, U
// free, so the next chunk's are requested; (end) K and P free, the next K is requested. The
// loads thus run under the previous chunk's products: U was read from global memory in phase 1
// and its wait was the first stall reason (Nsight Compute, long scoreboard on Ũ = U − W S).
template <int KT, int VT, bool kY>
__global__ void __launch_bounds__(kWarps * 32, 2)
    deltanet_state_tc_kernel(const bf16* __restrict__ q, const bf16* __restrict__ k,
                             const bf16* __restrict__ w, bf16* u, float* __restrict__ y, int L,
                             int Dv, int C) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using namespace nvcuda;
  using Lay = DnLayout<KT, VT>;
  constexpr int DK = Lay::DK, LDK = Lay::LDK, LDV = Lay::LDV, LDP = Lay::LDP;
  constexpr int VTT = VT / 16;
  constexpr int S_TILES = KT * VTT, S_PER_WARP = (S_TILES + kWarps - 1) / kWarps;
  constexpr int O_MAX = (kMaxChunk / 16) * VTT, O_PER_WARP = (O_MAX + kWarps - 1) / kWarps;
  constexpr int P_MAX = (kMaxChunk / 16) * (kMaxChunk / 16);
  constexpr int P_PER_WARP = (P_MAX + kWarps - 1) / kWarps;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* Qs = reinterpret_cast<bf16*>(smem + Lay::q_off);   // [C][LDK]
  bf16* Ks = reinterpret_cast<bf16*>(smem + Lay::k_off);   // [C][LDK]
  bf16* Ws = reinterpret_cast<bf16*>(smem + Lay::w_off);   // [C][LDK]
  bf16* Ub = reinterpret_cast<bf16*>(smem + Lay::u_off);   // [C][LDV] Ũ
  bf16* Pb = reinterpret_cast<bf16*>(smem + Lay::p_off);   // [C][LDP] tril(Q K^T)
  bf16* Sb = reinterpret_cast<bf16*>(smem + Lay::s_off);   // [DK][LDV] bf16 copy of S
  bf16* Us = reinterpret_cast<bf16*>(smem + Lay::uf_off);  // [C][LDV] U
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  // O's staging for partial tiles: P's tile, free after the end barrier.
  float* scratch = reinterpret_cast<float*>(smem + Lay::p_off) + warp * 256;

  // Offsets inside a head fit in int (deltanet_chunk_tc_supported requires L * d < 2^31).
  const int64_t head = blockIdx.y;
  const int c0 = blockIdx.x * VT;
  const bf16* qh = q + head * L * DK;
  const bf16* kh = k + head * L * DK;
  const bf16* wh = w + head * L * DK;
  bf16* uh = u + head * L * Dv;
  float* yh = kY ? y + head * L * Dv : nullptr;
  const int CT = C / 16;
  const bf16 zero = __float2bfloat16_rn(0.f);
  // U's rows in 16-byte vectors (8 values) when they are whole and aligned (d_v % 8 == 0: a
  // vector is then entirely inside or outside [0, d_v)); else element by element.
  const bool u_vec = Dv % 8 == 0 && (reinterpret_cast<uintptr_t>(u) & 15) == 0;
  const int NC = (L + C - 1) / C;
  auto rows = [&](int n) { return min(C, L - n * C); };
  auto load_qwu = [&](int n) {  // rows past the chunk's end: zeros
    const int j0 = n * C;
    const int cn = rows(n);
    for (int e = threadIdx.x; e < C * (DK / 8); e += blockDim.x) {
      const int row = e / (DK / 8), col = (e % (DK / 8)) * 8;
      const int off = (row < cn ? j0 + row : 0) * DK + col;
      if (kY) cp_async16(Qs + row * LDK + col, qh + off, row < cn);
      cp_async16(Ws + row * LDK + col, wh + off, row < cn);
    }
    if (u_vec) {
      for (int e = threadIdx.x; e < C * (VT / 8); e += blockDim.x) {
        const int row = e / (VT / 8), col = (e % (VT / 8)) * 8;
        const bool ok = row < cn && c0 + col < Dv;
        cp_async16(Us + row * LDV + col, uh + (ok ? (j0 + row) * Dv + c0 + col : 0), ok);
      }
    } else {
      for (int e = threadIdx.x; e < C * VT; e += blockDim.x) {
        const int row = e / VT, col = e % VT;
        Us[row * LDV + col] = row < cn && c0 + col < Dv ? uh[(j0 + row) * Dv + c0 + col] : zero;
      }
    }
  };
  auto load_k = [&](int n) {
    const int j0 = n * C;
    const int cn = rows(n);
    for (int e = threadIdx.x; e < C * (DK / 8); e += blockDim.x) {
      const int row = e / (DK / 8), col = (e % (DK / 8)) * 8;
      cp_async16(Ks + row * LDK + col, kh + (row < cn ? j0 + row : 0) * DK + col, row < cn);
    }
  };

  const FragmentPositions pos = fragment_positions(scratch, lane);
  const bool pairs = adjacent_pairs(pos);
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> Sacc[S_PER_WARP];
#pragma unroll
  for (int m = 0; m < S_PER_WARP; ++m) wmma::fill_fragment(Sacc[m], 0.f);
  for (int e = threadIdx.x; e < DK * LDV; e += blockDim.x) Sb[e] = zero;
  load_qwu(0);
  cp_async_commit();
  load_k(0);
  cp_async_commit();

  for (int n = 0; n < NC; ++n) {
    const int j0 = n * C;
    const int cn = rows(n);
    asm volatile("cp.async.wait_group 1;\n" ::: "memory");  // Q, W, U (K may still be coming)
    __syncthreads();

    // ---- phase 1a: Ũ = U − W S and O = Q S.
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> Oacc[O_PER_WARP];
#pragma unroll
    for (int m = 0; m < O_PER_WARP; ++m) {
      const int t = warp + kWarps * m;
      if (t >= CT * VTT) break;
      const int it = t / VTT, ct = t % VTT;
      if (kY) wmma::fill_fragment(Oacc[m], 0.f);
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> X;  // W S for this tile
      wmma::fill_fragment(X, 0.f);
      if (n > 0) {  // S = 0 before the first chunk
        mma_rows<KT>(X, Ws + it * 16 * LDK, LDK, Sb + ct * 16, LDV);
      }
      // Ũ at this lane's elements; rows past L and columns past Dv are zero (so is U there).
      if (pairs) {
#pragma unroll
        for (int x = 0; x < kAccElems; x += 2) {
          const int i = it * 16 + pos.row(x), cc = ct * 16 + pos.col(x);
          const float2 uu =
              __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(Us + i * LDV + cc));
          const bool in = i < cn;
          *reinterpret_cast<__nv_bfloat162*>(Ub + i * LDV + cc) =
              __floats2bfloat162_rn(in && c0 + cc < Dv ? uu.x - X.x[x] : 0.f,
                                    in && c0 + cc + 1 < Dv ? uu.y - X.x[x + 1] : 0.f);
        }
      } else {
#pragma unroll
        for (int x = 0; x < kAccElems; ++x) {
          const int i = it * 16 + pos.row(x), cc = ct * 16 + pos.col(x);
          Ub[i * LDV + cc] = __float2bfloat16_rn(
              i < cn && c0 + cc < Dv ? __bfloat162float(Us[i * LDV + cc]) - X.x[x] : 0.f);
        }
      }
      if (kY && n > 0) mma_rows<KT>(Oacc[m], Qs + it * 16 * LDK, LDK, Sb + ct * 16, LDV);
    }
    cp_async_wait_all();  // K
    __syncthreads();

    // ---- phase 1b: P = tril(Q K^T), diagonal included.
#pragma unroll
    for (int m = 0; m < P_PER_WARP; ++m) {
      const int t = warp + kWarps * m;
      if (!kY || t >= CT * CT) break;
      const int it = t / CT, jt = t % CT;
      if (jt > it) continue;  // above the diagonal: P V never reads it
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.f);
      mma_rows_t<KT>(acc, Qs + it * 16 * LDK, LDK, Ks + jt * 16 * LDK, LDK);  // Qs Ks^T
      bf16* dst = Pb + it * 16 * LDP + jt * 16;
      if (pairs) {
#pragma unroll
        for (int x = 0; x < kAccElems; x += 2) {
          const int ii = pos.row(x), jj = pos.col(x), gi = it * 16 + ii, gj = jt * 16 + jj;
          *reinterpret_cast<__nv_bfloat162*>(dst + ii * LDP + jj) =
              __floats2bfloat162_rn(gi >= gj ? acc.x[x] : 0.f, gi >= gj + 1 ? acc.x[x + 1] : 0.f);
        }
      } else {
#pragma unroll
        for (int x = 0; x < kAccElems; ++x) {
          const int ii = pos.row(x), jj = pos.col(x);
          dst[ii * LDP + jj] = __float2bfloat16_rn(it * 16 + ii >= jt * 16 + jj ? acc.x[x] : 0.f);
        }
      }
    }
    __syncthreads();  // P and Ũ complete; Q, W, U and every read of Sb done
    if (n + 1 < NC) load_qwu(n + 1);
    cp_async_commit();
    if (!kY) {  // Δ's rows of this chunk over U's, which are already in shared memory
      const int per_row = u_vec ? VT / 8 : VT;  // 16-byte vectors, as U came in
      for (int e = threadIdx.x; e < cn * per_row; e += blockDim.x) {
        const int row = e / per_row, col = (e % per_row) * (u_vec ? 8 : 1);
        if (c0 + col >= Dv) continue;
        if (u_vec)
          *reinterpret_cast<uint4*>(uh + (j0 + row) * Dv + c0 + col) =
              *reinterpret_cast<const uint4*>(Ub + row * LDV + col);
        else
          uh[(j0 + row) * Dv + c0 + col] = Ub[row * LDV + col];
      }
    }

    // ---- phase 2: O += P Ũ; S ← S + K^T Ũ (and its bf16 copy).
#pragma unroll
    for (int m = 0; m < O_PER_WARP; ++m) {
      const int t = warp + kWarps * m;
      if (!kY || t >= CT * VTT) break;
      const int it = t / VTT, ct = t % VTT;
      for (int jt = 0; jt <= it; ++jt) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> fb;
        load_shared(fa, Pb + it * 16 * LDP + jt * 16, LDP);
        load_shared(fb, Ub + jt * 16 * LDV + ct * 16, LDV);
        wmma::mma_sync(Oacc[m], fa, fb, Oacc[m]);
      }
    }
#pragma unroll
    for (int m = 0; m < S_PER_WARP; ++m) {
      const int t = warp + kWarps * m;
      if (t >= S_TILES) break;
      const int rt = t / VTT, ct = t % VTT;
      for (int jt = 0; jt < CT; ++jt) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::col_major> fa;  // K^T
        wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> fb;
        load_shared(fa, Ks + jt * 16 * LDK + rt * 16, LDK);
        load_shared(fb, Ub + jt * 16 * LDV + ct * 16, LDV);
        wmma::mma_sync(Sacc[m], fa, fb, Sacc[m]);
      }
      store_bf16(Sacc[m], Sb + rt * 16 * LDV + ct * 16, LDV, pos, pairs);
    }
    __syncthreads();  // K and P free
    if (n + 1 < NC) load_k(n + 1);
    cp_async_commit();

    // ---- write O.
    const bool direct = Dv % 8 == 0;
#pragma unroll
    for (int m = 0; m < O_PER_WARP; ++m) {
      const int t = warp + kWarps * m;
      if (!kY || t >= CT * VTT) break;
      const int it = t / VTT, ct = t % VTT;
      const int col = c0 + ct * 16;
      if (direct && it * 16 + 16 <= cn && col + 16 <= Dv) {
        wmma::store_matrix_sync(yh + (j0 + it * 16) * Dv + col, Oacc[m], static_cast<unsigned>(Dv),
                                wmma::mem_row_major);
        continue;
      }
      wmma::store_matrix_sync(scratch, Oacc[m], 16, wmma::mem_row_major);
      __syncwarp();
      for (int e = lane; e < 256; e += 32) {
        const int i = it * 16 + (e >> 4);
        const int c = col + (e & 15);
        if (i < cn && c < Dv) yh[(j0 + i) * Dv + c] = scratch[e];
      }
      __syncwarp();
    }
  }
#else
  __trap();  // built only for sm_80+; deltanet_chunk_tc_supported() keeps callers away
#endif
}

template <int KT, int VT, bool kY>
void launch(const bf16* q, const bf16* k, const bf16* w, bf16* u, float* y, const Dims& d, int C,
            cudaStream_t s) {
  const size_t bytes = DnLayout<KT, VT>::bytes;
  auto kernel = deltanet_state_tc_kernel<KT, VT, kY>;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(bytes)),
        "cudaFuncSetAttribute(deltanet_state_tc)");
  const dim3 grid(static_cast<unsigned>((d.Dv + VT - 1) / VT), static_cast<unsigned>(d.BH));
  kernel<<<grid, kWarps * 32, bytes, s>>>(q, k, w, u, y, static_cast<int>(d.L),
                                          static_cast<int>(d.Dv), C);
  check_launch("deltanet_state_tc_kernel");
}

// y != nullptr: the chunkwise outputs; else Δ over u.
template <int KT>
void launch_vt(const bf16* q, const bf16* k, const bf16* w, bf16* u, float* y, const Dims& d, int C,
               cudaStream_t s) {
  // As for linear attention (linear_attention_tc.cu): 64-column tiles while they still give
  // every SM a block, else 32 for the parallelism.
  const bool wide = d.BH * ((d.Dv + 63) / 64) >= multiprocessor_count();
  if (y)
    return wide ? launch<KT, 64, true>(q, k, w, u, y, d, C, s)
                : launch<KT, 32, true>(q, k, w, u, y, d, C, s);
  wide ? launch<KT, 64, false>(q, k, w, u, y, d, C, s)
       : launch<KT, 32, false>(q, k, w, u, y, d, C, s);
}

void state_pass(const void* q, const void* k, const void* w, void* u, float* y, const Dims& d,
                int64_t chunk, cudaStream_t s) {
  if (!la_chunk_tc_supported(d.Dk, chunk))
    throw BackendError(
        "DeltaNet tensor-core chunkwise: needs d_k in {16,32,64,128} and a chunk of 16..64 in "
        "steps of 16");
  const auto* qb = static_cast<const bf16*>(q);
  const auto* kb = static_cast<const bf16*>(k);
  const auto* wb = static_cast<const bf16*>(w);
  auto* ub = static_cast<bf16*>(u);
  const int C = static_cast<int>(chunk);
  with_key_tiles(d.Dk,
                 [&](auto kt) { launch_vt<decltype(kt)::value>(qb, kb, wb, ub, y, d, C, s); });
}

}  // namespace

void deltanet_state_tc(const void* q, const void* k, const void* w, const void* u, float* y,
                       const Dims& d, int64_t chunk, cudaStream_t s) {
  // With y, the kernel only reads u.
  state_pass(q, k, w, const_cast<void*>(u), y, d, chunk, s);
}

bool deltanet_chunk_tc_supported(const Dims& d, int64_t chunk) {
  // The UT transform's tiles grow with d_v (V is one tile); the state pass's do not. Offsets
  // inside one head are int in the state pass.
  return la_chunk_tc_supported(d.Dk, chunk) && chunk <= d.L &&
         deltanet_ut_tc_smem(d) <= 200 * 1024 && d.L * std::max(d.Dk, d.Dv) < (int64_t{1} << 31);
}

size_t deltanet_chunk_tc_workspace(const Dims& d) {
  return static_cast<size_t>(d.BH * d.L) * 2 * (d.Dk + d.Dv);  // W and U, bf16
}

void deltanet_chunk_tc(const void* q16, const void* k16, const void* v16, const float* beta,
                       float* y, void* workspace, const Dims& d, int64_t chunk, cudaStream_t s) {
  if (!deltanet_chunk_tc_supported(d, chunk))
    throw BackendError(
        "DeltaNet tensor-core chunkwise: needs d_k in {16,32,64,128}, a chunk of 16..64 in "
        "steps of 16 and at most L, and the UT tiles in shared memory");
  auto* W16 = static_cast<bf16*>(workspace);
  bf16* U16 = W16 + d.BH * d.L * d.Dk;  // 16-byte aligned: Dk % 16 == 0
  deltanet_ut_tc(k16, v16, beta, W16, U16, d, chunk, s);
  deltanet_state_tc(q16, k16, W16, U16, y, d, chunk, s);
}

// LINSCOPE_DN_DELTA=wmma: the parallel form forms Δ with the WMMA state pass even where the
// mma.sync one applies (tests and side-by-side timing of the two).
static bool wmma_delta_pass() {
  static const bool on = [] {
    const char* e = std::getenv("LINSCOPE_DN_DELTA");
    return e && std::string(e) == "wmma";
  }();
  return on;
}

int64_t deltanet_parallel_tc_chunk(const Dims& d) {
  // 64 (the chunkwise form's fastest, docs/performance.md), or the largest multiple of 16 that
  // fits a shorter sequence.
  return std::min<int64_t>(64, d.L / 16 * 16);
}

bool deltanet_parallel_tc_supported(const Dims& d) {
  return d.L >= 16 && la_parallel_tc_supported(d) &&
         deltanet_chunk_tc_supported(d, deltanet_parallel_tc_chunk(d));
}

size_t deltanet_parallel_tc_workspace(const Dims& d) {
  return deltanet_chunk_tc_workspace(d) + sizeof(double) * d.BH * d.L;  // W, U (then Δ); A = 0
}

// LINSCOPE_DN_OVERLAP=0: the parallel form runs its passes one after another on the caller's
// stream; =n (2..16): the first group of heads is BH / n (measuring; read on every call, so that
// a test can compare both orders).
static int overlap_split() {
  const char* e = std::getenv("LINSCOPE_DN_OVERLAP");
  if (!e) return 2;
  const int n = std::atoi(e);
  return n >= 2 && n <= 16 ? n : 0;
}

void deltanet_parallel_tc(const void* q16, const void* k16, const void* v16, const float* beta,
                          float* y, void* workspace, const Dims& d, cudaStream_t s) {
  if (!deltanet_parallel_tc_supported(d))
    throw BackendError(
        "DeltaNet tensor-core parallel form: needs L >= 16, d_k in {16,32,64,128}, d_v a "
        "multiple of 8 and the UT tiles in shared memory");
  const int64_t C = deltanet_parallel_tc_chunk(d);
  auto* W16 = static_cast<bf16*>(workspace);
  bf16* U16 = W16 + d.BH * d.L * d.Dk;
  auto* A = reinterpret_cast<double*>(U16 + d.BH * d.L * d.Dv);  // 8-byte aligned: Dk, Dv % 8 == 0
  // No decay: every cumulative log is 0, and the parallel kernel's mask is the causal cut alone.
  check(cudaMemsetAsync(A, 0, sizeof(double) * d.BH * d.L, s), "cudaMemsetAsync (DeltaNet A)");
  const bool mma_delta = deltanet_delta_tc_supported(d, C) && !wmma_delta_pass();

  // The three passes over heads [h0, h0 + n): every tensor is [BH, L, ·], so a range of heads
  // is an offset and a smaller BH.
  struct Heads {
    int64_t h0, n;
  };
  auto dims = [&](Heads h) { return Dims{h.n, d.L, d.Dk, d.Dv}; };
  auto ut = [&](Heads h, cudaStream_t st) {
    deltanet_ut_tc(static_cast<const bf16*>(k16) + h.h0 * d.L * d.Dk,
                   static_cast<const bf16*>(v16) + h.h0 * d.L * d.Dv, beta + h.h0 * d.L,
                   W16 + h.h0 * d.L * d.Dk, U16 + h.h0 * d.L * d.Dv, dims(h), C, st);
  };
  auto delta = [&](Heads h, cudaStream_t st) {  // U16 then holds Δ for these heads
    const bf16* k = static_cast<const bf16*>(k16) + h.h0 * d.L * d.Dk;
    if (mma_delta)
      deltanet_delta_tc(k, W16 + h.h0 * d.L * d.Dk, U16 + h.h0 * d.L * d.Dv, dims(h), C, st,
                        st != s);
    else
      state_pass(nullptr, k, W16 + h.h0 * d.L * d.Dk, U16 + h.h0 * d.L * d.Dv, nullptr, dims(h), C,
                 st);
  };
  auto product = [&](Heads h, cudaStream_t st) {
    la_parallel_tc(static_cast<const bf16*>(q16) + h.h0 * d.L * d.Dk,
                   static_cast<const bf16*>(k16) + h.h0 * d.L * d.Dk, U16 + h.h0 * d.L * d.Dv,
                   A + h.h0 * d.L, y + h.h0 * d.L * d.Dv, dims(h), false, false, st);
  };

  const Heads all{0, d.BH};
  const int split = overlap_split();
  if (d.BH < 2 || split == 0) {
    ut(all, s);
    delta(all, s);
    product(all, s);
    return;
  }
  // The Δ pass is a chain of chunks per head on few blocks (at d = 64, L = 4096: 256 blocks, 0.65
  // of a wave, 23 % achieved occupancy, issue slots 29 % busy in Nsight Compute), so on its own
  // it leaves most of each SM unused for its 100 µs. Split the heads into groups a and b and run
  // each group's Δ pass on a high-priority side stream, under the other passes:
  //   main: UT(a)  UT(b)          L²(a)  L²(b)
  //   side:        Δ(a)    Δ(b)
  // Δ(a) waits for UT(a) only, L²(a) for Δ(a), L²(b) for Δ(b). On the side stream the Δ pass
  // takes 64-column tiles: fewer blocks beside the other kernels. Side by side on the H200
  // (docs/performance.md), against the passes one after another: d = 64, L = 4096, 0.885-0.895
  // against 0.985-1.014 ms; d = 128, L = 16384, 17.9-18.2 against 20.0-20.4 ms. Halves (BH / 2)
  // beat a first group of BH / 3, BH / 4 and BH / 6.
  const int64_t na = std::max<int64_t>(1, d.BH / split);
  const Heads a{0, na}, b{na, d.BH - na};
  ut(a, s);
  SideStream side(s);  // forks after UT(a)
  delta(a, side.get());
  ut(b, s);
  side.main_waits();  // main: L²(a) after Δ(a)
  side.side_waits();  // side: Δ(b) after UT(b)
  delta(b, side.get());
  product(a, s);
  side.main_waits();  // main: L²(b) after Δ(b)
  product(b, s);
}

}  // namespace linscope::gpu
