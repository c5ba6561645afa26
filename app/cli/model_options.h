// The options that say which model to run, shared by `run`, `forms` and `bench`.
#pragma once
#include "app/cli/args.h"
#include "core/base/inputs.h"
#include "core/base/spec.h"
#include "core/engine/generate.h"

namespace linscope::cli {

void add_model_options(Args& args);
// Throws UsageError for a bad combination (e.g. --direction bidirectional on GateLoop).
ModelSpec model_from(const Args& args);

void add_shape_options(Args& args);
Shape shape_from(const Args& args);
GenerateOptions generate_from(const Args& args);

}  // namespace linscope::cli
