// L = 3 DeltaNet worked from the delta rule (DeltaNet eq. 1–2, MODELS.md §4) with plain double
// loops. The attention matrix is found without the WY formula: y is linear in v, so column j
// of A is y when v_j is the only nonzero value (Dv = 1, v_j = 1), stepped by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "core/deltanet/deltanet.h"

namespace linscope {
namespace {

constexpr int L = 3, Dk = 2, Dv = 3;
const float kQ[L][Dk] = {{0.5f, 1.0f}, {1.5f, -0.25f}, {0.75f, 0.75f}};
// Unit keys (3-4-5 and 5-12-13 triangles and an axis), so ||k|| = 1 exactly in float too.
const float kK[L][Dk] = {{0.6f, 0.8f}, {1.0f, 0.0f}, {-5.0f / 13.0f, 12.0f / 13.0f}};
const float kV[L][Dv] = {{1.0f, -2.0f, 0.5f}, {0.0f, 3.0f, -1.0f}, {-1.5f, 0.5f, 2.0f}};
const float kBeta[L] = {0.5f, 1.0f, 0.25f};

Inputs hand_inputs() {
  std::vector<float> q, k, v, b;
  for (int t = 0; t < L; ++t) {
    for (int c = 0; c < Dk; ++c) q.push_back(kQ[t][c]), k.push_back(kK[t][c]);
    for (int d = 0; d < Dv; ++d) v.push_back(kV[t][d]);
    b.push_back(kBeta[t]);
  }
  Inputs in;
  in.set("q", Tensor({1, 1, L, Dk}, q));
  in.set("k", Tensor({1, 1, L, Dk}, k));
  in.set("v", Tensor({1, 1, L, Dv}, v));
  in.set("beta", Tensor({1, 1, L}, b));
  return in;
}

// The delta rule for values vals[t][0..nv): S ← S − β k (k^T S − v^T), y_t = q_t^T S_t.
template <int NV>
void delta_rule(const double (&vals)[L][NV], double (&y)[L][NV], double (*states)[Dk][NV]) {
  double S[Dk][NV] = {};
  for (int t = 0; t < L; ++t) {
    for (int d = 0; d < NV; ++d) {
      const double err = kK[t][0] * S[0][d] + kK[t][1] * S[1][d] - vals[t][d];
      for (int c = 0; c < Dk; ++c) S[c][d] -= kBeta[t] * kK[t][c] * err;
      y[t][d] = kQ[t][0] * S[0][d] + kQ[t][1] * S[1][d];
      if (states)
        for (int c = 0; c < Dk; ++c) states[t][c][d] = S[c][d];
    }
  }
}

// fp32, 3 tokens of O(1) values through at most 3 rank-1 updates: a few eps (~1e-7); 2e-6 of
// max(1, |want|) is >10x that.
constexpr double kTol = 2e-6;

TEST(DeltaNetHandWorked, EveryFormReproducesTheDeltaRule) {
  double vals[L][Dv], y[L][Dv];
  for (int t = 0; t < L; ++t)
    for (int d = 0; d < Dv; ++d) vals[t][d] = kV[t][d];
  delta_rule<Dv>(vals, y, nullptr);
  ModelSpec spec;
  spec.family = Family::DeltaNet;
  std::vector<RunOptions> runs{RunOptions{Form::Recurrent}, RunOptions{Form::Parallel}};
  for (int64_t C : {1, 2, 3, 5}) {
    RunOptions o{Form::Chunkwise};
    o.chunk = C;
    runs.push_back(o);
  }
  for (const RunOptions& o : runs) {
    const Tensor out = deltanet::run(spec, hand_inputs(), o).y;
    ASSERT_EQ(out.shape(), (std::vector<int64_t>{1, 1, L, Dv}));
    for (int t = 0; t < L; ++t)
      for (int d = 0; d < Dv; ++d)
        EXPECT_NEAR(out[t * Dv + d], y[t][d], kTol * std::max(1.0, std::abs(y[t][d])))
            << to_string(o.form) << " C=" << o.chunk << " t=" << t << " d=" << d;
  }
}

TEST(DeltaNetHandWorked, AttentionMatrixIsTheResponseToEachValue) {
  // Column j of A: run the delta rule on the one-hot values e_j (one value channel).
  double A[L][L];
  for (int j = 0; j < L; ++j) {
    double vals[L][1] = {}, y[L][1];
    vals[j][0] = 1.0;
    delta_rule<1>(vals, y, nullptr);
    for (int i = 0; i < L; ++i) A[i][j] = y[i][0];
  }
  ModelSpec spec;
  spec.family = Family::DeltaNet;
  for (Form f : {Form::Recurrent, Form::Chunkwise, Form::Parallel}) {
    RunOptions o{f};
    o.chunk = 2;
    o.attention = true;
    const Tensor a = deltanet::run(spec, hand_inputs(), o).attention;
    ASSERT_EQ(a.shape(), (std::vector<int64_t>{1, 1, L, L}));
    for (int i = 0; i < L; ++i)
      for (int j = 0; j < L; ++j)
        EXPECT_NEAR(a[i * L + j], A[i][j], kTol * std::max(1.0, std::abs(A[i][j])))
            << to_string(f) << " i=" << i << " j=" << j;
  }
}

TEST(DeltaNetHandWorked, TracedStatesAreTheDeltaRuleStates) {
  double vals[L][Dv], y[L][Dv], S[L][Dk][Dv];
  for (int t = 0; t < L; ++t)
    for (int d = 0; d < Dv; ++d) vals[t][d] = kV[t][d];
  delta_rule(vals, y, S);
  ModelSpec spec;
  spec.family = Family::DeltaNet;
  for (Form f : {Form::Recurrent, Form::Chunkwise, Form::Parallel}) {
    RunOptions o{f};
    o.chunk = 2;
    o.trace.states = true;
    const Result r = deltanet::run(spec, hand_inputs(), o);
    ASSERT_EQ(r.trace.steps, (std::vector<int64_t>{0, 1, 2}));
    for (int t = 0; t < L; ++t)
      for (int c = 0; c < Dk; ++c)
        for (int d = 0; d < Dv; ++d)
          EXPECT_NEAR(r.trace.states[(t * Dk + c) * Dv + d], S[t][c][d], kTol * 4) << to_string(f);
    if (f == Form::Chunkwise) {
      // Chunks {0,1} and {2}: the states entering them are S_{-1} = 0 and S_1.
      ASSERT_EQ(r.trace.chunk_states.shape(), (std::vector<int64_t>{1, 1, 2, Dk, Dv}));
      for (int c = 0; c < Dk; ++c)
        for (int d = 0; d < Dv; ++d) {
          EXPECT_EQ(r.trace.chunk_states[c * Dv + d], 0.0f);
          EXPECT_NEAR(r.trace.chunk_states[(Dk + c) * Dv + d], S[1][c][d], kTol * 4);
        }
    }
  }
}

}  // namespace
}  // namespace linscope
