// Input checks for GateLoop.

#include "core/base/error.h"
#include "core/gateloop/detail.h"

namespace linscope::gateloop::detail {

Shape check_inputs(const Inputs& in) {
  const Shape s = in.shape();
  const std::vector<int64_t> per_channel{s.B, s.H, s.L, s.Dk};
  expect_shape(in, "log_magnitude", per_channel);
  expect_shape(in, "phase", per_channel);
  in.check_finite();
  // |a_t| <= 1 (GateLoop squashes the magnitude through a sigmoid): a positive log-magnitude
  // would make the state grow without bound, and the log-polar forms rely on it being <= 0.
  const Tensor& lm = in.get("log_magnitude");
  for (int64_t i = 0; i < lm.numel(); ++i)
    if (!(lm[i] <= 0.0f))
      throw Error("log_magnitude: must be <= 0 (|a_t| <= 1), got " + std::to_string(lm[i]) +
                  " at flat index " + std::to_string(i));
  return s;
}

}  // namespace linscope::gateloop::detail
