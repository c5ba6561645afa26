// LightNet on a 2-D grid (core/lightnet/grid.h): one scan equals the parallel form in every
// scan order, the additive receptive field does not depend on the order while a one-scan
// multiplicative decay does, and MD-TPE / MD-LRPE pinned by a hand-worked 2×2 case.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/base/error.h"
#include "core/base/random.h"
#include "core/lightnet/grid.h"
#include "core/lightnet/position.h"
#include "lightnet/grid_test_util.h"

namespace linscope::lightnet {
namespace {

using lightnet_test::encodings;
using lightnet_test::rel;
double rel(const RowMatrixD& a, const RowMatrixD& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(b.cwiseAbs().maxCoeff(), 1e-300);
}

TEST(Grid, ScanOrdersArePermutations) {
  const Grid g{3, 4};
  EXPECT_EQ(scan_order(g, ScanOrder::RowMajor),
            (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(scan_order(g, ScanOrder::ColumnMajor),
            (std::vector<int64_t>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_EQ(scan_order(g, ScanOrder::Snake),
            (std::vector<int64_t>{0, 1, 2, 3, 7, 6, 5, 4, 8, 9, 10, 11}));
  auto r = scan_order(g, ScanOrder::Random, 5);
  EXPECT_NE(r, scan_order(g, ScanOrder::RowMajor));
  EXPECT_EQ(r, scan_order(g, ScanOrder::Random, 5));
  std::sort(r.begin(), r.end());
  EXPECT_EQ(r, scan_order(g, ScanOrder::RowMajor));
  const GridInputs in = random_grid_inputs(g, 4, 2, 1);
  EXPECT_THROW(run_grid(in, {0, 1, 2}, Form::Recurrent, {}), Error);
  EXPECT_THROW(run_grid(in, std::vector<int64_t>(12, 0), Form::Recurrent, {}), Error);
}

// One scan in any order == the parallel form, with every encoding. The additive weights are a
// convex combination (they sum to 1 over the grid), so each output is an average of n ≤ 64
// terms q^T k v of size O(1): fp32 rounding ~n·eps ≈ 4e-6 relative; 5e-5 is >10x that, while
// reading a state before the scan ends (a missing pixel) moves y by ~1/n ≥ 1.5e-2.
TEST(Grid, OneScanEqualsParallelInEveryOrder) {
  uint64_t seed = 1;
  for (const Grid& g : {Grid{1, 1}, Grid{3, 5}, Grid{6, 4}, Grid{8, 8}})
    for (int e = 0; e < 4; ++e) {
      const GridInputs in = random_grid_inputs(g, 6, 3, seed++);
      const GridResult par =
          run_grid(in, scan_order(g, ScanOrder::RowMajor), Form::Parallel, encodings(e), true);
      for (ScanOrder o :
           {ScanOrder::RowMajor, ScanOrder::ColumnMajor, ScanOrder::Snake, ScanOrder::Random}) {
        const GridResult rec = run_grid(in, scan_order(g, o, 9), Form::Recurrent, encodings(e));
        EXPECT_LT(rel(rec.y, par.y), 5e-5) << g.height << "x" << g.width << " enc " << e;
      }
      // y = attention · v for the v given (A (I + T) with MD-TPE); same 5e-5.
      EXPECT_LT(rel(par.attention * in.v, par.y), 5e-5) << "enc " << e;
    }
}

// The additive receptive field, built step by step from the scan, is the same for row-major,
// column-major, snake and random scans (differences are double rounding, ~1e-15; 1e-9 allows
// for the fp32 scores being reused identically). It equals the closed-form attention row of
// run_grid (fp32 scores and weights: 1e-5 relative).
TEST(Grid, AdditiveReceptiveFieldIgnoresTheScanOrder) {
  const Grid g{5, 7};
  const GridInputs in = random_grid_inputs(g, 8, 2, 3);
  for (int e = 0; e < 4; ++e)
    for (int64_t query : {int64_t(0), int64_t(17), int64_t(34)}) {
      ReceptiveFieldOptions o;
      o.settings = encodings(e);
      o.order = scan_order(g, ScanOrder::RowMajor);
      const RowMatrixD base = receptive_field(in, query, o);
      for (ScanOrder so : {ScanOrder::ColumnMajor, ScanOrder::Snake, ScanOrder::Random}) {
        o.order = scan_order(g, so, 4);
        EXPECT_LT(rel(receptive_field(in, query, o), base), 1e-9) << "enc " << e;
      }
      const GridResult par = run_grid(in, o.order, Form::Parallel, encodings(e), true);
      RowMatrixD row(g.height, g.width);
      for (int64_t p = 0; p < g.size(); ++p)
        row(p / g.width, p % g.width) = par.attention(query, p);
      EXPECT_LT(rel(base, row), 1e-5) << "enc " << e;
      // Global: every pixel is seen (q^T k > 0 under LION's feature map).
      if (!o.settings.md_lrpe) EXPECT_GT(base.minCoeff(), 0.0);
    }
}

// A one-scan multiplicative decay is causal in scan order: it sees nothing after the query, so
// row-major and column-major scans give different fields. Two and four scans see everything.
TEST(Grid, MultiplicativeReceptiveFieldDependsOnTheScan) {
  const Grid g{5, 6};
  const GridInputs in = random_grid_inputs(g, 8, 2, 5);
  const int64_t query = 2 * 6 + 3;  // pixel (2, 3)
  ReceptiveFieldOptions o;
  o.approach = Approach::Multiplicative1;
  o.lambda = 0.8;
  o.order = scan_order(g, ScanOrder::RowMajor);
  const RowMatrixD row_major = receptive_field(in, query, o);
  o.order = scan_order(g, ScanOrder::ColumnMajor);
  const RowMatrixD col_major = receptive_field(in, query, o);
  EXPECT_GT(rel(row_major, col_major), 0.1);
  // Row-major: pixels after (2, 3) get nothing; (2, 2), one step back, gets λ q^T k.
  for (int64_t p = query + 1; p < g.size(); ++p) EXPECT_EQ(row_major(p / 6, p % 6), 0.0);
  const double s = in.q.row(query).cast<double>().dot(in.k.row(query - 1).cast<double>());
  EXPECT_NEAR(row_major(2, 2), 0.8 * s, 1e-6);
  // Column-major: (1, 3) is one step back (λ), (2, 2) is H = 5 steps back (λ^5).
  const double s2 = in.q.row(query).cast<double>().dot(in.k.row(query - 6).cast<double>());
  EXPECT_NEAR(col_major(1, 3), 0.8 * s2, 1e-6);
  EXPECT_NEAR(col_major(2, 2), std::pow(0.8, 5) * s, 1e-6);
  for (Approach a : {Approach::Multiplicative2, Approach::Multiplicative4}) {
    o.approach = a;
    EXPECT_GT(receptive_field(in, query, o).minCoeff(), 0.0);
  }
  // The query's own token is counted once per scan.
  const double self = in.q.row(query).cast<double>().dot(in.k.row(query).cast<double>());
  EXPECT_NEAR(receptive_field(in, query, o)(2, 3), 4 * self, 1e-6);
  EXPECT_THROW(receptive_field(in, g.size(), o), Error);
}

TEST(Grid, ScanCounts) {
  EXPECT_EQ(state_scans(Approach::Additive), 1);
  EXPECT_EQ(state_scans(Approach::Multiplicative1), 1);
  EXPECT_EQ(state_scans(Approach::Multiplicative2), 2);
  EXPECT_EQ(state_scans(Approach::Multiplicative4), 4);
  EXPECT_EQ(tpe_scans(encodings(0)), 0);
  EXPECT_EQ(tpe_scans(encodings(1)), 2);
  EXPECT_EQ(tpe_scans(encodings(2)), 0);
}

// 2×2 grid, Dk = 4, Dv = 1, worked by hand. Pixels 0 = (0,0), 1 = (0,1), 2 = (1,0), 3 = (1,1).
// MD-TPE with a = 1 − λ, b = (1 − λ) λ (causal per axis, self counted once per axis):
//   T = [[2a, 0, 0, 0], [b, 2a, 0, 0], [b, 0, 2a, 0], [0, b, b, 2a]],  x ← x + T x.
// MD-LRPE, D = 4, N = 2: pair 0 (channels 0, 1) follows the row, pair 1 (2, 3) the column,
// both with θ = base^0 = 1 rad. Then y_p = Σ_p' (q_p^T k_p') e^{f_p'} / Σ_s e^{f_s} v_p'.
TEST(Grid, HandWorked2x2WithMdTpeAndMdLrpe) {
  const Grid g{2, 2};
  GridInputs in;
  in.grid = g;
  in.q = RowMatrix(4, 4);
  in.k = RowMatrix(4, 4);
  in.v = RowMatrix(4, 1);
  in.q << 1, 0.5, -0.25, 2, 0.5, -1, 1, 0.5, -0.5, 0.25, 0.75, -1, 2, 1, 0.5, 0.25;
  in.k << 0.5, 1, 1.5, -0.5, -1, 0.75, 0.25, 1, 1, -0.5, 0.5, 0.5, 0.25, 0.25, -1, 2;
  in.v << 1, -2, 0.5, 3;
  in.log_weight = Eigen::Vector4d(0.5, -1.0, 2.0, 0.0);
  const double lam = kTpeDecay, a = 1 - lam, b = (1 - lam) * lam;
  const double T[4][4] = {{2 * a, 0, 0, 0}, {b, 2 * a, 0, 0}, {b, 0, 2 * a, 0}, {0, b, b, 2 * a}};
  const int rc[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
  for (int e = 0; e < 4; ++e) {
    const bool tpe = e & 1, lrpe = e & 2;
    double q[4][4], k[4][4], v[4];
    for (int p = 0; p < 4; ++p) {
      v[p] = in.v(p, 0);
      for (int c = 0; c < 4; ++c) {
        q[p][c] = in.q(p, c);
        k[p][c] = in.k(p, c);
      }
      for (int pp = 0; tpe && pp < 4; ++pp) {
        v[p] += T[p][pp] * in.v(pp, 0);
        for (int c = 0; c < 4; ++c) {
          q[p][c] += T[p][pp] * in.q(pp, c);
          k[p][c] += T[p][pp] * in.k(pp, c);
        }
      }
    }
    for (int p = 0; lrpe && p < 4; ++p)
      for (int pair = 0; pair < 2; ++pair) {
        const double phi = rc[p][pair];  // row for pair 0, column for pair 1, θ = 1
        for (double* x : {q[p], k[p]}) {
          const double x0 = x[2 * pair], x1 = x[2 * pair + 1];
          x[2 * pair] = std::cos(phi) * x0 - std::sin(phi) * x1;
          x[2 * pair + 1] = std::sin(phi) * x0 + std::cos(phi) * x1;
        }
      }
    double Z = 0;
    for (int p = 0; p < 4; ++p) Z += std::exp(in.log_weight[p]);
    RowMatrix expected(4, 1);
    for (int p = 0; p < 4; ++p) {
      double acc = 0;
      for (int pp = 0; pp < 4; ++pp) {
        double s = 0;
        for (int c = 0; c < 4; ++c) s += q[p][c] * k[pp][c];
        acc += s * std::exp(in.log_weight[pp]) / Z * v[pp];
      }
      expected(p, 0) = static_cast<float>(acc);
    }
    // Four O(1) terms in fp32: ~1e-7 relative; 1e-5 catches any wrong entry of T or angle.
    for (Form f : {Form::Recurrent, Form::Parallel})
      EXPECT_LT(rel(run_grid(in, scan_order(g, ScanOrder::Snake), f, encodings(e)).y, expected),
                1e-5)
          << "enc " << e << " " << to_string(f);
  }
  // The MD-TPE entries themselves.
  EXPECT_NEAR(md_tpe_weight({1, 1}, {1, 1}), 2 * a, 1e-12);
  EXPECT_NEAR(md_tpe_weight({1, 1}, {0, 1}), b, 1e-12);
  EXPECT_NEAR(md_tpe_weight({1, 1}, {0, 0}), 0.0, 1e-12);
  EXPECT_NEAR(md_tpe_weight({0, 1}, {1, 1}), 0.0, 1e-12);
}

// MD-LRPE: (R(p) q)^T (R(p') k) depends only on p' − p. Shifting both pixels by one offset
// leaves the score unchanged (fp32 rotations of O(1) vectors: ~1e-6 absolute; 1e-5 allowed),
// while moving one of them changes it.
TEST(Grid, MdLrpeScoresDependOnlyOnTheOffset) {
  Rng rng(7);
  const int64_t D = 8;
  auto score = [&](const std::vector<float>& q0, const std::vector<float>& k0,
                   std::vector<int64_t> p, std::vector<int64_t> pp) {
    std::vector<float> q = q0, k = k0;
    md_lrpe_rotate(q.data(), D, p);
    md_lrpe_rotate(k.data(), D, pp);
    double s = 0;
    for (int64_t c = 0; c < D; ++c) s += double(q[c]) * k[c];
    return s;
  };
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<float> q(D), k(D);
    for (auto& x : q) x = static_cast<float>(rng.normal());
    for (auto& x : k) x = static_cast<float>(rng.normal());
    const std::vector<int64_t> p{trial % 5, 3}, pp{2, trial % 7};
    const double s0 = score(q, k, p, pp);
    for (std::vector<int64_t> o : {std::vector<int64_t>{1, 0}, {0, 1}, {4, -3}, {-2, 9}})
      EXPECT_NEAR(score(q, k, {p[0] + o[0], p[1] + o[1]}, {pp[0] + o[0], pp[1] + o[1]}), s0, 1e-5);
    EXPECT_GT(std::abs(score(q, k, {p[0] + 1, p[1]}, pp) - s0) +
                  std::abs(score(q, k, {p[0], p[1] + 1}, pp) - s0),
              1e-3);
  }
}

}  // namespace
}  // namespace linscope::lightnet
