// LightNet 1-D on the CUDA backend (gpu/lightnet.cu): causal and global (bidirectional),
// recurrent and parallel forms, against LightNet's definition evaluated in double here
// (MODELS.md §6: y_t = q_t^T Σ_{s<=t} e^{f_s}/δ_t k_s v_s^T, δ_t = Σ_{s<=t} e^{f_s}; global:
// δ_L and s over all tokens) and against run_cpu. fp32 tolerance 1e-4 relative (the suite's:
// the kernels sum O(L) fp32 terms in fp32, log weights and decays are computed in double).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gpu_test_util.h"

namespace linscope::gpu_test {
namespace {

constexpr double kTol = 1e-4;

ModelSpec lightnet(Direction dir) {
  ModelSpec s;
  s.family = Family::LightNet;
  s.direction = dir;
  return s;
}

// The definition, in double, with δ from a running log-sum-exp.
Tensor reference(const Inputs& in, bool global) {
  const Shape s = in.shape();
  const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v"), &f = in.get("log_weight");
  Tensor y({s.B, s.H, s.L, s.Dv});
  for (int64_t h = 0; h < s.heads(); ++h) {
    const float* fh = f.data() + h * s.L;
    std::vector<double> z(size_t(s.L));
    for (int64_t t = 0; t < s.L; ++t) {
      const double prev = t ? z[size_t(t - 1)] : -INFINITY;
      const double m = std::max(prev, double(fh[t]));
      z[size_t(t)] = m + std::log(std::exp(prev - m) + std::exp(fh[t] - m));
    }
    for (int64_t t = 0; t < s.L; ++t) {
      const int64_t last = global ? s.L - 1 : t;
      for (int64_t j = 0; j < s.Dv; ++j) {
        double acc = 0;
        for (int64_t u = 0; u <= last; ++u) {
          double qk = 0;
          for (int64_t c = 0; c < s.Dk; ++c)
            qk += double(q[(h * s.L + t) * s.Dk + c]) * k[(h * s.L + u) * s.Dk + c];
          acc += qk * std::exp(fh[u] - z[size_t(last)]) * v[(h * s.L + u) * s.Dv + j];
        }
        y[(h * s.L + t) * s.Dv + j] = float(acc);
      }
    }
  }
  return y;
}

struct Case {
  Direction dir;
  Form form;
};

class LnForms : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(LnForms, MatchesDefinitionAndCpu) {
  const auto [dir, form] = GetParam();
  const ModelSpec spec = lightnet(dir);
  for (const Shape& shape :
       {Shape{1, 1, 1, 8, 8}, Shape{2, 3, 67, 16, 24}, Shape{1, 2, 300, 64, 40}}) {
    SCOPED_TRACE("L=" + std::to_string(shape.L) + " dk=" + std::to_string(shape.Dk));
    const Inputs in = generate_inputs(spec, shape, GenerateOptions{uint64_t(shape.L)});
    RunOptions opts;
    opts.form = form;
    ASSERT_TRUE(gpu().supports(spec, opts));
    const Tensor y = gpu().run(spec, in, opts).y;
    const Difference d = compare(y, reference(in, dir == Direction::Bidirectional));
    EXPECT_TRUE(d.finite);
    EXPECT_LE(d.max_rel, kTol);
    EXPECT_LE(compare(y, run_cpu(spec, in, opts).y).max_rel, kTol) << "against run_cpu";
  }
}

INSTANTIATE_TEST_SUITE_P(All, LnForms,
                         ::testing::Values(Case{Direction::Causal, Form::Recurrent},
                                           Case{Direction::Causal, Form::Parallel},
                                           Case{Direction::Bidirectional, Form::Recurrent},
                                           Case{Direction::Bidirectional, Form::Parallel}));

// Log space: weights spanning e^{±200} (the sums overflow fp32 and even e^{f} alone would)
// stay finite and exact, because only differences of logs are exponentiated.
TEST_F(GpuTest, LightNetExtremeWeightsStayFinite) {
  for (Direction dir : {Direction::Causal, Direction::Bidirectional}) {
    const ModelSpec spec = lightnet(dir);
    Inputs in = generate_inputs(spec, Shape{1, 1, 40, 8, 8}, GenerateOptions{2});
    Tensor f = in.get("log_weight");
    for (int64_t t = 0; t < 40; ++t) f[t] = (t % 3 == 0 ? 200.0f : -200.0f) + 0.1f * t;
    in.set("log_weight", f);
    RunOptions opts;
    opts.form = Form::Recurrent;
    const Tensor y = gpu().run(spec, in, opts).y;
    const Difference d = compare(y, reference(in, dir == Direction::Bidirectional));
    EXPECT_TRUE(d.finite);
    EXPECT_LE(d.max_rel, kTol);
  }
}

// The attention matrix of the parallel form is LightNet's: A_ts = q_t·k_s e^{f_s − z_t}, with
// y = A v; per-channel weights have no kernel and fall back.
TEST_F(GpuTest, LightNetAttentionAndFallbacks) {
  const ModelSpec spec = lightnet(Direction::Causal);
  const Inputs in = generate_inputs(spec, Shape{1, 2, 50, 16, 16}, GenerateOptions{8});
  RunOptions opts;
  opts.form = Form::Parallel;
  opts.attention = true;
  ASSERT_TRUE(gpu().supports(spec, opts));
  const Result g = gpu().run(spec, in, opts);
  const Result c = run_cpu(spec, in, opts);
  EXPECT_LE(compare(g.attention, c.attention).max_rel, kTol);
  Inputs per_channel = in;
  per_channel.set("log_weight", Tensor({1, 2, 50, 16}, 0.5f));
  std::string why;
  RunOptions rec;
  rec.form = Form::Recurrent;
  const Tensor y = run_with_fallback(gpu(), spec, per_channel, rec, &why).y;
  EXPECT_NE(why.find("per-channel"), std::string::npos) << why;
  EXPECT_LE(compare(y, run_cpu(spec, per_channel, rec).y).max_rel, 1e-6);
}

// MD-TPE and MD-LRPE (core/lightnet/position.h, N = 1) on the GPU: y and the attention matrix
// equal run_cpu's, whose encodings tests/lightnet checks against their definitions. Both sides
// encode with the same float (TPE) and double (LRPE angles) arithmetic, so the gap is that of
// the plain model's kernels: 1e-4 relative as above. The encodings must matter at these sizes
// (y moves by far more than the tolerance), so a GPU that ignored a flag would fail.
struct Encoding {
  bool tpe, lrpe;
  Direction dir;
  Form form;
};

class LnEncodings : public GpuTest, public ::testing::WithParamInterface<Encoding> {};

TEST_P(LnEncodings, MatchTheCpu) {
  const auto [tpe, lrpe, dir, form] = GetParam();
  ModelSpec spec = lightnet(dir);
  spec.lightnet.md_tpe = tpe;
  spec.lightnet.md_lrpe = lrpe;
  for (const Shape& shape : {Shape{1, 2, 45, 9, 7}, Shape{2, 1, 130, 32, 16}}) {
    SCOPED_TRACE("L=" + std::to_string(shape.L) + " dk=" + std::to_string(shape.Dk));
    const Inputs in = generate_inputs(spec, shape, GenerateOptions{uint64_t(shape.L)});
    RunOptions opts;
    opts.form = form;
    opts.attention = true;
    ASSERT_TRUE(gpu().supports(spec, opts));
    const Result g = gpu().run(spec, in, opts);
    const Result c = run_cpu(spec, in, opts);
    const Difference dy = compare(g.y, c.y);
    EXPECT_TRUE(dy.finite);
    EXPECT_LE(dy.max_rel, kTol) << "y";
    EXPECT_LE(compare(g.attention, c.attention).max_rel, kTol) << "attention";
    const Tensor plain = run_cpu(lightnet(dir), in, opts).y;
    EXPECT_GT(compare(g.y, plain).max_rel, 100 * kTol) << "the encodings changed nothing";
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, LnEncodings,
    ::testing::Values(Encoding{true, false, Direction::Causal, Form::Recurrent},
                      Encoding{false, true, Direction::Causal, Form::Parallel},
                      Encoding{true, true, Direction::Causal, Form::Parallel},
                      Encoding{true, true, Direction::Causal, Form::Recurrent},
                      Encoding{true, true, Direction::Bidirectional, Form::Parallel},
                      Encoding{true, false, Direction::Bidirectional, Form::Recurrent},
                      Encoding{false, true, Direction::Bidirectional, Form::Recurrent}));

}  // namespace
}  // namespace linscope::gpu_test
