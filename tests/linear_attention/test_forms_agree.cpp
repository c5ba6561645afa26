// Every form against the double recurrence (la_testing.h) and against each other, over a grid
// of L, chunk sizes (C = 1, 3, 16, L, L+7: the recurrence, ragged chunks, the parallel form,
// and C > L), Dk != Dv, B·H > 1, the four decay kinds and normalize on/off (MODELS.md §1).
#include <gtest/gtest.h>

#include <string>

#include "common/testing.h"
#include "core/linear_attention/linear_attention.h"
#include "linear_attention/la_testing.h"

namespace linscope {
namespace {

using la_test::DecayKind;

// Tolerance, relative to max|y|: fp32 sums of up to L = 100 terms of size ~|q||k||v| carry
// rounding ~sqrt(L)·eps·max|term| ≈ 1e-6·max|term|; the forms also sum in different orders
// (GEMM blocks vs one step at a time). max|y| is at least of the order of one term, so 2e-5
// is >10x the expected error while a wrong decay exponent (off by one λ ≈ 0.88) is ~1e-1.
constexpr double kTol = 2e-5;

struct FormRun {
  std::string name;
  Tensor y;
};

TEST(LinearAttentionFormsAgree, Grid) {
  for (int64_t L : {1, 5, 64, 100})
    for (DecayKind decay : {DecayKind::LIT, DecayKind::D, DecayKind::S, DecayKind::PerChannel})
      for (bool normalize : {false, true}) {
        la_test::Case c;
        c.L = L;
        c.decay = decay;
        c.normalize = normalize;
        c.seed = 100 + static_cast<uint64_t>(L);
        const Inputs in = la_test::make_inputs(c);
        const ModelSpec spec = la_test::spec_of(normalize);
        const Tensor ref = la_test::reference(in, normalize).y;

        std::vector<FormRun> runs;
        runs.push_back(
            {"recurrent", linear_attention::run(spec, in, RunOptions{Form::Recurrent}).y});
        runs.push_back({"parallel", linear_attention::run(spec, in, RunOptions{Form::Parallel}).y});
        for (int64_t C : {int64_t{1}, int64_t{3}, int64_t{16}, L, L + 7}) {
          RunOptions o{Form::Chunkwise};
          o.chunk = C;
          runs.push_back(
              {"chunkwise C=" + std::to_string(C), linear_attention::run(spec, in, o).y});
        }
        const std::string where = std::string("L=") + std::to_string(L) + " " +
                                  la_test::name(decay) + (normalize ? " normalized " : " ");
        for (size_t i = 0; i < runs.size(); ++i) {
          EXPECT_LE(testing::relative_error(runs[i].y, ref), kTol)
              << where << runs[i].name << " vs double recurrence";
          for (size_t j = 0; j < i; ++j)
            EXPECT_LE(testing::relative_error(runs[i].y, runs[j].y), kTol)
                << where << runs[i].name << " vs " << runs[j].name;
        }
      }
}

// C = 1 performs the recurrence's arithmetic on each step, C >= L the parallel form's on the
// whole sequence: both ends should agree to a few ulps, far below kTol.
TEST(LinearAttentionFormsAgree, ChunkEndsMatchTheirForms) {
  la_test::Case c;
  c.L = 37;
  for (DecayKind decay : {DecayKind::S, DecayKind::PerChannel})
    for (bool normalize : {false, true}) {
      c.decay = decay;
      c.normalize = normalize;
      const Inputs in = la_test::make_inputs(c);
      const ModelSpec spec = la_test::spec_of(normalize);
      RunOptions one{Form::Chunkwise}, all{Form::Chunkwise};
      one.chunk = 1;
      all.chunk = c.L;
      const Tensor rec = linear_attention::run(spec, in, RunOptions{Form::Recurrent}).y;
      const Tensor par = linear_attention::run(spec, in, RunOptions{Form::Parallel}).y;
      // fp32: same terms, possibly fused differently by Eigen: 1e-6 relative is ~10 ulps.
      EXPECT_LE(testing::relative_error(linear_attention::run(spec, in, one).y, rec), 1e-6)
          << la_test::name(decay);
      EXPECT_LE(testing::relative_error(linear_attention::run(spec, in, all).y, par), 1e-6)
          << la_test::name(decay);
    }
}

}  // namespace
}  // namespace linscope
