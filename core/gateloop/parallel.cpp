// GateLoop's surrogate-attention form (GateLoop §3.2, MODELS.md §3):
//   y_i = Σ_{j<=i} Re((q_i ⊙ Π_{m=j+1..i} a_m)^H k_j) v_j.
// For real q, k the score is Σ_c q_ic k_jc |Π a|_c cos(arg Π a)_c, and the product
// Π_{m=j+1..i} a_mc = exp(L_ic − L_jc + i(Φ_ic − Φ_jc)) with L, Φ cumulative sums in double.
//
// Blocks of rows [r, r+B): for columns j < r the product splits at the block start r,
//   Π_{m=j+1..i} a_m = (Π_{m=r+1..i} a_m) · (Π_{m=j+1..r} a_m),
// and both factors have magnitude <= 1 (log-magnitudes are <= 0), so neither overflows and no
// cumulative product is ever divided by. Then the block is two real GEMMs:
//   A_ij = Σ_c (q_ic Re α_ic)(k_jc Re β_jc) − (q_ic Im α_ic)(k_jc Im β_jc),
// α_ic = Π_{r+1..i} a_mc, β_jc = Π_{j+1..r} a_mc. The diagonal block is summed entry by entry.
// Cost: O(L^2 Dk) flops in GEMMs plus O(L^2 Dk / B + L B Dk) exps instead of O(L^2 Dk) exps.
#include <algorithm>
#include <cmath>

#include "core/base/log_space.h"
#include "core/gateloop/detail.h"

namespace linscope::gateloop::detail {

namespace {
constexpr int64_t kBlock = 64;

// exp(dl) (cos dp, sin dp) for dl <= 0, as floats (0 below float's range).
inline void polar_factor(double dl, double dp, float& re, float& im) {
  const float m = decay_exp(dl);
  re = m * static_cast<float>(std::cos(dp));
  im = m * static_cast<float>(std::sin(dp));
}
}  // namespace

RowMatrix surrogate_attention(const ConstMatrixView& q, const ConstMatrixView& k,
                              const LogPolarCumulative& cum) {
  const int64_t L = q.rows(), Dk = q.cols();
  const auto Lc = [&](int64_t t, int64_t c) { return cum.log_magnitude[size_t(t * Dk + c)]; };
  const auto Pc = [&](int64_t t, int64_t c) { return cum.phase[size_t(t * Dk + c)]; };
  RowMatrix A = RowMatrix::Zero(L, L);
  RowMatrix qre, qim, kre, kim;
  for (int64_t r = 0; r < L; r += kBlock) {
    const int64_t rows = std::min(kBlock, L - r);
    // Diagonal block, j in [r, i]: direct sum of exp(ΔL) cos(ΔΦ) (ΔL <= 0).
    for (int64_t i = r; i < r + rows; ++i)
      for (int64_t j = r; j <= i; ++j) {
        double s = 0.0;
        for (int64_t c = 0; c < Dk; ++c) {
          const double dl = Lc(i, c) - Lc(j, c);
          if (dl < -104.0) continue;  // below float's range: contributes exactly 0
          s += double(q(i, c)) * k(j, c) * std::exp(dl) * std::cos(Pc(i, c) - Pc(j, c));
        }
        A(i, j) = static_cast<float>(s);
      }
    if (r == 0) continue;
    // Columns j < r through the split at r.
    qre.resize(rows, Dk);
    qim.resize(rows, Dk);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t c = 0; c < Dk; ++c) {
        float re, im;
        polar_factor(Lc(r + i, c) - Lc(r, c), Pc(r + i, c) - Pc(r, c), re, im);
        qre(i, c) = q(r + i, c) * re;
        qim(i, c) = q(r + i, c) * im;
      }
    kre.resize(r, Dk);
    kim.resize(r, Dk);
    for (int64_t j = 0; j < r; ++j)
      for (int64_t c = 0; c < Dk; ++c) {
        float re, im;
        polar_factor(Lc(r, c) - Lc(j, c), Pc(r, c) - Pc(j, c), re, im);
        kre(j, c) = k(j, c) * re;
        kim(j, c) = k(j, c) * im;
      }
    auto block = A.block(r, 0, rows, r);
    block.noalias() = qre * kre.transpose();
    block.noalias() -= qim * kim.transpose();
  }
  return A;
}

}  // namespace linscope::gateloop::detail
