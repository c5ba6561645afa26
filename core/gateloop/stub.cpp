// Placeholder until the forms land: keeps the build whole. Delete when run() is implemented.
#include "core/gateloop/gateloop.h"

#include "core/base/error.h"

namespace linscope::gateloop {

Result run(const ModelSpec& spec, const Inputs&, const RunOptions&) {
  throw Error(describe(spec) + ": not implemented yet");
}

}  // namespace linscope::gateloop
