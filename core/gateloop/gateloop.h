// GateLoop: complex diagonal data-controlled transitions (MODELS.md §3).
#pragma once
#include "core/base/inputs.h"
#include "core/base/result.h"
#include "core/base/spec.h"

namespace linscope::gateloop {

// Evaluates the model in opts.form. Inputs: q, k [B,H,L,Dk], v [B,H,L,Dv], log_magnitude and
// phase [B,H,L,Dk] with a_t = exp(log_magnitude + i·phase); log_magnitude must be <= 0 (|a| <= 1).
// Forms: Recurrent O(L·Dk·Dv); Scan, a Brent–Kung parallel-prefix scan per state row (memory
// O(L·Dv) per head at a time); Parallel, the surrogate attention O(L^2·Dk). GateLoop has no
// normalizer: spec.normalize is not used. opts.attention gives the causal real matrix
// A_ij = Σ_c q_ic k_jc exp(ΔL_c) cos(ΔΦ_c); opts.trace.states gives Re(S_t) in trace.states and
// Im(S_t) in trace.states_imag.
// Throws linscope::Error naming the tensor on a missing, misshapen or out-of-range input.
Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts);

}  // namespace linscope::gateloop
