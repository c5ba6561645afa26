// The CUDA backend behind core/engine/backend.h. Plain C++ header (no CUDA types), so the
// engine and the CLI include it without nvcc.
#pragma once
#include <memory>
#include <stdexcept>  // BackendError derives from std::runtime_error
#include <string>

#include "core/engine/backend.h"

namespace linscope::gpu {

// A backend on the first CUDA device, or nullptr with *why set ("no CUDA device found",
// "CUDA driver is older than the runtime", ...). Never throws, never aborts.
std::unique_ptr<Backend> make_cuda_backend(std::string* why);

}  // namespace linscope::gpu
