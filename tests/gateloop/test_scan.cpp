// The scan's operator (a1, b1) ∘ (a2, b2) = (a2 a1, a2 b1 + b2) is associative — the property
// that lets a tree evaluate it in any bracketing — and the Brent–Kung scan equals the left fold
// at every length, powers of two or not.
#include <gtest/gtest.h>

#include <cmath>

#include "core/base/random.h"
#include "core/gateloop/scan.h"

namespace linscope::gateloop {
namespace {

ScanElement random_element(Rng& rng, int Dv) {
  ScanElement e;
  e.log_magnitude = log_sigmoid(rng.normal(2.0, 1.5));
  e.phase = rng.normal(0.0, 1.5);
  for (int d = 0; d < Dv; ++d)
    e.b.emplace_back(static_cast<float>(rng.normal()), static_cast<float>(rng.normal()));
  return e;
}

double distance(const ScanElement& x, const ScanElement& y) {
  double m = std::abs(x.log_magnitude - y.log_magnitude);
  // Angles compared through the complex number they make (2π-periodic).
  m = std::max(m, std::abs(std::polar(1.0, x.phase) - std::polar(1.0, y.phase)));
  for (size_t d = 0; d < x.b.size(); ++d) m = std::max<double>(m, std::abs(x.b[d] - y.b[d]));
  return m;
}

TEST(GateLoopScan, CombineIsAssociativeOnRandomTriples) {
  Rng rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    const ScanElement x = random_element(rng, 3), y = random_element(rng, 3),
                      z = random_element(rng, 3);
    const ScanElement left = combine(combine(x, y), z), right = combine(x, combine(y, z));
    // fp32 b's of O(1): the two bracketings round differently by a few eps (~1e-7); 1e-5 is
    // >20x that, while a non-associative operator (e.g. a1 b2 + b1) misses by O(1).
    EXPECT_LT(distance(left, right), 1e-5) << "trial " << trial;
  }
}

TEST(GateLoopScan, CombineMatchesTwoStepsOfTheRecurrence) {
  // Applying S ↦ a1 S + b1 then S ↦ a2 S + b2 to S = 0 gives a2 b1 + b2; the combined a is a2 a1.
  Rng rng(6);
  const ScanElement x = random_element(rng, 2), y = random_element(rng, 2);
  const ScanElement z = combine(x, y);
  const std::complex<double> a2 = std::polar(std::exp(y.log_magnitude), y.phase);
  for (int d = 0; d < 2; ++d) {
    const std::complex<double> want =
        a2 * std::complex<double>(x.b[d]) + std::complex<double>(y.b[d]);
    EXPECT_NEAR(std::abs(std::complex<double>(z.b[d]) - want), 0.0, 1e-6);
  }
  EXPECT_NEAR(z.log_magnitude, x.log_magnitude + y.log_magnitude, 1e-15);
  EXPECT_NEAR(z.phase, x.phase + y.phase, 1e-15);
}

TEST(GateLoopScan, TreeScanEqualsTheLeftFoldAtEveryLength) {
  Rng rng(7);
  for (int n : {1, 2, 3, 5, 7, 8, 13, 31, 33, 64, 100, 1000}) {
    std::vector<ScanElement> x;
    for (int i = 0; i < n; ++i) x.push_back(random_element(rng, 2));
    std::vector<ScanElement> fold = x;
    for (int i = 1; i < n; ++i) fold[i] = combine(fold[i - 1], fold[i]);
    inclusive_scan(x);
    for (int i = 0; i < n; ++i)
      // Different bracketings of up to ~1/(1−|a|) live O(1) terms: ~10 eps each; 2e-5 absolute
      // is well above that, an element left out or counted twice is O(1).
      ASSERT_LT(distance(x[i], fold[i]), 2e-5) << "n=" << n << " i=" << i;
  }
}

}  // namespace
}  // namespace linscope::gateloop
