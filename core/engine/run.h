// The CPU core's single entry point: any model, any of its forms.
#pragma once
#include "core/base/inputs.h"
#include "core/base/result.h"
#include "core/base/spec.h"

namespace linscope {

// Validates (shapes, finiteness, that the model has the form) and dispatches to the family.
// Throws linscope::Error with a message naming what is wrong.
Result run_cpu(const ModelSpec& spec, const Inputs& in, const RunOptions& opts);

// Rounds every value to the nearest bfloat16 (ties to even), kept in float32 storage.
void round_to_bf16(Tensor& t);

}  // namespace linscope
