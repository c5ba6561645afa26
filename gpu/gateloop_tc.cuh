// What GateLoop's two tensor-core kernels share (gpu/gateloop_scan_tc.cu, the scan blocked in
// chunks; gpu/gateloop_attention_tc.cu, the surrogate attention): the order of the 2 d_k columns
// of their cos/sin-scaled operands, and the exponent range those operands may span. Device code
// for sm_80+; include from .cu files only.
#pragma once
#include <cuda_runtime.h>

#include "gpu/cuda_check.h"

namespace linscope::gpu::gateloop_tc {

// The 2 d_k dimension (κ) in blocks of 16: the cos parts of channels 8m .. 8m + 7, then their sin
// parts. An mma.sync fragment pair (columns c, c + 1 of a 16-column block) then always holds two
// adjacent channels' cos parts or the same two channels' sin parts, and an accumulator's rows g
// and g + 8 of block m are channel 8m + g's real and imaginary parts. κ of channel c's cos part;
// its sin part is 8 further.
__host__ __device__ constexpr int kappa(int c) {
  return 16 * (c >> 3) + (c & 7);
}

// The surrogate attention's operand geometry: gpu/gateloop_attention_tc.cu forms Q^ relative to
// groups of 16 rows and K^ relative to tiles of 64 keys, and both of its L² kernels (mma.sync
// there, wgmma in gpu/gateloop_attention_wgmma.cu) bridge the two with one factor per (group,
// tile) pair and channel.
constexpr int kAttentionGroupRows = 16, kAttentionKeyTile = 64;

// The largest magnitude, in nats, of an exponent inside a scaled operand (a chunk's or a tile's
// decay in one channel): e^80 = 5.5e34 and e^-80 = 1.8e-35 are normal in float and bf16 (max
// 3.4e38, min normal 1.2e-38), with room for |q|, |k| and the sums. Beyond it the kernels raise
// their flag and the caller runs the fp32 kernels.
constexpr float kMaxExponent = 80.f;

// Whether a kernel raised the device flag (cleared with cudaMemsetAsync before it ran on s): the
// host waits for s, since its answer decides whether the fp32 kernels run instead.
inline bool flag_raised(const int* flag, cudaStream_t s) {
  int host = 0;
  check(cudaMemcpyAsync(&host, flag, sizeof(int), cudaMemcpyDeviceToHost, s),
        "cudaMemcpyAsync(flag)");
  check(cudaStreamSynchronize(s), "cudaStreamSynchronize(GateLoop range flag)");
  return host != 0;
}

}  // namespace linscope::gpu::gateloop_tc
