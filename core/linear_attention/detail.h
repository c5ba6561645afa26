// Internals shared by the causal linear attention forms: cumulative log decays and the masked
// score block (Q K^T) ⊙ M that the parallel form uses for the whole sequence and the
// chunkwise form for each chunk.
#pragma once
#include <cstdint>
#include <vector>

#include "core/base/heads.h"
#include "core/linear_attention/forms.h"

namespace linscope::linear_attention::detail {

// B[i*width + c] = Σ_{m=t0..t0+i} log λ_{m,c} for i in [0, n): cumulative log decay from the
// token before t0, in double (core/base/log_space.h says why). Starting the sum at t0 keeps
// each chunk's decays exact however long the sequence before it was.
void cumulative_from(const HeadDecay& decay, int64_t t0, int64_t n, std::vector<double>& B);

// P (n x n) = (Q K^T) ⊙ M for n rows sharing the cumulative decays B (from cumulative_from):
// M_ij = exp(B_i − B_j) for i >= j and 0 above the diagonal. Scalar decay: one GEMM, then the
// mask. Per-channel: P_ij = Σ_c q_ic k_jc exp(B_ic − B_jc), elementwise within blocks of 8
// rows and by GEMMs of factors split at the block start otherwise (scores.cpp); every factor is
// the exp of a difference <= 0, never exp(−B) alone (that overflows past a decay sum of −88).
void masked_scores(const Eigen::Ref<const RowMatrix>& q, const Eigen::Ref<const RowMatrix>& k,
                   const std::vector<double>& B, int64_t width, Eigen::Ref<RowMatrix> P);

// x <- exp(x) for x <= 0, vectorized in float; below float's normal range (e^-87) the weight is
// set to exactly 0 rather than a denormal (as decay_exp does; denormals are also slow). The
// exponents are differences of double cumulative logs, rounded to float only once formed.
template <typename Arr>
void exp_or_zero(Arr&& x) {
  x = (x < -87.0f).select(0.0f, x.exp());
}

// Divides y's rows by den when normalize; a zero normalizer gives a zero row (forms.h).
template <typename Rows, typename Vec>
void divide_rows(Rows&& y, const Vec& den) {
  for (Eigen::Index i = 0; i < y.rows(); ++i) {
    if (den(i) == 0.0f)
      y.row(i).setZero();
    else
      y.row(i) /= den(i);
  }
}

}  // namespace linscope::linear_attention::detail
