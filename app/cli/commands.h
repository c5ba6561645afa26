// linscope-cli's subcommands. Each takes the arguments after its name and returns the exit
// code; bad usage throws UsageError (exit 2), bad input or files throw linscope::Error (exit 1).
#pragma once

namespace linscope::cli {

int cmd_generate(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_forms(int argc, char** argv);
int cmd_inspect(int argc, char** argv);
int cmd_bench(int argc, char** argv);

}  // namespace linscope::cli
