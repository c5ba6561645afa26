// The CPU grid timings behind the multi-dimensional view and `linscope-cli grid`: one row per
// approach and grid side, in grid_approaches() order, each a real (positive) time; bad
// arguments are errors. No speed is asserted here (benchmarks print figures).
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/lightnet/grid_timing.h"

using namespace linscope;
using namespace linscope::lightnet;

TEST(GridTiming, OneRowPerApproachAndSide) {
  const auto rows = time_grid_cpu({4, 6}, 4, 3, 1);
  const auto& a = grid_approaches();
  ASSERT_EQ(a.size(), 4u);
  EXPECT_TRUE(a[0].additive);
  EXPECT_EQ(a[3].scans, 4);
  ASSERT_EQ(rows.size(), 2 * a.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].approach, a[i % a.size()].name);
    EXPECT_EQ(rows[i].side, i < a.size() ? 4 : 6);
    EXPECT_EQ(rows[i].backend, "CPU");
    EXPECT_GT(rows[i].ms, 0.0);
  }
}

TEST(GridTiming, BadArgumentsAreErrors) {
  EXPECT_THROW(time_grid_cpu({4}, 4, 4, 0), Error);
  EXPECT_THROW(time_grid_cpu({0}, 4, 4, 1), Error);
}
