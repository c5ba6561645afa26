// The mask decomposition M = M^F + M^B − I, the implicit attention matrix (y = A v), and the
// bidirectional/causal shape of the attention.
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/lion/lion.h"
#include "lion/lion_testing.h"

namespace linscope {
namespace {

using lion_test::Case;

TEST(LionMask, FullIsForwardPlusBackwardMinusIdentityExactly) {
  for (Decay decay : {Decay::LIT, Decay::D, Decay::S}) {
    Case c;
    c.L = 13;
    c.decay = decay;
    const Inputs in = lion_test::make_inputs(c);
    for (int64_t bh = 0; bh < c.B * c.H; ++bh) {
      const lion::MaskParts m = lion::mask_parts(in, bh);
      ASSERT_EQ(m.full.rows(), c.L);
      ASSERT_EQ(m.full.cols(), c.L);
      for (int64_t i = 0; i < c.L; ++i)
        for (int64_t j = 0; j < c.L; ++j) {
          // Exact: off the diagonal one of M^F, M^B is 0; on it 1 + 1 − 1 = 1 in float.
          EXPECT_EQ(m.full(i, j), m.forward(i, j) + m.backward(i, j) - (i == j ? 1.0f : 0.0f));
          if (j > i) EXPECT_EQ(m.forward(i, j), 0.0f);
          if (j < i) EXPECT_EQ(m.backward(i, j), 0.0f);
          EXPECT_EQ(m.full(i, j), m.full(j, i));  // products over the same λ's
        }
      // Against the definition Π_{m=min+1..max} λ_m (fp32 exp of a double sum: 1 ulp).
      for (int64_t i = 0; i < c.L; ++i)
        for (int64_t j = 0; j < c.L; ++j) {
          double want = 1.0;
          for (int64_t t = std::min(i, j) + 1; t <= std::max(i, j); ++t)
            want *= std::exp(double(in.get("log_decay")[bh * c.L + t]));
          EXPECT_NEAR(m.full(i, j), want, 1e-6 * want + 1e-30);
        }
    }
  }
}

TEST(LionAttention, TimesVIsYInEveryFormAndMatchesTheDefinition) {
  for (bool normalize : {true, false}) {
    Case c;
    c.L = 23;
    c.normalize = normalize;
    const Inputs in = lion_test::make_inputs(c);
    const ModelSpec spec = lion_test::spec_of(Decay::S, normalize);
    const lion_test::Reference ref = lion_test::reference(in, normalize);
    const double tol = lion_test::fp32_bound(c.L, c.Dk, c.Dv);  // see test_forms_agree.cpp
    for (Form f : {Form::Parallel, Form::Recurrent, Form::Chunkwise}) {
      RunOptions o{f};
      o.chunk = 5;
      o.attention = true;
      const Result r = lion::run(spec, in, o);
      ASSERT_EQ(r.attention.shape(), (std::vector<int64_t>{c.B, c.H, c.L, c.L}));
      // A v in double from the returned float A.
      std::vector<double> Av(r.y.numel(), 0.0);
      for (int64_t bh = 0; bh < c.B * c.H; ++bh)
        for (int64_t i = 0; i < c.L; ++i)
          for (int64_t j = 0; j < c.L; ++j)
            for (int64_t e = 0; e < c.Dv; ++e)
              Av[(bh * c.L + i) * c.Dv + e] += double(r.attention[(bh * c.L + i) * c.L + j]) *
                                               in.get("v")[(bh * c.L + j) * c.Dv + e];
      EXPECT_LE(lion_test::scaled_error(r.y, Av, ref), 2 * tol) << to_string(f);
      // Each entry against the definition, relative to the row's mass Σ_j |A_ij|.
      for (int64_t bh = 0; bh < c.B * c.H; ++bh)
        for (int64_t i = 0; i < c.L; ++i) {
          double mass = 0;
          for (int64_t j = 0; j < c.L; ++j)
            mass += std::abs(ref.attention[(bh * c.L + i) * c.L + j]);
          for (int64_t j = 0; j < c.L; ++j) {
            const int64_t n = (bh * c.L + i) * c.L + j;
            EXPECT_NEAR(r.attention[n], ref.attention[n], tol * mass) << to_string(f);
          }
        }
    }
  }
}

TEST(LionAttention, BidirectionalLooksAheadCausalDoesNot) {
  Case c;
  c.L = 11;
  const Inputs in = lion_test::make_inputs(c);
  RunOptions o{Form::Parallel};
  o.attention = true;
  const Result bi = lion::run(lion_test::spec_of(Decay::S, true), in, o);
  // Positive features and λ > 0: every entry above the diagonal is > 0.
  for (int64_t bh = 0; bh < c.B * c.H; ++bh)
    for (int64_t i = 0; i < c.L; ++i)
      for (int64_t j = i + 1; j < c.L; ++j) EXPECT_GT(bi.attention[(bh * c.L + i) * c.L + j], 0.0f);
  try {
    const Result causal = lion::run(lion_test::spec_of(Decay::S, true, Direction::Causal), in, o);
    ASSERT_EQ(causal.attention.shape(), bi.attention.shape());
    for (int64_t bh = 0; bh < c.B * c.H; ++bh)
      for (int64_t i = 0; i < c.L; ++i)
        for (int64_t j = i + 1; j < c.L; ++j)
          EXPECT_EQ(causal.attention[(bh * c.L + i) * c.L + j], 0.0f);
  } catch (const Error& e) {
    if (std::string(e.what()).find("not implemented") == std::string::npos) throw;
    GTEST_SKIP() << "causal linear attention not implemented yet: " << e.what();
  }
}

}  // namespace
}  // namespace linscope
