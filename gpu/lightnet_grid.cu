// LightNet on a 2-D grid on the CUDA backend: the permutations between pixel numbering and a
// scan order. CPU twin: core/lightnet/grid.cpp; the pipeline is gpu/lightnet_grid.cpp.
//
// The one-scan N-D LightNet runs its additive recurrence over the pixels in a scan order and
// every pixel reads the final state: on the pixels laid out in that order, the global
// (bidirectional) 1-D LightNet. So the grid form is these row permutations around the 1-D
// pipeline (gpu/forward.cu), with the 2-D encodings of gpu/lightnet_position.cu before them.
#include "gpu/cuda_check.h"
#include "gpu/kernels.h"

namespace linscope::gpu {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>((n + kThreads - 1) / kThreads);
}

// One thread per (row, channel); adjacent threads copy adjacent channels of one row.
// to_order: out[t] = x[order[t]]; otherwise out[order[t]] = x[t].
__global__ void permute_rows_kernel(const float* __restrict__ x, const int64_t* __restrict__ order,
                                    float* __restrict__ out, int64_t n, int64_t C, bool to_order) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n * C) return;
  const int64_t t = i / C, c = i % C, p = order[t];
  if (to_order)
    out[i] = x[p * C + c];
  else
    out[p * C + c] = x[i];
}

// out[order[i], order[j]] = att[i, j]: reads coalesced along j.
__global__ void scatter_square_kernel(const float* __restrict__ att,
                                      const int64_t* __restrict__ order, float* __restrict__ out,
                                      int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n * n) return;
  out[order[i / n] * n + order[i % n]] = att[i];
}

}  // namespace

void gather_rows(const float* x, const int64_t* order, float* out, int64_t n, int64_t C,
                 cudaStream_t s) {
  if (n * C == 0) return;
  permute_rows_kernel<<<blocks_for(n * C), kThreads, 0, s>>>(x, order, out, n, C, true);
  check_launch("gather_rows");
}

void scatter_rows(const float* x, const int64_t* order, float* out, int64_t n, int64_t C,
                  cudaStream_t s) {
  if (n * C == 0) return;
  permute_rows_kernel<<<blocks_for(n * C), kThreads, 0, s>>>(x, order, out, n, C, false);
  check_launch("scatter_rows");
}

void scatter_square(const float* att, const int64_t* order, float* out, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  scatter_square_kernel<<<blocks_for(n * n), kThreads, 0, s>>>(att, order, out, n);
  check_launch("scatter_square");
}

}  // namespace linscope::gpu
