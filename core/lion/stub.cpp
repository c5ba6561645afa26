// Placeholder until the forms land: keeps the build whole. Delete when run() is implemented.
#include "core/lion/lion.h"

#include "core/base/error.h"

namespace linscope::lion {

Result run(const ModelSpec& spec, const Inputs&, const RunOptions&) {
  throw Error(describe(spec) + ": not implemented yet");
}

}  // namespace linscope::lion
