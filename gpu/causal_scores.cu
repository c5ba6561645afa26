// y = A v for a causal score matrix A [BH, L, L], which must hold zeros above its diagonal (the
// diagonal 32 x 32 tiles are read whole; tiles wholly above the diagonal are skipped): the last
// step of every parallel form that materializes its scores (GateLoop's surrogate attention,
// DeltaNet's attention matrix, per-channel decay).
#include "gpu/cuda_check.h"
#include "gpu/kernels.h"

namespace linscope::gpu {
namespace {

// y_i = Σ_{j<=i} A_ij v_j: block = (head, 32 rows), thread = value column; A rows and v tiles
// through shared memory.
constexpr int kAvRows = 32;
__global__ void apply_causal_scores_kernel(const float* __restrict__ A, const float* __restrict__ v,
                                           float* __restrict__ y, int64_t L, int64_t Dv) {
  const int64_t head = blockIdx.z;
  const int64_t i0 = static_cast<int64_t>(blockIdx.y) * kAvRows;
  const int64_t col = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  __shared__ float sa[kAvRows][kAvRows];
  float acc[kAvRows];
  for (int r = 0; r < kAvRows; ++r) acc[r] = 0.0f;
  const float* Ah = A + head * L * L;
  const float* vh = v + head * L * Dv;
  const int64_t jend = L < i0 + kAvRows ? L : i0 + kAvRows;  // causal: j <= i < i0 + kAvRows
  for (int64_t j0 = 0; j0 < jend; j0 += kAvRows) {
    for (int e = threadIdx.x; e < kAvRows * kAvRows; e += blockDim.x) {
      const int r = e / kAvRows, c = e % kAvRows;
      const int64_t gi = i0 + r, gj = j0 + c;
      sa[r][c] = gi < L && gj < L ? Ah[gi * L + gj] : 0.0f;
    }
    __syncthreads();
    if (col < Dv)
      for (int c = 0; c < kAvRows && j0 + c < L; ++c) {
        const float vj = vh[(j0 + c) * Dv + col];
#pragma unroll
        for (int r = 0; r < kAvRows; ++r) acc[r] += sa[r][c] * vj;
      }
    __syncthreads();
  }
  if (col < Dv)
    for (int r = 0; r < kAvRows && i0 + r < L; ++r) y[(head * L + i0 + r) * Dv + col] = acc[r];
}

// att[i, j] /= num[i, Dv], one block row of 256 columns per (row, head).
__global__ void normalize_rows_kernel(float* __restrict__ att, const float* __restrict__ num,
                                      int64_t L, int64_t Dv) {
  const int64_t row = blockIdx.y;  // head * L + i
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j < L) att[row * L + j] /= num[row * (Dv + 1) + Dv];
}

}  // namespace

void normalize_score_rows(float* att, const float* num, const Dims& d, cudaStream_t s) {
  if (d.BH * d.L == 0) return;
  if (d.BH * d.L > 2147483647) throw BackendError("normalize_score_rows: too many rows");
  const dim3 grid(static_cast<unsigned>((d.L + 255) / 256), static_cast<unsigned>(d.BH * d.L));
  normalize_rows_kernel<<<grid, 256, 0, s>>>(att, num, d.L, d.Dv);
  check_launch("normalize_rows_kernel");
}

void apply_causal_scores(const float* A, const float* v, float* y, const Dims& d, cudaStream_t s) {
  if (d.BH * d.L * d.Dv == 0) return;
  const dim3 grid(static_cast<unsigned>((d.Dv + 63) / 64),
                  static_cast<unsigned>((d.L + kAvRows - 1) / kAvRows),
                  static_cast<unsigned>(d.BH));
  apply_causal_scores_kernel<<<grid, 64, 0, s>>>(A, v, y, d.L, d.Dv);
  check_launch("apply_causal_scores_kernel");
}

}  // namespace linscope::gpu
