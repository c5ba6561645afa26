#include "gpu/bench.h"

#include <cublas_v2.h>
#include <cuda_bf16.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "gpu/cuda_check.h"
#include "gpu/forward.h"
#include "gpu/kernels.h"

namespace linscope::gpu {
namespace {

class Event {
 public:
  Event() { check(cudaEventCreate(&e_), "cudaEventCreate"); }
  ~Event() { cudaEventDestroy(e_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

// Milliseconds of each of `reps` calls of f, after `warmup` untimed calls.
template <class F>
std::vector<float> time_calls(F&& f, int warmup, int reps) {
  for (int i = 0; i < warmup; ++i) f();
  check(cudaDeviceSynchronize(), "warm-up");
  std::vector<float> ms;
  Event start, stop;
  for (int i = 0; i < reps; ++i) {
    check(cudaEventRecord(start.get()), "cudaEventRecord");
    f();
    check(cudaEventRecord(stop.get()), "cudaEventRecord");
    check(cudaEventSynchronize(stop.get()), "timed run");
    float t = 0;
    check(cudaEventElapsedTime(&t, start.get(), stop.get()), "cudaEventElapsedTime");
    ms.push_back(t);
  }
  return ms;
}

float median(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
}

// Counter-based uniform in (0,1): seeded, reproducible, no state.
__device__ float uniform(uint64_t seed, uint64_t i) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + i * 0xBF58476D1CE4E5B9ull + 0x94D049BB133111EBull;
  x ^= x >> 31;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 29;
  return (static_cast<float>(x >> 40) + 0.5f) * (1.0f / 16777216.0f);
}

__device__ float normal(uint64_t seed, uint64_t i) {
  const float u1 = uniform(seed, 2 * i), u2 = uniform(seed, 2 * i + 1);
  return sqrtf(-2.f * logf(u1)) * cospif(2.f * u2);
}

// mode 0: N(0, scale^2); mode 1: positive features U(0, scale) (normalized models need
// q^T k > 0); mode 2: log λ = logsigmoid(N(4, 1)) (TARGETS.md's decay); mode 3: constant scale.
__global__ void fill_kernel(float* x, int64_t n, uint64_t seed, int mode, float scale) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  float r = 0.f;
  if (mode == 0) r = scale * normal(seed, i);
  if (mode == 1) r = scale * uniform(seed, i);
  if (mode == 2) r = -log1pf(expf(-(4.f + normal(seed, i))));
  if (mode == 3) r = scale;
  x[i] = r;
}

__global__ void fill_bf16_kernel(__nv_bfloat16* x, int64_t n, uint64_t seed) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) x[i] = __float2bfloat16(2.f * uniform(seed, i) - 1.f);
}

// Rows of D floats scaled to unit L2 norm (DeltaNet's keys, MODELS.md §4).
__global__ void l2_normalize_rows_kernel(float* x, int64_t rows, int64_t D) {
  const int64_t row = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (row >= rows) return;
  float ss = 0.f;
  for (int64_t i = 0; i < D; ++i) ss += x[row * D + i] * x[row * D + i];
  const float inv = rsqrtf(fmaxf(ss, 1e-30f));
  for (int64_t i = 0; i < D; ++i) x[row * D + i] *= inv;
}

void fill(DeviceBuffer& b, int64_t n, uint64_t seed, int mode, float scale) {
  b.ensure(sizeof(float) * n);
  fill_kernel<<<static_cast<unsigned>((n + 255) / 256), 256>>>(b.as<float>(), n, seed, mode, scale);
  check_launch("fill_kernel");
}

void check_cublas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw BackendError(std::string(what) + ": cuBLAS status " + std::to_string(int(s)));
}

bool bidirectional(const BenchCase& c) {
  return c.spec.family == Family::Lion && c.spec.direction == Direction::Bidirectional;
}

}  // namespace

DeviceCeilings measure_device_ceilings() {
  DeviceCeilings out;
  {
    // 1 GiB each way: far beyond the 50 MiB L2, so the copy runs at HBM speed.
    const size_t bytes = size_t(1) << 30;
    DeviceBuffer src(bytes), dst(bytes);
    check(cudaMemset(src.as<void>(), 1, bytes), "cudaMemset");
    const auto ms = time_calls(
        [&] {
          check(cudaMemcpyAsync(dst.as<void>(), src.as<void>(), bytes, cudaMemcpyDeviceToDevice),
                "cudaMemcpyAsync");
        },
        2, 10);
    out.copy_gbytes_per_s = 2.0 * bytes / (median(ms) * 1e-3) / 1e9;
  }
  {
    const int n = 8192;
    const int64_t elems = int64_t(n) * n;
    DeviceBuffer a(elems * 2), b(elems * 2), c(elems * 2);
    // Random operands: zeros run measurably faster on these tensor cores (METHOD.md).
    fill_bf16_kernel<<<static_cast<unsigned>((elems + 255) / 256), 256>>>(a.as<__nv_bfloat16>(),
                                                                          elems, 1);
    fill_bf16_kernel<<<static_cast<unsigned>((elems + 255) / 256), 256>>>(b.as<__nv_bfloat16>(),
                                                                          elems, 2);
    check_launch("fill_bf16_kernel");
    cublasHandle_t h = nullptr;
    check_cublas(cublasCreate(&h), "cublasCreate");
    struct HandleGuard {
      cublasHandle_t h;
      ~HandleGuard() { cublasDestroy(h); }
    } guard{h};
    const float alpha = 1.f, beta = 0.f;
    const auto ms = time_calls(
        [&] {
          check_cublas(
              cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a.as<void>(), CUDA_R_16BF,
                           n, b.as<void>(), CUDA_R_16BF, n, &beta, c.as<void>(), CUDA_R_16BF, n,
                           CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
              "cublasGemmEx");
        },
        3, 10);
    out.gemm_tflops = 2.0 * double(n) * n * n / (median(ms) * 1e-3) / 1e12;
  }
  out.how = "cudaMemcpy D2D 1 GiB (read+write); cuBLAS bf16 GEMM 8192^3, fp32 accumulate";
  return out;
}

double bench_flops(const BenchCase& c) {
  const double heads = double(c.B) * c.H, L = double(c.L), Dk = double(c.Dk), Dv = double(c.Dv);
  const double dirs = bidirectional(c) ? 2 : 1;
  if (c.spec.family == Family::DeltaNet) {
    // Recurrent, per token: k^T S, the rank-1 update, q^T S. Chunkwise (WY/UT), per token: W S_0,
    // Q S_0, K^T Ũ (6·Dk·Dv) plus, over the chunk, K K^T and Q K^T (C·Dk each), the triangular
    // solves for W and U (C·(Dk + Dv)) and tril(Q K^T) Ũ (C·Dv).
    const double C = std::min<double>(std::min<int64_t>(c.opts.chunk, 64), L);
    if (c.opts.form == Form::Chunkwise) return heads * L * (6 * Dk * Dv + C * (3 * Dk + 2 * Dv));
    // Parallel: each of the L²/2 entries A_ij is a dot product and an axpy over d_k (the
    // backward sweep of gpu/deltanet_attention.cu), then A V over the causal half.
    // On the tensor cores (gpu/deltanet_tc.cu): Δ by the chunkwise pass without its outputs
    // (W S, K^T Ũ; K K^T and the solves over the chunk), then the causal half of Q K^T and A Δ.
    const Dims d{int64_t(c.B) * c.H, c.L, c.Dk, c.Dv};
    if (c.opts.form == Form::Parallel && uses_tensor_cores(c.spec, c.opts, d)) {
      const double Cd = static_cast<double>(deltanet_parallel_tc_chunk(d));
      return heads * L * (4 * Dk * Dv + Cd * (2 * Dk + Dv)) + heads * L * L * (Dk + Dv);
    }
    if (c.opts.form == Form::Parallel) return heads * L * L * (2 * Dk + Dv);
    return heads * L * 6 * Dk * Dv;
  }
  if (c.spec.family == Family::GateLoop) {
    // Per token and (c, col): complex a h + k v (8), q Re h (2). The scan makes two passes over
    // its segments, unless it runs as one segment (gateloop_scan_segment: the recurrence).
    const Dims d{int64_t(c.B) * c.H, c.L, c.Dk, c.Dv};
    // Surrogate attention (either path): the causal half of the scores, each a real product over
    // cos and sin parts (2 d_k), and A V.
    if (c.opts.form == Form::Parallel) return heads * L * L * (2 * Dk + Dv);
    // The blocked scan on the tensor cores, per token: Q~ K~^T over 2 d_k columns and P V in the
    // chunk, Q~ S and K~^T V over the 2 d_k rows of the complex state (gpu/gateloop_scan_tc.cu).
    if (uses_tensor_cores(c.spec, c.opts, d)) {
      const double C = std::min<double>(64, L);
      return heads * L * (4 * C * Dk + 2 * C * Dv + 8 * Dk * Dv);
    }
    const bool split = c.opts.form == Form::Scan && gateloop_scan_segment(d) < c.L;
    return (split ? 2.0 : 1.0) * heads * L * 10 * Dk * Dv;
  }
  switch (c.opts.form) {
    case Form::Recurrent:  // per token: λS + k v^T (2 Dk Dv), q^T S (2 Dk Dv)
      return dirs * heads * L * 4 * Dk * Dv;
    case Form::Chunkwise: {  // per token: Q K^T, (P) V in the chunk; Q S; K^T V
      const double C = double(std::min(c.opts.chunk, c.L));
      return dirs * heads * L * (2 * C * Dk + 2 * C * Dv + 4 * Dk * Dv);
    }
    case Form::Parallel:  // the causal half of Q K^T and A V, or all of it
      return (bidirectional(c) ? 2.0 : 1.0) * heads * L * L * (Dk + Dv);
    case Form::Scan:
      break;
  }
  return 0;
}

double bench_bytes(const BenchCase& c) {
  const double heads = double(c.B) * c.H, L = double(c.L);
  if (c.spec.family == Family::GateLoop) {
    if (c.opts.bf16)  // bf16 q, k, v; fp32 log|a|, arg a (Dk each) and y
      return heads * L * (2.0 * (2.0 * c.Dk + c.Dv) + 4.0 * (2.0 * c.Dk + c.Dv));
    return 4.0 * heads * L * (4.0 * c.Dk + 2.0 * c.Dv);  // all fp32
  }
  if (c.opts.bf16)  // bf16 q, k, v in; fp32 y out, fp32 log λ
    return heads * L * (2.0 * (2.0 * c.Dk + c.Dv) + 4.0 * c.Dv + 4.0);
  return 4.0 * heads * L * (2.0 * c.Dk + 2.0 * c.Dv + 1.0);  // fp32 q, k, v, y, log λ (or β)
}

BenchResult run_bench_case(const BenchCase& c) {
  const Dims d{c.B * c.H, c.L, c.Dk, c.Dv};
  const bool positive = c.spec.normalize || bidirectional(c);
  DeviceBuffer q, k, v, a, y;
  const float scale =
      positive ? 2.f / std::sqrt(float(c.Dk)) : 1.f / std::sqrt(std::sqrt(float(c.Dk)));
  fill(q, d.BH * d.L * d.Dk, 11, positive ? 1 : 0, scale);
  fill(k, d.BH * d.L * d.Dk, 12, positive ? 1 : 0, scale);
  fill(v, d.BH * d.L * d.Dv, 13, 0, 1.f);
  const bool delta = c.spec.family == Family::DeltaNet;
  const bool gl = c.spec.family == Family::GateLoop;
  DeviceBuffer lm, ph;
  if (gl) {  // log|a| = logsigmoid(N(4,1)) as the scalar decays; phases ~ U(0, 0.1)
    fill(lm, d.BH * d.L * d.Dk, 15, 2, 0.f);
    fill(ph, d.BH * d.L * d.Dk, 16, 1, 0.1f);
  }
  if (delta) {
    l2_normalize_rows_kernel<<<static_cast<unsigned>((d.BH * d.L + 255) / 256), 256>>>(
        k.as<float>(), d.BH * d.L, d.Dk);
    check_launch("l2_normalize_rows_kernel");
    fill(a, d.BH * d.L, 14, 1, 1.f);  // β ~ U(0, 1) (TARGETS.md)
  } else if (c.spec.decay == Decay::LIT) {
    fill(a, d.BH * d.L, 14, 3, 0.f);
  } else if (c.spec.decay == Decay::D) {
    fill(a, d.BH * d.L, 14, 3, std::log(0.99f));
  } else {
    fill(a, d.BH * d.L, 14, 2, 0.f);
  }
  y.ensure(sizeof(float) * d.BH * d.L * d.Dv);
  Workspace ws;
  DeviceInputs in{q.as<float>(),
                  k.as<float>(),
                  v.as<float>(),
                  delta ? nullptr : a.as<float>(),
                  delta ? a.as<float>() : nullptr,
                  d};
  if (gl) {
    in.log_magnitude = lm.as<float>();
    in.phase = ph.as<float>();
  }
  // "bf16 in" (TARGETS.md): the tensor-core path is timed from bf16 q, k, v already on the
  // device, as the public kernels are; the conversion is not part of the call.
  DeviceBuffer q16, k16, v16;
  if (uses_tensor_cores(c.spec, c.opts, d)) {
    q16.ensure(2 * d.BH * d.L * d.Dk);
    k16.ensure(2 * d.BH * d.L * d.Dk);
    v16.ensure(2 * d.BH * d.L * d.Dv);
    to_bf16(q.as<float>(), q16.as<void>(), d.BH * d.L * d.Dk, 0);
    to_bf16(k.as<float>(), k16.as<void>(), d.BH * d.L * d.Dk, 0);
    to_bf16(v.as<float>(), v16.as<void>(), d.BH * d.L * d.Dv, 0);
    in.q16 = q16.as<void>();
    in.k16 = k16.as<void>();
    in.v16 = v16.as<void>();
  }
  const auto ms = time_calls([&] { forward(c.spec, c.opts, in, y.as<float>(), nullptr, ws, 0); },
                             c.warmup, c.reps);
  BenchResult r;
  r.ms = median(ms);
  r.ms_min = *std::min_element(ms.begin(), ms.end());
  r.ms_max = *std::max_element(ms.begin(), ms.end());
  const double s = r.ms * 1e-3;
  r.tokens_per_s = double(c.B) * c.L / s;
  r.bytes = bench_bytes(c);
  r.flops = bench_flops(c);
  r.gbytes_per_s = r.bytes / s / 1e9;
  r.tflops = r.flops / s / 1e12;
  return r;
}

}  // namespace linscope::gpu
