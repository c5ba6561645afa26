// Decays multiply; their logs add. Every form works with cumulative log decays
// A_t = sum_{m<=t} log λ_m kept in double, so that M_ij = exp(A_i - A_j) stays exact to
// float rounding even at L = 16384 with λ = 0.5, where A_L ≈ -11357 (float would lose ~1e-3
// absolute in A, i.e. 1e-3 relative in every mask entry). Never form Π λ directly.
#pragma once
#include <Eigen/Dense>
#include <cmath>
#include <vector>

namespace linscope {

// A[t] = sum_{m=0..t} a[m] (inclusive), in double.
template <typename Vec>
std::vector<double> cumulative_log(const Vec& a) {
  std::vector<double> out(static_cast<size_t>(a.size()));
  double s = 0.0;
  for (Eigen::Index t = 0; t < a.size(); ++t) {
    s += static_cast<double>(a[t]);
    out[static_cast<size_t>(t)] = s;
  }
  return out;
}

// exp(x) for x <= 0 that returns exactly 0 instead of a denormal far below float's range.
inline float decay_exp(double x) {
  return x < -104.0 ? 0.0f : static_cast<float>(std::exp(x));
}

}  // namespace linscope
