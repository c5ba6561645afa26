// A second stream beside the caller's, for a latency-bound kernel to run under throughput-bound
// ones (DeltaNet's Δ pass, a chain of chunks per head, under the UT transform and the L² product
// of other heads). The side stream has the device's highest priority, so that its blocks are
// placed first as SMs free up. One stream and one event per host thread and device, created on
// first use: runs on different threads never share an event.
#pragma once
#include <cuda_runtime.h>

namespace linscope::gpu {

class SideStream {
 public:
  // Forks: work queued on the side stream from now on follows all work queued on `main` so far.
  explicit SideStream(cudaStream_t main);
  // Joins: work queued on `main` afterwards follows everything queued on the side stream, also
  // when a launch threw, so that no side work outlives the caller's stream. Errors are dropped
  // (a destructor cannot report them; the next checked call will).
  ~SideStream();
  SideStream(const SideStream&) = delete;
  SideStream& operator=(const SideStream&) = delete;

  cudaStream_t get() const { return side_; }
  // The side stream waits for the work queued on main so far.
  void side_waits();
  // Main waits for the work queued on the side stream so far.
  void main_waits();

 private:
  cudaStream_t main_, side_;
  cudaEvent_t event_;
};

}  // namespace linscope::gpu
