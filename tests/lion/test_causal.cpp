// LION-causal is causal masked linear attention (LION §3, MODELS.md §1/§2), delegated to
// linear_attention::run: checked here against the causal definition in double.
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/lion/lion.h"
#include "lion/lion_testing.h"

namespace linscope {
namespace {

TEST(LionCausal, DelegatesToCausalMaskedLinearAttention) {
  for (Decay decay : {Decay::LIT, Decay::D, Decay::S})
    for (bool normalize : {true, false}) {
      lion_test::Case c;
      c.L = 19;
      c.decay = decay;
      c.normalize = normalize;
      const Inputs in = lion_test::make_inputs(c);
      const ModelSpec spec = lion_test::spec_of(decay, normalize, Direction::Causal);
      const lion_test::Reference ref = lion_test::reference(in, normalize, /*causal=*/true);
      const double tol = lion_test::fp32_bound(c.L, c.Dk, c.Dv);  // see test_forms_agree.cpp
      for (Form f : forms_of(spec)) {
        RunOptions o{f};
        o.chunk = 4;
        try {
          const Tensor y = lion::run(spec, in, o).y;
          EXPECT_LE(lion_test::scaled_error(y, ref.y, ref), tol)
              << describe(spec) << " " << to_string(f);
        } catch (const Error& e) {
          if (std::string(e.what()).find("not implemented") == std::string::npos) throw;
          GTEST_SKIP() << "causal linear attention not implemented yet: " << e.what();
        }
      }
    }
}

}  // namespace
}  // namespace linscope
