// Chunkwise bidirectional LION (LION Part III, MODELS.md §2). Y is tiled into C x C blocks.
//  - Diagonal block n: (Q_n K_n^T ⊙ M_nn) V_n with the local bidirectional mask.
//  - Blocks below the diagonal (j in an earlier chunk than i): M_ij = exp(A_i − A_j) factors
//    through the last token s−1 before chunk n as exp(A_i − A_{s−1}) · exp(A_{s−1} − A_j), so
//    their sum is exp(A_i − A_{s−1}) q_i^T S^F_{s−1}: the forward state carried into the chunk.
//  - Blocks above (j in a later chunk): M_ij = exp(A_j − A_i) factors through the chunk's last
//    token e−1 as exp(A_j − A_{e−1}) · exp(A_{e−1} − A_i): the backward carried state
//    R_n = Σ_{j>=e} exp(A_j − A_{e−1}) k_j v_j^T, scaled per row by exp(A_{e−1} − A_i).
// Every factor is a difference of cumulative logs with exponent <= 0 (for λ <= 1), never a
// ratio of cumulative products. The numerator and the normalizer C ride along the same states
// (z = Σ decay · k) and are divided once at the end. Cost O(L·C·(Dk+Dv) + L·Dk·Dv); the L x L
// matrix is never built.
#include <algorithm>

#include "core/base/log_space.h"
#include "core/lion/detail.h"

namespace linscope::lion::detail {

void chunkwise_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                    const std::vector<double>& A, int64_t chunk, bool normalize, MatrixView y,
                    Tensor* chunk_states, int64_t bh) {
  const int64_t L = q.rows(), Dk = q.cols(), Dv = v.cols();
  const int64_t C = std::min(chunk, L);
  const int64_t n_chunks = (L + C - 1) / C;
  // A_{-1} = 0: the empty product before the first token.
  auto A_at = [&](int64_t t) { return t < 0 ? 0.0 : A[static_cast<size_t>(t)]; };
  Eigen::VectorXf c(L);

  // Diagonal blocks: local bidirectional mask, numerator and normalizer together.
  for (int64_t n = 0; n < n_chunks; ++n) {
    const int64_t s = n * C, len = std::min(C, L - s);
    RowMatrix P = q.middleRows(s, len) * k.middleRows(s, len).transpose();
    apply_mask(P, A, s, s);
    y.middleRows(s, len).noalias() = P * v.middleRows(s, len);
    c.segment(s, len) = P.rowwise().sum();
  }

  RowMatrix S(Dk, Dv);
  Eigen::VectorXf z(Dk), d, w;
  RowMatrix QS;

  // Forward carried state: S = S^F_{s−1}, z = z^F_{s−1} on entering chunk n.
  S.setZero();
  z.setZero();
  for (int64_t n = 0; n < n_chunks; ++n) {
    const int64_t s = n * C, len = std::min(C, L - s), e = s + len;
    if (chunk_states) trace_state(*chunk_states, bh, n) = S;
    const auto Qn = q.middleRows(s, len);
    const auto Kn = k.middleRows(s, len);
    if (n > 0) {
      d.resize(len);  // exp(A_i − A_{s−1}): decay from the chunk start to row i
      for (int64_t i = 0; i < len; ++i) d(i) = decay_exp(A_at(s + i) - A_at(s - 1));
      QS.noalias() = Qn * S;
      y.middleRows(s, len) += d.asDiagonal() * QS;
      c.segment(s, len) += d.cwiseProduct(Qn * z);
    }
    if (n + 1 == n_chunks) break;
    w.resize(len);  // exp(A_{e−1} − A_j): decay from token j to the chunk end
    for (int64_t j = 0; j < len; ++j) w(j) = decay_exp(A_at(e - 1) - A_at(s + j));
    const float whole = decay_exp(A_at(e - 1) - A_at(s - 1));
    S *= whole;
    S.noalias() += Kn.transpose() * w.asDiagonal() * v.middleRows(s, len);
    z = whole * z + Kn.transpose() * w;
  }

  // Backward carried state: S = R_n = Σ_{j>=e} exp(A_j − A_{e−1}) k_j v_j^T on entering chunk n
  // from the right.
  S.setZero();
  z.setZero();
  for (int64_t n = n_chunks - 1; n >= 0; --n) {
    const int64_t s = n * C, len = std::min(C, L - s), e = s + len;
    const auto Qn = q.middleRows(s, len);
    const auto Kn = k.middleRows(s, len);
    if (n + 1 < n_chunks) {
      d.resize(len);  // exp(A_{e−1} − A_i): decay from row i to the chunk end
      for (int64_t i = 0; i < len; ++i) d(i) = decay_exp(A_at(e - 1) - A_at(s + i));
      QS.noalias() = Qn * S;
      y.middleRows(s, len) += d.asDiagonal() * QS;
      c.segment(s, len) += d.cwiseProduct(Qn * z);
    }
    if (n == 0) break;
    // R_{n−1} = exp(A_{e−1} − A_{s−1}) R_n + Σ_{j in n} exp(A_j − A_{s−1}) k_j v_j^T
    w.resize(len);
    for (int64_t j = 0; j < len; ++j) w(j) = decay_exp(A_at(s + j) - A_at(s - 1));
    const float whole = decay_exp(A_at(e - 1) - A_at(s - 1));
    S *= whole;
    S.noalias() += Kn.transpose() * w.asDiagonal() * v.middleRows(s, len);
    z = whole * z + Kn.transpose() * w;
  }
  scale_rows(y, c, normalize);
}

}  // namespace linscope::lion::detail
