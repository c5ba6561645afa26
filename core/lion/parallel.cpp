// Bidirectional LION as full attention, the reference form (LION eq. for Y, MODELS.md §2):
//   Y = C^{-1} (Q K^T ⊙ M) V,   C_i = q_i^T Σ_j M_ij k_j = Σ_j (QK^T ⊙ M)_ij.
#include "core/base/row_blocks.h"
#include "core/lion/detail.h"

namespace linscope::lion::detail {

void parallel_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                   const std::vector<double>& A, bool normalize, MatrixView y,
                   RowMatrix* attention) {
  RowMatrix P = masked_scores(q, k, A);
  for_each_row_block(P.rows(), 64, [&](int64_t r0, int64_t n) {
    y.middleRows(r0, n).noalias() = P.middleRows(r0, n) * v;
  });
  const Eigen::VectorXf c = P.rowwise().sum();
  scale_rows(y, c, normalize);
  if (attention) {  // the same scaling the attention record applies: A = C^{-1} P
    scale_rows(P, c, normalize);
    *attention = std::move(P);
  }
}

}  // namespace linscope::lion::detail
