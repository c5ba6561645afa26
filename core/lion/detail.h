// Internals shared by the LION forms: input checks, per-head decays and the row scaling.
#pragma once
#include <cstdint>
#include <vector>

#include "core/base/heads.h"
#include "core/base/inputs.h"
#include "core/base/tensor.h"

namespace linscope::lion::detail {

// Checks q, k, v and (when present) log_decay for LION and returns the shape. log_decay must be
// a scalar decay per token [B,H,L] (LION's λ_t); a per-channel gate is rejected.
Shape check_inputs(const Inputs& in);

// log λ_t of head bh as doubles; zeros (λ = 1, LION-LIT) when log_decay is absent.
std::vector<double> head_log_decay(const Inputs& in, int64_t bh, int64_t L);

// A_t = Σ_{m<=t} log λ_m (inclusive), in double (core/base/log_space.h explains why double).
std::vector<double> cumulative(const std::vector<double>& a);

// log M_ij = A_max(i,j) − A_min(i,j) (indices, not values): the log of Π_{m=min+1..max} λ_m.
inline double log_mask(const std::vector<double>& A, int64_t i, int64_t j) {
  return i >= j ? A[static_cast<size_t>(i)] - A[static_cast<size_t>(j)]
                : A[static_cast<size_t>(j)] - A[static_cast<size_t>(i)];
}

// P ⊙= M for the block of M whose top-left entry is (row0, col0): rows row0.., columns col0..
// Row by row with vectorized exp over contiguous memory (the L^2 exps dominate the full form).
void apply_mask(Eigen::Ref<RowMatrix> P, const std::vector<double>& A, int64_t row0, int64_t col0);

// P = (Q K^T) ⊙ M for one head (L x L): the unscaled implicit attention. Row sums of P are the
// normalizers C_i = q_i^T Σ_j M_ij k_j.
RowMatrix masked_scores(const ConstMatrixView& q, const ConstMatrixView& k,
                        const std::vector<double>& A);

// Applies LION's row scaling in place: rows of `num` divided by c_i when normalize.
// Normalizer zero: a row whose c_i is exactly 0 (e.g. all-zero keys, or q_i = 0) has no
// attention mass at all; its output is defined as 0 (the limit of an empty weighted average)
// instead of 0/0 = NaN. No guard is put on tiny nonzero c_i: with raw (unmapped) q, k the
// normalizer can cancel, and dividing by it is the model's own ill-conditioning.
template <typename Rows>
void scale_rows(Rows&& num, const Eigen::VectorXf& c, bool normalize) {
  if (!normalize) return;
  for (Eigen::Index i = 0; i < num.rows(); ++i) {
    if (c(i) == 0.0f)
      num.row(i).setZero();
    else
      num.row(i) /= c(i);
  }
}

// Where the recurrent sweeps record S^F_t / S^B_t (slots of [B,H,n,Dk,Dv] trace tensors).
struct StateRecord {
  Tensor* forward = nullptr;
  Tensor* backward = nullptr;
  const std::vector<int64_t>* steps = nullptr;
};

// The three bidirectional forms for one head; each writes y (L x Dv) of head bh. The parallel
// form can hand back its row-scaled score matrix, the attention (no second L x L pass).
void parallel_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                   const std::vector<double>& A, bool normalize, MatrixView y,
                   RowMatrix* attention = nullptr);
// y may be null: then the sweeps only record states (used to trace the other forms).
void recurrent_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                    const std::vector<double>& log_decay, bool normalize, MatrixView* y,
                    const StateRecord& record, int64_t bh);
// chunk_states may be null; else slot n of head bh receives the forward state entering chunk n.
void chunkwise_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                    const std::vector<double>& A, int64_t chunk, bool normalize, MatrixView y,
                    Tensor* chunk_states, int64_t bh);

}  // namespace linscope::lion::detail
