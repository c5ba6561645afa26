// Helpers shared by the tensor-core chunkwise kernels (gpu/linear_attention_tc.cu,
// gpu/deltanet_tc.cu): asynchronous 16-byte copies into shared memory and the positions of
// WMMA accumulator elements, so that per-row and per-element scalings stay in registers.
// Device code for sm_80+; include from .cu files only.
#pragma once
#include <cuda_bf16.h>
#include <mma.h>

#include <cstdint>
#include <type_traits>

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

// The accumulator rounded to bf16 into a shared tile with row stride ld (the bf16 copies of the
// carried state): two adjacent columns per 32-bit store when the layout has them
// (adjacent_pairs), else element by element.
__device__ __forceinline__ void store_bf16(const Acc& a, __nv_bfloat16* tile, int ld,
                                           const FragmentPositions& pos, bool pairs) {
  if (pairs) {
#pragma unroll
    for (int x = 0; x < kAccElems; x += 2)
      *reinterpret_cast<__nv_bfloat162*>(tile + pos.row(x) * ld + pos.col(x)) =
          __floats2bfloat162_rn(a.x[x], a.x[x + 1]);
  } else {
#pragma unroll
    for (int x = 0; x < kAccElems; ++x)
      tile[pos.row(x) * ld + pos.col(x)] = __float2bfloat16_rn(a.x[x]);
  }
}

// Host: calls f(std::integral_constant<int, KT>{}) with KT = d_k / 16 for the key widths the
// tensor-core kernels are built for (16, 32, 64, 128; la_chunk_tc_supported checks d_k first).
template <class F>
void with_key_tiles(int64_t dk, F&& f) {
  switch (dk) {
    case 16:
      return f(std::integral_constant<int, 1>{});
    case 32:
      return f(std::integral_constant<int, 2>{});
    case 64:
      return f(std::integral_constant<int, 4>{});
    default:
      return f(std::integral_constant<int, 8>{});
  }
}

// WMMA operand loads from shared memory with the state space spelled out. For pointers into
// dynamic shared memory nvcc emits wmma.load with a generic address, which became generic LD
// instructions (Nsight Compute, the DeltaNet UT kernel: 11 % of its instructions, and the
// L1/shared pipe at 87 %). Same operation, same fragment layout: the fragment's storage is the
// four 32-bit registers the PTX instruction returns (as CUDA's own load_matrix_sync passes it).
namespace frag {
namespace wm = nvcuda::wmma;
using ARow = wm::fragment<wm::matrix_a, 16, 16, 16, __nv_bfloat16, wm::row_major>;
using ACol = wm::fragment<wm::matrix_a, 16, 16, 16, __nv_bfloat16, wm::col_major>;
using BRow = wm::fragment<wm::matrix_b, 16, 16, 16, __nv_bfloat16, wm::row_major>;
using BCol = wm::fragment<wm::matrix_b, 16, 16, 16, __nv_bfloat16, wm::col_major>;
static_assert(sizeof(ARow) == 16 && sizeof(ACol) == 16 && sizeof(BRow) == 16 && sizeof(BCol) == 16,
              "a bf16 16x16x16 operand fragment is four 32-bit registers");
}  // namespace frag

__device__ __forceinline__ unsigned shared_address(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void load_shared(frag::ARow& f, const __nv_bfloat16* p, unsigned ldm) {
  int* r = reinterpret_cast<int*>(&f);
  asm volatile("wmma.load.a.sync.aligned.row.m16n16k16.shared.bf16 {%0, %1, %2, %3}, [%4], %5;\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(p)), "r"(ldm));
}
__device__ __forceinline__ void load_shared(frag::ACol& f, const __nv_bfloat16* p, unsigned ldm) {
  int* r = reinterpret_cast<int*>(&f);
  asm volatile("wmma.load.a.sync.aligned.col.m16n16k16.shared.bf16 {%0, %1, %2, %3}, [%4], %5;\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(p)), "r"(ldm));
}
__device__ __forceinline__ void load_shared(frag::BRow& f, const __nv_bfloat16* p, unsigned ldm) {
  int* r = reinterpret_cast<int*>(&f);
  asm volatile("wmma.load.b.sync.aligned.row.m16n16k16.shared.bf16 {%0, %1, %2, %3}, [%4], %5;\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(p)), "r"(ldm));
}
__device__ __forceinline__ void load_shared(frag::BCol& f, const __nv_bfloat16* p, unsigned ldm) {
  int* r = reinterpret_cast<int*>(&f);
  asm volatile("wmma.load.b.sync.aligned.col.m16n16k16.shared.bf16 {%0, %1, %2, %3}, [%4], %5;\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(p)), "r"(ldm));
}

// acc += A B over KT steps of 16: A is 16 rows of a row-major shared tile (row stride lda, 16·KT
// columns from a), B the matching 16·KT rows of another (row stride ldb, 16 columns from b).
template <int KT>
__device__ __forceinline__ void mma_rows(Acc& acc, const __nv_bfloat16* a, unsigned lda,
                                         const __nv_bfloat16* b, unsigned ldb) {
#pragma unroll
  for (int r = 0; r < KT; ++r) {
    frag::ARow fa;
    frag::BRow fb;
    load_shared(fa, a + r * 16, lda);
    load_shared(fb, b + r * 16 * ldb, ldb);
    nvcuda::wmma::mma_sync(acc, fa, fb, acc);
  }
}
// acc += A B^T over KT steps of 16: A and B are 16 rows each of row-major shared tiles, 16·KT
// columns (the scores Q K^T, the Gram matrix K K^T); B^T is B read column-major.
template <int KT>
__device__ __forceinline__ void mma_rows_t(Acc& acc, const __nv_bfloat16* a, unsigned lda,
                                           const __nv_bfloat16* b, unsigned ldb) {
#pragma unroll
  for (int r = 0; r < KT; ++r) {
    frag::ARow fa;
    frag::BCol fb;
    load_shared(fa, a + r * 16, lda);
    load_shared(fb, b + r * 16, ldb);
    nvcuda::wmma::mma_sync(acc, fa, fb, acc);
  }
}

}  // namespace linscope::gpu::tc
