// DeltaNet's implicit attention matrix on the CUDA backend (MODELS.md §4), the matrix of its
// parallel form y = A v. CPU twin: core/deltanet/attention.cpp.
//
//   A_ij = β_j q_i^T E_{i,j} k_j,   E_{i,j} = H_i H_{i−1} ⋯ H_{j+1},   H_m = I − β_m k_m k_m^T.
//
// The CPU assembles A from the chunkwise WY/UT factors in GEMMs. Here each row is one backward
// sweep of a row vector through the H factors: with z = q_i^T H_i ⋯ H_{j+1} (z = q_i^T at j = i),
//   A_ij = β_j (z · k_j),   then   z ← z H_j = z − A_ij k_j^T,
// one dot product and one axpy per entry, O(L² d_k) per head with no d_k x d_k product and no
// triangular solve. Every H_m with ||k_m|| = 1 and β_m in [0, 1] is a contraction, so z never
// grows and fp32 rounding accumulates like a sum of i − j terms.
//
// Layout: one warp per row i; the lanes split the d_k channels of z (lane, lane + 32, ...) and
// the dot product is a butterfly reduction, so every lane holds A_ij after it. Lane j mod 32
// keeps the entry, and each completed run of 32 columns is stored as one coalesced row segment.
#include <string>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"

namespace linscope::gpu {
namespace {

constexpr int kRowsPerBlock = 8;  // warps per block, one row each

template <int R>  // channels of z per lane: d_k <= 32 R
__global__ void __launch_bounds__(kRowsPerBlock * 32)
    deltanet_attention_kernel(const float* __restrict__ q, const float* __restrict__ k,
                              const float* __restrict__ beta, float* __restrict__ att, int64_t L,
                              int64_t Dk) {
  const int lane = threadIdx.x & 31;
  const int64_t head = blockIdx.y;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + (threadIdx.x >> 5);
  if (i >= L) return;  // whole warp: no block barrier below
  const float* kh = k + head * L * Dk;
  const float* bh = beta + head * L;
  float* row = att + (head * L + i) * L;
  float z[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int64_t c = lane + 32 * r;
    z[r] = c < Dk ? q[(head * L + i) * Dk + c] : 0.0f;
  }
  for (int64_t j = i + 1 + lane; j < L; j += 32) row[j] = 0.0f;  // causal: zeros above
  float keep = 0.0f;
  for (int64_t j = i; j >= 0; --j) {
    float kj[R], dot = 0.0f;
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int64_t c = lane + 32 * r;
      kj[r] = c < Dk ? kh[j * Dk + c] : 0.0f;
      dot += z[r] * kj[r];
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, off);
    const float a = bh[j] * dot;
#pragma unroll
    for (int r = 0; r < R; ++r) z[r] -= a * kj[r];
    if ((j & 31) == lane) keep = a;
    // Columns j .. j + 31 (the run ending at the row's last entry i) are complete: store them.
    if ((j & 31) == 0) {
      const int64_t c = (j & ~int64_t{31}) + lane;
      if (c <= i) row[c] = keep;
    }
  }
}

template <int R>
void launch(const float* q, const float* k, const float* beta, float* att, const Dims& d,
            cudaStream_t s) {
  const dim3 grid(static_cast<unsigned>((d.L + kRowsPerBlock - 1) / kRowsPerBlock),
                  static_cast<unsigned>(d.BH));
  deltanet_attention_kernel<R><<<grid, kRowsPerBlock * 32, 0, s>>>(q, k, beta, att, d.L, d.Dk);
  check_launch("deltanet_attention_kernel");
}

}  // namespace

void deltanet_attention(const float* q, const float* k, const float* beta, float* att,
                        const Dims& d, cudaStream_t s) {
  if (d.BH * d.L == 0) return;
  if (d.BH > 65535) throw BackendError("DeltaNet attention: more than 65535 heads");
  if (d.Dk <= 32) return launch<1>(q, k, beta, att, d, s);
  if (d.Dk <= 64) return launch<2>(q, k, beta, att, d, s);
  if (d.Dk <= 128) return launch<4>(q, k, beta, att, d, s);
  if (d.Dk <= 256) return launch<8>(q, k, beta, att, d, s);
  throw BackendError("DeltaNet attention supports d_k <= 256, got " + std::to_string(d.Dk));
}

}  // namespace linscope::gpu
