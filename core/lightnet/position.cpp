#include "core/lightnet/position.h"

#include <cmath>

#include "core/base/error.h"

namespace linscope::lightnet {

double lrpe_theta(int64_t pair, int64_t dim, int64_t axes) {
  const int64_t j = pair / axes;  // frequency index within the pair's axis
  return std::pow(kLrpeBase, -2.0 * static_cast<double>(j * axes) / static_cast<double>(dim));
}

void md_lrpe_rotate(float* x, int64_t dim, const std::vector<int64_t>& position) {
  const int64_t axes = static_cast<int64_t>(position.size());
  if (axes < 1) throw Error("MD-LRPE: a position needs at least one axis");
  for (int64_t m = 0; 2 * m + 1 < dim; ++m) {
    const double phi = lrpe_theta(m, dim, axes) * static_cast<double>(position[m % axes]);
    const double c = std::cos(phi), s = std::sin(phi);
    const double a = x[2 * m], b = x[2 * m + 1];
    x[2 * m] = static_cast<float>(c * a - s * b);
    x[2 * m + 1] = static_cast<float>(s * a + c * b);
  }
}

double md_tpe_weight(const std::vector<int64_t>& query, const std::vector<int64_t>& key) {
  if (query.size() != key.size()) throw Error("MD-TPE: query and key positions differ in rank");
  int64_t differing = 0, axis = -1;
  for (size_t a = 0; a < query.size(); ++a)
    if (query[a] != key[a]) {
      ++differing;
      axis = static_cast<int64_t>(a);
    }
  const double one_minus = 1.0 - kTpeDecay;
  if (differing == 0) return one_minus * static_cast<double>(query.size());
  if (differing > 1) return 0.0;
  const int64_t r = query[static_cast<size_t>(axis)] - key[static_cast<size_t>(axis)];
  if (r < 0) return 0.0;  // causal along the axis
  return one_minus * std::exp(static_cast<double>(r) * std::log(kTpeDecay));
}

void md_tpe_apply(RowMatrix& x, const std::vector<int64_t>& extents, bool transposed) {
  int64_t n = 1;
  for (int64_t e : extents) n *= e;
  if (n != x.rows())
    throw Error("MD-TPE: the grid holds " + std::to_string(n) + " tokens but the tensor has " +
                std::to_string(x.rows()) + " rows");
  const RowMatrix source = x;  // every axis reads the unmixed features
  const auto lam = static_cast<float>(kTpeDecay), one = static_cast<float>(1.0 - kTpeDecay);
  int64_t stride = n;
  for (int64_t extent : extents) {
    stride /= extent;  // distance between neighbours along this axis
    // Lines along this axis start at every token whose coordinate on the axis is 0.
    for (int64_t start = 0; start < n; ++start) {
      if ((start / stride) % extent != 0) continue;
      Eigen::RowVectorXf u = Eigen::RowVectorXf::Zero(x.cols());
      for (int64_t i = 0; i < extent; ++i) {
        const int64_t p = start + stride * (transposed ? extent - 1 - i : i);
        u = lam * u + one * source.row(p);
        x.row(p) += u;
      }
    }
  }
}

}  // namespace linscope::lightnet
