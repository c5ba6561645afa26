// CUDA LION bidirectional (LIT / D / S) against the double-precision full attention
// Y = C^-1 (Q K^T ⊙ M) V (MODELS.md §2) and the CPU core.
//
// Tolerance, fp32: the forward+backward forms add two sums of at most L = 67 terms and subtract
// the diagonal counted twice; the normalizer C_i is a sum of positive terms (LION's feature map),
// so the quotient keeps the ~sqrt(L)·eps ≈ 5e-7 relative error of its parts. 1e-4 is >100x that,
// while a wrong decay shift in the backward sweep changes y by ~1e-2.
#include <tuple>

#include "gpu_test_util.h"

namespace linscope::gpu_test {
namespace {

constexpr double kFp32Tol = 1e-4;

// LION's row scaling is spec.normalize, on here as in the paper's model.
ModelSpec lion(Decay decay, bool normalize = true) {
  ModelSpec m;
  m.family = Family::Lion;
  m.decay = decay;
  m.direction = Direction::Bidirectional;
  m.normalize = normalize;
  return m;
}

using LionParam = std::tuple<Decay, Form, int64_t>;

class LionForms : public GpuTest, public ::testing::WithParamInterface<LionParam> {};

TEST_P(LionForms, MatchesFullAttentionAndCpu) {
  const auto [decay, form, chunk] = GetParam();
  const ModelSpec spec = lion(decay);
  const Inputs in = generate_inputs(spec, Shape{2, 2, 67, 16, 12}, GenerateOptions{21});
  RunOptions opts;
  opts.form = form;
  opts.chunk = chunk;
  ASSERT_TRUE(gpu().supports(spec, opts));
  const Tensor y = gpu().run(spec, in, opts).y;
  const Difference ref = compare(y, reference(in, true, true));
  EXPECT_TRUE(ref.finite);
  EXPECT_LE(ref.max_rel, kFp32Tol) << describe(spec) << " " << to_string(form) << " C=" << chunk;
  const Tensor cpu = cpu_or_empty(spec, in, opts);
  if (!cpu.empty()) EXPECT_LE(compare(y, cpu).max_rel, kFp32Tol) << "against run_cpu";
}

INSTANTIATE_TEST_SUITE_P(Forms, LionForms,
                         ::testing::Combine(::testing::Values(Decay::LIT, Decay::D, Decay::S),
                                            ::testing::Values(Form::Parallel, Form::Recurrent),
                                            ::testing::Values(int64_t{64})));
INSTANTIATE_TEST_SUITE_P(Chunks, LionForms,
                         ::testing::Combine(::testing::Values(Decay::LIT, Decay::D, Decay::S),
                                            ::testing::Values(Form::Chunkwise),
                                            ::testing::Values(int64_t{1}, int64_t{7}, int64_t{16},
                                                              int64_t{67})));

// Without the row scaling the forms return (Q K^T ⊙ M) V: the combination of the two sweeps
// must then subtract the diagonal from the numerators alone.
TEST_F(GpuTest, LionUnnormalized) {
  const ModelSpec spec = lion(Decay::S, false);
  const Inputs in = generate_inputs(spec, Shape{1, 2, 50, 8, 8}, GenerateOptions{4});
  const Tensor ref = reference(in, true, false);
  for (Form form : {Form::Parallel, Form::Recurrent, Form::Chunkwise}) {
    RunOptions opts;
    opts.form = form;
    opts.chunk = 16;
    EXPECT_LE(compare(gpu().run(spec, in, opts).y, ref).max_rel, kFp32Tol) << to_string(form);
  }
}

// L = 3, d = 1, q = k = 1, v = (1, 2, 3), λ = 0.5, by hand from the full attention:
// M = [[1, .5, .25], [.5, 1, .5], [.25, .5, 1]], y_i = Σ_j M_ij v_j / Σ_j M_ij:
// y = (2.75 / 1.75, 4 / 2, 4.25 / 1.75).
TEST_F(GpuTest, LionHandWorkedThreeTokens) {
  Inputs in;
  in.set("q", Tensor({1, 1, 3, 1}, {1, 1, 1}));
  in.set("k", Tensor({1, 1, 3, 1}, {1, 1, 1}));
  in.set("v", Tensor({1, 1, 3, 1}, {1, 2, 3}));
  const float l = std::log(0.5f);
  in.set("log_decay", Tensor({1, 1, 3}, {l, l, l}));
  const float want[3] = {2.75f / 1.75f, 2.f, 4.25f / 1.75f};
  for (Form form : {Form::Parallel, Form::Recurrent, Form::Chunkwise}) {
    RunOptions opts;
    opts.form = form;
    opts.chunk = 2;
    const Result r = gpu().run(lion(Decay::D), in, opts);
    for (int t = 0; t < 3; ++t) EXPECT_NEAR(r.y[t], want[t], 1e-6) << to_string(form);
  }
}

// Selective decays that differ per token make the backward sweep's λ_{t+1} shift visible:
// M_ij uses the decays strictly between i and j. Checked on a hand-sized case in double.
TEST_F(GpuTest, LionBackwardUsesNextTokensDecay) {
  Inputs in;
  in.set("q", Tensor({1, 1, 3, 1}, {1, 1, 1}));
  in.set("k", Tensor({1, 1, 3, 1}, {1, 1, 1}));
  in.set("v", Tensor({1, 1, 3, 1}, {1, 2, 3}));
  // λ = (0.9, 0.5, 0.25): M_01 = λ_1 = 0.5, M_12 = λ_2 = 0.25, M_02 = 0.125.
  in.set("log_decay", Tensor({1, 1, 3}, {std::log(0.9f), std::log(0.5f), std::log(0.25f)}));
  const double y0 = (1 + 0.5 * 2 + 0.125 * 3) / (1 + 0.5 + 0.125);
  const double y1 = (0.5 * 1 + 2 + 0.25 * 3) / (0.5 + 1 + 0.25);
  const double y2 = (0.125 * 1 + 0.25 * 2 + 3) / (0.125 + 0.25 + 1);
  for (Form form : {Form::Parallel, Form::Recurrent, Form::Chunkwise}) {
    RunOptions opts;
    opts.form = form;
    opts.chunk = 2;
    const Result r = gpu().run(lion(Decay::S), in, opts);
    EXPECT_NEAR(r.y[0], y0, 1e-6) << to_string(form);
    EXPECT_NEAR(r.y[1], y1, 1e-6) << to_string(form);
    EXPECT_NEAR(r.y[2], y2, 1e-6) << to_string(form);
  }
}

// L = 16384 at λ = 0.5: finite and exact against the banded definition (0.5^64 ≈ 5e-20).
TEST_F(GpuTest, LionLongSequenceFastDecay) {
  const ModelSpec spec = lion(Decay::D);
  GenerateOptions g;
  g.lambda = 0.5;
  const Inputs in = generate_inputs(spec, Shape{1, 1, 16384, 8, 8}, g);
  const Tensor ref = reference(in, true, true, 64);
  for (Form form : {Form::Recurrent, Form::Chunkwise, Form::Parallel}) {
    RunOptions opts;
    opts.form = form;
    const Difference d = compare(gpu().run(spec, in, opts).y, ref);
    EXPECT_TRUE(d.finite);
    EXPECT_LE(d.max_rel, kFp32Tol) << to_string(form);
  }
}

// The full attention matrix: rows sum to 1 (LION normalizes by C_i) and A v = y.
TEST_F(GpuTest, LionAttentionRowsSumToOne) {
  const ModelSpec spec = lion(Decay::S);
  const Inputs in = generate_inputs(spec, Shape{1, 1, 30, 8, 4}, GenerateOptions{2});
  RunOptions opts;
  opts.form = Form::Parallel;
  opts.attention = true;
  const Result r = gpu().run(spec, in, opts);
  const Tensor& v = in.get("v");
  Tensor av({1, 1, 30, 4});
  for (int64_t i = 0; i < 30; ++i) {
    double sum = 0;
    for (int64_t j = 0; j < 30; ++j) {
      const float a = r.attention[i * 30 + j];
      EXPECT_GT(a, 0.f);
      sum += a;
      for (int64_t c = 0; c < 4; ++c) av[i * 4 + c] += a * v[j * 4 + c];
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
  EXPECT_LE(compare(av, r.y).max_rel, kFp32Tol);
}

}  // namespace
}  // namespace linscope::gpu_test
