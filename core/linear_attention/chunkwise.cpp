// Chunkwise form (MODELS.md §1). Chunk n covers rows [s, s+c). With the in-chunk cumulative log
// decays b_i = Σ_{m=s..s+i} log λ_m (double, per channel for a gate):
//   intra-chunk  (Q_n K_n^T ⊙ M_nn) V_n,          M_ij = exp(b_i − b_j), i >= j
//   inter-chunk  (Q_n ⊙ exp(b_i)) S_{n−1}          decay from the chunk start to row i
//   state        S_n = diag(exp(b_last)) S_{n−1} + (K_n ⊙ exp(b_last − b_j))^T V_n
// and the normalizer rides along: q_i^T z_i = Σ_j P_ij + (q_i ⊙ exp(b_i))^T z_{n−1}. Every
// exponent is a difference <= 0 of in-chunk sums, so nothing overflows at any L, and the decays
// before the chunk enter only through the carried state. Scalar decay: the chunk's work is four
// Eigen GEMMs plus C^2/2 exps, O(L·C·(Dk+Dv) + L·Dk·Dv) in all, linear in L for fixed C.
// C = 1 is the recurrence; C >= L is one chunk, the parallel form.
#include <algorithm>

#include "core/base/log_space.h"
#include "core/linear_attention/detail.h"

namespace linscope::linear_attention {

void chunkwise_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                    const HeadDecay& decay, int64_t chunk, bool normalize, MatrixView y,
                    Tensor* chunk_states, int64_t bh) {
  const int64_t L = q.rows(), Dk = q.cols(), Dv = v.cols(), w = decay.width;
  const int64_t C = std::max<int64_t>(1, std::min(chunk, L));
  const int64_t n_chunks = (L + C - 1) / C;
  // Buffers sized once for a full chunk; the last (shorter) chunk uses their top-left corner.
  RowMatrix S = RowMatrix::Zero(Dk, Dv);
  Eigen::VectorXf z = Eigen::VectorXf::Zero(Dk);
  RowMatrix P(C, C), Qd(C, Dk), Kd(C, Dk);
  Eigen::VectorXf den(C), end_decay(Dk);
  Eigen::ArrayXf eq(Dk), ek(Dk);
  std::vector<double> b;

  for (int64_t n = 0; n < n_chunks; ++n) {
    const int64_t s = n * C, c = std::min(C, L - s);
    if (chunk_states) trace_state(*chunk_states, bh, n) = S;
    const auto Qn = q.middleRows(s, c);
    const auto Kn = k.middleRows(s, c);
    const auto Vn = v.middleRows(s, c);
    auto Yn = y.middleRows(s, c);
    auto Pn = P.topLeftCorner(c, c);
    auto Qdn = Qd.topRows(c);
    auto Kdn = Kd.topRows(c);
    detail::cumulative_from(decay, s, c, b);
    const double* last = b.data() + (c - 1) * w;

    // Intra-chunk: masked attention among the chunk's own tokens.
    detail::masked_scores(Qn, Kn, b, w, Pn);
    // Q_n ⊙ exp(b_i): how much of the carried state reaches row i; K_n ⊙ exp(b_last − b_j):
    // how much of token j survives to the chunk end.
    for (int64_t i = 0; i < c; ++i) {
      const double* bi = b.data() + i * w;
      if (w == 1) {
        Qdn.row(i) = Qn.row(i) * decay_exp(bi[0]);
        Kdn.row(i) = Kn.row(i) * decay_exp(last[0] - bi[0]);
      } else {
        for (int64_t ch = 0; ch < Dk; ++ch) {
          eq(ch) = static_cast<float>(bi[ch]);
          ek(ch) = static_cast<float>(last[ch] - bi[ch]);
        }
        detail::exp_or_zero(eq);
        detail::exp_or_zero(ek);
        Qdn.row(i) = Qn.row(i).array() * eq.transpose();
        Kdn.row(i) = Kn.row(i).array() * ek.transpose();
      }
    }
    Yn.noalias() = Pn.triangularView<Eigen::Lower>() * Vn;  // Pn is causal: half the flops
    if (n > 0) Yn.noalias() += Qdn * S;                     // S = 0 before the first chunk
    if (normalize) {
      den.head(c) = Pn.rowwise().sum();
      if (n > 0) den.head(c).noalias() += Qdn * z;
      detail::divide_rows(Yn, den.head(c));
    }
    if (n + 1 == n_chunks) break;
    // Carry the state to the next chunk.
    for (int64_t ch = 0; ch < Dk; ++ch) end_decay(ch) = decay_exp(last[w == 1 ? 0 : ch]);
    S.array().colwise() *= end_decay.array();
    S.noalias() += Kdn.transpose() * Vn;
    if (normalize) {
      z.array() *= end_decay.array();
      z += Kdn.colwise().sum().transpose();
    }
  }
}

}  // namespace linscope::linear_attention
