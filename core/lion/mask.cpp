// The bidirectional mask M and its forward/backward split (MODELS.md §2), and the masked
// scores P = QK^T ⊙ M every full-attention computation starts from.
#include <algorithm>

#include "core/base/error.h"
#include "core/base/log_space.h"
#include "core/base/row_blocks.h"
#include "core/lion/detail.h"
#include "core/lion/lion.h"

namespace linscope::lion {
namespace detail {

void apply_mask(Eigen::Ref<RowMatrix> P, const std::vector<double>& A, int64_t row0, int64_t col0) {
  const int64_t rows = P.rows(), cols = P.cols();
  const Eigen::Map<const Eigen::ArrayXd> Acol(A.data() + col0, cols);
  Eigen::ArrayXd x(cols);
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t gi = row0 + i;
    const double Ai = A[static_cast<size_t>(gi)];
    // log M_ij by index: A_i − A_j left of the diagonal, A_j − A_i right of it, 0 on it.
    const int64_t left = std::clamp<int64_t>(gi - col0, 0, cols);
    const int64_t right = std::clamp<int64_t>(col0 + cols - gi - 1, 0, cols);
    x.head(left) = Ai - Acol.head(left);
    x.tail(right) = Acol.tail(right) - Ai;
    if (left + right < cols) x(left) = 0.0;
    // decay_exp's convention, vectorized: below e^-104 the entry is exactly 0, not a denormal.
    P.row(i).array() *= (x < -104.0).select(0.0, x.exp()).cast<float>().transpose();
  }
}

RowMatrix masked_scores(const ConstMatrixView& q, const ConstMatrixView& k,
                        const std::vector<double>& A) {
  RowMatrix P(q.rows(), k.rows());
  for_each_row_block(P.rows(), 64, [&](int64_t r0, int64_t n) {
    P.middleRows(r0, n).noalias() = q.middleRows(r0, n) * k.transpose();
    apply_mask(P.middleRows(r0, n), A, r0, 0);
  });
  return P;
}

}  // namespace detail

MaskParts mask_parts(const Inputs& in, int64_t bh) {
  const Shape s = detail::check_inputs(in);
  if (bh < 0 || bh >= s.heads())
    throw Error("mask_parts: head index " + std::to_string(bh) + " is outside [0, " +
                std::to_string(s.heads()) + ")");
  const std::vector<double> A = detail::cumulative(detail::head_log_decay(in, bh, s.L));
  MaskParts parts;
  parts.full = RowMatrix::Ones(s.L, s.L);
  for_each_row_block(s.L, 64, [&](int64_t r0, int64_t n) {
    detail::apply_mask(parts.full.middleRows(r0, n), A, r0, 0);
  });
  // M^F keeps the lower triangle (λ's between j and i, j <= i), M^B its mirror image; both
  // keep the diagonal, so M = M^F + M^B − I holds entry by entry.
  parts.forward = parts.full.triangularView<Eigen::Lower>();
  parts.backward = parts.full.triangularView<Eigen::Upper>();
  return parts;
}

}  // namespace linscope::lion
