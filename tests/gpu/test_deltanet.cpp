// CUDA DeltaNet recurrence against the delta rule evaluated in double in the test and the CPU
// core. Tolerance, fp32: each step is a contraction for ||k|| = 1, β in (0,1) (I - β k k^T has
// norm <= 1), so rounding errors do not grow along the sequence beyond ~sqrt(L)·eps·|S|;
// with L = 100 that is ~1e-6 relative, and 1e-4 is >50x above it while a wrong sign or a
// missing β changes y at the 1e-1 level.
#include "gpu_test_util.h"

namespace linscope::gpu_test {
namespace {

constexpr double kFp32Tol = 1e-4;

// S_t = S_{t-1} - β_t k_t (k_t^T S_{t-1} - v_t^T), y_t = q_t^T S_t (MODELS.md §4), in double.
Tensor delta_rule(const Inputs& in) {
  const Shape s = in.shape();
  const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v"), &beta = in.get("beta");
  Tensor y({s.B, s.H, s.L, s.Dv});
  for (int64_t h = 0; h < s.B * s.H; ++h) {
    std::vector<double> S(s.Dk * s.Dv, 0.0), u(s.Dv);
    for (int64_t t = 0; t < s.L; ++t) {
      const float* kt = k.data() + (h * s.L + t) * s.Dk;
      const float* qt = q.data() + (h * s.L + t) * s.Dk;
      const float* vt = v.data() + (h * s.L + t) * s.Dv;
      const double b = beta[h * s.L + t];
      for (int64_t c = 0; c < s.Dv; ++c) {
        double kS = 0;
        for (int64_t r = 0; r < s.Dk; ++r) kS += kt[r] * S[r * s.Dv + c];
        u[c] = kS - vt[c];
      }
      for (int64_t r = 0; r < s.Dk; ++r)
        for (int64_t c = 0; c < s.Dv; ++c) S[r * s.Dv + c] -= b * kt[r] * u[c];
      for (int64_t c = 0; c < s.Dv; ++c) {
        double o = 0;
        for (int64_t r = 0; r < s.Dk; ++r) o += qt[r] * S[r * s.Dv + c];
        y[(h * s.L + t) * s.Dv + c] = static_cast<float>(o);
      }
    }
  }
  return y;
}

ModelSpec deltanet() {
  ModelSpec m;
  m.family = Family::DeltaNet;
  return m;
}

TEST_F(GpuTest, DeltaNetRecurrentMatchesDeltaRuleAndCpu) {
  // d_k = 40 (not a multiple of 32: idle rows), d_v = 20 (idle columns), and the benchmark's 128.
  for (const Shape s : {Shape{2, 3, 100, 40, 20}, Shape{1, 2, 64, 128, 128}}) {
    const Inputs in = generate_inputs(deltanet(), s, GenerateOptions{17});
    RunOptions opts;
    opts.form = Form::Recurrent;
    ASSERT_TRUE(gpu().supports(deltanet(), opts));
    const Tensor y = gpu().run(deltanet(), in, opts).y;
    const Difference d = compare(y, delta_rule(in));
    EXPECT_TRUE(d.finite);
    EXPECT_LE(d.max_rel, kFp32Tol) << "Dk=" << s.Dk;
    const Tensor cpu = cpu_or_empty(deltanet(), in, opts);
    if (!cpu.empty()) EXPECT_LE(compare(y, cpu).max_rel, kFp32Tol) << "against run_cpu";
  }
}

// L = 2, d = 1, k = 1, β = 0.5, v = (2, 4), q = 1, by hand: S_1 = 0 - 0.5 (0 - 2) = 1,
// S_2 = 1 - 0.5 (1 - 4) = 2.5; y = S.
TEST_F(GpuTest, DeltaNetHandWorked) {
  Inputs in;
  in.set("q", Tensor({1, 1, 2, 1}, {1, 1}));
  in.set("k", Tensor({1, 1, 2, 1}, {1, 1}));
  in.set("v", Tensor({1, 1, 2, 1}, {2, 4}));
  in.set("beta", Tensor({1, 1, 2}, {0.5f, 0.5f}));
  RunOptions opts;
  opts.form = Form::Recurrent;
  const Result r = gpu().run(deltanet(), in, opts);
  EXPECT_FLOAT_EQ(r.y[0], 1.0f);
  EXPECT_FLOAT_EQ(r.y[1], 2.5f);
}

TEST_F(GpuTest, DeltaNetOtherFormsFallBack) {
  RunOptions opts;
  opts.form = Form::Chunkwise;
  EXPECT_FALSE(gpu().supports(deltanet(), opts));
  opts.form = Form::Recurrent;
  opts.trace.states = true;
  EXPECT_FALSE(gpu().supports(deltanet(), opts));
}

}  // namespace
}  // namespace linscope::gpu_test
