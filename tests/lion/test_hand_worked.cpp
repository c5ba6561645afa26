// L = 3 LION-D and LION-S worked from the full-attention definition (MODELS.md §2) with plain
// double loops, the mask built entry by entry from the λ's. Every bidirectional form must
// reproduce it, scaled and unscaled, so the forms cannot agree on a wrong answer.
#include <gtest/gtest.h>

#include <cmath>

#include "core/base/error.h"
#include "core/lion/lion.h"

namespace linscope {
namespace {

constexpr int64_t L = 3, Dk = 2, Dv = 3;
const float kQ[L][Dk] = {{0.5f, 1.0f}, {1.5f, 0.25f}, {0.75f, 0.75f}};
const float kK[L][Dk] = {{1.0f, 0.5f}, {0.25f, 1.25f}, {2.0f, 0.5f}};
const float kV[L][Dv] = {{1.0f, -2.0f, 0.5f}, {0.0f, 3.0f, -1.0f}, {-1.5f, 0.5f, 2.0f}};

Inputs hand_inputs(const float (&lambda)[L]) {
  std::vector<float> q, k, v, a;
  for (int t = 0; t < L; ++t) {
    for (int d = 0; d < Dk; ++d) q.push_back(kQ[t][d]), k.push_back(kK[t][d]);
    for (int e = 0; e < Dv; ++e) v.push_back(kV[t][e]);
    a.push_back(std::log(lambda[t]));
  }
  Inputs in;
  in.set("q", Tensor({1, 1, L, Dk}, q));
  in.set("k", Tensor({1, 1, L, Dk}, k));
  in.set("v", Tensor({1, 1, L, Dv}, v));
  in.set("log_decay", Tensor({1, 1, L}, a));
  return in;
}

// Y = C^{-1} (Q K^T ⊙ M) V, M_ij = Π_{m=min(i,j)+1..max(i,j)} λ_m, by hand in double.
std::vector<double> by_hand(const float (&lambda)[L], bool normalize) {
  double M[L][L];
  for (int i = 0; i < L; ++i)
    for (int j = 0; j < L; ++j) {
      M[i][j] = 1.0;
      for (int m = std::min(i, j) + 1; m <= std::max(i, j); ++m) M[i][j] *= lambda[m];
    }
  std::vector<double> y;
  for (int i = 0; i < L; ++i) {
    double c = 0, num[Dv] = {0, 0, 0};
    for (int j = 0; j < L; ++j) {
      const double s = (double(kQ[i][0]) * kK[j][0] + double(kQ[i][1]) * kK[j][1]) * M[i][j];
      c += s;
      for (int e = 0; e < Dv; ++e) num[e] += s * kV[j][e];
    }
    for (int e = 0; e < Dv; ++e) y.push_back(normalize ? num[e] / c : num[e]);
  }
  return y;
}

void expect_all_forms(const float (&lambda)[L]) {
  for (bool normalize : {true, false}) {
    ModelSpec spec;
    spec.family = Family::Lion;
    spec.direction = Direction::Bidirectional;
    spec.normalize = normalize;
    const Inputs in = hand_inputs(lambda);
    const std::vector<double> want = by_hand(lambda, normalize);
    std::vector<RunOptions> runs;
    for (Form f : {Form::Parallel, Form::Recurrent}) runs.push_back(RunOptions{f});
    for (int64_t C : {1, 2, 3, 8}) {
      RunOptions o{Form::Chunkwise};
      o.chunk = C;
      runs.push_back(o);
    }
    for (const RunOptions& o : runs) {
      const Tensor y = lion::run(spec, in, o).y;
      ASSERT_EQ(y.shape(), (std::vector<int64_t>{1, 1, L, Dv}));
      // fp32, at most 3 terms of O(1) values: a few eps (~1e-7) of error; 2e-6 is >10x that.
      for (int64_t n = 0; n < y.numel(); ++n)
        EXPECT_NEAR(y[n], want[n], 2e-6 * std::max(1.0, std::abs(want[n])))
            << to_string(o.form) << " C=" << o.chunk << " normalize=" << normalize << " n=" << n;
    }
  }
}

TEST(LionHandWorked, LionDMatchesTheDefinition) {
  const float lambda[L] = {0.5f, 0.5f, 0.5f};
  // LION-D: M_ij = λ^{|i-j|}; the corner is λ^2 = 0.25 exactly.
  const lion::MaskParts m = lion::mask_parts(hand_inputs(lambda), 0);
  EXPECT_EQ(m.full(0, 2), 0.25f);
  EXPECT_EQ(m.full(2, 0), 0.25f);
  EXPECT_EQ(m.full(1, 2), 0.5f);
  expect_all_forms(lambda);
}

TEST(LionHandWorked, LionSMatchesTheDefinition) {
  const float lambda[L] = {0.9f, 0.6f, 0.3f};
  // LION-S: M_02 = λ_1 λ_2 (0-based), M_01 = λ_1, M_12 = λ_2; λ_0 never enters.
  const lion::MaskParts m = lion::mask_parts(hand_inputs(lambda), 0);
  EXPECT_NEAR(m.full(0, 2), 0.6 * 0.3, 1e-7);
  EXPECT_NEAR(m.full(0, 1), 0.6, 1e-7);
  EXPECT_NEAR(m.full(2, 1), 0.3, 1e-7);
  expect_all_forms(lambda);
}

TEST(LionHandWorked, FirstTokensDecayNeverEntersTheBidirectionalMask) {
  // The backward RNN uses λ_{t+1}, the forward λ_t applied to an empty state at t = 0: so λ_0
  // is irrelevant in every form. A form that used λ_t going backward would change here.
  const float a[L] = {0.9f, 0.6f, 0.3f}, b[L] = {0.1f, 0.6f, 0.3f};
  ModelSpec spec;
  spec.family = Family::Lion;
  spec.direction = Direction::Bidirectional;
  spec.normalize = true;
  for (Form f : {Form::Parallel, Form::Recurrent, Form::Chunkwise}) {
    const Tensor ya = lion::run(spec, hand_inputs(a), RunOptions{f}).y;
    const Tensor yb = lion::run(spec, hand_inputs(b), RunOptions{f}).y;
    for (int64_t n = 0; n < ya.numel(); ++n) EXPECT_NEAR(ya[n], yb[n], 1e-6) << to_string(f);
  }
}

TEST(LionHandWorked, ZeroNormalizerGivesZeroRowsNotNaN) {
  const float lambda[L] = {0.5f, 0.5f, 0.5f};
  ModelSpec spec;
  spec.family = Family::Lion;
  spec.direction = Direction::Bidirectional;
  spec.normalize = true;
  for (bool zero_keys : {true, false}) {
    Inputs in = hand_inputs(lambda);
    // All-zero keys: C_i = 0 for every row. Else a zero query row 1: C_1 = 0 only there.
    if (zero_keys)
      for (auto& x : in.get("k").values()) x = 0.0f;
    else
      in.get("q")[1 * Dk] = in.get("q")[1 * Dk + 1] = 0.0f;
    for (Form f : {Form::Parallel, Form::Recurrent, Form::Chunkwise}) {
      RunOptions o{f};
      o.chunk = 2;
      o.attention = true;
      const Result r = lion::run(spec, in, o);
      for (int64_t i = 0; i < L; ++i)
        for (int64_t e = 0; e < Dv; ++e) {
          const float y = r.y[i * Dv + e];
          ASSERT_TRUE(std::isfinite(y)) << to_string(f);
          if (zero_keys || i == 1) EXPECT_EQ(y, 0.0f) << to_string(f) << " row " << i;
        }
      if (!zero_keys) {
        // Rows 0 and 2 depend on q_0, q_2 only: row 1's empty normalizer must not touch them.
        const Tensor full = lion::run(spec, hand_inputs(lambda), o).y;
        for (int64_t e = 0; e < Dv; ++e) {
          EXPECT_NEAR(r.y[0 * Dv + e], full[0 * Dv + e], 1e-6);
          EXPECT_NEAR(r.y[2 * Dv + e], full[2 * Dv + e], 1e-6);
        }
      }
      for (int64_t i = 0; i < L; ++i)
        for (int64_t j = 0; j < L; ++j)
          if (zero_keys || i == 1) EXPECT_EQ(r.attention[i * L + j], 0.0f);
    }
  }
}

TEST(LionHandWorked, BadInputsAreRejectedByName) {
  const float lambda[L] = {0.5f, 0.5f, 0.5f};
  ModelSpec spec;
  spec.family = Family::Lion;
  spec.direction = Direction::Bidirectional;
  Inputs in = hand_inputs(lambda);
  in.set("log_decay", Tensor({1, 1, L, Dk}));  // per-channel: not LION
  try {
    lion::run(spec, in, RunOptions{Form::Parallel});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("log_decay"), std::string::npos) << e.what();
  }
  in = hand_inputs(lambda);
  in.set("k", Tensor({1, 1, L, Dk + 1}));
  EXPECT_THROW(lion::run(spec, in, RunOptions{Form::Recurrent}), Error);
  RunOptions o{Form::Chunkwise};
  o.chunk = 0;
  EXPECT_THROW(lion::run(spec, hand_inputs(lambda), o), Error);
  EXPECT_THROW(lion::run(spec, hand_inputs(lambda), RunOptions{Form::Scan}), Error);
  EXPECT_THROW(lion::mask_parts(hand_inputs(lambda), 1), Error);
  const float growing[L] = {0.5f, 1.5f, 0.5f};  // λ > 1 is outside LION's (0, 1]
  try {
    lion::run(spec, hand_inputs(growing), RunOptions{Form::Chunkwise});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("log_decay"), std::string::npos) << e.what();
  }
  in = hand_inputs(lambda);
  in.get("v")[4] = NAN;
  EXPECT_THROW(lion::run(spec, in, RunOptions{Form::Parallel}), Error);
}

}  // namespace
}  // namespace linscope
