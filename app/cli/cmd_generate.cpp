// `linscope-cli generate`: write seeded inputs for a model as a safetensors file, the
// starting point of `run` and of round trips.
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "core/engine/generate.h"
#include "core/io/safetensors.h"

namespace linscope::cli {

int cmd_generate(int argc, char** argv) {
  Args a("generate",
         "Writes seeded random inputs (q, k, v and the model's gates) to a "
         "safetensors file.");
  add_model_options(a);
  add_shape_options(a);
  a.option("output", "FILE", "where to write the inputs");
  if (!a.parse(argc, argv)) return 0;
  if (!a.given("output")) throw UsageError{"--output FILE is required"};
  const ModelSpec spec = model_from(a);
  const Inputs in = generate_inputs(spec, shape_from(a), generate_from(a));
  io::write_safetensors(a.get("output"), in.tensors,
                        {{"generator", "linscope-cli generate"}, {"model", describe(spec)}});
  std::cout << "wrote " << in.tensors.size() << " tensors for " << describe(spec) << " to "
            << a.get("output") << "\n";
  return 0;
}

}  // namespace linscope::cli
