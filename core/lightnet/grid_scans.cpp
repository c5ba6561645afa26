#include "core/lightnet/grid_scans.h"

#include <algorithm>
#include <cmath>

#include "core/base/error.h"
#include "core/base/random.h"
#include "core/lightnet/position.h"

namespace linscope::lightnet {

std::vector<std::vector<int64_t>> approach_orders(const Grid& g, Approach a) {
  auto reversed = [](std::vector<int64_t> o) {
    std::reverse(o.begin(), o.end());
    return o;
  };
  const auto rows = scan_order(g, ScanOrder::RowMajor);
  const auto cols = scan_order(g, ScanOrder::ColumnMajor);
  switch (a) {
    case Approach::Additive:
    case Approach::Multiplicative1:
      return {rows};
    case Approach::Multiplicative2:
      return {rows, reversed(rows)};
    case Approach::Multiplicative4:
      return {rows, reversed(rows), cols, reversed(cols)};
  }
  return {rows};
}

namespace {

// MD-TPE then MD-LRPE, in the order run_grid applies them (position.h).
void encoded(const GridInputs& in, const LightNetSettings& st, RowMatrix& q, RowMatrix& k,
             RowMatrix& v) {
  q = in.q;
  k = in.k;
  v = in.v;
  const std::vector<int64_t> extents{in.grid.height, in.grid.width};
  if (st.md_tpe)
    for (RowMatrix* u : {&q, &k, &v}) md_tpe_apply(*u, extents);
  if (st.md_lrpe)
    for (int64_t p = 0; p < in.grid.size(); ++p) {
      const std::vector<int64_t> pos{p / in.grid.width, p % in.grid.width};
      md_lrpe_rotate(q.row(p).data(), q.cols(), pos);
      md_lrpe_rotate(k.row(p).data(), k.cols(), pos);
    }
}

}  // namespace

RowMatrix run_directional(const GridInputs& in, Approach approach, double lambda,
                          const LightNetSettings& settings) {
  if (!(lambda >= 0 && lambda <= 1)) throw Error("multiplicative decay λ must be in [0, 1]");
  if (approach == Approach::Additive)
    throw Error("run_directional: the additive approach is run_grid (one scan)");
  RowMatrix q, k, v;
  encoded(in, settings, q, k, v);
  const int64_t Dk = q.cols(), Dv = v.cols();
  RowMatrix y = RowMatrix::Zero(in.grid.size(), Dv);
  RowMatrix S(Dk, Dv);
  const float l = static_cast<float>(lambda);
  for (const auto& order : approach_orders(in.grid, approach)) {
    S.setZero();
    for (int64_t p : order) {
      S *= l;
      S.noalias() += k.row(p).transpose() * v.row(p);
      y.row(p).noalias() += q.row(p) * S;
    }
  }
  return y;
}

std::vector<RowMatrix> scan_states(const GridInputs& in, const std::vector<int64_t>& order,
                                   bool additive, double lambda,
                                   const std::vector<int64_t>& steps) {
  const int64_t n = static_cast<int64_t>(order.size());
  for (size_t i = 0; i < steps.size(); ++i)
    if (steps[i] < 1 || steps[i] > n || (i && steps[i] <= steps[i - 1]))
      throw Error("scan_states: steps must ascend within [1, " + std::to_string(n) + "]");
  std::vector<RowMatrix> out;
  RowMatrixD S = RowMatrixD::Zero(in.k.cols(), in.v.cols());
  double z = 0;  // log δ_t, the running log-sum-exp of f (additive)
  size_t next = 0;
  for (int64_t t = 0; t < n && next < steps.size(); ++t) {
    const int64_t p = order[static_cast<size_t>(t)];
    double decay = lambda, weight = 1.0;
    if (additive) {
      const double f = in.log_weight[p];
      const double z_new = t == 0 ? f : std::max(z, f) + std::log1p(std::exp(-std::abs(z - f)));
      decay = t == 0 ? 0.0 : std::exp(z - z_new);  // δ_{t−1}/δ_t, in log space
      weight = std::exp(f - z_new);                // e^{f_t}/δ_t
      z = z_new;
    }
    S *= decay;
    S.noalias() += weight * in.k.row(p).transpose().cast<double>() * in.v.row(p).cast<double>();
    if (t + 1 == steps[next]) {
      out.push_back(S.cast<float>());
      ++next;
    }
  }
  return out;
}

RowMatrixD scan_weights(const GridInputs& in, const std::vector<int64_t>& order, bool additive,
                        double lambda, int64_t steps) {
  const int64_t n = static_cast<int64_t>(order.size());
  if (steps < 0 || steps > n)
    throw Error("scan_weights: steps must be within [0, " + std::to_string(n) + "]");
  RowMatrixD w = RowMatrixD::Zero(in.grid.height, in.grid.width);
  if (steps == 0) return w;
  // log δ_t over the first `steps` tokens (additive), computed stably by log-sum-exp.
  double log_delta = -INFINITY;
  if (additive)
    for (int64_t t = 0; t < steps; ++t) {
      const double f = in.log_weight[order[static_cast<size_t>(t)]];
      log_delta = std::isinf(log_delta)
                      ? f
                      : std::max(log_delta, f) + std::log1p(std::exp(-std::abs(log_delta - f)));
    }
  for (int64_t t = 0; t < steps; ++t) {
    const int64_t p = order[static_cast<size_t>(t)];
    w(p / in.grid.width, p % in.grid.width) =
        additive ? std::exp(in.log_weight[p] - log_delta) : std::pow(lambda, double(steps - 1 - t));
  }
  return w;
}

std::vector<float> synthetic_pattern(const Grid& g, Pattern pattern) {
  std::vector<float> img(static_cast<size_t>(g.size()));
  const double cy = (g.height - 1) / 2.0, cx = (g.width - 1) / 2.0;
  for (int64_t r = 0; r < g.height; ++r)
    for (int64_t c = 0; c < g.width; ++c) {
      double v = 0;
      switch (pattern) {
        case Pattern::Checkerboard:
          v = ((r * 4 / std::max<int64_t>(g.height, 1)) + (c * 4 / std::max<int64_t>(g.width, 1))) %
              2;
          break;
        case Pattern::Rings:
          v = 0.5 + 0.5 * std::cos(std::hypot(r - cy, c - cx) * 12.0 / std::max(g.height, g.width) *
                                   M_PI);
          break;
        case Pattern::Gradient:
          v = (double(r) / std::max<int64_t>(g.height - 1, 1) +
               double(c) / std::max<int64_t>(g.width - 1, 1)) /
              2;
          break;
        case Pattern::Blobs:
          v = std::exp(-(std::pow(r - 0.3 * g.height, 2) + std::pow(c - 0.3 * g.width, 2)) /
                       (0.02 * g.height * g.width)) +
              std::exp(-(std::pow(r - 0.7 * g.height, 2) + std::pow(c - 0.65 * g.width, 2)) /
                       (0.01 * g.height * g.width));
          v = std::min(v, 1.0);
          break;
      }
      img[static_cast<size_t>(r * g.width + c)] = static_cast<float>(v);
    }
  return img;
}

GridInputs image_grid_inputs(const std::vector<float>& intensity, const Grid& grid, int64_t Dk,
                             int64_t Dv, uint64_t seed) {
  const int64_t n = grid.size();
  if (static_cast<int64_t>(intensity.size()) != n)
    throw Error("image: expected " + std::to_string(n) + " intensities for a " +
                std::to_string(grid.height) + "x" + std::to_string(grid.width) + " grid, got " +
                std::to_string(intensity.size()));
  Rng rng(seed);
  const Tensor wq = random_normal({Dk, 4}, rng), wk = random_normal({Dk, 4}, rng),
               wv = random_normal({Dv, 2}, rng);
  Tensor q({n, Dk}), k({n, Dk});
  GridInputs in;
  in.grid = grid;
  in.v.resize(n, Dv);
  in.log_weight.resize(n);
  for (int64_t p = 0; p < n; ++p) {
    const double I = std::clamp<double>(intensity[static_cast<size_t>(p)], 0.0, 1.0);
    const double x[4] = {I, 1 - I, double(p / grid.width) / grid.height,
                         double(p % grid.width) / grid.width};
    for (int64_t c = 0; c < Dk; ++c) {
      double aq = 0.1 * rng.normal(), ak = 0.1 * rng.normal();
      for (int j = 0; j < 4; ++j) aq += wq[c * 4 + j] * x[j], ak += wk[c * 4 + j] * x[j];
      q[p * Dk + c] = static_cast<float>(aq);
      k[p * Dk + c] = static_cast<float>(ak);
    }
    for (int64_t c = 0; c < Dv; ++c) in.v(p, c) = static_cast<float>(wv[c * 2] * I + wv[c * 2 + 1]);
    in.log_weight[p] = 2.0 * I;
  }
  lion_feature_map(q);
  lion_feature_map(k);
  in.q = Eigen::Map<RowMatrix>(q.data(), n, Dk);
  in.k = Eigen::Map<RowMatrix>(k.data(), n, Dk);
  return in;
}

}  // namespace linscope::lightnet
