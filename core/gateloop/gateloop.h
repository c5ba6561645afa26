// GateLoop: complex diagonal data-controlled transitions (MODELS.md §3).
#pragma once
#include "core/base/inputs.h"
#include "core/base/result.h"
#include "core/base/spec.h"

namespace linscope::gateloop {

// Evaluates the model in opts.form. Throws linscope::Error on a missing or misshapen input.
Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts);

}  // namespace linscope::gateloop
