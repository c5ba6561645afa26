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

}  // namespace linscope::lightnet
