// DeltaNet: the delta rule, recurrent and chunkwise WY/UT (MODELS.md §4).
#pragma once
#include "core/base/inputs.h"
#include "core/base/result.h"
#include "core/base/spec.h"

namespace linscope::deltanet {

// Evaluates the model in opts.form. Inputs: q, k [B,H,L,Dk], v [B,H,L,Dv], beta [B,H,L] in [0,1].
// Keys should be L2-normalized (the paper's stability condition); they are used as given, never
// renormalized here. Forms: Recurrent O(L·Dk·Dv); Chunkwise (WY/UT, any chunk >= 1) O(L·C·(Dk+Dv)
// + L·Dk·Dv); Parallel, Y = A V with the implicit attention matrix A built chunk by chunk from
// the WY/UT factors, O(L^2·Dk) (for inspection at moderate L). spec.normalize is not used.
// opts.attention gives A with Y = A V from any form; traces give S_t at the recorded steps and,
// for Chunkwise, chunk_states (the state entering each chunk).
// Throws linscope::Error naming the tensor on a missing, misshapen or out-of-range input.
Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts);

}  // namespace linscope::deltanet
