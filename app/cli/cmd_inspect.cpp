// Placeholder until the checkpoint reader lands (core/checkpoint/).
#include "app/cli/commands.h"
#include "core/base/error.h"

namespace linscope::cli {
int cmd_inspect(int, char**) {
  throw Error("inspect: not implemented yet");
}
}  // namespace linscope::cli
