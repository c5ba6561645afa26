// DeltaNet's recurrent form on the CUDA backend (MODELS.md §4):
//   S_t = S_{t-1} - β_t k_t (k_t^T S_{t-1} - v_t^T),   y_t = q_t^T S_t.
// CPU twin: core/deltanet/recurrent.cpp.
//
// Layout: block = (head, 4·kCols value columns), 4 warps of kCols columns each. Inside a warp the
// 32 lanes split the d_k rows (lane, lane+32, ...), and each lane keeps its rows of the warp's
// columns in registers. Each token needs k_t^T S_{t-1} for every column before the update and
// q_t^T S_t after it: both are sums over rows, i.e. warp reductions (butterfly shuffles), done
// for the kCols columns together so their shuffle chains overlap. No block barrier at all: the
// warps' columns are independent, which is what makes the delta rule's per-step latency short.
#include "gpu/cuda_check.h"
#include "gpu/kernels.h"

namespace linscope::gpu {
namespace {

constexpr int kWarps = 4;  // warps per block

// kCols value columns per warp: 8 gives more independent shuffle chains per warp, 4 twice the
// warps (used when d_v is small and 8 would leave the SMs with too few warps).
template <int RK, int kCols>
__global__ void __launch_bounds__(kWarps * 32)
    deltanet_recurrent_kernel(const float* __restrict__ q, const float* __restrict__ k,
                              const float* __restrict__ v, const float* __restrict__ beta,
                              float* __restrict__ y, int64_t L, int64_t Dk, int64_t Dv) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t head = blockIdx.y;
  const int64_t c0 = (static_cast<int64_t>(blockIdx.x) * kWarps + warp) * kCols;
  if (c0 >= Dv) return;  // whole warp idle: no barrier below, so this is safe
  const float* qh = q + head * L * Dk;
  const float* kh = k + head * L * Dk;
  const float* vh = v + head * L * Dv;
  const float* bh = beta + head * L;
  float* yh = y + head * L * Dv;
  float S[kCols][RK];
#pragma unroll
  for (int c = 0; c < kCols; ++c)
#pragma unroll
    for (int r = 0; r < RK; ++r) S[c][r] = 0.f;
  // Registers for token t, prefetched one token ahead so the global loads overlap the math.
  float kn[RK], qn[RK], vn = 0.f, bn = 0.f;
  auto load = [&](int64_t t, float* kk, float* qq, float& vv, float& bb) {
#pragma unroll
    for (int r = 0; r < RK; ++r) {
      const int64_t row = lane + 32 * r;
      kk[r] = row < Dk ? kh[t * Dk + row] : 0.f;
      qq[r] = row < Dk ? qh[t * Dk + row] : 0.f;
    }
    vv = lane < kCols && c0 + lane < Dv ? vh[t * Dv + c0 + lane] : 0.f;
    bb = bh[t];
  };
  load(0, kn, qn, vn, bn);
  for (int64_t t = 0; t < L; ++t) {
    float kt[RK], qt[RK];
#pragma unroll
    for (int r = 0; r < RK; ++r) {
      kt[r] = kn[r];
      qt[r] = qn[r];
    }
    const float vlane = vn, b = bn;
    if (t + 1 < L) load(t + 1, kn, qn, vn, bn);
    // u_c = k_t^T S_{t-1}[:, c], summed over the warp's rows.
    float u[kCols];
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      float s = 0.f;
#pragma unroll
      for (int r = 0; r < RK; ++r) s = fmaf(kt[r], S[c][r], s);
      u[c] = s;
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1)
#pragma unroll
      for (int c = 0; c < kCols; ++c) u[c] += __shfl_xor_sync(0xffffffffu, u[c], off);
    // S += k_t β (v_t - u)^T, then o_c = q_t^T S_t[:, c].
    float o[kCols];
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      const float vc = __shfl_sync(0xffffffffu, vlane, c);
      const float delta = b * (vc - u[c]);
      float s = 0.f;
#pragma unroll
      for (int r = 0; r < RK; ++r) {
        S[c][r] = fmaf(kt[r], delta, S[c][r]);
        s = fmaf(qt[r], S[c][r], s);
      }
      o[c] = s;
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1)
#pragma unroll
      for (int c = 0; c < kCols; ++c) o[c] += __shfl_xor_sync(0xffffffffu, o[c], off);
    // Lane c writes column c (every lane holds every sum after the butterfly).
    float mine = 0.f;
#pragma unroll
    for (int c = 0; c < kCols; ++c)
      if (lane == c) mine = o[c];
    if (lane < kCols && c0 + lane < Dv) yh[t * Dv + c0 + lane] = mine;
  }
}

template <int RK, int kCols>
void launch_cols(const float* q, const float* k, const float* v, const float* beta, float* y,
                 const Dims& d, cudaStream_t s) {
  const int64_t per_block = kWarps * kCols;
  const dim3 grid(static_cast<unsigned>((d.Dv + per_block - 1) / per_block),
                  static_cast<unsigned>(d.BH));
  deltanet_recurrent_kernel<RK, kCols>
      <<<grid, kWarps * 32, 0, s>>>(q, k, v, beta, y, d.L, d.Dk, d.Dv);
  check_launch("deltanet_recurrent_kernel");
}

template <int RK>
void launch(const float* q, const float* k, const float* v, const float* beta, float* y,
            const Dims& d, cudaStream_t s) {
  if (d.Dv >= 128) return launch_cols<RK, 8>(q, k, v, beta, y, d, s);
  launch_cols<RK, 4>(q, k, v, beta, y, d, s);
}

}  // namespace

void deltanet_recurrent(const float* q, const float* k, const float* v, const float* beta, float* y,
                        const Dims& d, cudaStream_t s) {
  const int64_t RK = (d.Dk + 31) / 32;
  if (RK <= 1) return launch<1>(q, k, v, beta, y, d, s);
  if (RK <= 2) return launch<2>(q, k, v, beta, y, d, s);
  if (RK <= 4) return launch<4>(q, k, v, beta, y, d, s);
  if (RK <= 8) return launch<8>(q, k, v, beta, y, d, s);
  throw BackendError("DeltaNet recurrent kernel supports d_k <= 256, got " + std::to_string(d.Dk));
}

}  // namespace linscope::gpu
