// Recurrent form (MODELS.md §1): S_t = diag(λ_t) S_{t-1} + k_t v_t^T, y_t = q_t^T S_t, and the
// normalizer z_t = diag(λ_t) z_{t-1} + k_t. O(L·Dk·Dv) time, one Dk x Dv state; every buffer is
// sized before the loop so the per-step work allocates nothing.
#include "core/base/log_space.h"
#include "core/linear_attention/detail.h"

namespace linscope::linear_attention {

void recurrent_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                    const HeadDecay& decay, bool normalize, MatrixView y,
                    const StateRecord& record) {
  const int64_t L = q.rows(), Dk = q.cols(), Dv = v.cols();
  RowMatrix S = RowMatrix::Zero(Dk, Dv);
  Eigen::VectorXf z = Eigen::VectorXf::Zero(Dk);
  Eigen::VectorXf lambda(Dk);
  const std::vector<int64_t>* steps = record.states ? record.steps : nullptr;
  size_t next = 0;  // index of the next recorded step

  for (int64_t t = 0; t < L; ++t) {
    // λ_t = exp(log λ_t) of one step only (never a product over steps): in [0, 1].
    if (decay.width == 1)
      lambda.setConstant(decay_exp(decay.at(t, 0)));
    else
      for (int64_t c = 0; c < Dk; ++c) lambda(c) = decay_exp(decay.at(t, c));
    // One pass over the state, row a of S at a time (it stays in L1): decay, add k_ta v_t^T,
    // and accumulate y_t = Σ_a q_ta S_a. Row expressions are lazy, so nothing is allocated.
    auto yt = y.row(t);
    yt.setZero();
    for (int64_t a = 0; a < Dk; ++a) {
      S.row(a) = lambda(a) * S.row(a) + k(t, a) * v.row(t);
      yt += q(t, a) * S.row(a);
    }
    if (normalize) {
      z = lambda.cwiseProduct(z) + k.row(t).transpose();
      const float den = q.row(t).dot(z);
      // Zero normalizer: no attention mass, output 0 (forms.h).
      if (den == 0.0f)
        y.row(t).setZero();
      else
        y.row(t) /= den;
    }
    if (steps && next < steps->size() && (*steps)[next] == t)
      trace_state(*record.states, record.bh, static_cast<int64_t>(next++)) = S;
  }
}

}  // namespace linscope::linear_attention
