// L = 3 by hand (MODELS.md §1): S_1 = k_1 v_1^T, S_2 = λ_2 S_1 + k_2 v_2^T,
// S_3 = λ_3 S_2 + k_3 v_3^T, y_t = q_t^T S_t (÷ q_t^T z_t when normalized, z_t = λ_t z_{t-1} +
// k_t). The expected values are computed here with plain double loops from those equations, so
// every form is pinned to the model and not merely to the other forms.
#include <gtest/gtest.h>

#include <cmath>

#include "core/base/error.h"
#include "core/linear_attention/linear_attention.h"

namespace linscope {
namespace {

// q, k [1,1,3,2], v [1,1,3,2]: small exact values, distinct so that a swapped index shows.
const float kQ[3][2] = {{1.0f, 0.5f}, {0.25f, 2.0f}, {1.5f, 1.0f}};
const float kK[3][2] = {{0.5f, 1.0f}, {2.0f, 0.25f}, {1.0f, 1.5f}};
const float kV[3][2] = {{1.0f, -2.0f}, {3.0f, 0.5f}, {-1.0f, 4.0f}};

Inputs make(const std::vector<float>& log_decay, bool per_channel) {
  Inputs in;
  std::vector<float> q, k, v;
  for (int t = 0; t < 3; ++t)
    for (int c = 0; c < 2; ++c) {
      q.push_back(kQ[t][c]);
      k.push_back(kK[t][c]);
      v.push_back(kV[t][c]);
    }
  in.set("q", Tensor({1, 1, 3, 2}, q));
  in.set("k", Tensor({1, 1, 3, 2}, k));
  in.set("v", Tensor({1, 1, 3, 2}, v));
  if (per_channel)
    in.set("log_decay", Tensor({1, 1, 3, 2}, log_decay));
  else
    in.set("log_decay", Tensor({1, 1, 3}, log_decay));
  return in;
}

// lam[t][c]: λ_t for channel c (scalar decays repeat the value in both channels).
std::vector<double> by_hand(const double lam[3][2], bool normalize) {
  double S[2][2] = {{0, 0}, {0, 0}}, z[2] = {0, 0};
  std::vector<double> y;
  for (int t = 0; t < 3; ++t) {
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 2; ++b) S[a][b] = lam[t][a] * S[a][b] + kK[t][a] * kV[t][b];
      z[a] = lam[t][a] * z[a] + kK[t][a];
    }
    const double den = kQ[t][0] * z[0] + kQ[t][1] * z[1];
    for (int b = 0; b < 2; ++b) {
      const double num = kQ[t][0] * S[0][b] + kQ[t][1] * S[1][b];
      y.push_back(normalize ? num / den : num);
    }
  }
  return y;
}

void expect_all_forms(const Inputs& in, const std::vector<double>& want, bool normalize,
                      const char* what) {
  ModelSpec spec;
  spec.normalize = normalize;
  std::vector<RunOptions> runs;
  for (Form f : forms_of(spec)) runs.push_back(RunOptions{f});
  for (int64_t C : {1, 2, 3, 5}) {
    RunOptions o{Form::Chunkwise};
    o.chunk = C;
    runs.push_back(o);
  }
  for (const RunOptions& o : runs) {
    const Tensor y = linear_attention::run(spec, in, o).y;
    ASSERT_EQ(y.numel(), 6);
    // fp32 with three terms of size <= ~10: rounding ~1e-6 absolute; 1e-5 leaves 10x margin.
    for (int i = 0; i < 6; ++i)
      EXPECT_NEAR(y[i], want[i], 1e-5 * (1 + std::abs(want[i])))
          << what << (normalize ? " normalized " : " ") << to_string(o.form) << " C=" << o.chunk
          << " entry " << i;
  }
}

TEST(LinearAttentionHandWorked, DecayD) {
  const double l = 0.5;  // λ_t = 0.5 every step
  const double lam[3][2] = {{l, l}, {l, l}, {l, l}};
  const float a = static_cast<float>(std::log(l));
  const Inputs in = make({a, a, a}, false);
  for (bool normalize : {false, true})
    expect_all_forms(in, by_hand(lam, normalize), normalize, "D");
  // One entry fully by hand: y_2 = λ (q_2·k_1) v_1 + (q_2·k_2) v_2, q_2·k_1 = 2.125,
  // q_2·k_2 = 1, so y_2[0] = 0.5·2.125·1 + 1·3 = 4.0625.
  EXPECT_NEAR(by_hand(lam, false)[2], 4.0625, 1e-12);
}

TEST(LinearAttentionHandWorked, DecayS) {
  const double lam[3][2] = {{0.9, 0.9}, {0.5, 0.5}, {0.25, 0.25}};
  const Inputs in = make({std::log(0.9f), std::log(0.5f), std::log(0.25f)}, false);
  for (bool normalize : {false, true})
    expect_all_forms(in, by_hand(lam, normalize), normalize, "S");
}

TEST(LinearAttentionHandWorked, DecayPerChannel) {
  const double lam[3][2] = {{0.9, 0.3}, {0.5, 0.8}, {0.25, 1.0}};
  std::vector<float> a;
  for (auto& row : lam)
    for (double x : row) a.push_back(static_cast<float>(std::log(x)));
  const Inputs in = make(a, true);
  for (bool normalize : {false, true})
    expect_all_forms(in, by_hand(lam, normalize), normalize, "per-channel");
}

TEST(LinearAttentionHandWorked, AbsentDecayIsLIT) {
  const double lam[3][2] = {{1, 1}, {1, 1}, {1, 1}};
  Inputs in = make({0, 0, 0}, false);
  in.tensors.erase("log_decay");
  for (bool normalize : {false, true})
    expect_all_forms(in, by_hand(lam, normalize), normalize, "LIT");
}

// All-zero keys: q_t^T z_t = 0 in every row; every form defines y_t = 0 there, not NaN.
TEST(LinearAttentionHandWorked, ZeroNormalizerGivesZeroRows) {
  Inputs in = make({-0.1f, -0.1f, -0.1f}, false);
  in.set("k", Tensor({1, 1, 3, 2}, 0.0f));
  ModelSpec spec;
  spec.normalize = true;
  for (Form f : forms_of(spec)) {
    RunOptions o{f};
    o.chunk = 2;
    o.attention = true;
    const Result r = linear_attention::run(spec, in, o);
    for (int64_t i = 0; i < r.y.numel(); ++i) EXPECT_EQ(r.y[i], 0.0f) << to_string(f);
    for (int64_t i = 0; i < r.attention.numel(); ++i) EXPECT_EQ(r.attention[i], 0.0f);
  }
}

// Only the first key is zero: row 1 has q_1^T z_1 = 0 and is defined as 0; the later rows
// have mass and are the ordinary weighted averages (checked by hand from the equations).
TEST(LinearAttentionHandWorked, ZeroNormalizerOnlyWhereThereIsNoMass) {
  Inputs in = make({0, 0, 0}, false);  // LIT
  std::vector<float> k(in.get("k").values());
  k[0] = k[1] = 0.0f;
  in.set("k", Tensor({1, 1, 3, 2}, k));
  ModelSpec spec;
  spec.normalize = true;
  // Row 2 (t = 1): only k_2 has mass, so y_2 = v_2 whatever q_2 is (q_2·k_2 = 1 > 0).
  for (Form f : forms_of(spec)) {
    RunOptions o{f};
    o.chunk = 2;
    const Tensor y = linear_attention::run(spec, in, o).y;
    EXPECT_EQ(y[0], 0.0f) << to_string(f);
    EXPECT_EQ(y[1], 0.0f) << to_string(f);
    EXPECT_NEAR(y[2], kV[1][0], 1e-6) << to_string(f);
    EXPECT_NEAR(y[3], kV[1][1], 1e-6) << to_string(f);
  }
}

}  // namespace
}  // namespace linscope
