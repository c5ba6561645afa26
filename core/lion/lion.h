// LION: bidirectional masked, scaled linear attention, LION-LIT / D / S (MODELS.md §2).
#pragma once
#include "core/base/inputs.h"
#include "core/base/result.h"
#include "core/base/spec.h"

namespace linscope::lion {

// Evaluates the model in opts.form. Throws linscope::Error on a missing or misshapen input.
Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts);

}  // namespace linscope::lion
