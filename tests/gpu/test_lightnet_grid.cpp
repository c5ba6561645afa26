// LightNet on a 2-D grid on the GPU (gpu/lightnet_grid.h) against its CPU twin
// lightnet::run_grid (core/lightnet/grid.h), whose forms tests/lightnet/test_grid.cpp checks
// against each other and against hand-worked MD-TPE / MD-LRPE cases.
//
// Tolerance, fp32: 1e-4 relative to max|y| (and max|A|). The additive weights e^{f_p − Z} sum
// to 1 over the grid, so every output is a convex combination of n ≤ 400 terms q^T k v of
// size O(1) (LION's positive feature map): each side's rounding is ~n·eps ≈ 5e-5 at worst
// (recurrent: one fp32 state summed over the scan), typically ~sqrt(n)·eps; f reaches the GPU
// in fp32 (|f|·2^-24 ≈ 3e-7 absolute). A pixel read from the wrong place, a missing encoding or
// a state read before the scan ends moves y by ≥ 1/n ≥ 2.5e-3 relative, 25x the tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/base/error.h"
#include "core/lightnet/grid.h"
#include "gpu/lightnet_grid.h"
#include "gpu_test_util.h"
#include "lightnet/grid_test_util.h"

namespace linscope::gpu_test {
namespace {

using lightnet::Grid;
using lightnet::GridInputs;
using lightnet::GridResult;
using lightnet::ScanOrder;

constexpr double kTol = 1e-4;

using lightnet_test::encodings;
using lightnet_test::rel;

// Every form, scan order and encoding on grids from one pixel to 20 x 20, d_k ≠ d_v: y and the
// matrix equal the CPU's. Grids with a side of 1 keep both MD-TPE axes (an axis of extent 1
// still adds (1 − λ) x, as on the CPU).
TEST_F(GpuTest, LightNetGridMatchesTheCpu) {
  uint64_t seed = 1;
  for (const Grid& g : {Grid{1, 1}, Grid{1, 7}, Grid{5, 3}, Grid{8, 8}, Grid{20, 20}})
    for (int e = 0; e < 4; ++e) {
      const GridInputs in = lightnet::random_grid_inputs(g, 16, 12, seed++);
      for (ScanOrder o :
           {ScanOrder::RowMajor, ScanOrder::ColumnMajor, ScanOrder::Snake, ScanOrder::Random})
        for (Form form : {Form::Recurrent, Form::Parallel}) {
          SCOPED_TRACE(std::to_string(g.height) + "x" + std::to_string(g.width) + " enc " +
                       std::to_string(e) + " order " + std::to_string(int(o)) + " " +
                       to_string(form));
          const auto order = lightnet::scan_order(g, o, 7);
          const bool matrix = o == ScanOrder::Snake;  // the matrix once per grid and form
          const GridResult cpu = lightnet::run_grid(in, order, form, encodings(e), matrix);
          const GridResult dev = gpu::run_grid(in, order, form, encodings(e), matrix);
          EXPECT_LE(rel(dev.y, cpu.y), kTol) << "y";
          if (matrix)
            EXPECT_LE(rel(dev.attention, cpu.attention), kTol) << "attention";
          else
            EXPECT_EQ(dev.attention.size(), 0);
        }
    }
}

// One small case with everything on (MD-TPE on both axes, MD-LRPE, the matrix with its
// transposed MD-TPE, a snake order): what compute-sanitizer runs (tools/device/gpu_validate.sh).
TEST_F(GpuTest, LightNetGridSmallWithMatrix) {
  const Grid g{5, 3};
  const GridInputs in = lightnet::random_grid_inputs(g, 6, 5, 13);
  const auto order = lightnet::scan_order(g, ScanOrder::Snake);
  for (Form form : {Form::Recurrent, Form::Parallel}) {
    const GridResult cpu = lightnet::run_grid(in, order, form, encodings(3), true);
    const GridResult dev = gpu::run_grid(in, order, form, encodings(3), true);
    EXPECT_LE(rel(dev.y, cpu.y), kTol) << to_string(form);
    EXPECT_LE(rel(dev.attention, cpu.attention), kTol) << to_string(form);
  }
}

// The encodings must matter at this size (a GPU that ignored a flag would fail the test above
// only if they did), and the one scan must not depend on the order on the GPU either.
TEST_F(GpuTest, LightNetGridEncodingsMatterAndOrderDoesNot) {
  const Grid g{9, 6};
  const GridInputs in = lightnet::random_grid_inputs(g, 8, 8, 21);
  const auto row_major = lightnet::scan_order(g, ScanOrder::RowMajor);
  const RowMatrix plain = gpu::run_grid(in, row_major, Form::Recurrent, {}).y;
  for (int e = 1; e < 4; ++e)
    EXPECT_GT(rel(gpu::run_grid(in, row_major, Form::Recurrent, encodings(e)).y, plain), 100 * kTol)
        << "encoding " << e << " changed nothing";
  const RowMatrix random =
      gpu::run_grid(in, lightnet::scan_order(g, ScanOrder::Random, 3), Form::Recurrent, {}).y;
  EXPECT_LE(rel(random, plain), kTol);
  // Extreme log weights: the sums leave fp32's range, the weights (log space) do not.
  GridInputs extreme = in;
  for (int64_t p = 0; p < g.size(); ++p) extreme.log_weight[p] = (p % 4 == 0 ? 150.0 : -150.0) + p;
  const GridResult want = lightnet::run_grid(extreme, row_major, Form::Parallel, {});
  EXPECT_LE(rel(gpu::run_grid(extreme, row_major, Form::Recurrent, {}).y, want.y), kTol);
}

// Bad input is the CPU's linscope::Error, before any device work; the device stays usable.
TEST_F(GpuTest, LightNetGridRejectsBadInput) {
  const Grid g{3, 4};
  GridInputs in = lightnet::random_grid_inputs(g, 4, 2, 1);
  EXPECT_THROW(gpu::run_grid(in, {0, 1, 2}, Form::Recurrent, {}), Error);
  EXPECT_THROW(gpu::run_grid(in, std::vector<int64_t>(12, 0), Form::Recurrent, {}), Error);
  EXPECT_THROW(gpu::run_grid(in, lightnet::scan_order(g, ScanOrder::RowMajor), Form::Chunkwise, {}),
               Error);
  GridInputs nan = in;
  nan.log_weight[5] = std::nan("");
  EXPECT_THROW(gpu::run_grid(nan, lightnet::scan_order(g, ScanOrder::RowMajor), Form::Parallel, {}),
               Error);
  GridInputs short_v = in;
  short_v.v = RowMatrix::Ones(11, 2);
  try {
    gpu::run_grid(short_v, lightnet::scan_order(g, ScanOrder::RowMajor), Form::Parallel, {});
    ADD_FAILURE() << "no error for 11 value rows on 12 pixels";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("v 11"), std::string::npos) << e.what();
  }
  const GridResult ok =
      gpu::run_grid(in, lightnet::scan_order(g, ScanOrder::RowMajor), Form::Parallel, {});
  EXPECT_TRUE(ok.y.allFinite());
}

}  // namespace
}  // namespace linscope::gpu_test
