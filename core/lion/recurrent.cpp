// Bidirectional LION as a pair of RNNs (LION Part II, MODELS.md §2):
//   S^F_t = λ_t S^F_{t−1} + k_t v_t^T          (t = 1..L)
//   S^B_t = λ_{t+1} S^B_{t+1} + k_t v_t^T      (t = L..1; the decay of the token it comes from)
//   y_t = (y^F_t + y^B_t) / (c^F_t + c^B_t),  y^{F/B}_t = q_t^T S^{F/B}_t − ½ (q_t^T k_t) v_t
// Both sweeps count the diagonal term k_t v_t^T; each removes half of it so that the sum
// counts it once (M = M^F + M^B − I). The subtraction is exact only in exact arithmetic: in
// float it leaves a rounding error of order eps · |q_t^T S_t| (the tests' bound says so).
#include "core/base/log_space.h"
#include "core/lion/detail.h"

namespace linscope::lion::detail {

void recurrent_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                    const std::vector<double>& log_decay, bool normalize, MatrixView* y,
                    const StateRecord& record, int64_t bh) {
  const int64_t L = q.rows(), Dk = q.cols(), Dv = v.cols();
  RowMatrix S = RowMatrix::Zero(Dk, Dv);
  Eigen::VectorXf z = Eigen::VectorXf::Zero(Dk);
  Eigen::VectorXf c = Eigen::VectorXf::Zero(y ? L : 0);
  const std::vector<int64_t> no_steps;
  const std::vector<int64_t>& steps = record.steps ? *record.steps : no_steps;
  auto lambda = [&](int64_t t) { return decay_exp(log_decay[static_cast<size_t>(t)]); };

  // Forward sweep: row t of y receives y^F_t, c(t) receives c^F_t.
  size_t slot = 0;
  for (int64_t t = 0; t < L; ++t) {
    const float lam = lambda(t);
    S *= lam;
    S.noalias() += k.row(t).transpose() * v.row(t);
    z = lam * z + k.row(t).transpose();
    if (y) {
      const float half_qk = 0.5f * q.row(t).dot(k.row(t));
      y->row(t).noalias() = q.row(t) * S;
      y->row(t) -= half_qk * v.row(t);
      c(t) = q.row(t).dot(z) - half_qk;
    }
    if (record.forward && slot < steps.size() && steps[slot] == t)
      trace_state(*record.forward, bh, static_cast<int64_t>(slot++)) = S;
  }

  // Backward sweep: adds y^B_t and c^B_t. The state arriving at t from t+1 decays by λ_{t+1}.
  S.setZero();
  z.setZero();
  slot = steps.size();
  for (int64_t t = L - 1; t >= 0; --t) {
    if (t + 1 < L) {
      const float lam = lambda(t + 1);
      S *= lam;
      z *= lam;
    }
    S.noalias() += k.row(t).transpose() * v.row(t);
    z += k.row(t).transpose();
    if (y) {
      const float half_qk = 0.5f * q.row(t).dot(k.row(t));
      y->row(t).noalias() += q.row(t) * S;
      y->row(t) -= half_qk * v.row(t);
      c(t) += q.row(t).dot(z) - half_qk;
    }
    if (record.backward && slot > 0 && steps[slot - 1] == t)
      trace_state(*record.backward, bh, static_cast<int64_t>(--slot)) = S;
  }
  if (y) scale_rows(*y, c, normalize);
}

}  // namespace linscope::lion::detail
