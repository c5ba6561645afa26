// CUDA causal linear attention (LIT / D / S, plain and normalized) against the double-precision
// definition and the CPU core.
//
// Tolerance, fp32: every form sums at most L = 256 products of O(1) terms in float; the rounding
// error grows ~sqrt(L)·eps·|terms| ≈ 16 · 6e-8 ≈ 1e-6 of the output scale (the mask entries
// themselves come from double cumulative sums, so they carry one float rounding each). 1e-4
// relative to max|y| (compare.h's max_rel) is >50x that and still catches any wrong mask entry,
// chunk boundary or missing term (those are O(1e-2) or larger on these inputs).
#include <tuple>

#include "gpu_test_util.h"

namespace linscope::gpu_test {
namespace {

constexpr double kFp32Tol = 1e-4;

ModelSpec la(Decay decay, bool normalize) {
  ModelSpec m;
  m.family = Family::LinearAttention;
  m.decay = decay;
  m.normalize = normalize;
  return m;
}

using LaParam = std::tuple<Decay, bool, Form, int64_t>;  // decay, normalize, form, chunk

class LaForms : public GpuTest, public ::testing::WithParamInterface<LaParam> {};

TEST_P(LaForms, MatchesDefinitionAndCpu) {
  const auto [decay, normalize, form, chunk] = GetParam();
  const ModelSpec spec = la(decay, normalize);
  // L = 67 is no multiple of any chunk; d_k != d_v; 6 heads.
  const Shape shape{2, 3, 67, 16, 24};
  GenerateOptions g;
  g.seed = 7 + static_cast<uint64_t>(decay) * 3 + (normalize ? 1 : 0);
  const Inputs in = generate_inputs(spec, shape, g);
  RunOptions opts;
  opts.form = form;
  opts.chunk = chunk;
  ASSERT_TRUE(gpu().supports(spec, opts));
  const Result r = gpu().run(spec, in, opts);
  const Difference ref = compare(r.y, reference(in, false, normalize));
  EXPECT_TRUE(ref.finite);
  EXPECT_LE(ref.max_rel, kFp32Tol) << describe(spec) << " " << to_string(form) << " C=" << chunk;
  const Tensor cpu = cpu_or_empty(spec, in, opts);
  if (!cpu.empty()) {
    const Difference d = compare(r.y, cpu);
    EXPECT_LE(d.max_rel, kFp32Tol) << "against run_cpu";
  }
}

INSTANTIATE_TEST_SUITE_P(AllForms, LaForms,
                         ::testing::Combine(::testing::Values(Decay::LIT, Decay::D, Decay::S),
                                            ::testing::Bool(),
                                            ::testing::Values(Form::Recurrent, Form::Parallel),
                                            ::testing::Values(int64_t{64})));
// Chunkwise at both ends (C = 1 is the recurrence, C >= L the parallel form) and in between,
// including sizes that do not divide L or the kernels' 16-row tiles.
INSTANTIATE_TEST_SUITE_P(Chunks, LaForms,
                         ::testing::Combine(::testing::Values(Decay::LIT, Decay::D, Decay::S),
                                            ::testing::Bool(), ::testing::Values(Form::Chunkwise),
                                            ::testing::Values(int64_t{1}, int64_t{5}, int64_t{16},
                                                              int64_t{64}, int64_t{67},
                                                              int64_t{1000})));

// L = 3, d = 1, q = k = 1, v = (1, 2, 3), λ = 0.5, worked by hand from S_t = λ S_{t-1} + k v:
// S_1 = 1, S_2 = 0.5 + 2 = 2.5, S_3 = 1.25 + 3 = 4.25; normalized: z = 1, 1.5, 1.75.
TEST_F(GpuTest, HandWorkedThreeTokens) {
  Inputs in;
  in.set("q", Tensor({1, 1, 3, 1}, {1, 1, 1}));
  in.set("k", Tensor({1, 1, 3, 1}, {1, 1, 1}));
  in.set("v", Tensor({1, 1, 3, 1}, {1, 2, 3}));
  const float l = std::log(0.5f);
  in.set("log_decay", Tensor({1, 1, 3}, {l, l, l}));
  for (bool normalize : {false, true}) {
    const std::vector<float> want = normalize ? std::vector<float>{1.f, 2.5f / 1.5f, 4.25f / 1.75f}
                                              : std::vector<float>{1.f, 2.5f, 4.25f};
    for (Form form : {Form::Recurrent, Form::Chunkwise, Form::Parallel}) {
      RunOptions opts;
      opts.form = form;
      opts.chunk = 2;
      const Result r = gpu().run(la(Decay::D, normalize), in, opts);
      for (int t = 0; t < 3; ++t)
        EXPECT_NEAR(r.y[t], want[t], 1e-6) << to_string(form) << " t=" << t;
    }
  }
}

// d_k = d_v = 128: the shapes of the benchmark (16 state rows per thread in the recurrence).
TEST_F(GpuTest, FullHeadDimension) {
  const ModelSpec spec = la(Decay::S, false);
  const Inputs in = generate_inputs(spec, Shape{1, 2, 200, 128, 128}, GenerateOptions{3});
  const Tensor ref = reference(in, false, false);
  for (Form form : {Form::Recurrent, Form::Chunkwise, Form::Parallel}) {
    RunOptions opts;
    opts.form = form;
    EXPECT_LE(compare(gpu().run(spec, in, opts).y, ref).max_rel, kFp32Tol) << to_string(form);
  }
}

// L = 16384 with λ = 0.5: a float cumulative sum of log λ would reach -1.1e4 (ulp 1e-3); the
// kernels must stay finite and exact. Reference: the definition restricted to a band of 64
// tokens (0.5^64 ≈ 5e-20 drops nothing representable).
TEST_F(GpuTest, LongSequenceFastDecay) {
  const ModelSpec spec = la(Decay::D, true);
  GenerateOptions g;
  g.lambda = 0.5;
  const Inputs in = generate_inputs(spec, Shape{1, 2, 16384, 8, 8}, g);
  const Tensor ref = reference(in, false, true, 64);
  for (Form form : {Form::Recurrent, Form::Chunkwise}) {
    RunOptions opts;
    opts.form = form;
    const Difference d = compare(gpu().run(spec, in, opts).y, ref);
    EXPECT_TRUE(d.finite);
    EXPECT_LE(d.max_rel, kFp32Tol) << to_string(form);
  }
}

// The attention matrix of the parallel form: A v reproduces y, each entry is the definition's
// (row-scaled by the normalizer), and the upper triangle is exactly zero.
TEST_F(GpuTest, AttentionMatrix) {
  for (bool normalize : {false, true}) {
    const ModelSpec spec = la(Decay::S, normalize);
    const Shape s{1, 2, 40, 8, 6};
    const Inputs in = generate_inputs(spec, s, GenerateOptions{5});
    RunOptions opts;
    opts.form = Form::Parallel;
    opts.attention = true;
    const Result r = gpu().run(spec, in, opts);
    ASSERT_EQ(r.attention.shape(), (std::vector<int64_t>{1, 2, 40, 40}));
    const Tensor& v = in.get("v");
    Tensor av({1, 2, 40, 6});
    double worst_upper = 0;
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t i = 0; i < 40; ++i)
        for (int64_t j = 0; j < 40; ++j) {
          const float a = r.attention[(h * 40 + i) * 40 + j];
          if (j > i) worst_upper = std::max(worst_upper, double(std::abs(a)));
          for (int64_t c = 0; c < 6; ++c) av[(h * 40 + i) * 6 + c] += a * v[(h * 40 + j) * 6 + c];
        }
    EXPECT_EQ(worst_upper, 0.0);
    EXPECT_LE(compare(av, r.y).max_rel, kFp32Tol);
    EXPECT_LE(compare(r.y, reference(in, false, normalize)).max_rel, kFp32Tol);
  }
}

// bf16 mode of the fp32 kernels (the recurrent and parallel forms, and chunk sizes the tensor-core
// path does not take; its own tests are in test_linear_attention_tc.cpp): q, k, v rounded to
// bf16, fp32 arithmetic, exactly the CPU's bf16 mode, so the fp32 tolerance applies against the
// definition evaluated on the rounded inputs. Against the unrounded fp32 definition, each term
// M (q·k) v carries a relative error of at most 3u (three roundings of u = 2^-8, bf16's unit
// roundoff with 8 significant bits, to first order) of Σ_r |q_r k_r| M |v|, so
// |Δy_i| <= 3u Σ_j M_ij Σ_r |q_ir k_jr| |v_j| (+ the fp32 error, 1e-5 of that sum);
// the test computes that sum in double and checks the bound element by element.
TEST_F(GpuTest, Bf16InputsWithinDerivedBound) {
  const ModelSpec spec = la(Decay::S, false);
  const Inputs in = generate_inputs(spec, Shape{1, 2, 100, 32, 32}, GenerateOptions{9});
  RunOptions opts;
  opts.form = Form::Recurrent;
  opts.bf16 = true;
  const Tensor y = gpu().run(spec, in, opts).y;
  Inputs rounded = in;
  for (const char* name : {"q", "k", "v"}) round_to_bf16(rounded.get(name));
  EXPECT_LE(compare(y, reference(rounded, false, false)).max_rel, kFp32Tol);
  Tensor mag;
  const Tensor exact = reference(in, false, false, 0, &mag);
  const double bound = 3.0 * std::ldexp(1.0, -8);
  int violations = 0;
  for (int64_t e = 0; e < y.numel(); ++e)
    if (std::abs(y[e] - exact[e]) > (bound + 1e-5) * mag[e] + 1e-6) ++violations;
  EXPECT_EQ(violations, 0);
  // And the bound is not vacuous: bf16 did move the answer.
  EXPECT_GT(compare(y, exact).max_abs, 0.0);
}

}  // namespace
}  // namespace linscope::gpu_test
