// L = 16384: the recurrence and the tree scan stay finite and agree, with data-dependent |a|
// and with |a| = 0.5 everywhere (cumulative log-magnitude ≈ −11357, far below float's range:
// nothing may be formed as a running product or divided by one).
#include <gtest/gtest.h>

#include <cmath>

#include "common/testing.h"
#include "gateloop/gateloop_testing.h"

namespace linscope::gateloop_test {
namespace {

// fp32: each output sums at most ~1/(1−|a|) ≈ 20 live terms (memory is short), so the error
// does not grow with L: a few 1e-6 relative. 1e-4 is >10x that; a scan that mixed up blocks
// would be off by O(1).
constexpr double kTol = 1e-4;

void expect_agree(const Inputs& in) {
  const Tensor rec = gateloop::run(gateloop_spec(), in, RunOptions{Form::Recurrent}).y;
  const Tensor scan = gateloop::run(gateloop_spec(), in, RunOptions{Form::Scan}).y;
  EXPECT_EQ(rec.first_non_finite(), -1);
  EXPECT_EQ(scan.first_non_finite(), -1);
  EXPECT_LT(testing::relative_error(scan, rec), kTol);
  // Against the double complex recurrence too.
  EXPECT_LT(relative_error(scan, reference(in).y), kTol);
}

TEST(GateLoopLongSequence, RecurrentEqualsScanAt16384) {
  Case c;
  c.B = 1;
  c.H = 2;
  c.L = 16384;
  c.Dk = 2;
  c.Dv = 3;
  expect_agree(make_inputs(c));
}

TEST(GateLoopLongSequence, HalfMagnitudeEverywhere) {
  Case c;
  c.B = 1;
  c.H = 1;
  c.L = 16384;
  c.Dk = 2;
  c.Dv = 3;
  Inputs in = make_inputs(c);
  for (auto& x : in.get("log_magnitude").values()) x = std::log(0.5f);
  expect_agree(in);
}

}  // namespace
}  // namespace linscope::gateloop_test
