// The pieces the multi-dimensional view animates and times, checked against the grid API's
// own receptive fields and against the additive recurrence's definition.
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/lightnet/grid_scans.h"

namespace linscope::lightnet {
namespace {

TEST(GridScans, DirectionalOutputEqualsItsReceptiveFieldTimesV) {
  const Grid g{5, 4};
  const GridInputs in = random_grid_inputs(g, 6, 3, 11);
  for (Approach a :
       {Approach::Multiplicative1, Approach::Multiplicative2, Approach::Multiplicative4}) {
    const RowMatrix y = run_directional(in, a, 0.8, {});
    for (int64_t p : {0, 7, 19}) {
      ReceptiveFieldOptions o;
      o.approach = a;
      o.lambda = 0.8;
      const RowMatrixD field = receptive_field(in, p, o);
      Eigen::RowVectorXd expect = Eigen::RowVectorXd::Zero(3);
      for (int64_t j = 0; j < g.size(); ++j)
        expect += field(j / g.width, j % g.width) * in.v.row(j).cast<double>();
      // fp32 recurrence over ≤ 20 tokens vs the double field: ~20 * 6e-8 relative.
      EXPECT_LT((y.row(p).cast<double>() - expect).norm(), 1e-5 * (1 + expect.norm()))
          << "approach " << int(a) << " pixel " << p;
    }
  }
  EXPECT_THROW(run_directional(in, Approach::Additive, 0.8, {}), Error);
}

TEST(GridScans, FinalAdditiveStateIsTheSameForEveryOrder) {
  const Grid g{6, 5};
  const GridInputs in = random_grid_inputs(g, 4, 3, 3);
  const int64_t n = g.size();
  const auto a = scan_states(in, scan_order(g, ScanOrder::RowMajor), true, 0, {n});
  const auto b = scan_states(in, scan_order(g, ScanOrder::Random, 9), true, 0, {n});
  const auto m1 = scan_states(in, scan_order(g, ScanOrder::RowMajor), false, 0.9, {n});
  const auto m2 = scan_states(in, scan_order(g, ScanOrder::ColumnMajor), false, 0.9, {n});
  EXPECT_LT((a[0] - b[0]).cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_GT((m1[0] - m2[0]).cwiseAbs().maxCoeff(), 1e-3);  // multiplicative: order matters
  // Definition: S_n = Σ_p softmax(f)_p k_p v_p^T.
  Eigen::VectorXd w = in.log_weight.array().exp();
  w /= w.sum();
  RowMatrixD S = RowMatrixD::Zero(4, 3);
  for (int64_t p = 0; p < n; ++p)
    S += w[p] * in.k.row(p).transpose().cast<double>() * in.v.row(p).cast<double>();
  EXPECT_LT((a[0].cast<double>() - S).cwiseAbs().maxCoeff(), 1e-6);
  const auto steps = scan_states(in, scan_order(g, ScanOrder::RowMajor), true, 0, {1, 2, n});
  ASSERT_EQ(steps.size(), 3u);
  // After one token the additive state is k_0 v_0^T exactly (weight e^f/δ = 1).
  EXPECT_LT((steps[0] - in.k.row(0).transpose() * in.v.row(0)).cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_THROW(scan_states(in, scan_order(g, ScanOrder::RowMajor), true, 0, {3, 2}), Error);
}

TEST(GridScans, ScanWeightsSumToOneForTheAdditiveScanAndDecayForTheMultiplicative) {
  const Grid g{4, 4};
  const GridInputs in = random_grid_inputs(g, 3, 2, 5);
  const auto order = scan_order(g, ScanOrder::Snake);
  const RowMatrixD a = scan_weights(in, order, true, 0, 7);
  EXPECT_NEAR(a.sum(), 1.0, 1e-12);  // e^{f}/δ_t over the scanned tokens is a softmax
  EXPECT_EQ(a(3, 3), 0.0);           // not scanned yet
  const RowMatrixD m = scan_weights(in, order, false, 0.5, 3);
  EXPECT_DOUBLE_EQ(m(0, 2), 1.0);   // the token just scanned
  EXPECT_DOUBLE_EQ(m(0, 0), 0.25);  // two steps back
}

TEST(GridScans, ImageInputsFollowTheIntensities) {
  const Grid g{8, 8};
  const auto img = synthetic_pattern(g, Pattern::Checkerboard);
  ASSERT_EQ(img.size(), 64u);
  EXPECT_EQ(img[0], 0.0f);
  EXPECT_EQ(img[2], 1.0f);  // 4 squares across 8 pixels: pixel 2 is in the second square
  const GridInputs in = image_grid_inputs(img, g, 4, 2, 1);
  EXPECT_DOUBLE_EQ(in.log_weight[2], 2.0);
  EXPECT_DOUBLE_EQ(in.log_weight[0], 0.0);
  EXPECT_GT(in.q.minCoeff(), 0.0f);  // LION's feature map keeps q, k positive
  EXPECT_THROW(image_grid_inputs(std::vector<float>(5), g, 4, 2, 1), Error);
}

}  // namespace
}  // namespace linscope::lightnet
