// CUDA GateLoop (recurrent and associative-scan forms) against the complex recurrence evaluated
// in double in the test (MODELS.md §3) and against run_cpu.
//
// Tolerance, fp32: each output sums Dk·(memory) complex terms; |a_t| ≈ 0.95 in generate_inputs
// gives a memory of ~20 tokens, and each state entry is updated by one complex multiply-add per
// step (a few roundings of 6e-8, damped by |a| < 1). The scan form adds one carry per segment,
// formed from the segment's log-polar sums in double and rounded once to float. Expected error
// ~1e-6 of the output scale; 1e-4 relative to max|y| (compare.h's max_rel) is >50x that, while a
// wrong phase sign, a missing carry or an off-by-one segment boundary moves y by O(1e-2) or more.
#include "gpu_test_util.h"

namespace linscope::gpu_test {
namespace {

constexpr double kFp32Tol = 1e-4;

ModelSpec gateloop() {
  ModelSpec m;
  m.family = Family::GateLoop;
  return m;
}

TEST_F(GpuTest, GateLoopSupportsEveryForm) {
  RunOptions opts;
  for (Form f : {Form::Recurrent, Form::Scan, Form::Parallel}) {
    opts.form = f;
    EXPECT_TRUE(gpu().supports(gateloop(), opts)) << to_string(f);
  }
  opts.attention = true;
  EXPECT_TRUE(gpu().supports(gateloop(), opts)) << "attention from the surrogate attention";
  opts.form = Form::Scan;
  EXPECT_FALSE(gpu().supports(gateloop(), opts)) << "attention from the parallel form only";
  opts.attention = false;
  opts.trace.states = true;
  EXPECT_TRUE(gpu().supports(gateloop(), opts)) << "complex state traces (test_trace.cpp)";
}

// The surrogate attention matrix (GateLoop §3.2) equals the CPU core's, is zero above the
// diagonal, and A v is the output. fp32 scores from double-precision terms: 1e-4 relative.
TEST_F(GpuTest, GateLoopSurrogateAttentionMatrix) {
  const Inputs in = generate_inputs(gateloop(), Shape{1, 2, 70, 24, 20}, GenerateOptions{12});
  RunOptions opts;
  opts.form = Form::Parallel;
  opts.attention = true;
  const Result g = gpu().run(gateloop(), in, opts);
  const Result c = run_cpu(gateloop(), in, opts);
  EXPECT_LE(compare(g.attention, c.attention).max_rel, kFp32Tol);
  EXPECT_LE(compare(g.y, c.y).max_rel, kFp32Tol);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < 70; ++i)
      for (int64_t j = i + 1; j < 70; ++j) ASSERT_EQ(g.attention[(h * 70 + i) * 70 + j], 0.0f);
}

class GlForms : public GpuTest, public ::testing::WithParamInterface<Form> {};

// Shapes: L = 67 (the scan splits it into 16-token segments with a 3-token tail: carries
// across 4 boundaries), d_k != d_v, d_v > 32 (two column blocks), d = 128, and L = 2000 (many
// segments).
TEST_P(GlForms, MatchesRecurrenceAndCpu) {
  const Form form = GetParam();
  for (const Shape& shape : {Shape{2, 3, 67, 16, 24}, Shape{1, 2, 50, 8, 40},
                             Shape{1, 1, 90, 128, 128}, Shape{1, 2, 2000, 16, 8}}) {
    SCOPED_TRACE("L=" + std::to_string(shape.L) + " dk=" + std::to_string(shape.Dk) +
                 " dv=" + std::to_string(shape.Dv));
    const Inputs in =
        generate_inputs(gateloop(), shape, GenerateOptions{uint64_t(shape.L + shape.Dk)});
    RunOptions opts;
    opts.form = form;
    ASSERT_TRUE(gpu().supports(gateloop(), opts));
    const Tensor y = gpu().run(gateloop(), in, opts).y;
    const Difference d = compare(y, reference_gateloop(in));
    EXPECT_TRUE(d.finite);
    EXPECT_LE(d.max_rel, kFp32Tol);
    const Tensor cpu = cpu_or_empty(gateloop(), in, opts);
    if (!cpu.empty()) EXPECT_LE(compare(y, cpu).max_rel, kFp32Tol) << "against run_cpu";
  }
}

INSTANTIATE_TEST_SUITE_P(Forms, GlForms,
                         ::testing::Values(Form::Recurrent, Form::Scan, Form::Parallel));

// L = 2, d = 1, q = k = 1, v = (2, 4), a_2 = 0.5 e^{iπ/3} (Re a_2 = 0.25), worked by hand from
// GateLoop eq. 1: S_1 = 2, y_1 = 2; S_2 = a_2·2 + 4, y_2 = Re(S_2) = 0.5 + 4 = 4.5. A phase of
// the wrong sign or a magnitude without the cosine would give 5 or 5 ± i·0.87 (real part 5).
TEST_F(GpuTest, GateLoopHandWorkedTwoTokens) {
  Inputs in;
  in.set("q", Tensor({1, 1, 2, 1}, {1, 1}));
  in.set("k", Tensor({1, 1, 2, 1}, {1, 1}));
  in.set("v", Tensor({1, 1, 2, 1}, {2, 4}));
  in.set("log_magnitude", Tensor({1, 1, 2, 1}, {std::log(0.3f), std::log(0.5f)}));
  in.set("phase", Tensor({1, 1, 2, 1}, {0.7f, float(M_PI / 3)}));
  for (Form form : {Form::Recurrent, Form::Scan}) {
    RunOptions opts;
    opts.form = form;
    const Tensor y = gpu().run(gateloop(), in, opts).y;
    EXPECT_NEAR(y[0], 2.0, 1e-6) << to_string(form);
    EXPECT_NEAR(y[1], 4.5, 1e-5) << to_string(form);
  }
}

// A long rotation without decay (|a| = 1, phase 0.1 per step): the carries of the scan multiply
// many segments' e^{iΦ}; still finite and equal to the recurrence.
TEST_F(GpuTest, GateLoopUnitMagnitudeLongSequence) {
  Inputs in = generate_inputs(gateloop(), Shape{1, 1, 4096, 8, 8}, GenerateOptions{4});
  in.set("log_magnitude", Tensor({1, 1, 4096, 8}, 0.f));
  in.set("phase", Tensor({1, 1, 4096, 8}, 0.1f));
  RunOptions rec, scan;
  scan.form = Form::Scan;
  const Tensor yr = gpu().run(gateloop(), in, rec).y;
  const Tensor ys = gpu().run(gateloop(), in, scan).y;
  const Tensor ref = reference_gateloop(in);
  // Unit magnitude: nothing is forgotten, the state is a sum of up to L rotated terms and its
  // fp32 error grows ~L·eps (a random-walk bound would be sqrt(L)·eps); 4096·6e-8 ≈ 2.5e-4 of
  // the terms' size, so 2e-3 of max|y| here.
  EXPECT_LE(compare(yr, ref).max_rel, 2e-3);
  EXPECT_LE(compare(ys, ref).max_rel, 2e-3);
}

// Small enough for compute-sanitizer's racecheck (tools/device/gpu_validate.sh): 5 segments,
// two column blocks.
TEST_F(GpuTest, GateLoopScanSmall) {
  const Inputs in = generate_inputs(gateloop(), Shape{1, 1, 70, 8, 40}, GenerateOptions{6});
  RunOptions opts;
  opts.form = Form::Scan;
  EXPECT_LE(compare(gpu().run(gateloop(), in, opts).y, reference_gateloop(in)).max_rel, kFp32Tol);
}

TEST_F(GpuTest, GateLoopBadInputIsAnError) {
  Inputs in = generate_inputs(gateloop(), Shape{1, 1, 8, 4, 4}, GenerateOptions{});
  in.set("log_magnitude", Tensor({1, 1, 8, 4}, 0.1f));  // |a| > 1
  EXPECT_THROW(gpu().run(gateloop(), in, RunOptions{}), Error);
  Inputs wrong = generate_inputs(gateloop(), Shape{1, 1, 8, 4, 4}, GenerateOptions{});
  wrong.set("phase", Tensor({1, 1, 8}));
  EXPECT_THROW(gpu().run(gateloop(), wrong, RunOptions{}), Error);
}

}  // namespace
}  // namespace linscope::gpu_test
