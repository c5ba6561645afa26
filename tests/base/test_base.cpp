#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/base/heads.h"
#include "core/base/inputs.h"
#include "core/base/random.h"
#include "core/base/result.h"
#include "core/base/row_blocks.h"
#include "core/base/spec.h"

namespace linscope {

TEST(Spec, NamesRoundTripAndBadNamesAreRejected) {
  for (Form f : {Form::Recurrent, Form::Parallel, Form::Chunkwise, Form::Scan})
    EXPECT_EQ(parse_form(to_string(f)), f);
  for (Family f : {Family::LinearAttention, Family::Lion, Family::GateLoop, Family::DeltaNet,
                   Family::Lcsm, Family::LightNet})
    EXPECT_EQ(parse_family(to_string(f)), f);
  EXPECT_EQ(parse_decay("s"), Decay::S);
  try {
    parse_form("sideways");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sideways"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("chunkwise"), std::string::npos);
  }
}

TEST(Spec, BidirectionalLionIsReferencedToItsFullAttention) {
  ModelSpec m;
  m.family = Family::Lion;
  m.direction = Direction::Bidirectional;
  EXPECT_EQ(forms_of(m).front(), Form::Parallel);
  m.family = Family::GateLoop;
  EXPECT_TRUE(has_form(m, Form::Scan));
  m.family = Family::LinearAttention;
  EXPECT_FALSE(has_form(m, Form::Scan));
}

TEST(Inputs, ShapeMismatchNamesTheTensor) {
  Inputs in;
  in.set("q", Tensor({1, 2, 5, 4}));
  in.set("k", Tensor({1, 2, 6, 4}));
  in.set("v", Tensor({1, 2, 5, 3}));
  try {
    in.shape();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("k:"), std::string::npos) << e.what();
  }
  in.set("k", Tensor({1, 2, 5, 4}));
  const Shape s = in.shape();
  EXPECT_EQ(s.Dk, 4);
  EXPECT_EQ(s.Dv, 3);
  in.get("v")[7] = NAN;
  EXPECT_THROW(in.check_finite(), Error);
}

TEST(Trace, StepsAreBoundedAndEndAtTheLastToken) {
  auto steps = trace_steps(100, 1, 1 << 30, 4);
  EXPECT_EQ(steps.size(), 100u);
  steps = trace_steps(1000, 1, 100 * 64, 64);  // room for 100 states
  EXPECT_LE(steps.size(), 100u);
  EXPECT_EQ(steps.back(), 999);
  EXPECT_EQ(steps.front(), 0);
}

// Box–Muller with both halves used: the draws are standard normal and consecutive draws (the
// cosine and sine halves of one pair) uncorrelated. n = 200000: the standard error of the mean
// and of the lag-1 correlation is 1/sqrt(n) = 0.0022, so 0.01 is a 4.5-sigma bound; of the
// variance sqrt(2/n) = 0.0032, so 0.015.
TEST(Random, NormalDrawsAreStandardAndUncorrelated) {
  Rng rng(11);
  const int n = 200000;
  std::vector<double> x(n);
  for (double& v : x) v = rng.normal();
  double mean = 0, var = 0, lag = 0;
  for (double v : x) mean += v;
  mean /= n;
  for (int i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= n;
  for (int i = 0; i + 1 < n; ++i) lag += (x[i] - mean) * (x[i + 1] - mean);
  lag /= (n - 1) * var;
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(var, 1.0, 0.015);
  EXPECT_NEAR(lag, 0.0, 0.01);
  EXPECT_NEAR(Rng(3).normal(5.0, 2.0), 5.0 + 2.0 * Rng(3).normal(), 1e-12);
}

TEST(Random, SeededAndFeatureMapsNormalised) {
  Rng a(7), b(7);
  Tensor x = random_normal({3, 5}, a), y = random_normal({3, 5}, b);
  EXPECT_EQ(x.values(), y.values());
  lion_feature_map(x);
  for (int r = 0; r < 3; ++r) {
    double n = 0;
    for (int i = 0; i < 5; ++i) {
      EXPECT_GT(x[r * 5 + i], 0.0f);
      n += x[r * 5 + i] * x[r * 5 + i];
    }
    EXPECT_NEAR(n, 1.0, 1e-5);
  }
  EXPECT_NEAR(log_sigmoid(-800.0), -800.0, 1e-9);  // no overflow
}

// The core's parallel loops run with flush-to-zero (flush_denormals.h): a float subnormal read
// or produced inside them is 0, and the thread's previous mode comes back afterwards.
TEST(FlushDenormals, OnInsideTheCoresLoopsAndRestoredAfter) {
#if defined(__SSE__) || defined(_M_X64)
  volatile float tiny = 1e-39f;  // subnormal: below float's smallest normal 1.18e-38
  volatile float half = 0.5f;    // volatile both: the product must happen at run time
  ASSERT_NE(tiny * half, 0.0f) << "this test needs subnormals on outside the loops";
  float in_heads = -1, in_rows = -1;
  for_each_head(1, [&](int64_t) { in_heads = tiny * half; });
  for_each_row_block(1, 64, [&](int64_t, int64_t) { in_rows = tiny * half; });
  EXPECT_EQ(in_heads, 0.0f);
  EXPECT_EQ(in_rows, 0.0f);
  EXPECT_NE(tiny * half, 0.0f) << "the mode leaked out of the loop";
#else
  GTEST_SKIP() << "flush-to-zero is set through SSE's MXCSR only";
#endif
}

}  // namespace linscope
