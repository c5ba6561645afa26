// GateLoop's surrogate attention (its parallel form, GateLoop §3.2, MODELS.md §3) on the tensor
// cores, for bf16 q, k, v (RunOptions::bf16, no matrix requested). CPU twin:
// core/gateloop/parallel.cpp; the fp32 kernels: gateloop_attention in gpu/gateloop.cu.
//
//   y_i = Σ_{j<=i} [Σ_c q_ic k_jc e^{Λ_ic − Λ_jc} cos(Φ_ic − Φ_jc)] v_j
// with Λ, Φ the cumulative log-magnitudes and phases. As flash attention without a softmax: a
// block owns 64 query rows and walks the key tiles up to them, keeping scores and outputs in
// mma.sync registers; the L x L matrix is never stored. cos(Φ_i − Φ_j) = cos Φ_i cos Φ_j +
// sin Φ_i sin Φ_j makes each score one real product over 2 d_k columns, and the magnitude splits
// around the 64-token tiles: with S_r = Λ just before row tile r and E_t = Λ at key tile t's last
// token,
//   e^{Λ_i − Λ_j} = e^{Λ_i − S_r} · e^{S_r − E_t} · e^{E_t − Λ_j}.
// The outer factors go into per-token operands formed once (gl_attention_operands_kernel):
//   Q^_i = q_i e^{Λ_i − S_r(i)} (cos Φ_i, sin Φ_i),   K^_j = k_j e^{E_t(j) − Λ_j} (cos Φ_j, sin
//   Φ_j),
// both <= |q|, |k|. The middle one is a per-channel factor D of the (row tile, key tile) pair,
// applied to the block's Q^ fragments in registers for each key tile: <= 1 below the diagonal
// (E_t precedes S_r), and e^{S_r − E_r} >= 1, the row tile's own decay, on the diagonal. That
// must stay a normal float: a tile whose decay in some channel exceeds kMaxExponent nats raises
// the flag and the caller runs the fp32 kernels instead.
//
// Column order of the 2 d_k dimension (κ), as in gpu/gateloop_scan_tc.cu: blocks of 16 with the
// cos parts of channels 8m..8m+7, then their sin parts, so an A fragment's pairs (a0 / a1 cos,
// a2 / a3 sin) all belong to channels 8m + c, 8m + c + 1 and take the same two factors.
//
// Roundings (bf16, tests/gpu/test_gateloop_tc.cpp bounds them): Q^, its scaled copy, K^ and P:
// four per term.
#include <cuda_bf16.h>

#include <algorithm>
#include <string>

#include "gpu/cuda_check.h"
#include "gpu/gateloop_tc.cuh"
#include "gpu/kernels.h"
#include "gpu/tc_fragments.cuh"
#include "gpu/tc_mma.cuh"

namespace linscope::gpu {
namespace {

using bf16 = __nv_bfloat16;
using namespace tc;
using namespace tc::mma;
using namespace gateloop_tc;

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kT = 64;   // rows per block = keys per tile = the tiles of S_r, E_t
constexpr int kVT = 64;  // value columns per block
constexpr int kPad = 8;  // 16 bytes per shared row: ldmatrix's 8 rows hit 8 bank groups

// One thread per (token, channel pair): Q^, K^ rows [BH, L, 2 d_k] in bf16; the flag when a
// tile's decay in a channel leaves the range (checked at each tile's first token).
__global__ void gl_attention_operands_kernel(const bf16* __restrict__ q, const bf16* __restrict__ k,
                                             const double* __restrict__ cum_lm,
                                             const double* __restrict__ cum_ph,
                                             bf16* __restrict__ qh_out, bf16* __restrict__ kh_out,
                                             int* __restrict__ flag, int64_t L, int Dk) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int pairs = Dk / 2;
  if (e >= L * pairs) return;
  const int64_t head = blockIdx.y, t = e / pairs;
  const int c = 2 * static_cast<int>(e % pairs);
  const int64_t tile0 = t / kT * kT, last = min(tile0 + kT, L) - 1;
  const int64_t row = head * L + t;
  float qv[2], kv[2], qo[4], ko[4];
  const float2 qf = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(q + row * Dk + c));
  const float2 kf = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(k + row * Dk + c));
  qv[0] = qf.x, qv[1] = qf.y, kv[0] = kf.x, kv[1] = kf.y;
  bool bad = false;
#pragma unroll
  for (int u = 0; u < 2; ++u) {
    const double lam = cum_lm[row * Dk + c + u];
    const double s = tile0 > 0 ? cum_lm[(head * L + tile0 - 1) * Dk + c + u] : 0.0;
    const double en = cum_lm[(head * L + last) * Dk + c + u];
    if (t == tile0) bad |= !(s - en <= kMaxExponent);  // the diagonal's e^{S_r − E_r}; NaN too
    // The phase reduced to [−π, π] in double (it grows with L), then float's full-range sincosf.
    const double phi = cum_ph[row * Dk + c + u];
    const double kTwoPi = 6.283185307179586;
    float sn, cs;
    sincosf(static_cast<float>(phi - kTwoPi * rint(phi * (1.0 / kTwoPi))), &sn, &cs);
    const float fq = qv[u] * expf(static_cast<float>(lam - s));   // <= 1
    const float fk = kv[u] * expf(static_cast<float>(en - lam));  // <= 1
    qo[u] = fq * cs, qo[2 + u] = fq * sn;
    ko[u] = fk * cs, ko[2 + u] = fk * sn;
  }
  if (bad) *flag = 1;
  const int kq = kappa(c);
  bf16* qd = qh_out + row * 2 * Dk + kq;
  bf16* kd = kh_out + row * 2 * Dk + kq;
  *reinterpret_cast<uint32_t*>(qd) = pack_bf16(qo[0], qo[1]);
  *reinterpret_cast<uint32_t*>(qd + 8) = pack_bf16(qo[2], qo[3]);
  *reinterpret_cast<uint32_t*>(kd) = pack_bf16(ko[0], ko[1]);
  *reinterpret_cast<uint32_t*>(kd + 8) = pack_bf16(ko[2], ko[3]);
}

template <int DK>
struct AttLayout {
  static constexpr int KD = 2 * DK, KS = KD / 16, LDO = KD + kPad, LDV = kVT + kPad;
  static constexpr size_t o_elems = size_t(kT) * LDO;  // K^ per buffer (Q^ first, in buffer 1)
  static constexpr size_t v_elems = size_t(kT) * LDV;  // per buffer
  static constexpr size_t bytes =
      sizeof(bf16) * (2 * o_elems + 2 * v_elems) + sizeof(float) * 2 * DK;
};

// Block: row tile r (heaviest first), 64 value columns from c0, one head. Warp w: rows 16 w ..
template <int DK>
__global__ void __launch_bounds__(kThreads, 2)
    gl_attention_tc_kernel(const bf16* __restrict__ qhat, const bf16* __restrict__ khat,
                           const bf16* __restrict__ v, const double* __restrict__ cum_lm,
                           float* __restrict__ y, int L, int Dv, int row_tiles) {
  using Lay = AttLayout<DK>;
  constexpr int KD = Lay::KD, KS = Lay::KS, LDO = Lay::LDO, LDV = Lay::LDV;
  extern __shared__ __align__(16) unsigned char smem[];
  bf16* sK = reinterpret_cast<bf16*>(smem);  // 2 buffers; Q^ passes through buffer 1 first
  bf16* sQ = sK + Lay::o_elems;
  bf16* sV = sK + 2 * Lay::o_elems;
  float* sD = reinterpret_cast<float*>(sV + 2 * Lay::v_elems);  // [2][DK]: e^{S_r − E_t}

  const int head = blockIdx.x, c0 = blockIdx.y * kVT;
  const int r = row_tiles - 1 - static_cast<int>(blockIdx.z);  // causal: heaviest first
  const int row0 = r * kT;
  const bf16* qh = qhat + static_cast<int64_t>(head) * L * KD;
  const bf16* kh = khat + static_cast<int64_t>(head) * L * KD;
  const bf16* vh = v + static_cast<int64_t>(head) * L * Dv;
  const double* lh = cum_lm + static_cast<int64_t>(head) * L * DK;
  float* yh = y + static_cast<int64_t>(head) * L * Dv;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;

  constexpr int OC = KD / 8, OROWS = kThreads / OC, VC = kVT / 8, VROWS = kThreads / VC;
  static_assert(kThreads % OC == 0 && kT % OROWS == 0 && kT % VROWS == 0, "copy slots");
  const int orr = tid / OC, ox = (tid % OC) * 8, vr = tid / VC, vx = (tid % VC) * 8;
  const bool v_col_ok = c0 + vx < Dv;
  auto load_rows = [&](bf16* dst, const bf16* src, int j0) {
#pragma unroll
    for (int rr = 0; rr < kT; rr += OROWS) {
      const int j = j0 + orr + rr;
      const bool ok = j < L;
      cp_async16(dst + (orr + rr) * LDO + ox, ok ? src + static_cast<int64_t>(j) * KD + ox : src,
                 ok);
    }
  };
  auto load_tile = [&](int t, int b) {
    load_rows(sK + b * Lay::o_elems, kh, t * kT);
#pragma unroll
    for (int rr = 0; rr < kT; rr += VROWS) {
      const int j = t * kT + vr + rr;
      const bool ok = v_col_ok && j < L;
      cp_async16(sV + b * Lay::v_elems + (vr + rr) * LDV + vx,
                 ok ? vh + static_cast<int64_t>(j) * Dv + c0 + vx : vh, ok);
    }
  };
  // e^{S_r − E_t} per channel (threads < DK), from E_t read one tile ahead (e_next).
  const double s_ref = tid < DK && row0 > 0 ? lh[static_cast<int64_t>(row0 - 1) * DK + tid] : 0.0;
  auto e_of = [&](int t) {
    return tid < DK && t <= r ? lh[static_cast<int64_t>(min(t * kT + kT, L) - 1) * DK + tid] : 0.0;
  };
  double e_next = e_of(0);
  auto stage_factor = [&](int t, int b) {
    if (tid < DK) sD[b * DK + tid] = expf(static_cast<float>(s_ref - e_next));
    e_next = e_of(t + 1);
  };

  load_rows(sQ, qh, row0);
  load_tile(0, 0);
  cp_async_commit();
  stage_factor(0, 0);

  const int g = lane >> 2, cq = 2 * (lane & 3);
  const int m8 = lane & 7, mlo = (lane >> 3) & 1, mhi = lane >> 4;
  const unsigned q_addr = shared_address(sQ + (16 * warp + m8 + 8 * mlo) * LDO + 8 * mhi);
  const unsigned k_addr = shared_address(sK + (8 * mhi + m8) * LDO + 8 * mlo);
  const unsigned v_addr = shared_address(sV + (8 * mlo + m8) * LDV + 8 * mhi);
  constexpr unsigned kRow = sizeof(bf16) * LDO, kVRow = sizeof(bf16) * LDV;
  constexpr unsigned kKBuf = sizeof(bf16) * Lay::o_elems, kVBuf = sizeof(bf16) * Lay::v_elems;
  const int i_lo = 16 * warp + g, i_hi = i_lo + 8;  // rows in the tile

  // The warp's Q^ rows, unscaled, held for the whole walk; then buffer 1 is free for tile 1.
  uint32_t qa[KS][4];
  cp_async_wait_all();
  __syncthreads();
#pragma unroll
  for (int kk = 0; kk < KS; ++kk) ldmatrix_x4(qa[kk], q_addr + kk * 32);
  __syncthreads();
  float o[8][4] = {};
  for (int t = 0; t <= r; ++t) {
    const int b = t & 1;
    if (t < r) {
      load_tile(t + 1, b ^ 1);
      stage_factor(t + 1, b ^ 1);
    }
    cp_async_commit();
    asm volatile("cp.async.wait_group 1;\n" ::: "memory");  // tile t has landed
    __syncthreads();
    // Scores of the warp's 16 rows and the tile's 64 keys: Q^ scaled by the pair's factor per
    // channel (channels 8 kk + cq, + 1 in every pair of this lane's fragment), times K^^T.
    float sc[8][4];
    const float* D = sD + b * DK;
#pragma unroll
    for (int kk = 0; kk < KS; ++kk) {
      const float2 f = *reinterpret_cast<const float2*>(D + 8 * kk + cq);
      uint32_t a[4];
#pragma unroll
      for (int x = 0; x < 4; ++x) {
        const float2 w = unpack_bf16(qa[kk][x]);
        a[x] = pack_bf16(w.x * f.x, w.y * f.y);
      }
#pragma unroll
      for (int np = 0; np < 4; ++np) {
        uint32_t bk[4];
        ldmatrix_x4(bk, k_addr + b * kKBuf + np * 16 * kRow + kk * 32);
        m16n8k16(sc[2 * np], a, bk[0], bk[1], kk == 0);
        m16n8k16(sc[2 * np + 1], a, bk[2], bk[3], kk == 0);
      }
    }
    // The causal cut on the diagonal tile; P in bf16 as the A operand of P V.
    const bool diagonal = t == r;
    uint32_t p[4][4];
#pragma unroll
    for (int nt = 0; nt < 8; ++nt) {
      const int j = 8 * nt + cq;
      float a0 = sc[nt][0], a1 = sc[nt][1], a2 = sc[nt][2], a3 = sc[nt][3];
      if (diagonal) {
        a0 = j <= i_lo ? a0 : 0.f, a1 = j + 1 <= i_lo ? a1 : 0.f;
        a2 = j <= i_hi ? a2 : 0.f, a3 = j + 1 <= i_hi ? a3 : 0.f;
      }
      p[nt >> 1][(nt & 1) * 2] = pack_bf16(a0, a1);
      p[nt >> 1][(nt & 1) * 2 + 1] = pack_bf16(a2, a3);
    }
#pragma unroll
    for (int kk = 0; kk < 4; ++kk)
#pragma unroll
      for (int cp = 0; cp < 4; ++cp) {
        uint32_t bv[4];
        ldmatrix_x4_trans(bv, v_addr + b * kVBuf + kk * 16 * kVRow + cp * 32);
        m16n8k16(o[2 * cp], p[kk], bv[0], bv[1]);
        m16n8k16(o[2 * cp + 1], p[kk], bv[2], bv[3]);
      }
    __syncthreads();  // buffer b is refilled by the next iteration's prefetch
  }
  const int row_lo = row0 + i_lo, row_hi = row0 + i_hi;
#pragma unroll
  for (int nt = 0; nt < 8; ++nt) {
    const int col = c0 + 8 * nt + cq;
    if (col >= Dv) continue;  // Dv is a multiple of 8: both columns of the pair or neither
    if (row_lo < L)
      *reinterpret_cast<float2*>(yh + static_cast<int64_t>(row_lo) * Dv + col) =
          make_float2(o[nt][0], o[nt][1]);
    if (row_hi < L)
      *reinterpret_cast<float2*>(yh + static_cast<int64_t>(row_hi) * Dv + col) =
          make_float2(o[nt][2], o[nt][3]);
  }
}

template <int DK>
void launch(const bf16* qhat, const bf16* khat, const bf16* v, const double* cum_lm, float* y,
            const Dims& d, cudaStream_t s) {
  auto kernel = gl_attention_tc_kernel<DK>;
  constexpr size_t smem = AttLayout<DK>::bytes;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
        "cudaFuncSetAttribute(gl_attention_tc)");
  const int row_tiles = static_cast<int>((d.L + kT - 1) / kT);
  const dim3 grid(static_cast<unsigned>(d.BH), static_cast<unsigned>((d.Dv + kVT - 1) / kVT),
                  static_cast<unsigned>(row_tiles));
  kernel<<<grid, kThreads, smem, s>>>(qhat, khat, v, cum_lm, y, static_cast<int>(d.L),
                                      static_cast<int>(d.Dv), row_tiles);
  check_launch("gl_attention_tc");
}

}  // namespace

bool gateloop_attention_tc_supported(const Dims& d) {
  return (d.Dk == 64 || d.Dk == 128) && d.Dv % 8 == 0 && d.Dv > 0 &&
         d.L * 2 * std::max(d.Dk, d.Dv) < (int64_t{1} << 31) && d.BH < 65536 &&
         (d.L + kT - 1) / kT < 65536;
}

size_t gateloop_attention_tc_workspace(const Dims& d) {
  const size_t n = static_cast<size_t>(d.BH * d.L * d.Dk);
  return sizeof(double) * 2 * n + sizeof(bf16) * 4 * n;
}

bool gateloop_attention_tc(const void* q, const void* k, const void* v, const float* lm,
                           const float* ph, float* y, void* workspace, int* flag, const Dims& d,
                           cudaStream_t s) {
  if (!gateloop_attention_tc_supported(d))
    throw BackendError(
        "GateLoop tensor-core surrogate attention: needs d_k 64 or 128, d_v a multiple of 8");
  const int64_t n = d.BH * d.L * d.Dk;
  double* cum_lm = static_cast<double*>(workspace);
  double* cum_ph = cum_lm + n;
  bf16* qhat = reinterpret_cast<bf16*>(cum_ph + n);
  bf16* khat = qhat + 2 * n;
  cumulative_log_channels(lm, cum_lm, d.BH, d.L, d.Dk, s);
  cumulative_log_channels(ph, cum_ph, d.BH, d.L, d.Dk, s);
  check(cudaMemsetAsync(flag, 0, sizeof(int), s), "cudaMemsetAsync(flag)");
  const int64_t per_head = d.L * d.Dk / 2;
  gl_attention_operands_kernel<<<dim3(static_cast<unsigned>((per_head + 255) / 256),
                                      static_cast<unsigned>(d.BH)),
                                 256, 0, s>>>(static_cast<const bf16*>(q),
                                              static_cast<const bf16*>(k), cum_lm, cum_ph, qhat,
                                              khat, flag, d.L, static_cast<int>(d.Dk));
  check_launch("gl_attention_operands_kernel");
  if (flag_raised(flag, s)) return false;  // before the L² work: the fp32 kernels answer instead
  const auto* v16 = static_cast<const bf16*>(v);
  if (d.Dk == 64)
    launch<64>(qhat, khat, v16, cum_lm, y, d, s);
  else
    launch<128>(qhat, khat, v16, cum_lm, y, d, s);
  return true;
}

}  // namespace linscope::gpu
