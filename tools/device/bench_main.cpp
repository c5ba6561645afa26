// A stand-alone `bench` for the device machine, for when linscope-cli does not build there
// (other subcommands' dependencies): the same cmd_bench(), its own main.
#include <cstdio>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/base/error.h"

int main(int argc, char** argv) {
  try {
    return linscope::cli::cmd_bench(argc - 1, argv + 1);
  } catch (const linscope::cli::UsageError& e) {
    std::fprintf(stderr, "bench: %s\n", e.message.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench: error: %s\n", e.what());
    return 1;
  }
}
