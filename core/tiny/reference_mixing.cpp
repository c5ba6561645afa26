#include "core/tiny/reference_mixing.h"

#include <cmath>

#include "core/base/error.h"
#include "core/base/heads.h"

namespace linscope::tiny {
namespace {

// LION (MODELS.md §2): A = C^-1 (Q K^T ⊙ M), M_ij = exp(-|S_i - S_j|) with S the cumulative log
// decay (non-increasing, so this is the product of λ between i and j, never formed directly);
// the causal model keeps j <= i.
RowMatrixD lion_attention(const Eigen::MatrixXd& q, const Eigen::MatrixXd& k,
                          const Eigen::VectorXd& log_decay, bool causal) {
  const int64_t L = q.rows();
  Eigen::VectorXd S(L);
  double acc = 0;
  for (int64_t t = 0; t < L; ++t) S[t] = acc += log_decay[t];
  RowMatrixD A = RowMatrixD::Zero(L, L);
  for (int64_t i = 0; i < L; ++i) {
    double c = 0;
    for (int64_t j = 0; j < (causal ? i + 1 : L); ++j) {
      A(i, j) = q.row(i).dot(k.row(j)) * std::exp(-std::abs(S[i] - S[j]));
      c += A(i, j);
    }
    A.row(i) /= c;
  }
  return A;
}

// GateLoop surrogate attention (MODELS.md §3) for real q, k:
// A_ij = Σ_c q_ic k_jc Re(Π_{m=j+1..i} a_mc) = Σ_c q_ic k_jc e^{Lm_ic - Lm_jc} cos(P_ic - P_jc).
RowMatrixD gateloop_attention(const Eigen::MatrixXd& q, const Eigen::MatrixXd& k,
                              const Eigen::MatrixXd& log_mag, const Eigen::MatrixXd& phase) {
  const int64_t L = q.rows(), d = q.cols();
  Eigen::MatrixXd Lm = log_mag, P = phase;
  for (int64_t t = 1; t < L; ++t) {
    Lm.row(t) += Lm.row(t - 1);
    P.row(t) += P.row(t - 1);
  }
  RowMatrixD A = RowMatrixD::Zero(L, L);
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double s = 0;
      for (int64_t c = 0; c < d; ++c)
        s += q(i, c) * k(j, c) * std::exp(Lm(i, c) - Lm(j, c)) * std::cos(P(i, c) - P(j, c));
      A(i, j) = s;
    }
  return A;
}

// DeltaNet implicit attention (MODELS.md §4): A = tril(Q K^T) T, T = (I + tril(diag(β) K K^T,
// -1))^-1 diag(β), by forward substitution on the unit lower-triangular system.
RowMatrixD deltanet_attention(const Eigen::MatrixXd& q, const Eigen::MatrixXd& k,
                              const Eigen::VectorXd& beta) {
  const int64_t L = q.rows();
  RowMatrixD T = RowMatrixD::Zero(L, L);
  for (int64_t i = 0; i < L; ++i) {
    T(i, i) = beta[i];
    for (int64_t m = 0; m < i; ++m) T.row(i) -= beta[i] * k.row(i).dot(k.row(m)) * T.row(m);
  }
  RowMatrixD QK = (q * k.transpose()).triangularView<Eigen::Lower>();
  return QK * T;
}

Eigen::MatrixXd head(const Tensor& t, int64_t h) {
  return head_matrix(t, h).cast<double>();
}
Eigen::VectorXd head_vec(const Tensor& t, int64_t h) {
  return head_vector(t, h).cast<double>();
}

}  // namespace

Result reference_mixing(const ModelSpec& spec, const Inputs& in) {
  const Shape s = in.shape();
  if (s.B != 1) throw Error("reference_mixing: batch must be 1, got " + std::to_string(s.B));
  Result r;
  r.y = Tensor({1, s.H, s.L, s.Dv});
  r.attention = Tensor({1, s.H, s.L, s.L});
  for (int64_t h = 0; h < s.H; ++h) {
    const Eigen::MatrixXd q = head(in.get("q"), h), k = head(in.get("k"), h);
    RowMatrixD A;
    switch (spec.family) {
      case Family::Lion:
        A = lion_attention(q, k, head_vec(in.get("log_decay"), h),
                           spec.direction == Direction::Causal);
        break;
      case Family::GateLoop:
        A = gateloop_attention(q, k, head(in.get("log_magnitude"), h), head(in.get("phase"), h));
        break;
      case Family::DeltaNet:
        A = deltanet_attention(q, k, head_vec(in.get("beta"), h));
        break;
      default:
        throw Error("reference_mixing: " + describe(spec) + " is not a tiny-model family");
    }
    head_square(r.attention, h) = A.cast<float>();
    head_matrix(r.y, h) = (A * head(in.get("v"), h)).cast<float>();
  }
  return r;
}

}  // namespace linscope::tiny
