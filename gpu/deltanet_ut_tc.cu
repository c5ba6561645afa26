// DeltaNet's UT transform on the tensor cores (MODELS.md §4; Yang et al. 2024, §3): for every
// chunk, W = T K and U = T V with T = (I + A)^{-1} diag(β), A = tril(diag(β) K K^T, −1). CPU twin
// core/deltanet/chunkwise.cpp; the fp32 transform (one thread per column, forward substitution)
// is deltanet_ut_kernel in gpu/deltanet_chunkwise.cu, the state pass that consumes W and U is
// gpu/deltanet_tc.cu.
//
// Why this shape: the fp32 transform spends ~2·C·(d_k + d_v)·C/2 FMAs per chunk on one long
// dependent chain per column and took 45 % of the bf16 chunkwise form (Nsight Compute, L = 16384,
// d = 128: 4.16 of 9.2 ms). Here the chain shrinks to the inverse of (I + A), 16 x 16 blocks at a
// time, and the C x (d_k + d_v) work is one matrix product on the tensor cores.
//
// Precision. K and V arrive in bf16 (RunOptions::bf16: the model's inputs are bf16), so
// G = K K^T on the tensor cores with fp32 accumulation is as exact as fp32. T is formed in fp32.
// M = T diag(β) enters the product split as M_hi + M_lo, both bf16 (M − M_hi is exact in fp32,
// M_lo rounds it to 2^-9 of itself): W and U come out with ~2^-16 relative error and are then
// rounded once to bf16 for the state pass (tests/gpu/test_deltanet.cpp counts both roundings).
// U in bf16 rather than fp32 halves its round trip through memory (1 GB less at L = 16384,
// d = 128, B·H = 128); the state pass rounds Ũ = U − W S to bf16 anyway.
#include <cuda_bf16.h>
#include <mma.h>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"
#include "gpu/tc_fragments.cuh"

namespace linscope::gpu {
namespace {

using bf16 = __nv_bfloat16;
using namespace tc;
constexpr int kWarps = 8;
constexpr int kMaxChunk = 64;
constexpr int kPad = 8;                 // bf16 rows: 16 bytes of padding spread rows over the banks
constexpr int kLdA = kMaxChunk + 4;     // fp32 C x C tiles (G, T): a multiple of 4 for WMMA
constexpr int kLdM = kMaxChunk + kPad;  // bf16 M_hi, M_lo

// Where the products Y = A T of the off-diagonal solve live (see UtTcLayout).
__host__ __device__ constexpr bool z_in_g(int dk) {
  return dk <= 64;
}

// Shared memory: K and V tiles (bf16); G (fp32), whose space M_hi and M_lo (bf16) take once the
// off-diagonal solve is done with G; T (fp32), whose space the per-warp output staging takes once
// M is formed; the products Y (four 16 x 16 blocks); β (whole float4s). 73 KB at d = 128: three
// blocks per SM. At d_k <= 64, Y takes G's diagonal blocks instead (nothing reads them after the
// diagonal solve), so that 54.5 KB and 64 registers let four blocks share an SM: DeltaNet's
// parallel form at d = 64, L = 4096, 0.969-0.975 ms against 0.989-1.000 (H200, side by side,
// docs/performance.md).
struct UtTcLayout {
  int ldk, vp, ldv;
  size_t k_off, v_off, g_off, t_off, z_off, beta_off, bytes;
  __host__ __device__ UtTcLayout(int dk, int dv)
      : ldk(dk + kPad), vp((dv + 15) / 16 * 16), ldv(vp + kPad) {
    const size_t g_bytes = sizeof(float) * kMaxChunk * kLdA,
                 m_bytes = 2 * sizeof(bf16) * kMaxChunk * kLdM;
    k_off = 0;
    v_off = k_off + sizeof(bf16) * kMaxChunk * ldk;  // ldk * 128 bytes: 128-aligned
    g_off = v_off + sizeof(bf16) * kMaxChunk * ldv;
    t_off = g_off + (g_bytes > m_bytes ? g_bytes : m_bytes);
    z_off = t_off + g_bytes;
    beta_off = z_off + (z_in_g(dk) ? 0 : sizeof(float) * 4 * 256);  // 4 blocks of Y at most
    bytes = beta_off + sizeof(float) * kMaxChunk;
  }
};

// Grid: x = chunk, y = head. k [BH, L, DK] and v [BH, L, Dv] bf16, beta [BH, L]; writes
// w [BH, L, DK] and u [BH, L, Dv], both bf16.
template <int KT>
__global__ void __launch_bounds__(kWarps * 32, KT <= 4 ? 4 : 3)
    deltanet_ut_tc_kernel(const bf16* __restrict__ k, const bf16* __restrict__ v,
                          const float* __restrict__ beta, bf16* __restrict__ w,
                          bf16* __restrict__ u, int64_t L, int Dv, int C) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using namespace nvcuda;
  constexpr int DK = KT * 16;
  const UtTcLayout lay(DK, Dv);
  const int ldk = lay.ldk, ldv = lay.ldv;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* Ks = reinterpret_cast<bf16*>(smem + lay.k_off);   // [C][ldk]
  bf16* Vs = reinterpret_cast<bf16*>(smem + lay.v_off);   // [C][ldv], columns past Dv zero
  float* G = reinterpret_cast<float*>(smem + lay.g_off);  // [C][kLdA] K K^T, lower blocks
  float* T = reinterpret_cast<float*>(smem + lay.t_off);  // [C][kLdA] (I + A)^{-1}
  bf16* Mh = reinterpret_cast<bf16*>(smem + lay.g_off);   // [C][kLdM], after G
  bf16* Ml = Mh + kMaxChunk * kLdM;                       // [C][kLdM]
  float* bs = reinterpret_cast<float*>(smem + lay.beta_off);
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  float* stage = T + warp * 256;  // per-warp 16 x 16 staging; T is free by then

  const int64_t head = blockIdx.y, j0 = static_cast<int64_t>(blockIdx.x) * C;
  const int n = static_cast<int>(min(static_cast<int64_t>(C), L - j0));
  const int CT = C / 16, VPT = lay.vp / 16;
  const bf16* kh = k + (head * L + j0) * DK;
  const bf16* vh = v + (head * L + j0) * Dv;

  // Rows past n (the last, partial chunk) and V's columns past Dv load as zeros, so every tile
  // below is whole: zero keys give zero rows of G, and β = 0 there gives zero columns of M.
  for (int e = tid; e < C * (DK / 8); e += blockDim.x) {
    const int row = e / (DK / 8), col = (e % (DK / 8)) * 8;
    cp_async16(Ks + row * ldk + col, kh + (row < n ? row * DK + col : 0), row < n);
  }
  if (Dv % 8 == 0) {  // whole 16-byte vectors per row
    for (int e = tid; e < C * (lay.vp / 8); e += blockDim.x) {
      const int row = e / (lay.vp / 8), col = (e % (lay.vp / 8)) * 8;
      const bool ok = row < n && col < Dv;
      cp_async16(Vs + row * ldv + col, vh + (ok ? row * Dv + col : 0), ok);
    }
  } else {
    for (int e = tid; e < C * lay.vp; e += blockDim.x) {
      const int row = e / lay.vp, col = e % lay.vp;
      Vs[row * ldv + col] = row < n && col < Dv ? vh[row * Dv + col] : __float2bfloat16_rn(0.f);
    }
  }
  cp_async_commit();
  if (tid < C) bs[tid] = tid < n ? beta[head * L + j0 + tid] : 0.f;
  cp_async_wait_all();
  __syncthreads();

  // ---- G = K K^T on the tensor cores: first the diagonal blocks, which the solve below needs.
  auto g_tile = [&](int it, int jt) {
    Acc acc;
    wmma::fill_fragment(acc, 0.f);
    mma_rows_t<KT>(acc, Ks + it * 16 * ldk, ldk, Ks + jt * 16 * ldk, ldk);  // Ks Ks^T
    wmma::store_matrix_sync(G + it * 16 * kLdA + jt * 16, acc, kLdA, wmma::mem_row_major);
  };
  if (warp < CT) g_tile(warp, warp);
  __syncthreads();

  // ---- T = (I + A)^{-1}, A_ij = β_i G_ij (j < i). The diagonal 16 x 16 blocks: thread (b, c)
  // of the first C solves (I + A_bb) x = e_c by forward substitution. Below c the solution is
  // zero, so each row sums over all j < i of the block and keeps only rows past c (the loops
  // unroll with constant indices and x stays in registers). Meanwhile the other warps form the
  // blocks of G below the diagonal.
  auto solve_diagonal_block = [&]() {
    if (tid >= C) return;
    const int b0 = (tid / 16) * 16, c = tid % 16;
    float x[16];
#pragma unroll
    for (int i = 0; i < 16; ++i) x[i] = i == c ? 1.f : 0.f;
#pragma unroll
    for (int i = 1; i < 16; ++i) {
      const float* gi = G + (b0 + i) * kLdA + b0;
      float s0 = 0.f, s1 = 0.f;
#pragma unroll
      for (int j = 0; j < i; ++j) (j & 1 ? s1 : s0) = fmaf(gi[j], x[j], j & 1 ? s1 : s0);
      if (i > c) x[i] = -bs[b0 + i] * (s0 + s1);
    }
#pragma unroll
    for (int i = 0; i < 16; ++i) T[(b0 + i) * kLdA + b0 + c] = x[i];
  };
  const int solvers = (C + 31) / 32;  // warps that hold the solve's C threads
  if (warp < solvers) {
    solve_diagonal_block();
  } else {  // whole warps: WMMA is warp-collective
    for (int t = warp - solvers; t < CT * CT; t += kWarps - solvers) {
      const int it = t / CT, jt = t % CT;
      if (jt < it) g_tile(it, jt);
    }
  }
  __syncthreads();

  // Then the blocks below the diagonal, by the inverse of a 2 x 2 block triangle:
  //   [L_11 0; L_21 L_22]^{-1} = [T_11 0; -T_22 L_21 T_11  T_22],
  // first for the 16 x 16 pairs (blocks (1, 0) and (3, 2)), then for the 32 x 32 halves (blocks
  // (2..3, 0..1)). Each step is Y = A T (A_ik = β_i G_ik), a barrier, then T = -T Y: four
  // barriers in all, and every thread busy in the second step, where the diagonal-by-diagonal
  // substitution took six barriers with 192, 128 and 64 threads (it was 45 % of this kernel's
  // stall samples in Nsight Compute at d = 64). The same fp32 FMAs, summed in another order.
  // A thread takes one row and four columns of a 16 x 16 block (float4 loads: 16 FMAs per 5
  // loads). Y lives in G's diagonal blocks, which nothing reads after the diagonal solve, or at
  // d_k = 128 in an area of its own (slots of 16 x 16).
  float* Z = reinterpret_cast<float*>(smem + lay.z_off);
  constexpr int y_ld = z_in_g(DK) ? kLdA : 16;
  auto y_row = [&](int slot, int row) {
    return z_in_g(DK) ? G + (16 * slot + row) * kLdA + 16 * slot : Z + slot * 256 + row * 16;
  };
  const int r = (tid >> 2) & 15, c = (tid & 3) * 4;
  // Y (slot) = β_i Σ_{k in [k0, k1)} G_ik T_k,j for row r of block i and columns c.. of block j.
  auto form_y = [&](int i, int j, int k0, int k1, int slot) {
    const float* ar = G + (16 * i + r) * kLdA;
    float4 z = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int kk = k0; kk < k1; kk += 4) {
      const float4 a = *reinterpret_cast<const float4*>(ar + kk);
      const float av[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const float4 t = *reinterpret_cast<const float4*>(T + (kk + q) * kLdA + 16 * j + c);
        z.x = fmaf(av[q], t.x, z.x);
        z.y = fmaf(av[q], t.y, z.y);
        z.z = fmaf(av[q], t.z, z.z);
        z.w = fmaf(av[q], t.w, z.w);
      }
    }
    const float b = bs[16 * i + r];
    *reinterpret_cast<float4*>(y_row(slot, r) + c) =
        make_float4(b * z.x, b * z.y, b * z.z, b * z.w);
  };
  // T_ij = -Σ_{m in [m0, m1)} T_im Y_mj, with Y_mj in slot_of(m / 16).
  auto form_t = [&](int i, int j, int m0, int m1, auto slot_of) {
    const float* ti = T + (16 * i + r) * kLdA;
    float4 o = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int m4 = m0; m4 < m1; m4 += 4) {
      const float4 a = *reinterpret_cast<const float4*>(ti + m4);
      const float av[4] = {a.x, a.y, a.z, a.w};
      const float* yb = y_row(slot_of(m4 >> 4), 0);
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const float4 zz = *reinterpret_cast<const float4*>(yb + ((m4 + q) & 15) * y_ld + c);
        o.x = fmaf(av[q], zz.x, o.x);
        o.y = fmaf(av[q], zz.y, o.y);
        o.z = fmaf(av[q], zz.z, o.z);
        o.w = fmaf(av[q], zz.w, o.w);
      }
    }
    *reinterpret_cast<float4*>(T + (16 * i + r) * kLdA + 16 * j + c) =
        make_float4(-o.x, -o.y, -o.z, -o.w);
  };
  if (CT >= 2) {  // pairs p: block (2p + 1, 2p), Y in slot p
    const int p = tid >> 6, i = 2 * p + 1, j = 2 * p;
    const bool on = tid < 128 && i < CT;
    if (on) form_y(i, j, 16 * j, 16 * j + 16, p);
    __syncthreads();
    if (on) form_t(i, j, 16 * i, 16 * i + 16, [p](int) { return p; });
    __syncthreads();
  }
  if (CT >= 3) {  // halves: block (i, j), i in 2..3, j in 0..1, Y_ij in slot 2 (i - 2) + j
    const int blk = tid >> 6, i = 2 + (blk >> 1), j = blk & 1;
    const bool on = i < CT;
    if (on) form_y(i, j, 16 * j, 32, blk);
    __syncthreads();
    if (on) form_t(i, j, 32, 16 * i + 16, [j](int mb) { return 2 * (mb - 2) + j; });
    __syncthreads();
  }

  // ---- M = T diag(β) as M_hi + M_lo (bf16 each), four columns a thread. Above the diagonal
  // it is zero (T is not written there).
  for (int e = tid; e < C * (kMaxChunk / 4); e += blockDim.x) {
    const int i = e >> 4, j = (e & 15) * 4;
    if (j >= C) continue;
    const float4 t = *reinterpret_cast<const float4*>(T + i * kLdA + j);
    const float4 b = *reinterpret_cast<const float4*>(bs + j);
    const float m[4] = {j <= i ? t.x * b.x : 0.f, j + 1 <= i ? t.y * b.y : 0.f,
                        j + 2 <= i ? t.z * b.z : 0.f, j + 3 <= i ? t.w * b.w : 0.f};
    __align__(8) bf16 hi[4], lo[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      hi[q] = __float2bfloat16_rn(m[q]);
      lo[q] = __float2bfloat16_rn(m[q] - __bfloat162float(hi[q]));
    }
    *reinterpret_cast<uint2*>(Mh + i * kLdM + j) = *reinterpret_cast<const uint2*>(hi);
    *reinterpret_cast<uint2*>(Ml + i * kLdM + j) = *reinterpret_cast<const uint2*>(lo);
  }
  __syncthreads();

  // ---- [W U] = M [K V] on the tensor cores. A warp owns whole column tiles of the output, so
  // each X fragment is loaded once and used for every row tile; M is lower block-triangular.
  bf16* wh = w + (head * L + j0) * DK;
  bf16* uh = u + (head * L + j0) * Dv;
  const int OT = KT + VPT;
  const bool u_vec = Dv % 8 == 0;  // U's rows start on 16-byte boundaries
  for (int ot = warp; ot < OT; ot += kWarps) {
    const bool is_w = ot < KT;
    const bf16* X = is_w ? Ks + ot * 16 : Vs + (ot - KT) * 16;
    const int ldx = is_w ? ldk : ldv;
    Acc acc[kMaxChunk / 16];
#pragma unroll
    for (int it = 0; it < kMaxChunk / 16; ++it) wmma::fill_fragment(acc[it], 0.f);
#pragma unroll
    for (int jt = 0; jt < kMaxChunk / 16; ++jt) {
      if (jt >= CT) break;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> fx;
      load_shared(fx, X + jt * 16 * ldx, ldx);
#pragma unroll
      for (int it = jt; it < kMaxChunk / 16; ++it) {
        if (it >= CT) break;
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fh, fl;
        load_shared(fl, Ml + it * 16 * kLdM + jt * 16, kLdM);
        load_shared(fh, Mh + it * 16 * kLdM + jt * 16, kLdM);
        wmma::mma_sync(acc[it], fl, fx, acc[it]);
        wmma::mma_sync(acc[it], fh, fx, acc[it]);
      }
    }
#pragma unroll
    for (int it = 0; it < kMaxChunk / 16; ++it) {
      if (it >= CT) break;
      const int row0 = it * 16;
      wmma::store_matrix_sync(stage, acc[it], 16, wmma::mem_row_major);
      __syncwarp();
      const int r = lane >> 1, c8 = (lane & 1) * 8;  // two lanes per row, 8 columns each
      if (row0 + r < n) {
        const float4 lo4 = *reinterpret_cast<const float4*>(stage + r * 16 + c8);
        const float4 hi4 = *reinterpret_cast<const float4*>(stage + r * 16 + c8 + 4);
        const float src[8] = {lo4.x, lo4.y, lo4.z, lo4.w, hi4.x, hi4.y, hi4.z, hi4.w};
        // W and U rounded once to bf16, one 16-byte store per lane where the row allows.
        __align__(16) bf16 out[8];
#pragma unroll
        for (int x = 0; x < 8; ++x) out[x] = __float2bfloat16_rn(src[x]);
        const int col = is_w ? ot * 16 + c8 : (ot - KT) * 16 + c8;
        bf16* dst = is_w ? wh + (row0 + r) * DK + col : uh + (row0 + r) * Dv + col;
        if (is_w || (u_vec && col + 8 <= Dv)) {
          *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(out);
        } else {
#pragma unroll
          for (int x = 0; x < 8; ++x)
            if (col + x < Dv) dst[x] = out[x];
        }
      }
      __syncwarp();
    }
  }
#else
  __trap();  // built only for sm_80+; deltanet_chunk_tc_supported() keeps callers away
#endif
}

template <int KT>
void launch(const bf16* k, const bf16* v, const float* beta, bf16* w, bf16* u, const Dims& d, int C,
            cudaStream_t s) {
  const size_t bytes = UtTcLayout(KT * 16, static_cast<int>(d.Dv)).bytes;
  check(cudaFuncSetAttribute(deltanet_ut_tc_kernel<KT>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(bytes)),
        "cudaFuncSetAttribute(deltanet_ut_tc)");
  const dim3 grid(static_cast<unsigned>((d.L + C - 1) / C), static_cast<unsigned>(d.BH));
  deltanet_ut_tc_kernel<KT>
      <<<grid, kWarps * 32, bytes, s>>>(k, v, beta, w, u, d.L, static_cast<int>(d.Dv), C);
  check_launch("deltanet_ut_tc_kernel");
}

}  // namespace

size_t deltanet_ut_tc_smem(const Dims& d) {
  return UtTcLayout(static_cast<int>(d.Dk), static_cast<int>(d.Dv)).bytes;
}

void deltanet_ut_tc(const void* k16, const void* v16, const float* beta, void* w16, void* u16,
                    const Dims& d, int64_t chunk, cudaStream_t s) {
  if (!la_chunk_tc_supported(d.Dk, chunk))
    throw BackendError(
        "DeltaNet tensor-core UT transform: needs d_k in {16,32,64,128} and a chunk of 16..64 in "
        "steps of 16");
  const auto* kb = static_cast<const bf16*>(k16);
  const auto* vb = static_cast<const bf16*>(v16);
  auto* wb = static_cast<bf16*>(w16);
  auto* ub = static_cast<bf16*>(u16);
  const int C = static_cast<int>(chunk);
  with_key_tiles(d.Dk,
                 [&](auto kt) { launch<decltype(kt)::value>(kb, vb, beta, wb, ub, d, C, s); });
}

}  // namespace linscope::gpu
