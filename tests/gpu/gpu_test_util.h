// Shared helpers of the GPU tests: the backend or a clean skip, and independent double-precision
// references computed straight from the definitions of MODELS.md (not from any form's code).
#pragma once
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdlib>
#include <memory>
#include <string>

#include "core/base/error.h"
#include "core/base/inputs.h"
#include "core/base/spec.h"
#include "core/engine/backend.h"
#include "core/engine/compare.h"
#include "core/engine/generate.h"
#include "core/engine/run.h"
#include "gpu/cuda_backend.h"

namespace linscope::gpu_test {

// Every GPU test starts here: on a machine without a usable device the test is skipped.
class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    backend_ = gpu::make_cuda_backend(&why);
    if (!backend_) GTEST_SKIP() << "no CUDA backend: " << why;
  }
  Backend& gpu() { return *backend_; }
  std::unique_ptr<Backend> backend_;
};

// Whether a warpgroup (wgmma) kernel must run here, asked independently of the backend's own
// answer: a build with sm_90a code (LINSCOPE_SM90A), a device of compute capability 9.0, and the
// environment variable `off_variable` not set to "mma" (the knob that keeps the mma.sync kernel).
inline bool wgmma_expected(const char* off_variable) {
#ifdef LINSCOPE_SM90A
  int dev = 0, major = 0, minor = 0;
  if (cudaGetDevice(&dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess)
    return false;
  const char* forced = std::getenv(off_variable);
  return major == 9 && minor == 0 && !(forced && std::string(forced) == "mma");
#else
  (void)off_variable;
  return false;
#endif
}

// Decay factor M_ij from the cumulative sums of log λ (double), for the causal (j <= i) or the
// bidirectional mask: Π_{m=min+1..max} λ_m (MODELS.md §1, §2).
inline double mask(const double* A, int64_t i, int64_t j) {
  return std::exp(i >= j ? A[i] - A[j] : A[j] - A[i]);
}

// y_i = Σ_j M_ij (q_i·k_j) v_j  [/ Σ_j M_ij (q_i·k_j)], j <= i (causal) or all j, in double.
// band > 0 limits j to |i - j| < band (for long sequences with a fast decay). abs_out, when
// given, receives Σ_j M_ij Σ_r |q_ir k_jr| |v_j| (unnormalized only): the size of the terms, from
// which the tests derive their bf16 bounds.
inline Tensor reference(const Inputs& in, bool bidirectional, bool normalize, int64_t band = 0,
                        Tensor* abs_out = nullptr) {
  const Shape s = in.shape();
  const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v");
  Tensor y({s.B, s.H, s.L, s.Dv});
  if (abs_out) *abs_out = Tensor({s.B, s.H, s.L, s.Dv});
  std::vector<double> A(s.L), acc(s.Dv), mag(s.Dv);
  for (int64_t h = 0; h < s.B * s.H; ++h) {
    double run = 0;
    for (int64_t t = 0; t < s.L; ++t) {
      run += in.has("log_decay") ? in.get("log_decay")[h * s.L + t] : 0.0;
      A[t] = run;
    }
    for (int64_t i = 0; i < s.L; ++i) {
      std::fill(acc.begin(), acc.end(), 0.0);
      std::fill(mag.begin(), mag.end(), 0.0);
      double den = 0;
      const int64_t jlo = band > 0 ? std::max<int64_t>(0, i - band + 1) : 0;
      const int64_t jhi = bidirectional ? (band > 0 ? std::min(s.L, i + band) : s.L) : i + 1;
      for (int64_t j = jlo; j < jhi; ++j) {
        double qk = 0, qk_abs = 0;
        for (int64_t r = 0; r < s.Dk; ++r) {
          const double p = double(q[(h * s.L + i) * s.Dk + r]) * k[(h * s.L + j) * s.Dk + r];
          qk += p;
          qk_abs += std::abs(p);
        }
        const double m = mask(A.data(), i, j);
        const double w = qk * m;
        den += w;
        for (int64_t c = 0; c < s.Dv; ++c) {
          acc[c] += w * v[(h * s.L + j) * s.Dv + c];
          mag[c] += qk_abs * m * std::abs(v[(h * s.L + j) * s.Dv + c]);
        }
      }
      for (int64_t c = 0; c < s.Dv; ++c) {
        y[(h * s.L + i) * s.Dv + c] = static_cast<float>(normalize ? acc[c] / den : acc[c]);
        if (abs_out) (*abs_out)[(h * s.L + i) * s.Dv + c] = static_cast<float>(mag[c]);
      }
    }
  }
  return y;
}

// The CPU core's answer, or an empty tensor while that family is still "not implemented"
// (the CPU forms are written in parallel with these kernels); the double reference above is
// always checked, so a test never passes on the CPU comparison alone.
inline Tensor cpu_or_empty(const ModelSpec& spec, const Inputs& in, const RunOptions& opts) {
  try {
    return run_cpu(spec, in, opts).y;
  } catch (const Error& e) {
    if (std::string(e.what()).find("not implemented") != std::string::npos) return Tensor();
    throw;
  }
}

// GateLoop (MODELS.md §3): S_t = diag(a_t) S_{t-1} + k_t v_t^T, y_t = Re(q_t^H S_t),
// a_t = exp(log_magnitude + i phase), in std::complex<double>, straight from GateLoop eq. 1.
// abs_out, when given, receives Σ_{j<=i} Σ_c |q_ic k_jc| |Π_{m=j+1..i} a_mc| |v_j|: the size of
// the terms, from which the bf16 bounds are derived.
inline Tensor reference_gateloop(const Inputs& in, Tensor* abs_out = nullptr) {
  const Shape s = in.shape();
  const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v");
  const Tensor &lm = in.get("log_magnitude"), &ph = in.get("phase");
  Tensor y({s.B, s.H, s.L, s.Dv});
  if (abs_out) *abs_out = Tensor({s.B, s.H, s.L, s.Dv});
  std::vector<std::complex<double>> S(static_cast<size_t>(s.Dk * s.Dv));
  std::vector<double> M(static_cast<size_t>(s.Dk * s.Dv));
  for (int64_t h = 0; h < s.heads(); ++h) {
    std::fill(S.begin(), S.end(), std::complex<double>(0, 0));
    std::fill(M.begin(), M.end(), 0.0);
    for (int64_t t = 0; t < s.L; ++t) {
      const int64_t row = h * s.L + t;
      for (int64_t c = 0; c < s.Dk; ++c) {
        const std::complex<double> a =
            std::exp(std::complex<double>(lm[row * s.Dk + c], ph[row * s.Dk + c]));
        const double kc = k[row * s.Dk + c];
        for (int64_t j = 0; j < s.Dv; ++j) {
          S[c * s.Dv + j] = a * S[c * s.Dv + j] + kc * double(v[row * s.Dv + j]);
          M[c * s.Dv + j] = std::abs(a) * M[c * s.Dv + j] + std::abs(kc * v[row * s.Dv + j]);
        }
      }
      for (int64_t j = 0; j < s.Dv; ++j) {
        double acc = 0, mag = 0;
        for (int64_t c = 0; c < s.Dk; ++c) {
          acc += q[row * s.Dk + c] * S[c * s.Dv + j].real();
          mag += std::abs(q[row * s.Dk + c]) * M[c * s.Dv + j];
        }
        y[row * s.Dv + j] = static_cast<float>(acc);
        if (abs_out) (*abs_out)[row * s.Dv + j] = static_cast<float>(mag);
      }
    }
  }
  return y;
}

inline double max_abs(const Tensor& t) {
  double m = 0;
  for (float x : t.values()) m = std::max(m, double(std::abs(x)));
  return m;
}

// How many elements of a and b (same shape) differ at all: a tensor-core path's own roundings
// show in most elements, so this tells which kernel ran.
inline int64_t differing(const Tensor& a, const Tensor& b) {
  int64_t n = 0;
  for (int64_t e = 0; e < a.numel(); ++e) n += a[e] != b[e];
  return n;
}

}  // namespace linscope::gpu_test
