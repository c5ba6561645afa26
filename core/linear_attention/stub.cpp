// Placeholder until the forms land: keeps the build whole. Delete when run() is implemented.
#include "core/linear_attention/linear_attention.h"

#include "core/base/error.h"

namespace linscope::linear_attention {

Result run(const ModelSpec& spec, const Inputs&, const RunOptions&) {
  throw Error(describe(spec) + ": not implemented yet");
}

}  // namespace linscope::linear_attention
