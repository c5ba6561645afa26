// Floating-point operations and the fewest bytes each form must move, by the algorithm's own
// count (not measured). Used to turn a time into GB/s and FLOP/s and to place a point on a
// roofline. Per head, forward only, multiply-add = 2 FLOPs, float32 unless bytes_per_value says.
#pragma once
#include "core/base/inputs.h"
#include "core/base/spec.h"

namespace linscope::profile {

struct Cost {
  double flops = 0;
  double bytes = 0;  // inputs read once + output written once
  double intensity() const { return bytes > 0 ? flops / bytes : 0; }
};

Cost cost_of(const ModelSpec& spec, Form form, const Shape& shape, int64_t chunk,
             double bytes_per_value = 4.0);

}  // namespace linscope::profile
