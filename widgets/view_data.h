// Small helpers the views share to cut one head out of the core's tensors for a heatmap.
// Copies only; no model math.
#pragma once
#include <vector>

#include "core/base/heads.h"
#include "core/base/tensor.h"

namespace linscope::widgets {

// Slice `index` of the leading axes (e.g. head bh of [B,H,L,D] or [B,H,L,L]): the last two axes.
inline std::vector<float> last_two_axes(const Tensor& t, int64_t index) {
  const int64_t r = t.dim(-2), c = t.dim(-1);
  const float* p = t.data() + index * r * c;
  return std::vector<float>(p, p + r * c);
}

// Slot `slot` of head bh of a [B,H,n,Dk,Dv] trace tensor, as a Dk x Dv matrix.
inline std::vector<float> trace_slot(const Tensor& t, int64_t bh, int64_t slot) {
  return last_two_axes(t, bh * t.dim(2) + slot);
}

inline std::vector<float> matrix_values(const RowMatrix& m) {
  return std::vector<float>(m.data(), m.data() + m.size());
}

}  // namespace linscope::widgets
