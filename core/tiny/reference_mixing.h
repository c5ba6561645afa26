// core/tiny's own evaluation of the sequence mixing of its three model kinds, in the O(L^2)
// attention forms of MODELS.md computed in double. It is what tools/train/model.py trains, and
// a cross-check of (and stand-in for) run_cpu: Mixing::Reference / Mixing::Auto.
#pragma once
#include "core/base/inputs.h"
#include "core/base/result.h"
#include "core/base/spec.h"

namespace linscope::tiny {

// Inputs as run_cpu takes them ([1,H,L,d]; LION log_decay [1,H,L]; GateLoop log_magnitude,
// phase [1,H,L,d]; DeltaNet beta [1,H,L]). Always returns the attention [1,H,L,L].
Result reference_mixing(const ModelSpec& spec, const Inputs& in);

}  // namespace linscope::tiny
