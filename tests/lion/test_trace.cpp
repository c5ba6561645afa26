// Recorded states: S^F_t = Σ_{j<=t} M_tj k_j v_j^T and S^B_t = Σ_{j>=t} M_tj k_j v_j^T at the
// trace steps, in every form; chunkwise also records the forward state entering each chunk.
// Recording must leave y bit-for-bit unchanged.
#include <gtest/gtest.h>

#include "core/base/result.h"
#include "core/lion/lion.h"
#include "lion/lion_testing.h"

namespace linscope {
namespace {

using lion_test::Case;

// Σ_{j in [lo, hi]} M_tj k_j v_j^T for head bh, in double, M built from the λ product.
std::vector<double> direct_state(const Inputs& in, int64_t bh, int64_t t, int64_t lo, int64_t hi) {
  const Tensor &k = in.get("k"), &v = in.get("v"), &a = in.get("log_decay");
  const int64_t L = k.dim(2), Dk = k.dim(3), Dv = v.dim(3);
  std::vector<double> S(static_cast<size_t>(Dk * Dv), 0.0);
  for (int64_t j = lo; j <= hi; ++j) {
    double m = 1.0;
    for (int64_t s = std::min(t, j) + 1; s <= std::max(t, j); ++s)
      m *= std::exp(double(a[bh * L + s]));
    for (int64_t d = 0; d < Dk; ++d)
      for (int64_t e = 0; e < Dv; ++e)
        S[d * Dv + e] += m * k[(bh * L + j) * Dk + d] * v[(bh * L + j) * Dv + e];
  }
  return S;
}

// fp32 sums of at most L = 10 rank-1 terms of O(1): ~10 eps ≈ 1e-6 each; 1e-5 absolute (the
// entries are O(1)) leaves 10x room.
constexpr double kTol = 1e-5;

void expect_state(const Tensor& trace, int64_t bh, int64_t slot, const std::vector<double>& want,
                  const std::string& what) {
  const int64_t n = trace.dim(2), DkDv = trace.dim(3) * trace.dim(4);
  for (int64_t x = 0; x < DkDv; ++x)
    EXPECT_NEAR(trace[(bh * n + slot) * DkDv + x], want[x], kTol * (1 + std::abs(want[x])))
        << what << " head " << bh << " slot " << slot;
}

TEST(LionTrace, StatesEqualDirectSumsInEveryForm) {
  Case c;
  c.B = 1;
  c.H = 2;
  c.L = 10;
  c.Dk = 3;
  c.Dv = 2;
  const Inputs in = lion_test::make_inputs(c);
  const ModelSpec spec = lion_test::spec_of(Decay::S, true);
  for (Form f : {Form::Parallel, Form::Recurrent, Form::Chunkwise}) {
    RunOptions o{f};
    o.chunk = 4;
    const Tensor plain = lion::run(spec, in, o).y;
    o.trace.states = true;
    o.trace.stride = 3;
    const Result r = lion::run(spec, in, o);
    EXPECT_EQ(r.y.values(), plain.values()) << "recording changed y in " << to_string(f);
    ASSERT_EQ(r.trace.steps, (std::vector<int64_t>{0, 3, 6, 9}));
    ASSERT_EQ(r.trace.states.shape(), (std::vector<int64_t>{1, 2, 4, 3, 2}));
    ASSERT_EQ(r.trace.states_backward.shape(), r.trace.states.shape());
    for (int64_t bh = 0; bh < 2; ++bh)
      for (int64_t slot = 0; slot < 4; ++slot) {
        const int64_t t = r.trace.steps[slot];
        expect_state(r.trace.states, bh, slot, direct_state(in, bh, t, 0, t),
                     "S^F " + to_string(f));
        expect_state(r.trace.states_backward, bh, slot, direct_state(in, bh, t, t, c.L - 1),
                     "S^B " + to_string(f));
      }
    if (f == Form::Chunkwise) {
      // Chunks [0,4), [4,8), [8,10): the state entering chunk n is S^F_{4n-1} (0 for n = 0).
      ASSERT_EQ(r.trace.chunk_states.shape(), (std::vector<int64_t>{1, 2, 3, 3, 2}));
      for (int64_t bh = 0; bh < 2; ++bh)
        for (int64_t n = 0; n < 3; ++n)
          expect_state(
              r.trace.chunk_states, bh, n,
              n == 0 ? std::vector<double>(6, 0.0) : direct_state(in, bh, 4 * n - 1, 0, 4 * n - 1),
              "chunk state");
    } else {
      EXPECT_TRUE(r.trace.chunk_states.empty());
    }
  }
}

TEST(LionTrace, ByteBudgetCountsBothDirections) {
  Case c;
  c.B = 1;
  c.H = 2;
  c.L = 10;
  c.Dk = 3;
  c.Dv = 2;
  const Inputs in = lion_test::make_inputs(c);
  RunOptions o{Form::Recurrent};
  o.trace.states = true;
  // Room for 5 steps of S^F and S^B together (10 with only one of them).
  const int64_t both = 2 * c.B * c.H * c.Dk * c.Dv * 4;
  o.trace.max_bytes = 5 * both;
  const Result r = lion::run(lion_test::spec_of(Decay::D, true), in, o);
  EXPECT_EQ(r.trace.steps, trace_steps(c.L, 1, o.trace.max_bytes, both));
  EXPECT_LE(static_cast<int64_t>(r.trace.steps.size()), 5);
  EXPECT_EQ(r.trace.steps.back(), c.L - 1);
  EXPECT_EQ(r.trace.states_backward.dim(2), static_cast<int64_t>(r.trace.steps.size()));
}

}  // namespace
}  // namespace linscope
