// L = 3 GateLoop worked from the paper's equations (GateLoop eq. 1, MODELS.md §3) with explicit
// std::complex<double> loops: a_t from its magnitude and phase, the state S_t = diag(a_t) S_{t−1}
// + k_t v_t^T, y_t = Re(q_t^H S_t), and the surrogate attention built from the products
// Π_{m=j+1..i} a_m multiplied out one factor at a time. Every form must reproduce them.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>

#include "core/gateloop/gateloop.h"

namespace linscope {
namespace {

using cd = std::complex<double>;
constexpr int L = 3, Dk = 2, Dv = 3;
const float kQ[L][Dk] = {{0.5f, 1.0f}, {1.5f, -0.25f}, {0.75f, 0.75f}};
const float kK[L][Dk] = {{1.0f, 0.5f}, {0.25f, 1.25f}, {-2.0f, 0.5f}};
const float kV[L][Dv] = {{1.0f, -2.0f, 0.5f}, {0.0f, 3.0f, -1.0f}, {-1.5f, 0.5f, 2.0f}};
const float kMag[L][Dk] = {{0.9f, 0.5f}, {0.8f, 1.0f}, {0.6f, 0.7f}};      // |a_t|
const float kPhase[L][Dk] = {{0.3f, -1.2f}, {2.0f, 0.1f}, {-0.7f, 3.0f}};  // arg a_t

Inputs hand_inputs() {
  std::vector<float> q, k, v, lm, ph;
  for (int t = 0; t < L; ++t) {
    for (int c = 0; c < Dk; ++c) {
      q.push_back(kQ[t][c]);
      k.push_back(kK[t][c]);
      lm.push_back(std::log(kMag[t][c]));
      ph.push_back(kPhase[t][c]);
    }
    for (int d = 0; d < Dv; ++d) v.push_back(kV[t][d]);
  }
  Inputs in;
  in.set("q", Tensor({1, 1, L, Dk}, q));
  in.set("k", Tensor({1, 1, L, Dk}, k));
  in.set("v", Tensor({1, 1, L, Dv}, v));
  in.set("log_magnitude", Tensor({1, 1, L, Dk}, lm));
  in.set("phase", Tensor({1, 1, L, Dk}, ph));
  return in;
}

cd a_of(int t, int c) {
  // Rebuild a_t from the same float log the model gets, so only the model's math is tested.
  return std::polar(std::exp(double(std::log(kMag[t][c]))), double(kPhase[t][c]));
}

struct Hand {
  double y[L][Dv];
  cd S[L][Dk][Dv];
  double A[L][L];
};

Hand by_hand() {
  Hand h{};
  cd S[Dk][Dv] = {};
  for (int t = 0; t < L; ++t) {
    for (int c = 0; c < Dk; ++c)
      for (int d = 0; d < Dv; ++d) S[c][d] = a_of(t, c) * S[c][d] + double(kK[t][c]) * kV[t][d];
    for (int d = 0; d < Dv; ++d) {
      cd acc = 0;
      for (int c = 0; c < Dk; ++c) acc += std::conj(cd(kQ[t][c])) * S[c][d];
      h.y[t][d] = acc.real();
    }
    for (int c = 0; c < Dk; ++c)
      for (int d = 0; d < Dv; ++d) h.S[t][c][d] = S[c][d];
  }
  // Surrogate attention: A_ij = Re((q_i ⊙ Π_{m=j+1..i} a_m)^H k_j) for j <= i.
  for (int i = 0; i < L; ++i)
    for (int j = 0; j < L; ++j) {
      h.A[i][j] = 0.0;
      if (j > i) continue;
      cd s = 0;
      for (int c = 0; c < Dk; ++c) {
        cd prod = 1.0;
        for (int m = j + 1; m <= i; ++m) prod *= a_of(m, c);
        s += std::conj(double(kQ[i][c]) * prod) * double(kK[j][c]);
      }
      h.A[i][j] = s.real();
    }
  return h;
}

// fp32 with at most 3 terms of O(1) values and float cos/sin of the a's: a few eps (~1e-7)
// relative; 2e-6 of max(1, |want|) is >10x that.
constexpr double kTol = 2e-6;

TEST(GateLoopHandWorked, EveryFormReproducesThePaperEquations) {
  const Hand h = by_hand();
  ModelSpec spec;
  spec.family = Family::GateLoop;
  for (Form f : {Form::Recurrent, Form::Scan, Form::Parallel}) {
    RunOptions o{f};
    const Result r = gateloop::run(spec, hand_inputs(), o);
    ASSERT_EQ(r.y.shape(), (std::vector<int64_t>{1, 1, L, Dv}));
    for (int t = 0; t < L; ++t)
      for (int d = 0; d < Dv; ++d)
        EXPECT_NEAR(r.y[t * Dv + d], h.y[t][d], kTol * std::max(1.0, std::abs(h.y[t][d])))
            << to_string(f) << " t=" << t << " d=" << d;
  }
}

TEST(GateLoopHandWorked, SurrogateAttentionMatchesTheProductsOfA) {
  const Hand h = by_hand();
  ModelSpec spec;
  spec.family = Family::GateLoop;
  for (Form f : {Form::Recurrent, Form::Scan, Form::Parallel}) {
    RunOptions o{f};
    o.attention = true;
    const Result r = gateloop::run(spec, hand_inputs(), o);
    ASSERT_EQ(r.attention.shape(), (std::vector<int64_t>{1, 1, L, L}));
    for (int i = 0; i < L; ++i)
      for (int j = 0; j < L; ++j)
        EXPECT_NEAR(r.attention[i * L + j], h.A[i][j], kTol * std::max(1.0, std::abs(h.A[i][j])))
            << to_string(f) << " i=" << i << " j=" << j;
    // And A reproduces y = A v (the surrogate form is exact, not an approximation).
    for (int i = 0; i < L; ++i)
      for (int d = 0; d < Dv; ++d) {
        double s = 0;
        for (int j = 0; j < L; ++j) s += h.A[i][j] * kV[j][d];
        EXPECT_NEAR(s, h.y[i][d], 1e-12 * std::max(1.0, std::abs(h.y[i][d])));
      }
  }
}

TEST(GateLoopHandWorked, TracedStatesAreTheComplexStates) {
  const Hand h = by_hand();
  ModelSpec spec;
  spec.family = Family::GateLoop;
  for (Form f : {Form::Recurrent, Form::Scan, Form::Parallel}) {
    RunOptions o{f};
    o.trace.states = true;
    const Result r = gateloop::run(spec, hand_inputs(), o);
    ASSERT_EQ(r.trace.steps, (std::vector<int64_t>{0, 1, 2}));
    ASSERT_EQ(r.trace.states.shape(), (std::vector<int64_t>{1, 1, L, Dk, Dv}));
    ASSERT_EQ(r.trace.states_imag.shape(), r.trace.states.shape());
    for (int t = 0; t < L; ++t)
      for (int c = 0; c < Dk; ++c)
        for (int d = 0; d < Dv; ++d) {
          const int64_t n = (t * Dk + c) * Dv + d;
          EXPECT_NEAR(r.trace.states[n], h.S[t][c][d].real(), kTol * 4) << to_string(f);
          EXPECT_NEAR(r.trace.states_imag[n], h.S[t][c][d].imag(), kTol * 4) << to_string(f);
        }
  }
}

}  // namespace
}  // namespace linscope
