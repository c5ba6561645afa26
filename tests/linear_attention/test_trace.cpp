// What the views read besides y: the recorded states S_t (every form), the chunkwise carried
// states, and the implicit attention matrix (MODELS.md §1). States are checked against the
// direct sum S_t = Σ_{j<=t} (Π_{m=j+1..t} λ_m) k_j v_j^T in double, not against the recurrence.
#include <gtest/gtest.h>

#include <cmath>

#include "common/testing.h"
#include "core/linear_attention/linear_attention.h"
#include "linear_attention/la_testing.h"

namespace linscope {
namespace {

using la_test::DecayKind;

// S_t of head bh by the direct sum, as a [Dk, Dv] tensor (t = -1: the empty sum, zeros).
Tensor direct_state(const Inputs& in, int64_t bh, int64_t t) {
  const Shape s = in.shape();
  const Tensor &k = in.get("k"), &v = in.get("v");
  Tensor S({s.Dk, s.Dv});
  for (int64_t a = 0; a < s.Dk; ++a)
    for (int64_t b = 0; b < s.Dv; ++b) {
      double sum = 0;
      for (int64_t j = 0; j <= t; ++j) {
        double log_w = 0;  // log Π_{m=j+1..t} λ_m
        for (int64_t m = j + 1; m <= t; ++m) log_w += la_test::log_lambda(in, bh, m, a);
        sum += std::exp(log_w) * k[(bh * s.L + j) * s.Dk + a] * v[(bh * s.L + j) * s.Dv + b];
      }
      S[a * s.Dv + b] = static_cast<float>(sum);
    }
  return S;
}

Tensor slot(const Tensor& states, int64_t bh, int64_t i) {
  const int64_t n = states.dim(2), Dk = states.dim(3), Dv = states.dim(4);
  Tensor S({Dk, Dv});
  for (int64_t e = 0; e < Dk * Dv; ++e) S[e] = states[(bh * n + i) * Dk * Dv + e];
  return S;
}

// fp32 states summing <= 50 terms: rounding ~sqrt(50)·eps ≈ 1e-6 relative; 1e-5 is 10x.
constexpr double kStateTol = 1e-5;

TEST(LinearAttentionTrace, RecordedStatesEqualTheDirectSum) {
  la_test::Case c;
  c.L = 50;
  for (DecayKind decay : {DecayKind::LIT, DecayKind::S, DecayKind::PerChannel}) {
    c.decay = decay;
    const Inputs in = la_test::make_inputs(c);
    for (Form f : {Form::Recurrent, Form::Parallel, Form::Chunkwise}) {
      RunOptions o{f};
      o.chunk = 8;  // 50 = 6·8 + 2: a ragged last chunk
      o.trace.states = true;
      o.trace.stride = 7;
      const Result r = linear_attention::run(la_test::spec_of(false), in, o);
      const std::vector<int64_t> want_steps{0, 7, 14, 21, 28, 35, 42, 49};
      ASSERT_EQ(r.trace.steps, want_steps);
      ASSERT_EQ(r.trace.states.shape(), (std::vector<int64_t>{c.B, c.H, 8, c.Dk, c.Dv}));
      for (int64_t bh = 0; bh < c.B * c.H; ++bh)
        for (size_t i = 0; i < want_steps.size(); ++i)
          EXPECT_LE(testing::relative_error(slot(r.trace.states, bh, static_cast<int64_t>(i)),
                                            direct_state(in, bh, want_steps[i])),
                    kStateTol)
              << la_test::name(decay) << " " << to_string(f) << " head " << bh << " step "
              << want_steps[i];
      if (f == Form::Chunkwise) {
        // The state entering chunk n is S_{8n−1} (zeros for the first chunk).
        ASSERT_EQ(r.trace.chunk_states.shape(), (std::vector<int64_t>{c.B, c.H, 7, c.Dk, c.Dv}));
        for (int64_t bh = 0; bh < c.B * c.H; ++bh) {
          const Tensor first = slot(r.trace.chunk_states, bh, 0);
          for (int64_t e = 0; e < first.numel(); ++e) EXPECT_EQ(first[e], 0.0f);
          for (int64_t n = 1; n < 7; ++n)
            EXPECT_LE(testing::relative_error(slot(r.trace.chunk_states, bh, n),
                                              direct_state(in, bh, 8 * n - 1)),
                      kStateTol)
                << la_test::name(decay) << " chunk " << n;
        }
      }
    }
  }
}

TEST(LinearAttentionTrace, AttentionTimesVIsYAndCausal) {
  la_test::Case c;
  c.L = 33;
  for (DecayKind decay : {DecayKind::D, DecayKind::S, DecayKind::PerChannel})
    for (bool normalize : {false, true}) {
      c.decay = decay;
      c.normalize = normalize;
      const Inputs in = la_test::make_inputs(c);
      const ModelSpec spec = la_test::spec_of(normalize);
      for (Form f : {Form::Recurrent, Form::Parallel, Form::Chunkwise}) {
        RunOptions plain{f};
        plain.chunk = 5;
        RunOptions rich = plain;
        rich.attention = true;
        rich.trace.states = true;
        const Tensor y = linear_attention::run(spec, in, plain).y;
        const Result r = linear_attention::run(spec, in, rich);
        // Recording never changes y: bit for bit.
        ASSERT_EQ(r.y.values(), y.values()) << to_string(f);
        ASSERT_EQ(r.attention.shape(), (std::vector<int64_t>{c.B, c.H, c.L, c.L}));
        const Tensor& v = in.get("v");
        Tensor av({c.B, c.H, c.L, c.Dv});
        for (int64_t bh = 0; bh < c.B * c.H; ++bh)
          for (int64_t i = 0; i < c.L; ++i) {
            double row_sum = 0;
            for (int64_t j = 0; j < c.L; ++j) {
              const float a = r.attention[(bh * c.L + i) * c.L + j];
              if (j > i) EXPECT_EQ(a, 0.0f) << "causal: A[" << i << "][" << j << "]";
              row_sum += a;
            }
            // Normalized rows are weights that sum to 1 (A_ij = P_ij / Σ_j P_ij).
            if (normalize) EXPECT_NEAR(row_sum, 1.0, 1e-5) << "row " << i;
            for (int64_t b = 0; b < c.Dv; ++b) {
              double s = 0;
              for (int64_t j = 0; j < c.L; ++j)
                s += static_cast<double>(r.attention[(bh * c.L + i) * c.L + j]) *
                     v[(bh * c.L + j) * c.Dv + b];
              av[(bh * c.L + i) * c.Dv + b] = static_cast<float>(s);
            }
          }
        // Same fp32 sums as the forms (L = 33 terms): 2e-5 relative, as in test_forms_agree.
        EXPECT_LE(testing::relative_error(av, y), 2e-5)
            << la_test::name(decay) << (normalize ? " normalized " : " ") << to_string(f);
      }
    }
}

// A small byte budget raises the stride (trace_steps) but the last step is always recorded,
// and the slots still hold S_t at the steps listed.
TEST(LinearAttentionTrace, ByteBudgetThinsTheSteps) {
  la_test::Case c;
  c.L = 40;
  const Inputs in = la_test::make_inputs(c);
  const int64_t per_step = c.B * c.H * c.Dk * c.Dv * 4;
  for (Form f : {Form::Recurrent, Form::Parallel, Form::Chunkwise}) {
    RunOptions o{f};
    o.chunk = 16;
    o.trace.states = true;
    o.trace.max_bytes = 6 * per_step;
    const Result r = linear_attention::run(la_test::spec_of(false), in, o);
    ASSERT_LE(r.trace.steps.size(), 6u) << to_string(f);
    ASSERT_EQ(r.trace.steps.back(), c.L - 1);
    ASSERT_EQ(r.trace.states.dim(2), static_cast<int64_t>(r.trace.steps.size()));
    for (size_t i = 0; i < r.trace.steps.size(); ++i)
      EXPECT_LE(testing::relative_error(slot(r.trace.states, 4, static_cast<int64_t>(i)),
                                        direct_state(in, 4, r.trace.steps[i])),
                kStateTol)
          << to_string(f) << " step " << r.trace.steps[i];
  }
}

}  // namespace
}  // namespace linscope
