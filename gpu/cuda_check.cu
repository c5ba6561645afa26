#include "gpu/cuda_check.h"

namespace linscope::gpu {

void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  throw BackendError(std::string(what) + ": " + cudaGetErrorString(status));
}

void check_launch(const char* kernel) {
  check(cudaGetLastError(), kernel);
}

void DeviceBuffer::allocate(size_t bytes) {
  release();
  if (bytes == 0) return;
  const cudaError_t status = cudaMalloc(&ptr_, bytes);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // not sticky: clear it so later calls in this context still work
    ptr_ = nullptr;
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    throw BackendError("GPU out of memory: needed " +
                       std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB, " +
                       std::to_string(free_b >> 20) + " MiB free");
  }
  if (status != cudaSuccess) ptr_ = nullptr;
  check(status, "cudaMalloc");
  bytes_ = bytes;
}

void DeviceBuffer::release() noexcept {
  if (ptr_) cudaFree(ptr_);  // errors here cannot be reported from a destructor; ignored
  ptr_ = nullptr;
  bytes_ = 0;
}

}  // namespace linscope::gpu
