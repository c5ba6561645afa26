// Placeholder until the forms land: keeps the build whole. Delete when run() is implemented.
#include "core/lcsm/lcsm.h"

#include "core/base/error.h"

namespace linscope::lcsm {

Inputs build_inputs(const LcsmSettings&, const Shape&, uint64_t) {
  throw Error("LCSM builder: not implemented yet");
}

Result run(const ModelSpec& spec, const Inputs&, const RunOptions&) {
  throw Error(describe(spec) + ": not implemented yet");
}

}  // namespace linscope::lcsm
