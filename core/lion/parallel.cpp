// Bidirectional LION as full attention, the reference form (LION eq. for Y, MODELS.md §2):
//   Y = C^{-1} (Q K^T ⊙ M) V,   C_i = q_i^T Σ_j M_ij k_j = Σ_j (QK^T ⊙ M)_ij.
#include "core/lion/detail.h"

namespace linscope::lion::detail {

void parallel_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                   const std::vector<double>& A, bool normalize, MatrixView y) {
  const RowMatrix P = masked_scores(q, k, A);
  y.noalias() = P * v;
  const Eigen::VectorXf c = P.rowwise().sum();
  scale_rows(y, c, normalize);
}

}  // namespace linscope::lion::detail
