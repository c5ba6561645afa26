// Checked CUDA calls and RAII device memory. Every failure becomes linscope::BackendError so
// that run_with_fallback() computes on the CPU instead of aborting.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <stdexcept>  // core/engine/backend.h uses std::runtime_error
#include <string>
#include <utility>

#include "core/engine/backend.h"

namespace linscope::gpu {

// Throws BackendError("<what>: <CUDA's message>") when status is not cudaSuccess.
void check(cudaError_t status, const char* what);
// Streaming multiprocessors of the current device (launchers size their grids by it).
int multiprocessor_count();
// After a kernel launch: the launch error (bad configuration) if any.
void check_launch(const char* kernel);

// Failure paths, for the GPU tests (issue 8): while on, every check_launch reports a launch
// error, so the fallback to the CPU can be exercised end to end without a broken kernel.
void inject_launch_failure(bool on);
// Launches an empty kernel with `threads` per block and checks it like every launcher does;
// threads > 1024 is a real invalid-configuration launch error.
void probe_launch(int threads);

// Device memory owned by one object. Allocation failure names the size and the free memory:
// "GPU out of memory: needed 512 MiB, 120 MiB free".
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes) { allocate(bytes); }
  ~DeviceBuffer() { release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }

  // Keeps the memory when it is already large enough (workspaces reused across timed runs).
  void ensure(size_t bytes) {
    if (bytes > bytes_) allocate(bytes);
  }
  void allocate(size_t bytes);
  void release() noexcept;

  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// A non-blocking CUDA stream owned by one object (one per model run).
class Stream {
 public:
  Stream() { check(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), "cudaStreamCreate"); }
  ~Stream() {
    if (s_) cudaStreamDestroy(s_);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return s_; }

 private:
  cudaStream_t s_ = nullptr;
};

}  // namespace linscope::gpu
