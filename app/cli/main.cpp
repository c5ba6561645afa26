// linscope-cli: the headless face of linscope. No Qt Widgets.
#include <cstring>
#include <iostream>
#include <new>
#include <string>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/base/error.h"

namespace {

const char* kUsage =
    "usage: linscope-cli COMMAND [options]   (linscope-cli COMMAND --help for its options)\n"
    "\n"
    "commands:\n"
    "  generate   write seeded inputs for a model to a safetensors file\n"
    "  run        run one model in one form: input file -> output file\n"
    "  forms      run every form of a model and compare each with the reference form\n"
    "  scaling    time each CPU form over L and print the measured scaling exponent\n"
    "  inspect    summarize a checkpoint: architecture, tensors, decay patterns\n"
    "  bench      time forms on the GPU against the device's measured ceilings;\n"
    "             bench --sweep: the profiler's sweep with --json/--csv output\n"
    "  grid       LightNet's one 2-D scan vs 1/2/4 multiplicative scans, CPU and GPU\n"
    "  demo       the headless demo: a tour of the forms of every model\n";

}  // namespace

namespace linscope::cli {
int cmd_scaling(int argc, char** argv);
int cmd_demo(int argc, char** argv);
int cmd_grid(int argc, char** argv);
int cmd_bench_sweep(int argc, char** argv);
}  // namespace linscope::cli

int main(int argc, char** argv) {
  using namespace linscope::cli;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  try {
    if (command == "generate") return cmd_generate(argc - 2, argv + 2);
    if (command == "run") return cmd_run(argc - 2, argv + 2);
    if (command == "forms") return cmd_forms(argc - 2, argv + 2);
    if (command == "scaling") return cmd_scaling(argc - 2, argv + 2);
    if (command == "inspect") return cmd_inspect(argc - 2, argv + 2);
    if (command == "bench") {
      // The sweep (any backend, wall-clock) and the GPU kernel benchmark (CUDA events, measured
      // ceilings) share the command name; --sweep picks the former.
      for (int i = 2; i < argc; ++i)
        if (!std::strcmp(argv[i], "--sweep")) return cmd_bench_sweep(argc - 2, argv + 2);
      return cmd_bench(argc - 2, argv + 2);
    }
    if (command == "demo") return cmd_demo(argc - 2, argv + 2);
    if (command == "grid") return cmd_grid(argc - 2, argv + 2);
    std::cerr << "linscope-cli: error: unknown command '" << command << "'\n" << kUsage;
    return 2;
  } catch (const UsageError& e) {
    std::cerr << "linscope-cli " << command << ": error: " << e.message << "\n";
    return 2;
  } catch (const linscope::Error& e) {
    std::cerr << "linscope-cli " << command << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "linscope-cli " << command << ": error: out of memory (try a smaller shape)\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "linscope-cli " << command << ": error: " << e.what() << "\n";
    return 1;
  }
}
