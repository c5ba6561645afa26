// The premise of gpu/grid_timing.cpp: a multiplicative directional scan over a grid is the
// causal linear-attention recurrence over the tokens in scan order, so the GPU's recurrent
// kernel computes it (and its timing is that scan's). Checked against the core's own
// run_directional, and the timing rows are complete.
#include <gtest/gtest.h>

#include <cmath>

#include "core/lightnet/grid.h"
#include "core/lightnet/grid_scans.h"
#include "gpu/grid_timing.h"
#include "gpu_test_util.h"

namespace linscope::gpu_test {
namespace {

using namespace lightnet;

TEST_F(GpuTest, GridScanIsTheCausalRecurrenceInScanOrder) {
  const Grid g{12, 10};
  const int64_t n = g.size(), D = 8;
  const GridInputs gi = random_grid_inputs(g, D, D, 5);
  const double lambda = 0.9;
  // One row-major scan: pixel numbering and scan order coincide.
  Inputs in;
  Tensor q({1, 1, n, D}), k({1, 1, n, D}), v({1, 1, n, D}), a({1, 1, n});
  for (int64_t p = 0; p < n; ++p) {
    for (int64_t c = 0; c < D; ++c) {
      q[p * D + c] = gi.q(p, c);
      k[p * D + c] = gi.k(p, c);
      v[p * D + c] = gi.v(p, c);
    }
    a[p] = float(std::log(lambda));
  }
  in.set("q", q);
  in.set("k", k);
  in.set("v", v);
  in.set("log_decay", a);
  ModelSpec spec;
  spec.family = Family::LinearAttention;
  spec.decay = Decay::D;
  RunOptions opts;
  opts.form = Form::Recurrent;
  const Tensor y = gpu().run(spec, in, opts).y;
  const RowMatrix ref = run_directional(gi, Approach::Multiplicative1, lambda, {});
  // fp32 recurrences of 120 steps against the core's fp32 scan: 1e-4 of the output scale is
  // ~100x the accumulated rounding (2^-24 per step, memory 1/(1-λ) = 10 steps).
  double scale = 0, worst = 0;
  for (int64_t p = 0; p < n; ++p)
    for (int64_t c = 0; c < D; ++c) {
      scale = std::max(scale, std::abs(double(ref(p, c))));
      worst = std::max(worst, std::abs(double(y[p * D + c]) - double(ref(p, c))));
    }
  ASSERT_GT(scale, 0.0);
  EXPECT_LE(worst / scale, 1e-4);
}

TEST_F(GpuTest, GridTimingsHaveEveryApproachAtEverySide) {
  const auto rows = gpu::time_grid_gpu({8, 16}, 16, 16, 2);
  const size_t per_side = grid_approaches().size() + 1;  // + the whole model (gpu::run_grid)
  ASSERT_EQ(rows.size(), 2 * per_side);
  for (size_t i = 0; i < rows.size(); ++i) {
    const size_t j = i % per_side;
    if (j < grid_approaches().size())
      EXPECT_EQ(rows[i].approach, grid_approaches()[j].name);
    else
      EXPECT_EQ(rows[i].approach, std::string(grid_approaches()[0].name) + ", whole model");
    EXPECT_EQ(rows[i].side, i < per_side ? 8 : 16);
    EXPECT_GT(rows[i].ms, 0.0);
    EXPECT_FALSE(rows[i].backend.empty());
  }
  EXPECT_NE(rows[per_side - 1].note.find("run_grid"), std::string::npos) << rows[per_side - 1].note;
}

}  // namespace
}  // namespace linscope::gpu_test
