// Every pair of bidirectional LION forms agrees, and each matches the double-precision
// definition, over L in {1, 2, 7, 64, 100}, C in {1, 3, 16, L, L+5}, Dk != Dv, B = 2, H = 3,
// LION-LIT / D / S, scaled and unscaled.
//
// Tolerance: errors are measured per row relative to scale_i (lion_testing.h), the magnitude
// Σ_j M_ij Σ_d |q_id k_jd| max|v_j| (/|C_i|) that float rounding is proportional to, so raw
// unscaled inputs with cancelling terms are judged fairly. The worst-case float32 bound for
// sums of n = L + Dk + Dv terms is γ_n ≈ n·eps; fp32_bound = 4 n eps (≈ 5e-5 at L = 100) also
// covers the RNN's ½-diagonal subtraction, which is exact only in exact arithmetic: each sweep
// subtracts ½ q_t^T k_t v_t from a sum that holds q_t^T k_t v_t rounded, leaving an error of a
// few eps times that sum's magnitude, i.e. inside the same bound. Pairs may differ by twice it.
#include <gtest/gtest.h>

#include <sstream>

#include "core/lion/lion.h"
#include "lion/lion_testing.h"

namespace linscope {
namespace {

using lion_test::Case;

TEST(LionFormsAgree, OverTheGrid) {
  uint64_t seed = 100;
  for (int64_t L : {1, 2, 7, 64, 100})
    for (Decay decay : {Decay::LIT, Decay::D, Decay::S})
      for (bool normalize : {true, false}) {
        Case c;
        c.L = L;
        c.Dk = 5;
        c.Dv = 3;
        c.decay = decay;
        c.normalize = normalize;
        c.seed = ++seed;
        const Inputs in = lion_test::make_inputs(c);
        const ModelSpec spec = lion_test::spec_of(decay, normalize);
        const lion_test::Reference ref = lion_test::reference(in, normalize);
        const double tol = lion_test::fp32_bound(L, c.Dk, c.Dv);

        std::vector<std::pair<std::string, Tensor>> ys;
        ys.emplace_back("parallel", lion::run(spec, in, RunOptions{Form::Parallel}).y);
        ys.emplace_back("recurrent", lion::run(spec, in, RunOptions{Form::Recurrent}).y);
        for (int64_t C : {int64_t{1}, int64_t{3}, int64_t{16}, L, L + 5}) {
          RunOptions o{Form::Chunkwise};
          o.chunk = C;
          ys.emplace_back("chunkwise C=" + std::to_string(C), lion::run(spec, in, o).y);
        }
        std::ostringstream where;
        where << "L=" << L << " " << describe(spec) << (normalize ? " scaled" : " unscaled");
        for (size_t a = 0; a < ys.size(); ++a) {
          EXPECT_LE(lion_test::scaled_error(ys[a].second, ref.y, ref), tol)
              << where.str() << " " << ys[a].first << " vs definition";
          for (size_t b = a + 1; b < ys.size(); ++b)
            EXPECT_LE(lion_test::scaled_error(ys[a].second, ys[b].second.values(), ref), 2 * tol)
                << where.str() << " " << ys[a].first << " vs " << ys[b].first;
        }
      }
}

TEST(LionFormsAgree, ScalingIsTheOnlyDifferenceBetweenScaledAndUnscaled) {
  // Same inputs, normalize on/off: y_scaled * C_i == y_unscaled, C_i the row sum of the
  // unscaled attention. Pins that the flag selects LION's C^{-1} and nothing else.
  Case c;
  c.L = 9;
  const Inputs in = lion_test::make_inputs(c);
  for (Form f : {Form::Parallel, Form::Recurrent, Form::Chunkwise}) {
    RunOptions o{f};
    o.chunk = 4;
    o.attention = true;
    const Result scaled = lion::run(lion_test::spec_of(Decay::S, true), in, o);
    const Result raw = lion::run(lion_test::spec_of(Decay::S, false), in, o);
    for (int64_t bh = 0; bh < c.B * c.H; ++bh)
      for (int64_t i = 0; i < c.L; ++i) {
        double C = 0;
        for (int64_t j = 0; j < c.L; ++j) C += raw.attention[(bh * c.L + i) * c.L + j];
        for (int64_t e = 0; e < c.Dv; ++e) {
          const int64_t n = (bh * c.L + i) * c.Dv + e;
          // fp32, L = 9 positive terms: ~1e-6 relative; 2e-5 of the row's |y| leaves 20x room.
          EXPECT_NEAR(scaled.y[n] * C, raw.y[n], 2e-5 * (1 + std::abs(raw.y[n]))) << to_string(f);
        }
      }
  }
}

}  // namespace
}  // namespace linscope
