// Helpers shared by the test suites.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/base/tensor.h"

namespace linscope::testing {

// max|a-b| / max(max|b|, tiny). Fails the test on a shape mismatch or a non-finite entry.
inline double relative_error(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  if (a.shape() != b.shape()) return INFINITY;
  double num = 0, den = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (!std::isfinite(a[i])) return INFINITY;
    num = std::max(num, std::abs(static_cast<double>(a[i]) - b[i]));
    den = std::max(den, std::abs(static_cast<double>(b[i])));
  }
  return num / std::max(den, 1e-30);
}

}  // namespace linscope::testing
