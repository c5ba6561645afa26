// States for the trace of the forms that never hold S_t (parallel) or hold it only at chunk
// boundaries (chunkwise): S_t = Σ_{j<=t} diag(exp(A_t − A_j)) k_j v_j^T (MODELS.md §1),
// summed segment by segment between recorded steps t' < t:
//   S_t = diag(exp(A_t − A_t')) S_t' + Σ_{t'<j<=t} diag(exp(A_t − A_j)) k_j v_j^T,
// with the exponents taken as in-segment sums (<= 0). Apart from y, so tracing changes nothing.
#include "core/base/log_space.h"
#include "core/linear_attention/detail.h"

namespace linscope::linear_attention {

void record_states(const ConstMatrixView& k, const ConstMatrixView& v, const HeadDecay& decay,
                   const StateRecord& record) {
  if (!record.states || !record.steps) return;
  const int64_t Dk = k.cols(), Dv = v.cols(), w = decay.width;
  RowMatrix S = RowMatrix::Zero(Dk, Dv);
  RowMatrix Kd;
  Eigen::VectorXf seg_decay(Dk);
  std::vector<double> b;
  int64_t prev = -1;
  for (size_t i = 0; i < record.steps->size(); ++i) {
    const int64_t t = (*record.steps)[i], n = t - prev;
    // b_j = Σ_{m=prev+1..prev+1+j} log λ_m; the segment ends at b_last = log decay over it.
    detail::cumulative_from(decay, prev + 1, n, b);
    const double* last = b.data() + (n - 1) * w;
    Kd.resize(n, Dk);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t c = 0; c < Dk; ++c) {
        const int64_t g = w == 1 ? 0 : c;
        Kd(j, c) = k(prev + 1 + j, c) * decay_exp(last[g] - b[static_cast<size_t>(j * w + g)]);
      }
    for (int64_t c = 0; c < Dk; ++c) seg_decay(c) = decay_exp(last[w == 1 ? 0 : c]);
    S.array().colwise() *= seg_decay.array();
    S.noalias() += Kd.transpose() * v.middleRows(prev + 1, n);
    trace_state(*record.states, record.bh, static_cast<int64_t>(i)) = S;
    prev = t;
  }
}

}  // namespace linscope::linear_attention
