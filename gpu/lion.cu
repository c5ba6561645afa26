// LION bidirectional (MODELS.md §2) on the CUDA backend. The full-attention (parallel) form is
// la_block_attention with the bidirectional mask; the recurrent and chunkwise forms run the
// causal machinery twice: forward, and on the reversed sequence with the decays shifted by one
// (the backward sweep uses λ_{t+1}), then remove the diagonal counted twice (the ½ terms of the
// LION RNN, summed over both sweeps). CPU twin: core/lion/.
#include "gpu/cuda_check.h"
#include "gpu/kernels.h"

namespace linscope::gpu {
namespace {

unsigned blocks_for(int64_t n, int threads) {
  return static_cast<unsigned>((n + threads - 1) / threads);
}

__global__ void reverse_rows_kernel(const float* __restrict__ src, float* __restrict__ dst,
                                    int64_t BH, int64_t L, int64_t D) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= BH * L * D) return;
  const int64_t c = e % D, t = (e / D) % L, h = e / (D * L);
  dst[e] = src[(h * L + (L - 1 - t)) * D + c];
}

__global__ void reverse_shift_decay_kernel(const float* __restrict__ a, float* __restrict__ dst,
                                           int64_t BH, int64_t L) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= BH * L) return;
  const int64_t s = e % L, h = e / L;
  // Reversed step s is token t = L-1-s, whose backward update decays by λ_{t+1} = λ_{L-s}.
  dst[e] = s == 0 ? 0.f : a[h * L + (L - s)];
}

// A_rev[s] = A[L-1] − A[L-1-s]: the cumulative sum of reverse_shift_decay's sequence,
// Σ_{m=1..s} a[L-m], from the forward one in one map instead of a second sequential scan.
__global__ void reversed_cumulative_kernel(const double* __restrict__ A, double* __restrict__ A_rev,
                                           int64_t BH, int64_t L) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= BH * L) return;
  const int64_t s = e % L, h = e / L;
  A_rev[e] = A[h * L + L - 1] - A[h * L + L - 1 - s];
}

// qk[row] = q_row · k_row: one warp per row (coalesced loads, shuffle sum), computed once per
// token instead of once per output column.
__global__ void row_dot_kernel(const float* __restrict__ q, const float* __restrict__ k,
                               float* __restrict__ qk, int64_t rows, int64_t Dk) {
  const int64_t row = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;  // whole warps leave together: rows are per warp
  float s = 0.f;
  for (int64_t r = lane; r < Dk; r += 32) s = fmaf(q[row * Dk + r], k[row * Dk + r], s);
  for (int off = 16; off > 0; off >>= 1) s += __shfl_xor_sync(0xffffffffu, s, off);
  if (lane == 0) qk[row] = s;
}

__global__ void lion_combine_kernel(const float* __restrict__ F, const float* __restrict__ Brev,
                                    const float* __restrict__ qkr, const float* __restrict__ v,
                                    float* __restrict__ y, int64_t L, int64_t Dv, int64_t Dc,
                                    int64_t rows) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= rows * Dv) return;
  const int64_t row = e / Dv, c = e % Dv, h = row / L, t = row % L;
  const float qk = qkr[row];
  const int64_t brow = h * L + (L - 1 - t);
  const float numer = F[row * Dc + c] + Brev[brow * Dc + c] - qk * v[row * Dv + c];
  if (Dc == Dv) {
    y[e] = numer;
    return;
  }
  const float denom = F[row * Dc + Dv] + Brev[brow * Dc + Dv] - qk;
  y[e] = numer / denom;
}

__device__ __forceinline__ float to_bf16_float(float x) {
  uint32_t bits = __float_as_uint(x);
  if ((bits & 0x7f800000u) != 0x7f800000u) bits += 0x7fffu + ((bits >> 16) & 1u);
  return __uint_as_float(bits & 0xffff0000u);
}

__global__ void round_bf16_kernel(float* x, int64_t n) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e < n) x[e] = to_bf16_float(x[e]);
}

}  // namespace

void reverse_rows(const float* src, float* dst, int64_t BH, int64_t L, int64_t D, cudaStream_t s) {
  reverse_rows_kernel<<<blocks_for(BH * L * D, 256), 256, 0, s>>>(src, dst, BH, L, D);
  check_launch("reverse_rows_kernel");
}

void reverse_shift_decay(const float* a, float* dst, int64_t BH, int64_t L, cudaStream_t s) {
  reverse_shift_decay_kernel<<<blocks_for(BH * L, 256), 256, 0, s>>>(a, dst, BH, L);
  check_launch("reverse_shift_decay_kernel");
}

void reversed_cumulative(const double* A, double* A_rev, int64_t BH, int64_t L, cudaStream_t s) {
  reversed_cumulative_kernel<<<blocks_for(BH * L, 256), 256, 0, s>>>(A, A_rev, BH, L);
  check_launch("reversed_cumulative_kernel");
}

void lion_combine(const float* numF, const float* numB_rev, const float* q, const float* k,
                  const float* v, float* qk_scratch, float* y, const Dims& d, int64_t Dc,
                  cudaStream_t s) {
  const int64_t rows = d.BH * d.L;
  row_dot_kernel<<<blocks_for(rows * 32, 256), 256, 0, s>>>(q, k, qk_scratch, rows, d.Dk);
  check_launch("row_dot_kernel");
  lion_combine_kernel<<<blocks_for(rows * d.Dv, 256), 256, 0, s>>>(numF, numB_rev, qk_scratch, v, y,
                                                                   d.L, d.Dv, Dc, rows);
  check_launch("lion_combine_kernel");
}

void round_bf16(float* x, int64_t n, cudaStream_t s) {
  round_bf16_kernel<<<blocks_for(n, 256), 256, 0, s>>>(x, n);
  check_launch("round_bf16_kernel");
}

}  // namespace linscope::gpu
