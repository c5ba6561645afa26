// L = 16384 with λ = 0.5 every step (log λ = −0.693): the cumulative log decay reaches ≈ −11357,
// so any form that builds Π λ or exp(−A) would underflow/overflow (core/base/log_space.h). Every
// form must stay finite and agree with the recurrence; the parallel form (L^2 memory) is checked
// at L = 2048. With λ = 0.5 the state forgets quickly: S_L equals its last few k v^T terms.
#include <gtest/gtest.h>

#include <cmath>

#include "common/testing.h"
#include "core/linear_attention/linear_attention.h"
#include "linear_attention/la_testing.h"

namespace linscope {
namespace {

constexpr float kLogHalf = -0.693f;

// normalize: positive (elu+1) q, k so that q^T z stays away from 0 (raw normal q, k can make the
// normalizer cancel, and then any rounding is amplified by the model itself).
Inputs long_inputs(int64_t L, bool per_channel, bool normalize, uint64_t seed) {
  la_test::Case c;
  c.B = 1;
  c.H = 1;
  c.L = L;
  c.Dk = 16;
  c.Dv = 16;
  c.decay = la_test::DecayKind::LIT;
  c.seed = seed;
  c.normalize = normalize;
  Inputs in = la_test::make_inputs(c);
  if (per_channel) {
    // Channels alternate λ = 0.5 and λ ≈ 0.95: a slow channel carries ~20 tokens, a fast one ~1.
    Tensor a({1, 1, L, 16});
    for (int64_t i = 0; i < a.numel(); ++i) a[i] = i % 2 == 0 ? kLogHalf : -0.05f;
    in.set("log_decay", a);
  } else {
    in.set("log_decay", Tensor({1, 1, L}, kLogHalf));
  }
  return in;
}

bool all_finite(const Tensor& t) {
  return t.first_non_finite() < 0;
}

// fp32 at λ <= 0.95: each output sums ~20 effective terms whatever L is, so rounding is
// ~sqrt(20)·eps·|term| ≈ 1e-6 relative; 1e-5 leaves 10x. An error in the decay (say one λ too
// many) would be 50 % or 5 %.
constexpr double kTol = 1e-5;

TEST(LinearAttentionLong, L16384HalfDecayAllFormsFiniteAndEqual) {
  for (bool per_channel : {false, true})
    for (bool normalize : {false, true}) {
      const Inputs in = long_inputs(16384, per_channel, normalize, 11);
      const ModelSpec spec = la_test::spec_of(normalize);
      const Tensor rec = linear_attention::run(spec, in, RunOptions{Form::Recurrent}).y;
      ASSERT_TRUE(all_finite(rec));
      const Tensor ref = la_test::reference(in, normalize).y;
      EXPECT_LE(testing::relative_error(rec, ref), kTol) << "recurrent vs double";
      for (int64_t C : {1, 64, 1000}) {  // 1000: a ragged last chunk of 384
        RunOptions o{Form::Chunkwise};
        o.chunk = C;
        const Tensor y = linear_attention::run(spec, in, o).y;
        ASSERT_TRUE(all_finite(y)) << "C=" << C;
        EXPECT_LE(testing::relative_error(y, rec), kTol)
            << "chunkwise C=" << C << (per_channel ? " per-channel" : " scalar")
            << (normalize ? " normalized" : "");
      }
    }
}

TEST(LinearAttentionLong, ParallelAtL2048) {
  for (bool per_channel : {false, true})
    for (bool normalize : {false, true}) {
      const Inputs in = long_inputs(2048, per_channel, normalize, 12);
      const ModelSpec spec = la_test::spec_of(normalize);
      const Tensor rec = linear_attention::run(spec, in, RunOptions{Form::Recurrent}).y;
      const Tensor par = linear_attention::run(spec, in, RunOptions{Form::Parallel}).y;
      ASSERT_TRUE(all_finite(par));
      EXPECT_LE(testing::relative_error(par, rec), kTol);
    }
}

// S_{L-1} = Σ_j 0.5^{L-1-j} k_j v_j^T: the terms older than 40 steps weigh < 0.5^40 ≈ 1e-12,
// so the state equals the sum of its last 40 terms (in double) to float rounding.
TEST(LinearAttentionLong, StateIsTheLastFewTerms) {
  const int64_t L = 16384, D = 16, last = 40;
  const Inputs in = long_inputs(L, false, false, 13);
  const Tensor &k = in.get("k"), &v = in.get("v");
  std::vector<double> want(D * D, 0.0);
  for (int64_t j = L - last; j < L; ++j)
    for (int64_t a = 0; a < D; ++a)
      for (int64_t b = 0; b < D; ++b)
        want[a * D + b] +=
            std::exp(kLogHalf * static_cast<double>(L - 1 - j)) * k[j * D + a] * v[j * D + b];
  Tensor want_t({D, D});
  for (int64_t i = 0; i < D * D; ++i) want_t[i] = static_cast<float>(want[i]);
  for (Form f : {Form::Recurrent, Form::Chunkwise}) {
    RunOptions o{f};
    o.trace.states = true;
    o.trace.stride = L;  // records steps 0 and L-1
    const Result r = linear_attention::run(la_test::spec_of(false), in, o);
    ASSERT_EQ(r.trace.steps.back(), L - 1);
    const int64_t n = static_cast<int64_t>(r.trace.steps.size());
    Tensor got({D, D});
    for (int64_t i = 0; i < D * D; ++i) got[i] = r.trace.states[(n - 1) * D * D + i];
    // fp32 state: each entry sums ~2 effective terms with rounding ~1e-7; 1e-5 relative.
    EXPECT_LE(testing::relative_error(got, want_t), 1e-5) << to_string(f);
  }
}

}  // namespace
}  // namespace linscope
