// mma.sync and ldmatrix with their fragment layouts spelled out (PTX ISA, "Matrix Fragments for
// mma.m16n8k16" with .bf16): unlike WMMA's opaque fragments, an accumulator here can be scaled,
// masked and turned into the next product's A operand in registers. Device code for sm_80+;
// include from .cu files only.
//
// Layouts, with g = lane / 4 and c = 2 (lane % 4):
//   accumulator (16 x 8, fp32):  d[0], d[1] at row g, columns c, c + 1; d[2], d[3] at row g + 8
//   A (16 x 16, bf16 pairs):     a[0] row g, k c..c+1;  a[1] row g + 8;  a[2] row g, k c+8..c+9;
//                                a[3] row g + 8, k c+8..c+9
//   B (16 x 8, bf16 pairs):      b[0] k c..c+1, column g;  b[1] k c+8..c+9, column g
// So two accumulators side by side (columns 0-7 and 8-15) are, packed to bf16, the A operand of a
// product over those 16 columns: the flash-attention step P V needs no trip through shared memory.
#pragma once
#include <cuda_bf16.h>

#include <cstdint>

namespace linscope::gpu::tc::mma {

// d += a b for one 16 x 8 x 16 tile, fp32 accumulate.
__device__ __forceinline__ void m16n8k16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                         uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// d = a b (no accumulator to clear first: the zero C operand is the register RZ).
__device__ __forceinline__ void m16n8k16_first(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                               uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%10, %10, %10, %10};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1), "f"(0.f));
}

// The k steps of one product: d = a b on the first (nothing to clear), d += a b after it. Called
// from unrolled loops, where `first` is a constant and one instruction remains.
__device__ __forceinline__ void m16n8k16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                         uint32_t b1, bool first) {
  if (first)
    m16n8k16_first(d, a, b0, b1);
  else
    m16n8k16(d, a, b0, b1);
}

// The bf16 pair (1, 1): as B, a product's every column is the row sum of A, exact in fp32.
constexpr uint32_t kOnesBf16x2 = 0x3F803F80u;

// log2 e: exponentials go through exp2, so exponents in nats are scaled by it once.
constexpr float kLog2e = 1.4426950408889634f;

// 2^x in one MUFU instruction, subnormal results flushed to zero (exp2f adds a range check and
// two multiplies around it to keep them).
__device__ __forceinline__ float exp2_ftz(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// Four 8 x 8 bf16 matrices from shared memory; lanes 8m .. 8m + 7 give the row addresses of
// matrix m, and r[m] is this lane's pair of it (row g, columns c, c + 1; transposed: the pair
// (c, g), (c + 1, g) of the stored matrix).
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], unsigned shared_addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_addr));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], unsigned shared_addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_addr));
}

// O += P V for G groups of 16 rows (the flash-attention step): P as A fragments, KS k-steps of 16
// keys packed straight from the score accumulators; V's rows in shared memory from v_addr,
// row_bytes apart, through ldmatrix.trans, each 16 x 16 block giving B for two 8-column tiles of
// O. Every V fragment feeds all G groups.
template <int G, int KS, int NT>
__device__ __forceinline__ void accumulate_pv(float (&o)[G][NT][4], const uint32_t (&p)[G][KS][4],
                                              unsigned v_addr, unsigned row_bytes) {
#pragma unroll
  for (int kk = 0; kk < KS; ++kk)
#pragma unroll
    for (int cp = 0; cp < NT / 2; ++cp) {
      uint32_t bv[4];
      ldmatrix_x4_trans(bv, v_addr + kk * 16 * row_bytes + cp * 32);
#pragma unroll
      for (int gi = 0; gi < G; ++gi) {
        m16n8k16(o[gi][2 * cp], p[gi][kk], bv[0], bv[1]);
        m16n8k16(o[gi][2 * cp + 1], p[gi][kk], bv[2], bv[3]);
      }
    }
}

// Two floats as a bf16 pair (nearest even), the lower column in the low half as mma expects.
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  const __nv_bfloat162 p = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&p);
}
__device__ __forceinline__ float2 unpack_bf16(uint32_t p) {
  return __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&p));
}

}  // namespace linscope::gpu::tc::mma
