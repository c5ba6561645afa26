// GateLoop's surrogate-attention form (GateLoop §3.2, MODELS.md §3):
//   y_i = Σ_{j<=i} Re((q_i ⊙ Π_{m=j+1..i} a_m)^H k_j) v_j,
// so for real q, k the score is A_ij = Σ_c q_ic k_jc Re(Π_{m=j+1..i} a_mc).
//
// Blocks of rows [r, r+B). For columns j < r the product splits at the block start r,
//   Π_{m=j+1..i} a_m = α_i β_j,  α_i = Π_{m=r+1..i} a_m,  β_j = Π_{m=j+1..r} a_m,
// and the block is two real GEMMs:
//   A_ij = Σ_c (q_ic Re α_ic)(k_jc Re β_jc) − (q_ic Im α_ic)(k_jc Im β_jc).
// Inside the diagonal block each column j walks its own product down the rows.
//
// Products, not exponentials of cumulative sums: α is built forward from r and β backward from
// r one complex multiply at a time (in double), so the whole matrix costs L·Dk exp/sincos
// (one per transition) instead of O(L^2 Dk / B) — those transcendentals were 90 % of the time
// at L = 1024 (bench/attention_preview.cpp). This is as safe as log space here: every factor
// has |a| <= 1 (check_inputs), so partial products only shrink, nothing is ever divided by,
// and double's range (to 1e-308) outlives float's, so an underflow is a product that is 0 in
// the float result anyway. Rounding grows by ~2^-53 per multiply: < 1e-12 relative after the
// L <= 4096 steps a matrix is ever formed for, far below the float output's 6e-8.
// Cost: O(L^2 Dk) flops, most of them in the GEMMs; row blocks run in parallel.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/base/row_blocks.h"
#include "core/gateloop/detail.h"

namespace linscope::gateloop::detail {

namespace {
constexpr int64_t kBlock = 64;

// One transition a_tc = |a| e^{iφ} as two doubles per channel, rows of Dk.
struct Transitions {
  RowMatrixD re, im;
};

Transitions transitions(const ConstMatrixView& log_magnitude, const ConstMatrixView& phase) {
  const int64_t L = log_magnitude.rows(), Dk = log_magnitude.cols();
  Transitions a{RowMatrixD(L, Dk), RowMatrixD(L, Dk)};
  for (int64_t t = 0; t < L; ++t)
    for (int64_t c = 0; c < Dk; ++c) {
      const double m = std::exp(double(log_magnitude(t, c))), p = phase(t, c);
      a.re(t, c) = m * std::cos(p);
      a.im(t, c) = m * std::sin(p);
    }
  return a;
}

// (pr, pi) *= (ar, ai) channel-wise: one step of a running product. A product whose magnitude
// falls below e^-104 becomes exactly 0, decay_exp's convention (log_space.h): its float
// contribution is 0 anyway, and the rest of the chain then costs nothing and never reaches
// double's subnormals. (Float subnormals in the GEMMs are flush_denormals.h's business.)
inline void multiply(double* pr, double* pi, const double* ar, const double* ai, int64_t n) {
  constexpr double kTiny2 = 4.6e-91;  // (e^-104)^2
  for (int64_t c = 0; c < n; ++c) {
    const double re = pr[c] * ar[c] - pi[c] * ai[c];
    const double im = pr[c] * ai[c] + pi[c] * ar[c];
    const bool live = re * re + im * im >= kTiny2;
    pr[c] = live ? re : 0.0;
    pi[c] = live ? im : 0.0;
  }
}

// Rows [r, r+rows) of A: the diagonal block, then (r > 0) the columns before r.
void row_block(const ConstMatrixView& q, const ConstMatrixView& k, const Transitions& a, int64_t r,
               int64_t rows, RowMatrix& A) {
  const int64_t Dk = q.cols();
  const auto n = static_cast<size_t>(Dk);
  std::vector<double> pr(n), pi(n);
  // Diagonal block: column j's product Π_{m=j+1..i} a_m grows one factor per row.
  for (int64_t j = r; j < r + rows; ++j) {
    std::fill(pr.begin(), pr.end(), 1.0);
    std::fill(pi.begin(), pi.end(), 0.0);
    for (int64_t i = j; i < r + rows; ++i) {
      if (i > j) multiply(pr.data(), pi.data(), &a.re(i, 0), &a.im(i, 0), Dk);
      double s = 0.0;
      for (int64_t c = 0; c < Dk; ++c) s += double(q(i, c)) * k(j, c) * pr[size_t(c)];
      A(i, j) = static_cast<float>(s);
    }
  }
  if (r == 0) return;
  // α_i (forward from r) scales the rows of q; β_j (backward from r) the rows of k.
  RowMatrix qre(rows, Dk), qim(rows, Dk), kre(r, Dk), kim(r, Dk);
  std::fill(pr.begin(), pr.end(), 1.0);
  std::fill(pi.begin(), pi.end(), 0.0);
  for (int64_t i = 0; i < rows; ++i) {
    if (i > 0) multiply(pr.data(), pi.data(), &a.re(r + i, 0), &a.im(r + i, 0), Dk);
    for (int64_t c = 0; c < Dk; ++c) {
      qre(i, c) = static_cast<float>(q(r + i, c) * pr[size_t(c)]);
      qim(i, c) = static_cast<float>(q(r + i, c) * pi[size_t(c)]);
    }
  }
  std::fill(pr.begin(), pr.end(), 1.0);
  std::fill(pi.begin(), pi.end(), 0.0);
  for (int64_t j = r - 1; j >= 0; --j) {
    multiply(pr.data(), pi.data(), &a.re(j + 1, 0), &a.im(j + 1, 0), Dk);
    for (int64_t c = 0; c < Dk; ++c) {
      kre(j, c) = static_cast<float>(k(j, c) * pr[size_t(c)]);
      kim(j, c) = static_cast<float>(k(j, c) * pi[size_t(c)]);
    }
  }
  auto block = A.block(r, 0, rows, r);
  block.noalias() = qre * kre.transpose();
  block.noalias() -= qim * kim.transpose();
}
}  // namespace

RowMatrix surrogate_attention(const ConstMatrixView& q, const ConstMatrixView& k,
                              const ConstMatrixView& log_magnitude, const ConstMatrixView& phase) {
  const int64_t L = q.rows();
  const Transitions a = transitions(log_magnitude, phase);
  RowMatrix A = RowMatrix::Zero(L, L);
  for_each_row_block(L, kBlock, [&](int64_t r, int64_t rows) { row_block(q, k, a, r, rows, A); });
  return A;
}

}  // namespace linscope::gateloop::detail
