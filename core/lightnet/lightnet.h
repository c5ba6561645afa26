// LightNet: additive recurrence, 1-D and multi-dimensional (MODELS.md §6).
#pragma once
#include "core/base/inputs.h"
#include "core/base/result.h"
#include "core/base/spec.h"

namespace linscope::lightnet {

// Evaluates the model in opts.form. Throws linscope::Error on a missing or misshapen input.
Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts);

}  // namespace linscope::lightnet
