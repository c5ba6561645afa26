// Input checks for DeltaNet.
#include "core/base/error.h"
#include "core/deltanet/detail.h"

namespace linscope::deltanet::detail {

Shape check_inputs(const Inputs& in) {
  const Shape s = in.shape();
  expect_shape(in, "beta", {s.B, s.H, s.L});
  const Tensor& beta = in.get("beta");
  // β_t is a sigmoid output (DeltaNet eq. 4): the step moves the stored value a fraction β of
  // the way to v_t. Outside [0,1] the update is no longer a contraction toward v_t.
  for (int64_t i = 0; i < beta.numel(); ++i)
    if (!(beta[i] >= 0.0f && beta[i] <= 1.0f))
      throw Error("beta: must lie in [0, 1], got " + std::to_string(beta[i]) + " at flat index " +
                  std::to_string(i));
  in.check_finite();
  return s;
}

}  // namespace linscope::deltanet::detail
