// LightNet 1-D on the CUDA backend (gpu/lightnet.cu): causal and global (bidirectional),
// recurrent and parallel forms, against LightNet's definition evaluated in double here
// (MODELS.md §6: y_t = q_t^T Σ_{s<=t} e^{f_s}/δ_t k_s v_s^T, δ_t = Σ_{s<=t} e^{f_s}; global:
// δ_L and s over all tokens), with one weight per token or per key channel, and against run_cpu.
// fp32 tolerance 1e-4 relative (the suite's: the kernels sum O(L) fp32 terms in fp32, log weights
// and decays are computed in double).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/base/random.h"
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

// The definition, in double, with δ from a running log-sum-exp; f is [B,H,L] (one weight per
// token) or [B,H,L,Dk] (one per key channel c: A_tu = Σ_c q_tc k_uc e^{f_uc − z_{t,c}}, with
// z_L in the global form).
Tensor reference(const Inputs& in, bool global) {
  const Shape s = in.shape();
  const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v"), &f = in.get("log_weight");
  const int64_t nf = f.shape().size() == 4 ? s.Dk : 1;
  Tensor y({s.B, s.H, s.L, s.Dv});
  std::vector<double> z(size_t(s.L * nf)), acc(size_t(s.Dv));
  for (int64_t h = 0; h < s.heads(); ++h) {
    const float* fh = f.data() + h * s.L * nf;
    for (int64_t t = 0; t < s.L; ++t)
      for (int64_t c = 0; c < nf; ++c) {
        const double prev = t ? z[size_t((t - 1) * nf + c)] : -INFINITY;
        const double ft = fh[t * nf + c], m = std::max(prev, ft);
        z[size_t(t * nf + c)] = m + std::log(std::exp(prev - m) + std::exp(ft - m));
      }
    for (int64_t t = 0; t < s.L; ++t) {
      const int64_t last = global ? s.L - 1 : t;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t u = 0; u <= last; ++u) {
        double score = 0;
        for (int64_t c = 0; c < s.Dk; ++c) {
          const int64_t g = nf == 1 ? 0 : c;
          score += double(q[(h * s.L + t) * s.Dk + c]) * k[(h * s.L + u) * s.Dk + c] *
                   std::exp(fh[u * nf + g] - z[size_t(last * nf + g)]);
        }
        for (int64_t j = 0; j < s.Dv; ++j) acc[size_t(j)] += score * v[(h * s.L + u) * s.Dv + j];
      }
      for (int64_t j = 0; j < s.Dv; ++j) y[(h * s.L + t) * s.Dv + j] = float(acc[size_t(j)]);
    }
  }
  return y;
}

// Per-channel log weights for `in`: N(0, 2²) per (token, channel), far enough apart between
// channels that a kernel using one weight for the whole row would miss by O(1).
Inputs with_channel_weights(Inputs in, uint64_t seed) {
  const Shape s = in.shape();
  Rng rng(seed);
  in.set("log_weight", random_normal({s.B, s.H, s.L, s.Dk}, rng, 0.0, 2.0));
  return in;
}

// The GPU's y against the definition (fp32 tolerance) and, when asked, against run_cpu.
void expect_matches_definition(Backend& gpu, const ModelSpec& spec, const Inputs& in,
                               const RunOptions& opts, bool against_cpu) {
  const Tensor y = gpu.run(spec, in, opts).y;
  const Difference d = compare(y, reference(in, spec.direction == Direction::Bidirectional));
  EXPECT_TRUE(d.finite);
  EXPECT_LE(d.max_rel, kTol);
  if (against_cpu)
    EXPECT_LE(compare(y, run_cpu(spec, in, opts).y).max_rel, kTol) << "against run_cpu";
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
    expect_matches_definition(gpu(), spec, in, opts, true);
  }
}

INSTANTIATE_TEST_SUITE_P(All, LnForms,
                         ::testing::Values(Case{Direction::Causal, Form::Recurrent},
                                           Case{Direction::Causal, Form::Parallel},
                                           Case{Direction::Bidirectional, Form::Recurrent},
                                           Case{Direction::Bidirectional, Form::Parallel}));

// The log-sum-exp scan of the per-token weights runs block-parallel (runs of ⌈L/256⌉ tokens
// per thread, then a scan of the run totals): at L = 4099 every thread has a run of 17 tokens but
// the last few (empty runs), so a wrong carry between runs or an empty run mishandled shows up in
// every later token. Causal and global, against the definition and run_cpu.
TEST_F(GpuTest, LightNetLongSequenceScan) {
  for (const Direction dir : {Direction::Causal, Direction::Bidirectional}) {
    const ModelSpec spec = lightnet(dir);
    const Inputs in = generate_inputs(spec, Shape{1, 1, 4099, 8, 8}, GenerateOptions{41});
    RunOptions opts;
    opts.form = Form::Recurrent;
    expect_matches_definition(gpu(), spec, in, opts, true);
  }
}

// The global recurrent form sums S_L = Σ_s k'_s v_s^T in parts (segments of L, groups of 4096
// state entries) and reads it out: d_k·d_v = 5120 takes two entry groups and L = 1500 many
// segments, each with a partial last token tile (d_k + d_v = 144: 28-token tiles).
TEST_F(GpuTest, LightNetGlobalReadoutInParts) {
  const ModelSpec spec = lightnet(Direction::Bidirectional);
  const Inputs in = generate_inputs(spec, Shape{1, 2, 1500, 64, 80}, GenerateOptions{43});
  RunOptions opts;
  opts.form = Form::Recurrent;
  expect_matches_definition(gpu(), spec, in, opts, true);
}

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
    expect_matches_definition(gpu(), spec, in, opts, false);
  }
}

// The attention matrix of the parallel form is LightNet's: A_ts = q_t·k_s e^{f_s − z_t}, with
// y = A v.
TEST_F(GpuTest, LightNetAttentionMatchesTheCpu) {
  const ModelSpec spec = lightnet(Direction::Causal);
  const Inputs in = generate_inputs(spec, Shape{1, 2, 50, 16, 16}, GenerateOptions{8});
  RunOptions opts;
  opts.form = Form::Parallel;
  opts.attention = true;
  ASSERT_TRUE(gpu().supports(spec, opts));
  const Result g = gpu().run(spec, in, opts);
  const Result c = run_cpu(spec, in, opts);
  EXPECT_LE(compare(g.attention, c.attention).max_rel, kTol);
}

// Per-channel weights f [B,H,L,Dk] (the paper's default) on the GPU, every direction and form:
// against the definition and run_cpu, computed by the GPU's kernels (gpu().run has no fallback:
// a missing kernel would throw). Causal: the per-channel decay kernels of forward.cu; global:
// LION-LIT on keys weighted per channel.
class LnChannels : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(LnChannels, MatchDefinitionAndCpu) {
  const auto [dir, form] = GetParam();
  const ModelSpec spec = lightnet(dir);
  for (const Shape& shape :
       {Shape{1, 1, 1, 8, 8}, Shape{2, 3, 67, 16, 24}, Shape{1, 2, 300, 64, 40}}) {
    SCOPED_TRACE("L=" + std::to_string(shape.L) + " dk=" + std::to_string(shape.Dk));
    const Inputs in =
        with_channel_weights(generate_inputs(spec, shape, GenerateOptions{uint64_t(shape.L)}), 3);
    RunOptions opts;
    opts.form = form;
    const Tensor y = gpu().run(spec, in, opts).y;
    const Difference d = compare(y, reference(in, dir == Direction::Bidirectional));
    EXPECT_TRUE(d.finite);
    EXPECT_LE(d.max_rel, kTol);
    EXPECT_LE(compare(y, run_cpu(spec, in, opts).y).max_rel, kTol) << "against run_cpu";
  }
}

INSTANTIATE_TEST_SUITE_P(All, LnChannels,
                         ::testing::Values(Case{Direction::Causal, Form::Recurrent},
                                           Case{Direction::Causal, Form::Parallel},
                                           Case{Direction::Bidirectional, Form::Recurrent},
                                           Case{Direction::Bidirectional, Form::Parallel}));

// Per-channel weights of ±200 (one channel's sum beyond fp32's range) stay finite and exact; the
// matrix and MD-TPE + MD-LRPE with per-channel weights equal the CPU's.
TEST_F(GpuTest, LightNetPerChannelExtremesEncodingsAndMatrix) {
  for (Direction dir : {Direction::Causal, Direction::Bidirectional}) {
    SCOPED_TRACE(dir == Direction::Causal ? "causal" : "global");
    ModelSpec spec = lightnet(dir);
    Inputs in = generate_inputs(spec, Shape{1, 2, 40, 8, 8}, GenerateOptions{2});
    Tensor f({1, 2, 40, 8});
    for (int64_t i = 0; i < f.numel(); ++i)
      f[i] = ((i / 8 + i % 8) % 3 == 0 ? 200.0f : -200.0f) + 0.1f * float(i % 8);
    in.set("log_weight", f);
    RunOptions opts;
    opts.form = Form::Recurrent;
    const Difference d =
        compare(gpu().run(spec, in, opts).y, reference(in, dir == Direction::Bidirectional));
    EXPECT_TRUE(d.finite);
    EXPECT_LE(d.max_rel, kTol) << "extreme weights";

    spec.lightnet.md_tpe = spec.lightnet.md_lrpe = true;
    const Inputs enc =
        with_channel_weights(generate_inputs(spec, Shape{2, 1, 70, 16, 12}, GenerateOptions{4}), 5);
    for (Form form : {Form::Recurrent, Form::Parallel}) {
      opts.form = form;
      opts.attention = true;
      const Result g = gpu().run(spec, enc, opts), c = run_cpu(spec, enc, opts);
      EXPECT_LE(compare(g.y, c.y).max_rel, kTol) << "y, encoded";
      EXPECT_LE(compare(g.attention, c.attention).max_rel, kTol) << "attention, encoded";
    }
  }
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
