// GateLoop's surrogate-attention form (GateLoop §3.2, MODELS.md §3):
//   y_i = Σ_{j<=i} Re((q_i ⊙ Π_{m=j+1..i} a_m)^H k_j) v_j.
// For real q, k the score is Σ_c q_ic k_jc |Π a|_c cos(arg Π a)_c; the product Π_{m=j+1..i} a_mc
// is exp(L_ic − L_jc + i(Φ_ic − Φ_jc)) with L, Φ cumulative sums in double, so nothing is ever
// divided by a vanishing cumulative product.
#include <cmath>

#include "core/gateloop/detail.h"

namespace linscope::gateloop::detail {

RowMatrix surrogate_attention(const ConstMatrixView& q, const ConstMatrixView& k,
                              const LogPolarCumulative& cum) {
  const int64_t L = q.rows(), Dk = q.cols();
  RowMatrix A = RowMatrix::Zero(L, L);
  for (int64_t i = 0; i < L; ++i) {
    const double* Li = &cum.log_magnitude[static_cast<size_t>(i * Dk)];
    const double* Pi = &cum.phase[static_cast<size_t>(i * Dk)];
    for (int64_t j = 0; j <= i; ++j) {
      const double* Lj = &cum.log_magnitude[static_cast<size_t>(j * Dk)];
      const double* Pj = &cum.phase[static_cast<size_t>(j * Dk)];
      double s = 0.0;
      for (int64_t c = 0; c < Dk; ++c) {
        const double dl = Li[c] - Lj[c];  // <= 0: |Π a| <= 1
        if (dl < -104.0) continue;        // below float's range: contributes exactly 0
        s += static_cast<double>(q(i, c)) * k(j, c) * std::exp(dl) * std::cos(Pi[c] - Pj[c]);
      }
      A(i, j) = static_cast<float>(s);
    }
  }
  return A;
}

}  // namespace linscope::gateloop::detail
