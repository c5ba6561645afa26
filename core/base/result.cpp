#include "core/base/result.h"

#include <algorithm>

namespace linscope {

std::vector<int64_t> trace_steps(int64_t L, int64_t stride, int64_t max_bytes,
                                 int64_t bytes_per_step) {
  stride = std::max<int64_t>(1, stride);
  if (bytes_per_step > 0) {
    const int64_t max_steps = std::max<int64_t>(1, max_bytes / bytes_per_step);
    // n(stride) = ceil(L / stride) (+1 for the forced last step): raise stride until it fits.
    while ((L + stride - 1) / stride + 1 > max_steps && stride < L) stride *= 2;
  }
  std::vector<int64_t> steps;
  for (int64_t t = 0; t < L; t += stride) steps.push_back(t);
  if (steps.empty() || steps.back() != L - 1) steps.push_back(L - 1);
  return steps;
}

}  // namespace linscope
