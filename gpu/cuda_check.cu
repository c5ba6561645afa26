#include "gpu/cuda_check.h"

#include <atomic>

namespace linscope::gpu {

void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  throw BackendError(std::string(what) + ": " + cudaGetErrorString(status));
}

int multiprocessor_count() {
  int device = 0, sms = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device),
        "cudaDeviceGetAttribute(multiprocessors)");
  return sms;
}

namespace {
std::atomic<bool> g_inject_launch_failure{false};
__global__ void empty_kernel() {}
}  // namespace

void check_launch(const char* kernel) {
  if (g_inject_launch_failure.load(std::memory_order_relaxed))
    throw BackendError(std::string(kernel) + ": launch failed (injected by a test)");
  check(cudaGetLastError(), kernel);
}

void inject_launch_failure(bool on) {
  g_inject_launch_failure.store(on);
}

void probe_launch(int threads) {
  empty_kernel<<<1, static_cast<unsigned>(threads)>>>();
  check_launch("probe_launch");
  check(cudaDeviceSynchronize(), "probe_launch (synchronize)");
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
