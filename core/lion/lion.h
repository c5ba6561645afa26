// LION: bidirectional masked, scaled linear attention, LION-LIT / D / S (MODELS.md §2).
//
// Inputs: q, k [B,H,L,Dk], v [B,H,L,Dv], log_decay [B,H,L] (log λ_t; absent means λ = 1, i.e.
// LION-LIT). spec.normalize selects LION's row scaling Y = C^{-1} (QK^T ⊙ M) V (the LION
// default); without it the forms return the unscaled masked attention (QK^T ⊙ M) V.
// spec.direction == Causal is causal masked linear attention (MODELS.md §1) and is delegated
// to linear_attention::run. Bidirectional forms: Parallel (full attention, the reference),
// Recurrent (forward + backward RNN, LION Part II), Chunkwise (LION Part III).
#pragma once
#include <cstdint>

#include "core/base/heads.h"
#include "core/base/inputs.h"
#include "core/base/result.h"
#include "core/base/spec.h"

namespace linscope::lion {

// Evaluates the model in opts.form. Throws linscope::Error on a missing or misshapen input.
Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts);

// The bidirectional mask of one head (bh = b*H + h), for the views:
//   full     M,   M_ij = Π_{m=min(i,j)+1..max(i,j)} λ_m, M_ii = 1
//   forward  M^F, the lower triangle of M including the diagonal
//   backward M^B, the upper triangle of M including the diagonal
// so that M = M^F + M^B − I holds exactly (MODELS.md §2).
struct MaskParts {
  RowMatrix full, forward, backward;
};
MaskParts mask_parts(const Inputs& in, int64_t bh);

}  // namespace linscope::lion
