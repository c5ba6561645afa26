// LCSM: Expand / Oscillation / Shrink (MODELS.md §5).
#pragma once
#include "core/base/inputs.h"
#include "core/base/result.h"
#include "core/base/spec.h"

namespace linscope::lcsm {

// Evaluates the model in opts.form. Throws linscope::Error on a missing or misshapen input.
// The Expand–Oscillation–Shrink builder: inputs q (= Shrink s_t), k (= Expand e_t), v (= the
// input i_t) and log_decay (= log o_t, [B,H,L] or per channel [B,H,L,Dk]) from a seeded random
// token sequence x, each of e, o, s data-dependent (a projection of x) or hand-crafted.
Inputs build_inputs(const LcsmSettings& settings, const Shape& shape, uint64_t seed);

Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts);

}  // namespace linscope::lcsm
