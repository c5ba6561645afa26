// LightNet's positional encodings on the CUDA backend, for one axis (the 1-D model) or two (the
// grid). CPU twin: core/lightnet/position.cpp, whose float (MD-TPE) and double (MD-LRPE angles)
// arithmetic these kernels repeat, so that the GPU and CPU encodings agree to rounding.
//
// MD-TPE: x ← x + T x with T one causal Toeplitz scan per axis, u ← λ u + (1 − λ) x along every
// line of the grid (position.h); transposed (T^T) the scans run backwards. Every axis reads the
// unmixed x, so with two axes the caller's `source` holds a copy. MD-LRPE: channel pair m turns
// by θ_m · p_{m mod N}, θ_m = base^{−2⌊m/N⌋N/D} (RoPE's frequencies for N = 1).
#include <cmath>

#include "core/lightnet/position_constants.h"
#include "gpu/cuda_check.h"
#include "gpu/kernels.h"

namespace linscope::gpu {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>((n + kThreads - 1) / kThreads);
}

// One axis of MD-TPE on x [outer, n, C]: one thread per (slice, line, channel); a line is
// `extent` tokens `stride` apart, starting where the axis coordinate is 0. Adjacent threads take
// adjacent channels, so every step reads and writes one coalesced row when C is wide. x and src
// may alias (one axis): each token is read once, before its own write.
__global__ void md_tpe_axis_kernel(float* x, const float* src, int64_t outer, int64_t n, int64_t C,
                                   int64_t extent, int64_t stride, bool reverse) {
  const int64_t lines = n / extent;
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= outer * lines * C) return;
  const int64_t c = i % C, line = (i / C) % lines, o = i / (C * lines);
  const int64_t start = (line / stride) * stride * extent + line % stride;
  const int64_t base = (o * n + start) * C + c;
  const auto lam = static_cast<float>(lightnet::kTpeDecay);
  const auto one = static_cast<float>(1.0 - lightnet::kTpeDecay);
  float u = 0.0f;
  for (int64_t j = 0; j < extent; ++j) {
    const int64_t at = base + (reverse ? extent - 1 - j : j) * stride * C;
    const float value = src[at];
    u = lam * u + one * value;
    x[at] += u;
  }
}

// MD-LRPE on x [outer, n, D]: one thread per (row, channel pair), in double as md_lrpe_rotate.
__global__ void md_lrpe_kernel(float* __restrict__ x, int64_t rows, int64_t n, int64_t width,
                               int axes, int64_t D) {
  const int64_t pairs = D / 2;
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= rows * pairs) return;
  const int64_t m = i % pairs, row = i / pairs, p = row % n;
  const int64_t axis = m % axes;
  // Position along the pair's axis: the token index in 1-D; row p / width or column p % width.
  const int64_t position = axes == 1 ? p : (axis == 0 ? p / width : p % width);
  const double theta = pow(lightnet::kLrpeBase,
                           -2.0 * static_cast<double>((m / axes) * axes) / static_cast<double>(D));
  double sn = 0, cs = 1;
  sincos(theta * static_cast<double>(position), &sn, &cs);
  float* pr = x + row * D + 2 * m;
  const double a = pr[0], b = pr[1];
  pr[0] = static_cast<float>(cs * a - sn * b);
  pr[1] = static_cast<float>(sn * a + cs * b);
}

}  // namespace

void lightnet_md_tpe(float* x, float* source, int64_t outer, const TokenGrid& g, int64_t C,
                     bool transposed, cudaStream_t s) {
  const int64_t n = g.size();
  if (outer * n * C == 0) return;
  const float* src = x;
  if (g.axes == 2) {
    if (!source) throw BackendError("lightnet_md_tpe: two axes need a source copy");
    check(cudaMemcpyAsync(source, x, sizeof(float) * outer * n * C, cudaMemcpyDeviceToDevice, s),
          "cudaMemcpyAsync (MD-TPE source)");
    src = source;
  }
  // Axes in the CPU's order (the first, slowest, first): the float sums then round alike.
  const int64_t extents[2] = {g.axes == 2 ? g.height : g.width, g.width};
  const int64_t strides[2] = {g.axes == 2 ? g.width : 1, 1};
  for (int a = 0; a < g.axes; ++a) {
    const int64_t threads = outer * (n / extents[a]) * C;
    md_tpe_axis_kernel<<<blocks_for(threads), kThreads, 0, s>>>(x, src, outer, n, C, extents[a],
                                                                strides[a], transposed);
    check_launch("lightnet_md_tpe");
  }
}

void lightnet_md_lrpe(float* x, int64_t outer, const TokenGrid& g, int64_t D, cudaStream_t s) {
  const int64_t rows = outer * g.size();
  if (rows * (D / 2) == 0) return;
  md_lrpe_kernel<<<blocks_for(rows * (D / 2)), kThreads, 0, s>>>(x, rows, g.size(), g.width, g.axes,
                                                                 D);
  check_launch("lightnet_md_lrpe");
}

}  // namespace linscope::gpu
