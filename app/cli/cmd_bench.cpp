// Placeholder until the GPU benchmark lands (gpu/).
#include "app/cli/commands.h"
#include "core/base/error.h"

namespace linscope::cli {
int cmd_bench(int, char**) {
  throw Error("bench: not implemented yet");
}
}  // namespace linscope::cli
