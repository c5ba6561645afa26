// Per-head building blocks of causal linear attention with decay (MODELS.md §1), public so that
// other families (LION's causal half, LCSM) and the GPU backend's CPU reference can reuse them
// without going through Inputs. Every function works on one head: q, k [L,Dk], v [L,Dv] and
// the head's log decays, and writes only that head's slots.
//
//   S_t = diag(λ_t) S_{t-1} + k_t v_t^T,   y_t = q_t^T S_t          (recurrent)
//   normalized: y_t = q_t^T S_t / (q_t^T z_t),  z_t = diag(λ_t) z_{t-1} + k_t
//
// A scalar decay (λ_t ∈ R, LIT / D / S) is the per-channel one with all channels equal.
#pragma once
#include <cstdint>
#include <vector>

#include "core/base/heads.h"
#include "core/base/tensor.h"

namespace linscope::linear_attention {

// log λ_t of one head in double, row-major L x width: width 1 for a scalar decay per step,
// width Dk for a per-channel gate (GLA-like). All zeros is LIT (λ = 1).
struct HeadDecay {
  std::vector<double> log;
  int64_t width = 1;
  double at(int64_t t, int64_t c) const {
    return log[static_cast<size_t>(t * width + (width == 1 ? 0 : c))];
  }
};

// Where a form records S_t: slot i of head bh of `states` [B,H,n,Dk,Dv] gets S at steps[i].
struct StateRecord {
  Tensor* states = nullptr;
  const std::vector<int64_t>* steps = nullptr;
  int64_t bh = 0;
};

// Normalizer zero: when q_t^T z_t == 0 exactly (all-zero keys so far, or q_t = 0) the row has
// no attention mass; every form then outputs y_t = 0 (the empty weighted average) instead of
// 0/0 = NaN. Tiny nonzero normalizers are divided by as they are: that is the model's own
// conditioning (unmapped q, k can make q^T z cancel).

// O(L) state recursion with a Dk x Dv state; records S_t directly when record.states is set.
void recurrent_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                    const HeadDecay& decay, bool normalize, MatrixView y,
                    const StateRecord& record = {});

// P = (Q K^T) ⊙ M with M_ij = exp(A_i − A_j) for i >= j, 0 above the diagonal; per-channel:
// P_ij = Σ_c q_ic k_jc exp(A_ic − A_jc). Rows divided by the normalizer q_i^T z_i = Σ_j P_ij
// when `normalize` (zero normalizer: zero row). This is the implicit attention: Y = P V.
RowMatrix attention_head(const ConstMatrixView& q, const ConstMatrixView& k, const HeadDecay& decay,
                         bool normalize);

// Y = attention_head(q, k, decay, normalize) · V: the O(L^2) parallel form. When `attention`
// is given, the matrix y was computed from is moved there (no second L x L pass; y the same).
void parallel_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                   const HeadDecay& decay, bool normalize, MatrixView y,
                   RowMatrix* attention = nullptr);

// Chunks of `chunk` tokens (any chunk >= 1; chunk > L acts as L): masked attention inside the
// chunk, the carried state between chunks. chunk_states may be null; else slot n of head bh of
// [B,H,n_chunks,Dk,Dv] receives the state entering chunk n (zeros for n = 0).
void chunkwise_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                    const HeadDecay& decay, int64_t chunk, bool normalize, MatrixView y,
                    Tensor* chunk_states = nullptr, int64_t bh = 0);

// S_t at record.steps from the definition S_t = Σ_{j<=t} diag(exp(A_t − A_j)) k_j v_j^T, by
// carrying the sum from one recorded step to the next (O(L·Dk·Dv), no y involved). Used to
// trace the forms that never hold S_t themselves.
void record_states(const ConstMatrixView& k, const ConstMatrixView& v, const HeadDecay& decay,
                   const StateRecord& record);

}  // namespace linscope::linear_attention
