// GateLoop's recurrent form (GateLoop eq. 1, MODELS.md §3): S_t = diag(a_t) S_{t−1} + k_t v_t^T
// with S complex (kept as Re and Im), y_t = Re(q_t^H S_t) = q_t^T Re(S_t) for real q.
#include <cmath>

#include "core/gateloop/detail.h"

namespace linscope::gateloop::detail {

void recurrent_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                    const ConstMatrixView& log_magnitude, const ConstMatrixView& phase,
                    MatrixView* y, const StateRecord& record, int64_t bh) {
  const int64_t L = q.rows(), Dk = q.cols(), Dv = v.cols();
  RowMatrix re = RowMatrix::Zero(Dk, Dv), im = RowMatrix::Zero(Dk, Dv), re_next(Dk, Dv);
  Eigen::VectorXf ar(Dk), ai(Dk);
  size_t next = 0;
  for (int64_t t = 0; t < L; ++t) {
    // a_t per channel, from one step's log-magnitude and phase (no running product).
    for (int64_t c = 0; c < Dk; ++c) {
      const double mag = std::exp(static_cast<double>(log_magnitude(t, c)));
      ar(c) = static_cast<float>(mag * std::cos(static_cast<double>(phase(t, c))));
      ai(c) = static_cast<float>(mag * std::sin(static_cast<double>(phase(t, c))));
    }
    // (ar + i ai) ⊙ (re + i im) row-wise, then + k v^T (real).
    re_next.noalias() = ar.asDiagonal() * re;
    re_next.noalias() -= ai.asDiagonal() * im;
    re_next.noalias() += k.row(t).transpose() * v.row(t);
    im = ar.asDiagonal() * im + ai.asDiagonal() * re;
    re.swap(re_next);
    if (y) y->row(t).noalias() = q.row(t) * re;
    if (record.steps && next < record.steps->size() && (*record.steps)[next] == t) {
      trace_state(*record.real, bh, static_cast<int64_t>(next)) = re;
      trace_state(*record.imag, bh, static_cast<int64_t>(next)) = im;
      ++next;
    }
  }
}

}  // namespace linscope::gateloop::detail
