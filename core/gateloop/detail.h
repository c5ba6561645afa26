// Internals shared by the GateLoop forms (MODELS.md §3, GateLoop arXiv 2311.01927 eq. 1–4).
// The transition a_t = exp(log_magnitude_t + i·phase_t) is never formed as a running product:
// every form adds log-magnitudes (double) and phases (double) and exponentiates differences.
#pragma once
#include <cstdint>
#include <vector>

#include "core/base/heads.h"
#include "core/base/inputs.h"
#include "core/base/tensor.h"

namespace linscope::gateloop::detail {

// Checks q, k, v, log_magnitude and phase (shapes [B,H,L,Dk], log_magnitude <= 0, i.e. |a| <= 1)
// and returns the shape. Errors name the tensor.
Shape check_inputs(const Inputs& in);

// Where the state trace goes: Re(S_t) and Im(S_t) at the recorded steps (slots of [B,H,n,Dk,Dv]).
struct StateRecord {
  Tensor* real = nullptr;
  Tensor* imag = nullptr;
  const std::vector<int64_t>* steps = nullptr;
};

// Recurrent form, O(L): S_t = diag(a_t) S_{t-1} + k_t v_t^T, y_t = q_t^T Re(S_t) (q real).
// y may be null (then it only records states).
void recurrent_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
                    const ConstMatrixView& log_magnitude, const ConstMatrixView& phase,
                    MatrixView* y, const StateRecord& record, int64_t bh);

// Associative-scan form (scan.h has the operator). Records states when record.steps is set.
void scan_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
               const ConstMatrixView& log_magnitude, const ConstMatrixView& phase, MatrixView y,
               const StateRecord& record, int64_t bh);

// Surrogate attention (O(L^2 Dk)): A_ij = Re((q_i ⊙ Π_{m=j+1..i} a_m)^H k_j) for j <= i, i.e.
// Σ_c q_ic k_jc |Π a|_c cos(arg Π a)_c. Zero above the diagonal.
RowMatrix surrogate_attention(const ConstMatrixView& q, const ConstMatrixView& k,
                              const ConstMatrixView& log_magnitude, const ConstMatrixView& phase);

}  // namespace linscope::gateloop::detail
