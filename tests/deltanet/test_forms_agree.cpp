// Recurrent, chunkwise (every chunk size, including C = 1, C not dividing L, C = L and C > L) and
// parallel agree with the delta rule stepped in double, over L ∈ {1, 5, 64, 100}, Dk != Dv,
// B = 2, H = 3. Attention reproduces y; traced states (and chunk states) match the reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <vector>

#include "common/testing.h"
#include "deltanet/deltanet_testing.h"

namespace linscope::deltanet_test {
namespace {

// fp32 tolerance. The recurrent form adds one rank-1 update per token with |k| = 1, β ≤ 1: the
// factors (I − β k k^T) have eigenvalues in [1 − β, 1], so errors are not amplified and grow at
// most ~L·eps·max|S| (≈ 100 · 6e-8 = 6e-6 relative at L = 100).
// The chunkwise/parallel forms solve (I + tril(diag(β) K K^T, −1)) T = diag(β) by forward
// substitution. Entry T_tj = −β_t k_t^T Φ k_j β_j with Φ a product of those contractions, so
// |T_tj| <= 1 for unit keys: no growth in the solution; Higham's bound for forward substitution
// gives a residual of at most n·u·|I + M||T| with |M_ij| = β_i |k_i·k_j| <= 1, i.e. an error of
// O(C·eps) per entry, which the O(C·Dk) sums in W = T K, U = T V and P(U − W S) multiply by a few.
// At C = L = 100 that is ~1e-5 relative in the worst case (measured, printed by the test: <= 7e-7);
// 2e-4 leaves >10x headroom, while a wrong sign or an off-by-one in the strict tril is O(1).
constexpr double kTol = 2e-4;

TEST(DeltaNetFormsAgree, OverTheGrid) {
  for (int64_t L : {1, 5, 64, 100}) {
    Case c;
    c.L = L;
    c.seed = 20 + static_cast<uint64_t>(L);
    const Inputs in = make_inputs(c);
    const Reference ref = reference(in);
    for (const RunOptions& o : all_forms({1, 3, 16, L, L + 7})) {
      const Tensor y = deltanet::run(deltanet_spec(), in, o).y;
      ASSERT_EQ(y.shape(), (std::vector<int64_t>{c.B, c.H, L, c.Dv}));
      const double err = relative_error(y, ref.y);
      EXPECT_LT(err, kTol) << to_string(o.form) << " C=" << o.chunk << " L=" << L;
      if (L == 100)
        std::cout << "L=100 " << to_string(o.form)
                  << (o.form == Form::Chunkwise ? " C=" + std::to_string(o.chunk) : "")
                  << " relative error " << err << "\n";
    }
  }
}

TEST(DeltaNetFormsAgree, AttentionFromEveryFormReproducesY) {
  Case c;
  c.L = 41;
  const Inputs in = make_inputs(c);
  const Tensor& v = in.get("v");
  for (RunOptions o : all_forms({8})) {
    o.attention = true;
    const Result r = deltanet::run(deltanet_spec(), in, o);
    ASSERT_EQ(r.attention.shape(), (std::vector<int64_t>{c.B, c.H, c.L, c.L}));
    Tensor av({c.B, c.H, c.L, c.Dv});
    for (int64_t bh = 0; bh < c.B * c.H; ++bh)
      for (int64_t i = 0; i < c.L; ++i) {
        for (int64_t j = i + 1; j < c.L; ++j)
          EXPECT_EQ(r.attention[(bh * c.L + i) * c.L + j], 0.0f) << "acausal entry";
        for (int64_t d = 0; d < c.Dv; ++d) {
          double s = 0;
          for (int64_t j = 0; j <= i; ++j)
            s += double(r.attention[(bh * c.L + i) * c.L + j]) * v[(bh * c.L + j) * c.Dv + d];
          av[(bh * c.L + i) * c.Dv + d] = static_cast<float>(s);
        }
      }
    EXPECT_LT(testing::relative_error(av, r.y), kTol) << to_string(o.form);
    // Asking for attention leaves y as it was.
    o.attention = false;
    EXPECT_EQ(deltanet::run(deltanet_spec(), in, o).y.values(), r.y.values());
  }
}

TEST(DeltaNetFormsAgree, AttentionEntriesMatchTheProductOfTheFactorsAcrossChunks) {
  // The matrix is built in 64-token chunks (attention.cpp): at L = 200 (three full chunks and a
  // short one) every kind of block occurs — diagonal, adjacent, and carried through one and two
  // whole chunks. Reference, entry by entry in double: column j is x = β_j k_j pushed through
  // H_m = I − β_m k_m k_m^T for m = j+1..i, and A_ij = q_i^T x.
  Case c;
  c.B = 1;
  c.H = 2;
  c.L = 200;
  c.Dk = 8;
  const Inputs in = make_inputs(c);
  RunOptions o{Form::Parallel};
  o.attention = true;
  const Result r = deltanet::run(deltanet_spec(), in, o);
  const Tensor &q = in.get("q"), &k = in.get("k"), &beta = in.get("beta");
  double worst = 0, scale = 0;
  for (int64_t bh = 0; bh < c.B * c.H; ++bh)
    for (int64_t j = 0; j < c.L; ++j) {
      std::vector<double> x(static_cast<size_t>(c.Dk));
      for (int64_t d = 0; d < c.Dk; ++d)
        x[size_t(d)] = double(beta[bh * c.L + j]) * k[(bh * c.L + j) * c.Dk + d];
      for (int64_t i = j; i < c.L; ++i) {
        const float* ki = k.data() + (bh * c.L + i) * c.Dk;
        const float* qi = q.data() + (bh * c.L + i) * c.Dk;
        if (i > j) {
          double kx = 0;
          for (int64_t d = 0; d < c.Dk; ++d) kx += ki[d] * x[size_t(d)];
          for (int64_t d = 0; d < c.Dk; ++d)
            x[size_t(d)] -= double(beta[bh * c.L + i]) * ki[d] * kx;
        }
        double want = 0;
        for (int64_t d = 0; d < c.Dk; ++d) want += qi[d] * x[size_t(d)];
        worst = std::max(worst, std::abs(r.attention[(bh * c.L + i) * c.L + j] - want));
        scale = std::max(scale, std::abs(want));
      }
    }
  // fp32 GEMMs of length Dk and C = 64 chained over at most three chunk transitions (each a
  // contraction: ||H_m|| <= 1 for unit keys and β in [0,1]): ~1e-6 relative to the largest
  // entry; 1e-5 is 10x that, and a wrong factor order or a missing chunk is an O(1) error.
  EXPECT_LT(worst / scale, 1e-5) << "worst " << worst << " of " << scale;
}

TEST(DeltaNetFormsAgree, TracedStatesMatchTheReference) {
  Case c;
  c.L = 50;
  const Inputs in = make_inputs(c);
  const Reference ref = reference(in);
  const int64_t DD = c.Dk * c.Dv;
  for (RunOptions o : all_forms({1, 6, 50, 64})) {
    o.trace.states = true;
    o.trace.stride = 7;
    const Result r = deltanet::run(deltanet_spec(), in, o);
    const auto& steps = r.trace.steps;
    ASSERT_EQ(steps.back(), c.L - 1);
    const int64_t n = static_cast<int64_t>(steps.size());
    double worst = 0, scale = 0;
    for (int64_t bh = 0; bh < c.B * c.H; ++bh)
      for (int64_t i = 0; i < n; ++i)
        for (int64_t e = 0; e < DD; ++e) {
          const double want = ref.states[static_cast<size_t>((bh * c.L + steps[i]) * DD + e)];
          worst = std::max(worst, std::abs(r.trace.states[(bh * n + i) * DD + e] - want));
          scale = std::max(scale, std::abs(want));
        }
    EXPECT_LT(worst / scale, kTol) << to_string(o.form) << " C=" << o.chunk;
    if (o.form == Form::Chunkwise) {
      // Slot m holds the state entering chunk m, i.e. S_{m·C − 1} (zero for the first chunk).
      const int64_t C = std::min(o.chunk, c.L), chunks = (c.L + C - 1) / C;
      ASSERT_EQ(r.trace.chunk_states.shape(), (std::vector<int64_t>{c.B, c.H, chunks, c.Dk, c.Dv}));
      double cworst = 0;
      for (int64_t bh = 0; bh < c.B * c.H; ++bh)
        for (int64_t m = 0; m < chunks; ++m)
          for (int64_t e = 0; e < DD; ++e) {
            const double want =
                m == 0 ? 0.0 : ref.states[static_cast<size_t>((bh * c.L + m * C - 1) * DD + e)];
            cworst =
                std::max(cworst, std::abs(r.trace.chunk_states[(bh * chunks + m) * DD + e] - want));
          }
      EXPECT_LT(cworst / scale, kTol) << "chunk states C=" << o.chunk;
    }
    o.trace.states = false;
    EXPECT_EQ(deltanet::run(deltanet_spec(), in, o).y.values(), r.y.values());
  }
}

}  // namespace
}  // namespace linscope::deltanet_test
