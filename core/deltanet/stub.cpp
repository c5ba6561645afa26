// Placeholder until the forms land: keeps the build whole. Delete when run() is implemented.
#include "core/deltanet/deltanet.h"

#include "core/base/error.h"

namespace linscope::deltanet {

Result run(const ModelSpec& spec, const Inputs&, const RunOptions&) {
  throw Error(describe(spec) + ": not implemented yet");
}

}  // namespace linscope::deltanet
