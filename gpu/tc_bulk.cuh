// Bulk copies global -> shared through Hopper's copy engine (PTX ISA, "cp.async.bulk"), each
// completing on a shared-memory mbarrier. One thread issues a whole contiguous block of rows and
// the engine keeps its bytes in flight, where 16-byte cp.async spends an instruction of every
// thread per 16 bytes and an SM keeps only so many of them outstanding. Device code for sm_90;
// include from .cu files only.
#pragma once
#include <cstdint>

#include "gpu/tc_fragments.cuh"  // shared_address

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#error "gpu/tc_bulk.cuh: bulk copies need Hopper (sm_90); build with CMAKE_CUDA_ARCHITECTURES=90a"
#endif

namespace linscope::gpu::tc::bulk {

// An mbarrier that completes a phase once `count` threads arrived and the transaction bytes they
// announced have landed. The fence makes the initialised barrier visible to the copy engine;
// a __syncthreads after it makes it visible to the block.
__device__ __forceinline__ void barrier_init(uint64_t* bar, unsigned count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(shared_address(bar)), "r"(count));
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

// This thread's arrival, announcing the bytes the phase's copies will deliver.
__device__ __forceinline__ void arrive_expect(uint64_t* bar, unsigned bytes) {
  asm volatile(
      "mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(shared_address(bar)),
      "r"(bytes)
      : "memory");
}

// Announces bytes for the current phase without arriving: a thread that issues copies before it
// has finished its own writes to the stage arrives later, by arrive().
__device__ __forceinline__ void expect(uint64_t* bar, unsigned bytes) {
  asm volatile(
      "mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], %1;\n" ::"r"(shared_address(bar)),
      "r"(bytes)
      : "memory");
}

// This thread's arrival with nothing to announce; release: its earlier writes are seen by the
// threads that wait on the phase.
__device__ __forceinline__ void arrive(uint64_t* bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(shared_address(bar)) : "memory");
}

// `bytes` (a multiple of 16; both addresses 16-byte aligned) from global src to shared dst,
// counted against bar's current phase.
__device__ __forceinline__ void copy(void* dst, const void* src, unsigned bytes, uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::
          "r"(shared_address(dst)),
      "l"(src), "r"(bytes), "r"(shared_address(bar))
      : "memory");
}

// A box of a tensor (PTX ISA, "cp.async.bulk.tensor"): the box of a 3-D tensor map at element
// coordinates (x, y, z), innermost first, to shared dst (128-byte aligned), counted against
// bar's current phase. Rows past the tensor's extent arrive as zeros, and their bytes still
// count. `map` is a __grid_constant__ kernel parameter (gpu/tensor_map.h builds it).
__device__ __forceinline__ void copy_box(void* dst, const void* map, int x, int y, int z,
                                         uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], "
      "[%1, {%2, %3, %4}], [%5];\n" ::"r"(shared_address(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(x), "r"(y), "r"(z), "r"(shared_address(bar))
      : "memory");
}

// Waits until the phase with the given parity (0 for the first, then alternating) completed.
__device__ __forceinline__ void wait(uint64_t* bar, unsigned parity) {
  const unsigned a = shared_address(bar);
  unsigned done = 0;
  while (!done)
    asm volatile(
        "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
        " selp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(a), "r"(parity)
        : "memory");
}

}  // namespace linscope::gpu::tc::bulk
