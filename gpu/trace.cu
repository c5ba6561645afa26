// State traces on the GPU (gpu/trace.h). Not a fast path: the views record a few hundred steps
// of one small model at a time. One block per (head, 32 value columns); lane = column, warp w
// holds rows w, w + 8, ... of that column in registers. Per token the block stages k_t and the
// decay factors in shared memory, every thread updates its rows, and at a recorded step writes
// them out. The delta rule needs k_t^T S_{t−1} per column: a sum over rows, i.e. over warps,
// through shared memory.
#include <algorithm>
#include <string>

#include "core/base/error.h"
#include "gpu/cuda_check.h"
#include "gpu/trace.h"

namespace linscope::gpu {
namespace {

constexpr int kWarps = 8;

struct TraceArgs {
  TraceInputs in;
  int64_t L, Dk, Dv;
  const int64_t* steps;
  int n;
  float* out;
  float* out_imag;
};

template <int R>  // rows per thread: ceil(Dk / kWarps)
__global__ void __launch_bounds__(kWarps * 32) trace_states_kernel(TraceArgs a) {
  extern __shared__ float sh[];
  const int64_t Dk = a.Dk, Dv = a.Dv, L = a.L;
  float* kk = sh;         // k_t [Dk]
  float* dre = kk + Dk;   // λ_tc, or Re a_tc [Dk]
  float* dim = dre + Dk;  // Im a_tc [Dk]
  float* red = dim + Dk;  // partial k^T S per warp and column [kWarps][32]
  const int64_t bh = blockIdx.x;
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  const int64_t col = blockIdx.y * 32 + lane;
  const bool live = col < Dv;
  const TraceInputs& in = a.in;
  float s[R], si[R];
#pragma unroll
  for (int i = 0; i < R; ++i) s[i] = si[i] = 0.0f;

  auto write = [&](int slot) {
    if (!live) return;
    const int64_t base = (bh * a.n + slot) * Dk * Dv + col;
#pragma unroll
    for (int i = 0; i < R; ++i) {
      const int64_t r = w + kWarps * i;
      if (r < Dk) {
        a.out[base + r * Dv] = s[i];
        if (a.out_imag) a.out_imag[base + r * Dv] = si[i];
      }
    }
  };
  // Forward: slots ascend with t (a leading −1 is the zero state); backward: they descend.
  int slot = in.backward ? a.n - 1 : 0;
  if (!in.backward)
    while (slot < a.n && a.steps[slot] < 0) write(slot++);

  for (int64_t it = 0; it < L; ++it) {
    const int64_t t = in.backward ? L - 1 - it : it;
    // The decay applied at t: λ_t forward; λ_{t+1} backward (none at the last token).
    const int64_t td = in.backward ? t + 1 : t;
    const bool decays = td < L;
    __syncthreads();  // the previous step's readers of kk/dre/dim/red are done
    for (int64_t c = threadIdx.x; c < Dk; c += blockDim.x) {
      kk[c] = in.k[(bh * L + t) * Dk + c];
      if (in.update == TraceInputs::Update::Decay) {
        const int64_t g = in.decay_width == 1 ? 0 : c;
        dre[c] = decays ? expf(in.log_decay[(bh * L + td) * in.decay_width + g]) : 1.0f;
      } else if (in.update == TraceInputs::Update::Complex) {
        const int64_t e = (bh * L + t) * Dk + c;
        const float m = expf(in.log_magnitude[e]);
        float sn, cs;
        sincosf(in.phase[e], &sn, &cs);
        dre[c] = m * cs;
        dim[c] = m * sn;
      }
    }
    __syncthreads();
    const float vv = live ? in.v[(bh * L + t) * Dv + col] : 0.0f;
    if (in.update == TraceInputs::Update::Delta) {
      float part = 0.0f;
#pragma unroll
      for (int i = 0; i < R; ++i) {
        const int64_t r = w + kWarps * i;
        if (r < Dk) part += kk[r] * s[i];
      }
      red[w * 32 + lane] = part;
      __syncthreads();
      float ks = 0.0f;
#pragma unroll
      for (int j = 0; j < kWarps; ++j) ks += red[j * 32 + lane];
      const float err = ks - vv, b = in.beta[bh * L + t];
#pragma unroll
      for (int i = 0; i < R; ++i) {
        const int64_t r = w + kWarps * i;
        if (r < Dk) s[i] -= b * kk[r] * err;
      }
    } else if (in.update == TraceInputs::Update::Complex) {
#pragma unroll
      for (int i = 0; i < R; ++i) {
        const int64_t r = w + kWarps * i;
        if (r < Dk) {
          const float re = dre[r] * s[i] - dim[r] * si[i] + kk[r] * vv;
          si[i] = dre[r] * si[i] + dim[r] * s[i];
          s[i] = re;
        }
      }
    } else {
#pragma unroll
      for (int i = 0; i < R; ++i) {
        const int64_t r = w + kWarps * i;
        if (r < Dk) s[i] = dre[r] * s[i] + kk[r] * vv;
      }
    }
    if (slot >= 0 && slot < a.n && a.steps[slot] == t) {
      write(slot);
      slot += in.backward ? -1 : 1;
    }
  }
}

template <int R>
void launch(const TraceArgs& a, int64_t BH, cudaStream_t s) {
  const dim3 grid(static_cast<unsigned>(BH), static_cast<unsigned>((a.Dv + 31) / 32));
  const size_t bytes = sizeof(float) * (3 * a.Dk + kWarps * 32);
  trace_states_kernel<R><<<grid, kWarps * 32, bytes, s>>>(a);
  check_launch("trace_states_kernel");
}

}  // namespace

void trace_states(const TraceInputs& in, const Dims& d, const std::vector<int64_t>& steps,
                  float* out, float* out_imag, cudaStream_t s) {
  if (d.Dk > 32 * kWarps)
    throw BackendError("state traces on the GPU take d_k up to " + std::to_string(32 * kWarps) +
                       ", got " + std::to_string(d.Dk));
  if (steps.empty()) return;
  DeviceBuffer dsteps(sizeof(int64_t) * steps.size());
  check(cudaMemcpyAsync(dsteps.as<int64_t>(), steps.data(), sizeof(int64_t) * steps.size(),
                        cudaMemcpyHostToDevice, s),
        "cudaMemcpyAsync (trace steps)");
  TraceArgs a{in,  d.L,     d.Dk, d.Dv, dsteps.as<int64_t>(), static_cast<int>(steps.size()),
              out, out_imag};
  const int64_t rows = (d.Dk + kWarps - 1) / kWarps;
  if (rows <= 1)
    launch<1>(a, d.BH, s);
  else if (rows <= 2)
    launch<2>(a, d.BH, s);
  else if (rows <= 4)
    launch<4>(a, d.BH, s);
  else if (rows <= 8)
    launch<8>(a, d.BH, s);
  else if (rows <= 16)
    launch<16>(a, d.BH, s);
  else
    launch<32>(a, d.BH, s);
  // dsteps is freed on return: wait for the kernel that reads it.
  check(cudaStreamSynchronize(s), "recording the state trace");
}

}  // namespace linscope::gpu
