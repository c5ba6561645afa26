// core/tiny's attention-form mixing against the recurrences of MODELS.md written out here in
// plain double loops, on small random inputs (L = 5), so that the forward pass's stand-in for
// run_cpu cannot agree with torch on a wrong answer by construction.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>

#include "core/base/random.h"
#include "core/tiny/reference_mixing.h"

using namespace linscope;

namespace {

constexpr int64_t H = 2, L = 5, D = 3;

double at(const Tensor& t, int64_t h, int64_t i, int64_t d) {
  return t[(h * L + i) * t.dim(-1) + d];
}

struct Fixture {
  Inputs in;
  explicit Fixture(uint64_t seed) {
    Rng rng(seed);
    in.set("q", random_normal({1, H, L, D}, rng));
    in.set("k", random_normal({1, H, L, D}, rng));
    in.set("v", random_normal({1, H, L, D}, rng));
  }
};

// max |y - expected| over all heads, tokens, channels.
double max_diff(const Tensor& y, const std::vector<std::vector<std::vector<double>>>& expected) {
  double m = 0;
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < L; ++i)
      for (int64_t d = 0; d < D; ++d) m = std::max(m, std::abs(at(y, h, i, d) - expected[h][i][d]));
  return m;
}
using Y = std::vector<std::vector<std::vector<double>>>;
Y zeros() {
  return Y(H, std::vector<std::vector<double>>(L, std::vector<double>(D, 0.0)));
}

// Output float32 of a double computation on O(1) values: 1e-5 absolute is ~100 ulps.
constexpr double kTol = 1e-5;

// LION (MODELS.md §2) by its forward and backward RNNs with the ½ q^T k corrections; the causal
// model is the forward RNN alone, normalised.
void lion_case(bool causal) {
  Fixture f(1);
  Tensor q = f.in.get("q"), k = f.in.get("k");
  lion_feature_map(q);
  lion_feature_map(k);
  f.in.set("q", q);
  f.in.set("k", k);
  Rng rng(2);
  Tensor log_decay({1, H, L});
  for (auto& a : log_decay.values()) a = static_cast<float>(log_sigmoid(rng.normal(1, 1)));
  f.in.set("log_decay", log_decay);
  ModelSpec spec;
  spec.family = Family::Lion;
  spec.decay = Decay::S;
  spec.direction = causal ? Direction::Causal : Direction::Bidirectional;
  const Result r = tiny::reference_mixing(spec, f.in);

  Y expected = zeros();
  const Tensor& v = f.in.get("v");
  for (int64_t h = 0; h < H; ++h) {
    auto lam = [&](int64_t t) { return t < L ? std::exp(double(log_decay[h * L + t])) : 1.0; };
    auto qk = [&](int64_t i, int64_t j) {
      double s = 0;
      for (int64_t c = 0; c < D; ++c) s += at(q, h, i, c) * at(k, h, j, c);
      return s;
    };
    // y^F_t and c^F_t: S^F_t = λ_t S^F_{t-1} + k_t v_t^T, so q_t^T S^F_t = Σ_{j<=t} (Π λ) q_t^T k_j
    // v_j.
    std::vector<std::vector<double>> num(L, std::vector<double>(D, 0.0));
    std::vector<double> den(L, 0.0);
    for (int64_t t = 0; t < L; ++t) {
      std::vector<double> SF(D * D, 0.0), zF(D, 0.0);  // recomputed per t: plain, not clever
      for (int64_t s = 0; s <= t; ++s) {
        for (auto& x : SF) x *= lam(s);
        for (auto& x : zF) x *= lam(s);
        for (int64_t a = 0; a < D; ++a) {
          zF[a] += at(k, h, s, a);
          for (int64_t b = 0; b < D; ++b) SF[a * D + b] += at(k, h, s, a) * at(v, h, s, b);
        }
      }
      const double half = causal ? 0.0 : 0.5 * qk(t, t);
      for (int64_t b = 0; b < D; ++b) {
        for (int64_t a = 0; a < D; ++a) num[t][b] += at(q, h, t, a) * SF[a * D + b];
        num[t][b] -= half * at(v, h, t, b);
      }
      for (int64_t a = 0; a < D; ++a) den[t] += at(q, h, t, a) * zF[a];
      den[t] -= half;
    }
    if (!causal) {  // S^B_t = λ_{t+1} S^B_{t+1} + k_t v_t^T
      std::vector<double> SB(D * D, 0.0), zB(D, 0.0);
      for (int64_t t = L - 1; t >= 0; --t) {
        for (auto& x : SB) x *= lam(t + 1);
        for (auto& x : zB) x *= lam(t + 1);
        for (int64_t a = 0; a < D; ++a) {
          zB[a] += at(k, h, t, a);
          for (int64_t b = 0; b < D; ++b) SB[a * D + b] += at(k, h, t, a) * at(v, h, t, b);
        }
        for (int64_t b = 0; b < D; ++b) {
          for (int64_t a = 0; a < D; ++a) num[t][b] += at(q, h, t, a) * SB[a * D + b];
          num[t][b] -= 0.5 * qk(t, t) * at(v, h, t, b);
        }
        for (int64_t a = 0; a < D; ++a) den[t] += at(q, h, t, a) * zB[a];
        den[t] -= 0.5 * qk(t, t);
      }
    }
    for (int64_t t = 0; t < L; ++t)
      for (int64_t b = 0; b < D; ++b) expected[h][t][b] = num[t][b] / den[t];
  }
  EXPECT_LT(max_diff(r.y, expected), kTol);
}

TEST(ReferenceMixing, LionBidirectionalMatchesForwardBackwardRnn) {
  lion_case(false);
}
TEST(ReferenceMixing, LionCausalMatchesNormalisedRecurrence) {
  lion_case(true);
}

// GateLoop (MODELS.md §3): S_t = diag(a_t) S_{t-1} + k_t v_t^T in complex numbers, y = Re(q^T S).
TEST(ReferenceMixing, GateLoopMatchesComplexRecurrence) {
  Fixture f(3);
  Rng rng(4);
  Tensor lm = random_normal({1, H, L, D}, rng, 1.0, 1.0), ph = random_normal({1, H, L, D}, rng);
  for (auto& a : lm.values()) a = static_cast<float>(log_sigmoid(a));
  f.in.set("log_magnitude", lm);
  f.in.set("phase", ph);
  ModelSpec spec;
  spec.family = Family::GateLoop;
  const Result r = tiny::reference_mixing(spec, f.in);
  const Tensor &q = f.in.get("q"), &k = f.in.get("k"), &v = f.in.get("v");
  Y expected = zeros();
  for (int64_t h = 0; h < H; ++h) {
    std::vector<std::complex<double>> S(D * D, 0.0);
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t a = 0; a < D; ++a) {
        const std::complex<double> gate = std::polar(std::exp(at(lm, h, t, a)), at(ph, h, t, a));
        for (int64_t b = 0; b < D; ++b)
          S[a * D + b] = gate * S[a * D + b] + at(k, h, t, a) * at(v, h, t, b);
      }
      for (int64_t b = 0; b < D; ++b)
        for (int64_t a = 0; a < D; ++a) expected[h][t][b] += at(q, h, t, a) * S[a * D + b].real();
    }
  }
  EXPECT_LT(max_diff(r.y, expected), kTol);
}

// DeltaNet (MODELS.md §4): S_t = S_{t-1} - β_t k_t (k_t^T S_{t-1} - v_t^T), y_t = q_t^T S_t.
TEST(ReferenceMixing, DeltaNetMatchesDeltaRule) {
  Fixture f(5);
  Tensor k = f.in.get("k");
  l2_normalize_last(k);
  f.in.set("k", k);
  Rng rng(6);
  Tensor beta({1, H, L});
  for (auto& b : beta.values()) b = static_cast<float>(sigmoid(rng.normal()));
  f.in.set("beta", beta);
  ModelSpec spec;
  spec.family = Family::DeltaNet;
  const Result r = tiny::reference_mixing(spec, f.in);
  const Tensor &q = f.in.get("q"), &v = f.in.get("v");
  Y expected = zeros();
  for (int64_t h = 0; h < H; ++h) {
    std::vector<double> S(D * D, 0.0);
    for (int64_t t = 0; t < L; ++t) {
      const double b_t = beta[h * L + t];
      std::vector<double> kS(D, 0.0);  // k_t^T S_{t-1}
      for (int64_t b = 0; b < D; ++b)
        for (int64_t a = 0; a < D; ++a) kS[b] += at(k, h, t, a) * S[a * D + b];
      for (int64_t a = 0; a < D; ++a)
        for (int64_t b = 0; b < D; ++b)
          S[a * D + b] -= b_t * at(k, h, t, a) * (kS[b] - at(v, h, t, b));
      for (int64_t b = 0; b < D; ++b)
        for (int64_t a = 0; a < D; ++a) expected[h][t][b] += at(q, h, t, a) * S[a * D + b];
    }
  }
  EXPECT_LT(max_diff(r.y, expected), kTol);
  // y = A v with the returned attention, and A is causal.
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < L; ++i)
      for (int64_t j = i + 1; j < L; ++j) EXPECT_EQ(r.attention[(h * L + i) * L + j], 0.0f);
}

}  // namespace
