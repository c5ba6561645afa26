// Hopper's warpgroup products (PTX ISA, "wgmma.mma_async"): four consecutive warps (a warpgroup,
// starting at a warp index divisible by 4) form a 64-row product together, reading B (and here
// also A, or taking A from registers) straight from shared memory. Against mma.sync one
// instruction replaces 8 x (N / 8) of them and the ldmatrix loads that fed them, and a B tile is
// read once per warpgroup instead of once per warp. Device code for sm_90a only: every use sits
// under LINSCOPE_WGMMA, which only the sm_90a pass of nvcc defines; include from .cu files only.
//
// Shared-memory operands are addressed by 64-bit descriptors (PTX ISA, "Matrix Descriptor"):
// start address, leading and stride byte offsets (LBO, SBO) and the swizzle mode. The kernels
// here use the 128-byte swizzle that tensor copies write (descriptor_sw128 below).
//
// Layouts of registers: an accumulator of m64nN gives warp w of the group rows 16 w .. 16 w + 15
// in exactly the mma.sync m16n8 layout for each 8 columns (d[4 i .. 4 i + 3]: columns 8 i ..), and
// an A operand in registers is, per warp, the mma.sync m16n8k16 A fragment (gpu/tc_mma.cuh).
#pragma once
#include <cstdint>

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define LINSCOPE_WGMMA 1
#endif

namespace linscope::gpu::tc::wg {

#ifdef LINSCOPE_WGMMA

// The 64-bit matrix descriptor of an operand at shared address `addr` (16-byte aligned), offsets
// in bytes, no swizzle.
__device__ __forceinline__ uint64_t descriptor(unsigned addr, unsigned lbo, unsigned sbo) {
  return static_cast<uint64_t>((addr & 0x3FFFF) >> 4) |
         static_cast<uint64_t>((lbo >> 4) & 0x3FFF) << 16 |
         static_cast<uint64_t>((sbo >> 4) & 0x3FFF) << 32;
}

// The descriptor of an operand in the 128-byte swizzled layout that a tensor copy with
// CU_TENSOR_MAP_SWIZZLE_128B writes (1024-byte aligned atoms of 8 rows x 128 bytes, chunk c of
// row r at c ^ (r % 8)). K-major: rows 128 bytes apart, sbo between 8-row atoms, lbo unused;
// a k step inside the 64-element row adds its 32 bytes to the address, which the hardware
// swizzles like the copy did. MN-major: 64 elements of M or N per 128-byte row, rows along K,
// sbo between 8-row atoms along K and lbo between 64-element blocks of M or N (CUTLASS's
// canonical GMMA layouts, mma_sm90_desc.hpp).
__device__ __forceinline__ uint64_t descriptor_sw128(unsigned addr, unsigned lbo, unsigned sbo) {
  return descriptor(addr, lbo, sbo) | uint64_t{1} << 62;
}

// Orders this thread's earlier register writes (accumulators, A fragments) before the next
// wgmma; commit closes a group of issued products, wait<N> leaves at most N groups in flight.
__device__ __forceinline__ void fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// Orders this thread's earlier ordinary writes to shared memory before later reads of the async
// proxy (a wgmma's shared-memory operands, a bulk copy): after writing an operand, before the
// barrier that hands it over.
__device__ __forceinline__ void fence_async_smem() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}
// Hands registers between the warpgroups of a block (all warps of a warpgroup execute it): the
// producer gives up what it does not need so that the consumers' accumulators fit.
template <int N>
__device__ __forceinline__ void regs_inc() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
}
template <int N>
__device__ __forceinline__ void regs_dec() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
}

#define LINSCOPE_WG_D8(i)                                                                     \
  "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3]), "+f"(d[i + 4]), "+f"(d[i + 5]), \
      "+f"(d[i + 6]), "+f"(d[i + 7])

// d (+)= A B, m64n64k16, A and B K-major from shared memory; accumulate = false overwrites d.
__device__ __forceinline__ void mma_64x64_ss(float (&d)[32], uint64_t a, uint64_t b,
                                             bool accumulate) {
  asm volatile(
      "{\n .reg .pred p;\n setp.ne.b32 p, %34, 0;\n"
      " wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
      "%32, %33, p, 1, 1, 0, 0;\n}\n"
      : LINSCOPE_WG_D8(0), LINSCOPE_WG_D8(8), LINSCOPE_WG_D8(16), LINSCOPE_WG_D8(24)
      : "l"(a), "l"(b), "r"(int(accumulate)));
}

// kTA, kTB: A or B MN-major (transposed) in shared memory, which bf16 operands allow.
template <bool kTA = false, bool kTB = false>
__device__ __forceinline__ void mma_64x128_ss(float (&d)[64], uint64_t a, uint64_t b,
                                              bool accumulate) {
  asm volatile(
      "{\n .reg .pred p;\n setp.ne.b32 p, %66, 0;\n"
      " wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
      "%64, %65, p, 1, 1, %67, %68;\n}\n"
      : LINSCOPE_WG_D8(0), LINSCOPE_WG_D8(8), LINSCOPE_WG_D8(16), LINSCOPE_WG_D8(24),
        LINSCOPE_WG_D8(32), LINSCOPE_WG_D8(40), LINSCOPE_WG_D8(48), LINSCOPE_WG_D8(56)
      : "l"(a), "l"(b), "r"(int(accumulate)), "n"(int(kTA)), "n"(int(kTB)));
}

// m64n32k16: both operands from shared memory (kTA, kTB as above), or A from registers and B
// K-major (kBMnMajor = false) or MN-major.
template <bool kTA, bool kTB>
__device__ __forceinline__ void mma_64x32_ss(float (&d)[16], uint64_t a, uint64_t b,
                                             bool accumulate) {
  asm volatile(
      "{\n .reg .pred p;\n setp.ne.b32 p, %18, 0;\n"
      " wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}, "
      "%16, %17, p, 1, 1, %19, %20;\n}\n"
      : LINSCOPE_WG_D8(0), LINSCOPE_WG_D8(8)
      : "l"(a), "l"(b), "r"(int(accumulate)), "n"(int(kTA)), "n"(int(kTB)));
}
template <bool kBMnMajor>
__device__ __forceinline__ void mma_64x32_rs(float (&d)[16], const uint32_t (&a)[4], uint64_t b,
                                             bool accumulate) {
  asm volatile(
      "{\n .reg .pred p;\n setp.ne.b32 p, %21, 0;\n"
      " wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}, "
      "{%16, %17, %18, %19}, %20, p, 1, 1, %22;\n}\n"
      : LINSCOPE_WG_D8(0), LINSCOPE_WG_D8(8)
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(int(accumulate)),
        "n"(int(kBMnMajor)));
}

// d (+)= A B, m64nNk16 (N = 64 or 128), A from registers (the mma.sync A fragment of each warp's
// 16 rows), B from shared memory, MN-major (kBMnMajor: V of P V) or K-major (K of a score
// product); accumulate = false overwrites d (so that d needs no clearing by ordinary
// instructions, which would make ptxas serialize the products).
template <bool kBMnMajor = true>
__device__ __forceinline__ void mma_64x64_rs(float (&d)[32], const uint32_t (&a)[4], uint64_t b,
                                             bool accumulate = true) {
  asm volatile(
      "{\n .reg .pred p;\n setp.ne.b32 p, %37, 0;\n"
      " wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
      "{%32, %33, %34, %35}, %36, p, 1, 1, %38;\n}\n"
      : LINSCOPE_WG_D8(0), LINSCOPE_WG_D8(8), LINSCOPE_WG_D8(16), LINSCOPE_WG_D8(24)
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(int(accumulate)),
        "n"(int(kBMnMajor)));
}
__device__ __forceinline__ void mma_64x128_rs(float (&d)[64], const uint32_t (&a)[4], uint64_t b,
                                              bool accumulate = true) {
  asm volatile(
      "{\n .reg .pred p;\n setp.ne.b32 p, %69, 0;\n"
      " wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
      "{%64, %65, %66, %67}, %68, p, 1, 1, 1;\n}\n"
      : LINSCOPE_WG_D8(0), LINSCOPE_WG_D8(8), LINSCOPE_WG_D8(16), LINSCOPE_WG_D8(24),
        LINSCOPE_WG_D8(32), LINSCOPE_WG_D8(40), LINSCOPE_WG_D8(48), LINSCOPE_WG_D8(56)
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(int(accumulate)));
}
// d = A B, m64n32k16 as above, d not read: as outputs only, d's earlier values are dead from
// the compiler's view, which a loop-carried "+f" accumulator would keep alive.
template <bool kBMnMajor>
__device__ __forceinline__ void mma_64x32_rs_first(float (&d)[16], const uint32_t (&a)[4],
                                                   uint64_t b) {
  asm volatile(
      "{\n .reg .pred p;\n setp.ne.b32 p, 0, 0;\n"
      " wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}, "
      "{%16, %17, %18, %19}, %20, p, 1, 1, %21;\n}\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3]), "=f"(d[4]), "=f"(d[5]), "=f"(d[6]),
        "=f"(d[7]), "=f"(d[8]), "=f"(d[9]), "=f"(d[10]), "=f"(d[11]), "=f"(d[12]), "=f"(d[13]),
        "=f"(d[14]), "=f"(d[15])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "n"(int(kBMnMajor)));
}
#undef LINSCOPE_WG_D8

// O (+)= P V for the m64 x VT accumulator o (VT = 64 or 128) over KS steps of 16 keys: P from
// registers (one A fragment a step), V MN-major and swizzled at descriptor v (a step is two 8-key
// atoms, 2048 bytes, further). accumulate = false overwrites o with the first step's product.
template <int VT, int KS>
__device__ __forceinline__ void pv_rs(float (&o)[VT / 2], const uint32_t (&p)[KS][4], uint64_t v,
                                      bool accumulate) {
  constexpr uint64_t kStep = 2048 / 16;
#pragma unroll
  for (int kk = 0; kk < KS; ++kk) {
    if constexpr (VT == 128)
      mma_64x128_rs(o, p[kk], v + kk * kStep, accumulate || kk > 0);
    else
      mma_64x64_rs(o, p[kk], v + kk * kStep, accumulate || kk > 0);
  }
}

// Stores this lane's rows of an m64 x VT accumulator: rows row_lo (the lane's g) and row_lo + 8
// of y [.., ld] from column c0, each row's values times scale[h]; rows from L on and columns from
// Dv on (a multiple of 8: both columns of a pair or neither) are not written.
template <int VT>
__device__ __forceinline__ void store_rows(float* y, const float (&o)[VT / 2], int row_lo, int L,
                                           int c0, int Dv, const float (&scale)[2]) {
  const int cq = 2 * (threadIdx.x & 3);
#pragma unroll
  for (int n = 0; n < VT / 8; ++n) {
    const int col = c0 + 8 * n + cq;
    if (col >= Dv) continue;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int i = row_lo + 8 * h;
      if (i < L)
        *reinterpret_cast<float2*>(y + static_cast<int64_t>(i) * Dv + col) =
            make_float2(o[4 * n + 2 * h] * scale[h], o[4 * n + 2 * h + 1] * scale[h]);
    }
  }
}

#endif  // LINSCOPE_WGMMA

}  // namespace linscope::gpu::tc::wg
