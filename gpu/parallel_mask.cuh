// The mask of the parallel (L²) form of scalar-decay linear attention, one entry at a time, as
// both tensor-core kernels form it (gpu/linear_attention_parallel_tc.cu's header explains the
// scheme in log space around a block's reference A_r). Device code; include from .cu files only.
#pragma once
#include "gpu/tc_mma.cuh"

namespace linscope::gpu::tc::mask {

// How a key tile's entries are formed, the same for a whole tile of a block: kExact, one
// exponential of (A_i − A_r) + (A_r − A_j) and the causal cut (the tiles that meet the block's
// rows); kPast and kFuture, a row factor times a key factor staged with the tile (tiles wholly
// before or after the rows: every factor <= 1); kPlain, 1 (no decay anywhere). kPast and kFuture
// also index the key factors in a tile's staged data.
constexpr int kExact = 0, kPast = 1, kFuture = 2, kPlain = 3;

// M_ij for row i and key j. ra = (A_i − A_r) log2 e; ek the key's staged value: for kExact
// (A_r − A_j) log2 e, otherwise its factor; row_factor the row's factor (kPast: exp(A_i − A_r),
// or 1 where the caller scales O by it afterwards; kFuture: exp(A_end − A_i)); cut: the key comes
// after the row in a causal model.
template <int mode, bool BIDIR>
__device__ __forceinline__ float entry(float ra, float ek, float row_factor, bool cut) {
  if constexpr (mode == kExact) {
    const float x = ra + ek;
    const float m = BIDIR ? mma::exp2_ftz(-fabsf(x)) : mma::exp2_ftz(x);
    return cut ? 0.f : m;
  } else if constexpr (mode == kPlain) {
    return 1.f;
  } else {
    return row_factor * ek;
  }
}

}  // namespace linscope::gpu::tc::mask
