// Placeholder until the reader lands: keeps the build whole. Delete when implemented.
#include "core/base/error.h"
#include "core/io/safetensors.h"

namespace linscope::io {

Inputs read_inputs(const std::string& path) {
  throw Error(path + ": safetensors reader not implemented yet");
}
void write_safetensors(const std::string& path, const std::map<std::string, Tensor>&,
                       const std::map<std::string, std::string>&) {
  throw Error(path + ": safetensors writer not implemented yet");
}

}  // namespace linscope::io
