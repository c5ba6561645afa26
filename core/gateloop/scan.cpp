// The associative operator and its Brent–Kung inclusive scan (see scan.h).
#include "core/gateloop/scan.h"

#include <cmath>

#include "core/base/log_space.h"

namespace linscope::gateloop {

void combine_into(const ScanElement& first, ScanElement& second) {
  // a2 b1 + b2 with a2 = exp(log|a2|) (cos φ2 + i sin φ2); |a2| <= 1 so exp never overflows.
  const float mag = decay_exp(second.log_magnitude);
  const std::complex<float> a2(mag * static_cast<float>(std::cos(second.phase)),
                               mag * static_cast<float>(std::sin(second.phase)));
  for (size_t e = 0; e < second.b.size(); ++e) second.b[e] += a2 * first.b[e];
  // a2 a1 in log-polar form: magnitudes multiply (logs add), angles add.
  second.log_magnitude += first.log_magnitude;
  second.phase += first.phase;
}

ScanElement combine(const ScanElement& first, const ScanElement& second) {
  ScanElement out = second;
  combine_into(first, out);
  return out;
}

void inclusive_scan(std::vector<ScanElement>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  // Up-sweep: after level d, x[i] (i = 2d−1, 4d−1, …) holds the reduction of the 2d elements
  // ending at i. Each combine reads x[i−d], which this level does not write.
  int64_t top = 1;
  for (int64_t d = 1; d < n; d *= 2) {
    top = d;
#pragma omp parallel for if (n / (2 * d) >= 256)
    for (int64_t i = 2 * d - 1; i < n; i += 2 * d) combine_into(x[i - d], x[i]);
  }
  // Down-sweep: x[i−d] is already a full prefix; fold it into the partial block ending at i
  // (i = 3d−1, 5d−1, …). Levels from the top down, so every prefix is complete when read.
  for (int64_t d = top; d >= 1; d /= 2) {
#pragma omp parallel for if (n / (2 * d) >= 256)
    for (int64_t i = 3 * d - 1; i < n; i += 2 * d) combine_into(x[i - d], x[i]);
  }
}

}  // namespace linscope::gateloop
