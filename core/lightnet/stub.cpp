// Placeholder until the forms land: keeps the build whole. Delete when run() is implemented.
#include "core/lightnet/lightnet.h"

#include "core/base/error.h"

namespace linscope::lightnet {

Result run(const ModelSpec& spec, const Inputs&, const RunOptions&) {
  throw Error(describe(spec) + ": not implemented yet");
}

}  // namespace linscope::lightnet
