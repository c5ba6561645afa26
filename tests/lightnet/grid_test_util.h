// Helpers shared by the grid tests of the CPU core (tests/lightnet/test_grid.cpp) and of its
// GPU twin (tests/gpu/test_lightnet_grid.cpp).
#pragma once
#include <gtest/gtest.h>

#include <algorithm>

#include "core/base/heads.h"
#include "core/base/spec.h"

namespace linscope::lightnet_test {

// max|got − want| / max|want|; 1 (a failure at any tolerance) for a shape mismatch or a
// non-finite entry.
inline double rel(const RowMatrix& got, const RowMatrix& want) {
  EXPECT_EQ(got.rows(), want.rows());
  EXPECT_EQ(got.cols(), want.cols());
  if (got.rows() != want.rows() || got.cols() != want.cols()) return 1.0;
  if (!got.allFinite()) return 1.0;
  return (got - want).cwiseAbs().maxCoeff() / std::max(want.cwiseAbs().maxCoeff(), 1e-30f);
}

// The four encoding settings by number: bit 0 MD-TPE, bit 1 MD-LRPE.
inline LightNetSettings encodings(int e) {
  LightNetSettings s;
  s.md_tpe = e & 1;
  s.md_lrpe = e & 2;
  return s;
}

}  // namespace linscope::lightnet_test
