// Parallel form (MODELS.md §1): Y = (Q K^T ⊙ M) V with M_ij = exp(A_i − A_j) (i >= j), A the
// cumulative log decay in double; per-channel: P_ij = Σ_c q_ic k_jc exp(A_ic − A_jc). The
// normalizer q_i^T z_i = Σ_j P_ij because z_i = Σ_{j<=i} diag(exp(A_i − A_j)) k_j.
// O(L^2·(Dk+Dv)) time and an L x L matrix per head: the reference, not the fast path.
#include "core/base/row_blocks.h"
#include "core/linear_attention/detail.h"

namespace linscope::linear_attention {

RowMatrix attention_head(const ConstMatrixView& q, const ConstMatrixView& k, const HeadDecay& decay,
                         bool normalize) {
  const int64_t L = q.rows();
  std::vector<double> A;
  detail::cumulative_from(decay, 0, L, A);
  RowMatrix P(L, L);
  detail::masked_scores(q, k, A, decay.width, P);
  if (normalize) {
    const Eigen::VectorXf den = P.rowwise().sum();
    detail::divide_rows(P, den);
  }
  return P;
}

void parallel_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                   const HeadDecay& decay, bool normalize, MatrixView y, RowMatrix* attention) {
  RowMatrix P = attention_head(q, k, decay, normalize);
  // P is causal (zero above the diagonal): rows [r0, r0+n) of y need P's first r0+n columns.
  for_each_row_block(P.rows(), 64, [&](int64_t r0, int64_t n) {
    y.middleRows(r0, n).noalias() = P.block(r0, 0, n, r0 + n) * v.topRows(r0 + n);
  });
  if (attention) *attention = std::move(P);
}

}  // namespace linscope::linear_attention
