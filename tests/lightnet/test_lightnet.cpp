// LightNet 1-D (MODELS.md §6): the additive recurrence pinned by a hand-worked L = 3 case,
// recurrent == parallel, the implicit attention, the trace, and long sequences with large f.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/testing.h"
#include "core/base/error.h"
#include "core/base/random.h"
#include "core/lightnet/lightnet.h"
#include "core/lightnet/position.h"

namespace linscope {
namespace {

ModelSpec lightnet_spec(bool tpe = false, bool lrpe = false) {
  ModelSpec m;
  m.family = Family::LightNet;
  m.lightnet.md_tpe = tpe;
  m.lightnet.md_lrpe = lrpe;
  return m;
}

Result run_form(const ModelSpec& m, const Inputs& in, Form f, bool attention = false) {
  RunOptions o;
  o.form = f;
  o.attention = attention;
  return lightnet::run(m, in, o);
}

// L = 3, Dk = 2, Dv = 2, one head, worked from the paper's equations with plain doubles:
// δ_t = Σ_{s≤t} e^{f_s}, S_t = (δ_{t−1}/δ_t) S_{t−1} + (e^{f_t}/δ_t) k_t v_t^T, y_t = q_t^T S_t.
// Optional, in the paper's order: MD-TPE on the token features (N = 1: x_t ← x_t +
// Σ_{s≤t} (1−λ) λ^{t−s} x_s for x = q, k, v), then MD-LRPE on q, k (pair 0 turns by θ_0 t,
// θ_0 = base^0 = 1 rad).
struct Small {
  double q[3][2] = {{1.0, 0.5}, {-0.5, 2.0}, {0.25, -1.0}};
  double k[3][2] = {{0.5, 1.0}, {1.5, -0.5}, {-1.0, 0.75}};
  double v[3][2] = {{1.0, -2.0}, {0.5, 3.0}, {-1.5, 0.25}};
  double f[3] = {0.5, -1.0, 2.0};

  Inputs inputs() const {
    Tensor tq({1, 1, 3, 2}), tk({1, 1, 3, 2}), tv({1, 1, 3, 2}), tf({1, 1, 3});
    for (int t = 0; t < 3; ++t) {
      tf[t] = static_cast<float>(f[t]);
      for (int c = 0; c < 2; ++c) {
        tq[t * 2 + c] = static_cast<float>(q[t][c]);
        tk[t * 2 + c] = static_cast<float>(k[t][c]);
        tv[t * 2 + c] = static_cast<float>(v[t][c]);
      }
    }
    Inputs in;
    in.set("q", tq);
    in.set("k", tk);
    in.set("v", tv);
    in.set("log_weight", tf);
    return in;
  }

  Tensor by_hand(bool tpe, bool lrpe) const {
    Tensor y({1, 1, 3, 2});
    double S[2][2] = {{0, 0}, {0, 0}}, delta_prev = 0;
    const double lam = lightnet::kTpeDecay;
    // Toeplitz-mixed copies (the sum written out, not the recurrence).
    double qm[3][2], km[3][2], vm[3][2];
    for (int t = 0; t < 3; ++t)
      for (int c = 0; c < 2; ++c) {
        qm[t][c] = q[t][c];
        km[t][c] = k[t][c];
        vm[t][c] = v[t][c];
        for (int s2 = 0; tpe && s2 <= t; ++s2) {
          const double w = (1 - lam) * std::pow(lam, t - s2);
          qm[t][c] += w * q[s2][c];
          km[t][c] += w * k[s2][c];
          vm[t][c] += w * v[s2][c];
        }
      }
    for (int t = 0; t < 3; ++t) {
      double qt[2] = {qm[t][0], qm[t][1]}, kt[2] = {km[t][0], km[t][1]};
      if (lrpe) {  // rotate the pair (0, 1) by angle t
        const double c = std::cos(t), s = std::sin(t);
        const double q0 = qt[0], k0 = kt[0];
        qt[0] = c * q0 - s * qt[1];
        qt[1] = s * q0 + c * qt[1];
        kt[0] = c * k0 - s * kt[1];
        kt[1] = s * k0 + c * kt[1];
      }
      const double delta = delta_prev + std::exp(f[t]);
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b)
          S[a][b] = delta_prev / delta * S[a][b] + std::exp(f[t]) / delta * kt[a] * vm[t][b];
      delta_prev = delta;
      for (int b = 0; b < 2; ++b)
        y[t * 2 + b] = static_cast<float>(qt[0] * S[0][b] + qt[1] * S[1][b]);
    }
    return y;
  }
};

// fp32 with |terms| = O(1) and 3 tokens: rounding ~1e-7 relative; 1e-5 is 100x that, while a
// wrong weight (e.g. e^{f_t}/δ_{t−1}) changes y by > 10%.
TEST(LightNet, HandWorkedL3MatchesBothForms) {
  const Small s;
  for (bool tpe : {false, true})
    for (bool lrpe : {false, true}) {
      const Tensor expected = s.by_hand(tpe, lrpe);
      for (Form f : {Form::Recurrent, Form::Parallel})
        EXPECT_LT(
            testing::relative_error(run_form(lightnet_spec(tpe, lrpe), s.inputs(), f).y, expected),
            1e-5)
            << to_string(f) << " tpe " << tpe << " lrpe " << lrpe;
    }
}

// Per-channel weights: channel c has its own δ_{t,c}; y_i = Σ_j Σ_c q_ic k_jc e^{f_jc}/δ_ic v_j.
TEST(LightNet, PerChannelWeightsFollowTheirOwnNormalizer) {
  const Small s;
  Inputs in = s.inputs();
  const double fc[3][2] = {{0.5, -2.0}, {1.0, 0.0}, {-0.5, 3.0}};
  Tensor tf({1, 1, 3, 2});
  for (int t = 0; t < 3; ++t)
    for (int c = 0; c < 2; ++c) tf[t * 2 + c] = static_cast<float>(fc[t][c]);
  in.set("log_weight", tf);
  Tensor expected({1, 1, 3, 2});
  for (int i = 0; i < 3; ++i)
    for (int b = 0; b < 2; ++b) {
      double acc = 0;
      for (int c = 0; c < 2; ++c) {
        double delta = 0;
        for (int j = 0; j <= i; ++j) delta += std::exp(fc[j][c]);
        for (int j = 0; j <= i; ++j)
          acc += s.q[i][c] * s.k[j][c] * std::exp(fc[j][c]) / delta * s.v[j][b];
      }
      expected[i * 2 + b] = static_cast<float>(acc);
    }
  for (Form f : {Form::Recurrent, Form::Parallel})
    EXPECT_LT(testing::relative_error(run_form(lightnet_spec(), in, f).y, expected), 1e-5)
        << to_string(f);
}

Inputs random_inputs(const Shape& s, bool per_channel, uint64_t seed, double f_std = 1.0) {
  Rng rng(seed);
  Inputs in;
  Tensor q = random_normal({s.B, s.H, s.L, s.Dk}, rng),
         k = random_normal({s.B, s.H, s.L, s.Dk}, rng);
  lion_feature_map(q);
  lion_feature_map(k);
  in.set("q", q);
  in.set("k", k);
  in.set("v", random_normal({s.B, s.H, s.L, s.Dv}, rng));
  in.set("log_weight", per_channel ? random_normal({s.B, s.H, s.L, s.Dk}, rng, 0, f_std)
                                   : random_normal({s.B, s.H, s.L}, rng, 0, f_std));
  return in;
}

// Recurrent vs parallel over shapes, both weight layouts and every encoding. The weights
// e^{f_j}/δ_i sum to ≤ 1 per row, so |y| ≤ max|q^T k|·max|v| and fp32 rounding in either form
// is ~L·eps relative (L ≤ 97: ~6e-6); 5e-5 is ~10x that.
TEST(LightNet, RecurrentEqualsParallelOverShapes) {
  const std::vector<Shape> shapes = {
      {1, 1, 1, 1, 1}, {2, 3, 17, 4, 6}, {1, 2, 97, 8, 3}, {3, 1, 33, 5, 5}};
  uint64_t seed = 1;
  for (const Shape& s : shapes)
    for (bool per_channel : {false, true})
      for (int enc = 0; enc < 4; ++enc) {
        const Inputs in = random_inputs(s, per_channel, seed++, 2.0);
        const ModelSpec m = lightnet_spec(enc & 1, enc & 2);
        const Result rec = run_form(m, in, Form::Recurrent, true);
        const Result par = run_form(m, in, Form::Parallel, true);
        EXPECT_LT(testing::relative_error(rec.y, par.y), 5e-5)
            << "L " << s.L << " per_channel " << per_channel << " enc " << enc;
        // Both forms report the same implicit attention.
        EXPECT_LT(testing::relative_error(rec.attention, par.attention), 1e-6);
        // y = A v for the v given to run(), with or without MD-TPE (A (I + T) then).
        const Tensor& v = in.get("v");
        Tensor av(par.y.shape());
        for (int64_t bh = 0; bh < s.B * s.H; ++bh)
          for (int64_t i = 0; i < s.L; ++i)
            for (int64_t d = 0; d < s.Dv; ++d) {
              double acc = 0;
              for (int64_t j = 0; j < s.L; ++j)
                acc +=
                    double(par.attention[(bh * s.L + i) * s.L + j]) * v[(bh * s.L + j) * s.Dv + d];
              av[(bh * s.L + i) * s.Dv + d] = static_cast<float>(acc);
            }
        EXPECT_LT(testing::relative_error(av, par.y), 5e-5) << "enc " << enc;
        // Causal: nothing above the diagonal except nothing.
        const int64_t L = s.L;
        for (int64_t i = 0; i + 1 < L; ++i) EXPECT_EQ(par.attention[i * L + i + 1], 0.0f);
      }
}

// The parallel form tiles A in 64×64 blocks with a reference point between tiles; with a huge
// spread of f (N(0, 30): weights from e^{-100} to 1) and L = 300 (five tiles) it still matches
// the recurrence. Peaked weights make y a few-term average, so the 5e-5 above still holds.
TEST(LightNet, ParallelTilesMatchTheRecurrenceForExtremeWeights) {
  for (bool per_channel : {false, true}) {
    const Inputs in = random_inputs({1, 2, 300, 6, 3}, per_channel, 31, 30.0);
    const Result rec = run_form(lightnet_spec(), in, Form::Recurrent);
    const Result par = run_form(lightnet_spec(), in, Form::Parallel);
    EXPECT_LT(testing::relative_error(par.y, rec.y), 5e-5) << "per_channel " << per_channel;
  }
}

// With q = k = 1 (Dk = 1) and v = 1 the output is Σ_{j≤t} e^{f_j}/δ_t = 1 exactly, whatever
// f: f ~ N(0, 40) with spikes of ±3000 over L = 16384 would overflow e^{f} (e^{88} is float's
// limit, e^{709} double's) but not the log-space weights. fp32: each step rescales by a factor
// in (0, 1] and adds one weight, rounding ~eps per step relative to the running sum of 1:
// 1e-3 absolute is far above that drift (~L·eps ≈ 1e-3 worst case, random-walk ~1e-5).
TEST(LightNet, LongSequenceWithHugeLogWeightsStaysNormalized) {
  const int64_t L = 16384;
  Rng rng(3);
  Tensor f = random_normal({1, 1, L}, rng, 0, 40);
  for (int64_t t = 100; t < L; t += 997) f[t] = (t % 2) ? 3000.0f : -3000.0f;
  Inputs in;
  in.set("q", Tensor({1, 1, L, 1}, 1.0f));
  in.set("k", Tensor({1, 1, L, 1}, 1.0f));
  in.set("v", Tensor({1, 1, L, 1}, 1.0f));
  in.set("log_weight", f);
  const Result r = run_form(lightnet_spec(), in, Form::Recurrent);
  for (int64_t t = 0; t < L; ++t) ASSERT_NEAR(r.y[t], 1.0f, 1e-3) << "t " << t;
  // Random q, k, v, per-channel f with the same huge spread: every output finite.
  Inputs big = random_inputs({1, 2, L, 4, 3}, true, 4, 40.0);
  const Result rb = run_form(lightnet_spec(true, true), big, Form::Recurrent);
  EXPECT_EQ(rb.y.first_non_finite(), -1);
}

// The recorded states reproduce y (y_t = q_t^T S_t without encodings; same 5e-5 as above),
// and the parallel form records the same states.
TEST(LightNet, TraceStatesReproduceTheOutput) {
  const Shape s{1, 2, 21, 3, 4};
  const Inputs in = random_inputs(s, false, 8);
  RunOptions o;
  o.trace.states = true;
  o.trace.stride = 4;
  const Result r = lightnet::run(lightnet_spec(), in, o);
  const auto& steps = r.trace.steps;
  ASSERT_EQ(steps.back(), s.L - 1);
  ASSERT_EQ(r.trace.states.dim(2), static_cast<int64_t>(steps.size()));
  const Tensor& q = in.get("q");
  for (int64_t bh = 0; bh < 2; ++bh)
    for (size_t i = 0; i < steps.size(); ++i) {
      const int64_t t = steps[i];
      for (int64_t d = 0; d < s.Dv; ++d) {
        double acc = 0;
        for (int64_t c = 0; c < s.Dk; ++c)
          acc += q[(bh * s.L + t) * s.Dk + c] *
                 r.trace.states[((bh * steps.size() + i) * s.Dk + c) * s.Dv + d];
        EXPECT_NEAR(acc, r.y[(bh * s.L + t) * s.Dv + d], 5e-5);
      }
    }
  o.form = Form::Parallel;
  const Result p = lightnet::run(lightnet_spec(), in, o);
  EXPECT_EQ(p.trace.steps, steps);
  EXPECT_LT(testing::relative_error(p.trace.states, r.trace.states), 1e-6);
}

// Bidirectional: one scan, then every token reads S_L. Against the formula written out in
// double, y_i = Σ_j (q_i^T k_j) e^{f_j} / Σ_s e^{f_s} v_j (f ~ N(0, 1): e^f is safe here),
// for scalar and per-channel weights; fp32 sums of L = 29 convex-weighted terms: 1e-5.
TEST(LightNet, BidirectionalReadsTheFinalState) {
  const Shape s{1, 2, 29, 4, 3};
  for (bool per_channel : {false, true}) {
    const Inputs in = random_inputs(s, per_channel, 21);
    const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v"), &f = in.get("log_weight");
    const int64_t nf = per_channel ? s.Dk : 1;
    Tensor expected({1, 2, s.L, s.Dv});
    for (int64_t bh = 0; bh < 2; ++bh)
      for (int64_t i = 0; i < s.L; ++i)
        for (int64_t d = 0; d < s.Dv; ++d) {
          double acc = 0;
          for (int64_t c = 0; c < s.Dk; ++c) {
            const int64_t g = per_channel ? c : 0;
            double total = 0;
            for (int64_t j = 0; j < s.L; ++j) total += std::exp(f[(bh * s.L + j) * nf + g]);
            for (int64_t j = 0; j < s.L; ++j)
              acc += double(q[(bh * s.L + i) * s.Dk + c]) * k[(bh * s.L + j) * s.Dk + c] *
                     std::exp(f[(bh * s.L + j) * nf + g]) / total * v[(bh * s.L + j) * s.Dv + d];
          }
          expected[(bh * s.L + i) * s.Dv + d] = static_cast<float>(acc);
        }
    ModelSpec m = lightnet_spec();
    m.direction = Direction::Bidirectional;
    for (Form form : {Form::Recurrent, Form::Parallel}) {
      const Result r = run_form(m, in, form, true);
      EXPECT_LT(testing::relative_error(r.y, expected), 1e-5) << to_string(form);
      // Not causal: the first token sees the last one.
      EXPECT_NE(r.attention[s.L - 1], 0.0f);
    }
  }
}

TEST(LightNet, BadInputsAreRejectedWithTheirName) {
  Inputs in = random_inputs({1, 1, 5, 2, 2}, false, 1);
  RunOptions o;
  o.form = Form::Chunkwise;
  EXPECT_THROW(lightnet::run(lightnet_spec(), in, o), Error);
  o.form = Form::Recurrent;
  in.set("log_weight", Tensor({1, 1, 4}));
  try {
    lightnet::run(lightnet_spec(), in, o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("log_weight"), std::string::npos) << e.what();
  }
  Tensor f({1, 1, 5});
  f[2] = NAN;
  in.set("log_weight", f);
  EXPECT_THROW(lightnet::run(lightnet_spec(), in, o), Error);
}

}  // namespace
}  // namespace linscope
