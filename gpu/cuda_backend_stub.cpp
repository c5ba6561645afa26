// Placeholder until the kernels land. Delete then.
#include "gpu/cuda_backend.h"

namespace linscope::gpu {

std::unique_ptr<Backend> make_cuda_backend(std::string* why) {
  if (why) *why = "the CUDA backend is not implemented yet";
  return nullptr;
}

}  // namespace linscope::gpu
