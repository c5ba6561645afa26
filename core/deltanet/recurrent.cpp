// DeltaNet's recurrent form (MODELS.md §4): S_t = S_{t−1} − β_t k_t (k_t^T S_{t−1} − v_t^T),
// y_t = q_t^T S_t, from S_0 = 0.
#include "core/deltanet/detail.h"

namespace linscope::deltanet::detail {

void recurrent_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                    const ConstVectorView& beta, MatrixView* y, const StateRecord& record,
                    int64_t bh) {
  const int64_t L = q.rows();
  RowMatrix S = RowMatrix::Zero(q.cols(), v.cols());
  size_t next = 0;
  for (int64_t t = 0; t < L; ++t) {
    delta_step(S, k.row(t), v.row(t), beta(t));
    if (y) y->row(t).noalias() = q.row(t) * S;
    if (record.steps && next < record.steps->size() && (*record.steps)[next] == t)
      trace_state(*record.states, bh, static_cast<int64_t>(next++)) = S;
  }
}

}  // namespace linscope::deltanet::detail
