// Recurrent, scan and surrogate attention agree with the double complex recurrence over a grid
// of lengths (including L = 1 and non-powers of two) with Dk != Dv, B = 2, H = 3; the attention
// matrix reproduces y; traced states agree between forms.
#include <gtest/gtest.h>

#include <complex>
#include <iostream>

#include "common/testing.h"
#include "gateloop/gateloop_testing.h"

namespace linscope::gateloop_test {
namespace {

// fp32: y_t sums ~1/(1−|a|) ≈ 20 live terms per channel times Dk = 4 channels, each product of
// a float a with a float state (error ~eps per step, compounding over the ~20-step memory):
// ~ 100·eps ≈ 1e-5 relative to max|y| in the worst case; 1e-4 leaves 10x headroom while a
// wrong phase sign or an off-by-one product (errors of O(1)) fails by orders of magnitude.
constexpr double kTol = 1e-4;

TEST(GateLoopFormsAgree, OverTheGrid) {
  for (int64_t L : {1, 5, 64, 100}) {
    Case c;
    c.L = L;
    c.seed = 10 + static_cast<uint64_t>(L);
    const Inputs in = make_inputs(c);
    const Reference ref = reference(in);
    for (Form f : {Form::Recurrent, Form::Scan, Form::Parallel}) {
      const Tensor y = gateloop::run(gateloop_spec(), in, RunOptions{f}).y;
      ASSERT_EQ(y.shape(), (std::vector<int64_t>{c.B, c.H, L, c.Dv}));
      const double err = relative_error(y, ref.y);
      EXPECT_LT(err, kTol) << to_string(f) << " L=" << L;
      if (L == 100) std::cout << "L=100 " << to_string(f) << " relative error " << err << "\n";
    }
  }
}

TEST(GateLoopFormsAgree, AttentionMatrixIsCausalAndReproducesY) {
  Case c;
  c.L = 150;  // past the 64-row blocks of the surrogate form: off-diagonal blocks are exercised
  const Inputs in = make_inputs(c);
  RunOptions o{Form::Recurrent};
  o.attention = true;
  const Result r = gateloop::run(gateloop_spec(), in, o);
  ASSERT_EQ(r.attention.shape(), (std::vector<int64_t>{c.B, c.H, c.L, c.L}));
  const Tensor& v = in.get("v");
  Tensor av({c.B, c.H, c.L, c.Dv});
  for (int64_t bh = 0; bh < c.B * c.H; ++bh)
    for (int64_t i = 0; i < c.L; ++i) {
      for (int64_t j = i + 1; j < c.L; ++j)
        EXPECT_EQ(r.attention[(bh * c.L + i) * c.L + j], 0.0f) << "acausal entry";
      for (int64_t d = 0; d < c.Dv; ++d) {
        double s = 0;
        for (int64_t j = 0; j <= i; ++j)
          s += double(r.attention[(bh * c.L + i) * c.L + j]) * v[(bh * c.L + j) * c.Dv + d];
        av[(bh * c.L + i) * c.Dv + d] = static_cast<float>(s);
      }
    }
  // Same fp32 argument as the grid (plus one float rounding of each A entry).
  EXPECT_LT(testing::relative_error(av, r.y), kTol);
  // Asking for attention does not change y.
  EXPECT_EQ(gateloop::run(gateloop_spec(), in, RunOptions{Form::Recurrent}).y.values(),
            r.y.values());
}

TEST(GateLoopFormsAgree, TracedStatesMatchTheReference) {
  Case c;
  c.L = 50;
  const Inputs in = make_inputs(c);
  const Reference ref = reference(in, true);
  for (Form f : {Form::Recurrent, Form::Scan, Form::Parallel}) {
    RunOptions o{f};
    o.trace.states = true;
    o.trace.stride = 7;
    const Result r = gateloop::run(gateloop_spec(), in, o);
    const auto& steps = r.trace.steps;
    ASSERT_EQ(steps.back(), c.L - 1);
    const int64_t n = static_cast<int64_t>(steps.size()), DD = c.Dk * c.Dv;
    double worst = 0, scale = 0;
    for (int64_t bh = 0; bh < c.B * c.H; ++bh)
      for (int64_t i = 0; i < n; ++i)
        for (int64_t e = 0; e < DD; ++e) {
          const auto want = ref.states[static_cast<size_t>((bh * c.L + steps[i]) * DD + e)];
          const int64_t at = (bh * n + i) * DD + e;
          worst = std::max({worst, std::abs(r.trace.states[at] - want.real()),
                            std::abs(r.trace.states_imag[at] - want.imag())});
          scale = std::max(scale, std::abs(want));
        }
    EXPECT_LT(worst / scale, kTol) << to_string(f);
    // Recording does not change y.
    EXPECT_EQ(gateloop::run(gateloop_spec(), in, RunOptions{f}).y.values(), r.y.values());
  }
}

TEST(GateLoopFormsAgree, AttentionEntriesMatchTheProductsOfA) {
  // Entry by entry against Re(Σ_c q_ic k_jc Π_{m=j+1..i} a_mc) with the product multiplied out
  // in std::complex<double>, at a length with several 64-row blocks, strong decay (|a| ≈ 0.4,
  // so far entries underflow) and large phases.
  Case c;
  c.B = 1;
  c.H = 2;
  c.L = 140;
  c.magnitude_mean = 0.0;
  const Inputs in = make_inputs(c);
  RunOptions o{Form::Parallel};
  o.attention = true;
  const Result r = gateloop::run(gateloop_spec(), in, o);
  const Tensor &q = in.get("q"), &k = in.get("k"), &lm = in.get("log_magnitude"),
               &ph = in.get("phase");
  double worst = 0;
  for (int64_t bh = 0; bh < c.B * c.H; ++bh)
    for (int64_t j = 0; j < c.L; ++j) {
      std::vector<std::complex<double>> prod(static_cast<size_t>(c.Dk), 1.0);
      for (int64_t i = j; i < c.L; ++i) {
        const int64_t ri = bh * c.L + i, rj = bh * c.L + j;
        if (i > j)
          for (int64_t ch = 0; ch < c.Dk; ++ch)
            prod[ch] *=
                std::polar(std::exp(double(lm[ri * c.Dk + ch])), double(ph[ri * c.Dk + ch]));
        double want = 0;
        for (int64_t ch = 0; ch < c.Dk; ++ch)
          want += double(q[ri * c.Dk + ch]) * k[rj * c.Dk + ch] * prod[ch].real();
        worst = std::max(worst, std::abs(r.attention[(bh * c.L + i) * c.L + j] - want));
      }
    }
  // Entries are O(1) sums of Dk = 4 terms, each factor rounded to float twice (split at the
  // block start): ~1e-7 absolute; 2e-6 is >10x that.
  EXPECT_LT(worst, 2e-6);
}

}  // namespace
}  // namespace linscope::gateloop_test
