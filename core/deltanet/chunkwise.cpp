// DeltaNet's chunkwise form (DeltaNet §3.2, MODELS.md §4). Inside a chunk the product of the
// Householder-like factors (I − β_t k_t k_t^T) has the WY / UT representation:
//   T = (I + tril(diag(β) K K^T, −1))^{-1} diag(β),  W = T K,  U = T V,
//   O = Q S + (Q K^T ⊙ tril)(U − W S),  S ← S + K^T (U − W S).
// Rows of U − W S are the per-token corrections u_t = β_t (v_t − S_{t−1}^T k_t) of the
// recurrence, all computed at once by the triangular solve.
#include <algorithm>

#include "core/deltanet/detail.h"

namespace linscope::deltanet::detail {

RowMatrix ut_transform(const Eigen::Ref<const RowMatrix>& K,
                       const Eigen::Ref<const Eigen::VectorXf>& beta) {
  // Strictly lower part of diag(β) K K^T; the unit diagonal is implied by UnitLower.
  RowMatrix M = (beta.asDiagonal() * (K * K.transpose())).eval();
  RowMatrix T = RowMatrix(beta.asDiagonal());
  // Forward substitution (I + M) T = diag(β): no general inverse, O(n^3 / 3).
  M.triangularView<Eigen::UnitLower>().solveInPlace(T);
  return T;
}

void chunkwise_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                    const ConstVectorView& beta, int64_t chunk, MatrixView y, Tensor* chunk_states,
                    const StateRecord& record, int64_t bh) {
  const int64_t L = q.rows(), Dk = q.cols(), Dv = v.cols();
  const int64_t C = std::clamp<int64_t>(chunk, 1, L);
  RowMatrix S = RowMatrix::Zero(Dk, Dv);
  size_t next = 0;
  for (int64_t s0 = 0, n = 0; s0 < L; s0 += C, ++n) {
    const int64_t len = std::min(C, L - s0);
    const auto Q = q.middleRows(s0, len);
    const auto K = k.middleRows(s0, len);
    const auto V = v.middleRows(s0, len);
    const Eigen::VectorXf b = beta.segment(s0, len);
    if (chunk_states) trace_state(*chunk_states, bh, n) = S;
    // Recorded steps in this chunk: step the recurrence from the carried state (off the y path).
    if (record.steps && next < record.steps->size() && (*record.steps)[next] < s0 + len) {
      RowMatrix R = S;
      for (int64_t t = s0; next < record.steps->size() && (*record.steps)[next] < s0 + len; ++t) {
        delta_step(R, k.row(t), v.row(t), beta(t));
        if ((*record.steps)[next] == t)
          trace_state(*record.states, bh, static_cast<int64_t>(next++)) = R;
      }
    }
    const RowMatrix T = ut_transform(K, b);
    const RowMatrix W = T * K;
    RowMatrix U = T * V;
    U.noalias() -= W * S;  // U − W S: the corrections u_t
    RowMatrix P = (Q * K.transpose()).eval();
    P.triangularView<Eigen::StrictlyUpper>().setZero();
    y.middleRows(s0, len).noalias() = Q * S;
    y.middleRows(s0, len).noalias() += P * U;
    S.noalias() += K.transpose() * U;
  }
}

}  // namespace linscope::deltanet::detail
