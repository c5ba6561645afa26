// L = 16384 with λ = 0.5 (cumulative log decay down to ≈ -11357): the recurrent and chunkwise
// forms stay finite, agree, and match a banded double reference.
#include <gtest/gtest.h>

#include <cmath>

#include "core/lion/lion.h"
#include "lion/lion_testing.h"

namespace linscope {
namespace {

TEST(LionLongSequence, HalfDecayAt16384IsFiniteAndFormsAgree) {
  lion_test::Case c;
  c.B = 1;
  c.H = 1;
  c.L = 16384;
  c.Dk = 4;
  c.Dv = 3;
  for (bool normalize : {true, false}) {
    c.normalize = normalize;
    Inputs in = lion_test::make_inputs(c);
    for (auto& x : in.get("log_decay").values()) x = std::log(0.5f);
    const ModelSpec spec = lion_test::spec_of(Decay::D, normalize);
    // Entries beyond |i-j| = 80 weigh 0.5^80 ≈ 8e-25 of the diagonal: far below float.
    const lion_test::Reference ref = lion_test::reference(in, normalize, false, 80);
    // With λ = 0.5 only the ~30 nearest tokens carry weight above float resolution, so the
    // rounding is that of short sums: fp32_bound(64, ...) ≈ 2e-5 of each row's magnitude.
    const double tol = lion_test::fp32_bound(64, c.Dk, c.Dv);
    const Tensor rec = lion::run(spec, in, RunOptions{Form::Recurrent}).y;
    EXPECT_EQ(rec.first_non_finite(), -1);
    EXPECT_LE(lion_test::scaled_error(rec, ref.y, ref), tol) << "recurrent";
    for (int64_t C : {64, 1000}) {  // 1000 does not divide 16384
      RunOptions o{Form::Chunkwise};
      o.chunk = C;
      const Tensor chunk = lion::run(spec, in, o).y;
      EXPECT_EQ(chunk.first_non_finite(), -1);
      EXPECT_LE(lion_test::scaled_error(chunk, ref.y, ref), tol) << "chunkwise C=" << C;
      EXPECT_LE(lion_test::scaled_error(chunk, rec.values(), ref), 2 * tol)
          << "chunkwise C=" << C << " vs recurrent";
    }
  }
}

}  // namespace
}  // namespace linscope
