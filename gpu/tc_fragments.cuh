// Helpers shared by the tensor-core chunkwise kernels (gpu/linear_attention_tc.cu,
// gpu/deltanet_tc.cu): asynchronous 16-byte copies into shared memory and the positions of
// WMMA accumulator elements, so that per-row and per-element scalings stay in registers.
// Device code for sm_80+; include from .cu files only.
#pragma once
#include <cuda_bf16.h>
#include <mma.h>

#include <cstdint>

namespace linscope::gpu::tc {

// 16 bytes global -> shared without passing through registers (sm_80+); zero-filled when
// !valid (src-size 0: nothing is read).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, bool valid) {
  const auto d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(d), "l"(src),
               "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::);
}
__device__ __forceinline__ void cp_async_wait_all() {
  asm volatile("cp.async.wait_group 0;\n" ::: "memory");
}

using Acc = nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float>;
constexpr int kAccElems = Acc::num_elements;

// The (row, column) of each accumulator element this lane holds, packed 8 bits per element
// (row << 4 | column). WMMA leaves the mapping unspecified, so it is read off the hardware: the
// warp loads a 16x16 tile whose entry at (r, c) is 16 r + c into an accumulator fragment.
struct FragmentPositions {
  uint32_t packed[(kAccElems + 3) / 4];
  __device__ int row(int x) const { return (packed[x >> 2] >> (8 * (x & 3) + 4)) & 15; }
  __device__ int col(int x) const { return (packed[x >> 2] >> (8 * (x & 3))) & 15; }
};

inline __device__ FragmentPositions fragment_positions(float* scratch, int lane) {
  using namespace nvcuda;
  for (int e = lane; e < 256; e += 32) scratch[e] = static_cast<float>(e);
  __syncwarp();
  Acc f;
  wmma::load_matrix_sync(f, scratch, 16, wmma::mem_row_major);
  __syncwarp();
  FragmentPositions p{};
#pragma unroll
  for (int x = 0; x < kAccElems; ++x)
    p.packed[x >> 2] |= static_cast<uint32_t>(f.x[x]) << (8 * (x & 3));
  return p;
}

// Whether this lane's elements come in adjacent column pairs: x[2i] at (r, c) and x[2i+1] at
// (r, c + 1), c even (mma.sync's m16n8 accumulator layout, which WMMA uses on sm_80+). Callers
// then move two elements per 32- or 64-bit access and keep the element-wise path otherwise.
// Warp-uniform.
inline __device__ bool adjacent_pairs(const FragmentPositions& p) {
  bool ok = true;
#pragma unroll
  for (int x = 0; x < kAccElems; x += 2)
    ok = ok && p.row(x + 1) == p.row(x) && p.col(x + 1) == p.col(x) + 1 && p.col(x) % 2 == 0;
  return __all_sync(0xffffffffu, ok);
}

}  // namespace linscope::gpu::tc
