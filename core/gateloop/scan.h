// GateLoop's associative operator and the parallel-prefix scan over it (GateLoop §3, MODELS.md §3).
// Elements are (a, b) with a = exp(log_magnitude + i·phase) a complex scalar per channel and
// b ∈ C^{Dv} a row of the state. (a1, b1) ∘ (a2, b2) = (a2 a1, a2 b1 + b2): applying step 1 then
// step 2 of S ↦ a S + b. Kept in log-polar form: log-magnitudes add and phases add, so a long
// product never underflows into a denormal before it is needed.
#pragma once
#include <complex>
#include <cstdint>
#include <vector>

namespace linscope::gateloop {

// One scan element for one channel: a = exp(log_magnitude + i phase), b a complex row of length
// Dv (b.size() is Dv).
struct ScanElement {
  double log_magnitude = 0.0;
  double phase = 0.0;
  std::vector<std::complex<float>> b;
};

// (first, second) ↦ first ∘ second = (a2 a1, a2 b1 + b2). Written into `second`'s storage so the
// in-place scans below need no allocation: second = combine(first, second).
void combine_into(const ScanElement& first, ScanElement& second);
ScanElement combine(const ScanElement& first, const ScanElement& second);

// Inclusive scan x[t] ← x[0] ∘ x[1] ∘ … ∘ x[t], in place, as a Brent–Kung tree (the Blelloch
// up-sweep builds the power-of-two partial reductions, then a down-sweep fills in the rest):
// 2·log2(L) levels; within a level every combine is independent (OpenMP over them when the
// level is large and no enclosing parallel region holds the cores). Any L >= 1, not only 2^n.
void inclusive_scan(std::vector<ScanElement>& x);

}  // namespace linscope::gateloop
