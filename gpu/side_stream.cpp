#include "gpu/side_stream.h"

#include "gpu/cuda_check.h"

namespace linscope::gpu {
namespace {

// The stream and event of this host thread, for one device at a time (recreated when the thread
// moves to another device). One event serves every hand-over: cudaStreamWaitEvent waits for the
// record that precedes it, so recording the event again later does not disturb earlier waits.
struct ThreadSide {
  int device = -1;
  cudaStream_t stream = nullptr;
  cudaEvent_t event = nullptr;

  void reset() noexcept {
    if (event) cudaEventDestroy(event);
    if (stream) cudaStreamDestroy(stream);
    event = nullptr;
    stream = nullptr;
    device = -1;
  }
  ~ThreadSide() { reset(); }

  void ensure() {
    int current = 0;
    check(cudaGetDevice(&current), "cudaGetDevice");
    if (current == device) return;
    reset();
    int least = 0, greatest = 0;  // greatest priority = numerically least
    check(cudaDeviceGetStreamPriorityRange(&least, &greatest), "cudaDeviceGetStreamPriorityRange");
    check(cudaStreamCreateWithPriority(&stream, cudaStreamNonBlocking, greatest),
          "cudaStreamCreateWithPriority (side stream)");
    const cudaError_t e = cudaEventCreateWithFlags(&event, cudaEventDisableTiming);
    if (e != cudaSuccess) reset();
    check(e, "cudaEventCreate (side stream)");
    device = current;
  }
};

ThreadSide& thread_side() {
  thread_local ThreadSide side;
  side.ensure();
  return side;
}

}  // namespace

SideStream::SideStream(cudaStream_t main) : main_(main) {
  ThreadSide& t = thread_side();
  side_ = t.stream;
  event_ = t.event;
  side_waits();
}

SideStream::~SideStream() {
  if (cudaEventRecord(event_, side_) == cudaSuccess) cudaStreamWaitEvent(main_, event_, 0);
}

void SideStream::side_waits() {
  check(cudaEventRecord(event_, main_), "cudaEventRecord (fork)");
  check(cudaStreamWaitEvent(side_, event_, 0), "cudaStreamWaitEvent (fork)");
}

void SideStream::main_waits() {
  check(cudaEventRecord(event_, side_), "cudaEventRecord (join)");
  check(cudaStreamWaitEvent(main_, event_, 0), "cudaStreamWaitEvent (join)");
}

}  // namespace linscope::gpu
