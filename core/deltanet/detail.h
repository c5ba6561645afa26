// Internals shared by the DeltaNet forms (MODELS.md §4; Yang et al., arXiv 2406.06484).
#pragma once
#include <cstdint>
#include <vector>

#include "core/base/heads.h"
#include "core/base/inputs.h"
#include "core/base/tensor.h"

namespace linscope::deltanet::detail {

// Checks q, k, v and beta ([B,H,L], every β in [0,1], not NaN) and returns the shape. Keys are
// used as given: the paper requires ||k_t|| = 1 for stability, and the input generator
// normalizes them, but the core does not renormalize silently (a caller studying unnormalized
// keys gets exactly what it asked for).
Shape check_inputs(const Inputs& in);

// Where recorded states go (slots of a [B,H,n,Dk,Dv] tensor) and which steps to record.
struct StateRecord {
  Tensor* states = nullptr;
  const std::vector<int64_t>* steps = nullptr;
};

// One delta-rule step (eq. in MODELS.md §4): S ← S − β k (k^T S − v^T).
template <typename State, typename KRow, typename VRow>
void delta_step(State& S, const KRow& k, const VRow& v, float beta) {
  const Eigen::RowVectorXf err = k * S - v;  // k^T S − v^T (1 x Dv)
  S.noalias() -= (beta * k.transpose()) * err;
}

// Recurrent form, O(L Dk Dv). y may be null (records states only).
void recurrent_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                    const ConstVectorView& beta, MatrixView* y, const StateRecord& record,
                    int64_t bh);

// T = (I + tril(diag(β) K K^T, −1))^{-1} diag(β) for one chunk (n x n, lower triangular), by
// forward substitution on the unit lower-triangular factor (DeltaNet §3, the UT transform).
RowMatrix ut_transform(const Eigen::Ref<const RowMatrix>& K,
                       const Eigen::Ref<const Eigen::VectorXf>& beta);

// Chunkwise WY/UT form with chunk size C (any C >= 1; the last chunk may be short).
// chunk_states may be null; else slot n of head bh receives the state entering chunk n. When
// record.steps is set, states at those steps are recorded by stepping the recurrence from the
// carried state inside the chunk (off the y path).
void chunkwise_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                    const ConstVectorView& beta, int64_t chunk, MatrixView y, Tensor* chunk_states,
                    const StateRecord& record, int64_t bh);

// The implicit attention matrix A with Y = A V: A_ij = β_j q_i^T (Π_{m=j+1..i} (I − β_m k_m k_m^T))
// k_j for j <= i, zero above the diagonal. Built chunk by chunk from the WY/UT factors in O(L^2 Dk)
// (attention.cpp); equal to the one-chunk form (Q K^T ⊙ causal) T.
RowMatrix attention_matrix(const ConstMatrixView& q, const ConstMatrixView& k,
                           const ConstVectorView& beta);

}  // namespace linscope::deltanet::detail
