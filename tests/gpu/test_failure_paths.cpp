// GPU failure paths (issue 8), on the GPU machine: a real launch error becomes a BackendError
// naming the kernel and leaves the device usable; a failing launch inside a model run falls
// back to the CPU with the reason, giving the CPU's answer. (Out of memory: test_backend.cpp;
// no device: CudaBackendDiscovery and every GpuTest's skip.)
#include <gtest/gtest.h>

#include <string>

#include "core/engine/run.h"
#include "gpu/cuda_check.h"
#include "gpu_test_util.h"

namespace linscope::gpu_test {
namespace {

ModelSpec la_d() {
  ModelSpec s;
  s.family = Family::LinearAttention;
  s.decay = Decay::D;
  return s;
}

TEST_F(GpuTest, InvalidLaunchIsABackendErrorAndTheDeviceStaysUsable) {
  try {
    gpu::probe_launch(4096);  // more threads per block than any GPU allows
    FAIL() << "a 4096-thread block launched";
  } catch (const BackendError& e) {
    EXPECT_NE(std::string(e.what()).find("probe_launch"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(gpu::probe_launch(128));
  const Inputs in = generate_inputs(la_d(), Shape{1, 2, 64, 16, 16}, GenerateOptions{3});
  RunOptions o;
  o.form = Form::Recurrent;
  const Tensor y = gpu().run(la_d(), in, o).y;
  // fp32 against the CPU core: 1e-4 relative (the suite's fp32 tolerance).
  EXPECT_LE(compare(y, run_cpu(la_d(), in, o).y).max_rel, 1e-4);
}

TEST_F(GpuTest, ALaunchFailureFallsBackToTheCpuWithTheReason) {
  const Inputs in = generate_inputs(la_d(), Shape{1, 2, 64, 16, 16}, GenerateOptions{4});
  RunOptions o;
  o.form = Form::Chunkwise;
  o.chunk = 16;
  gpu::inject_launch_failure(true);
  std::string why;
  Result r;
  try {
    r = run_with_fallback(gpu(), la_d(), in, o, &why);
  } catch (...) {
    gpu::inject_launch_failure(false);
    throw;
  }
  gpu::inject_launch_failure(false);
  EXPECT_NE(why.find("launch failed"), std::string::npos) << why;
  // The CPU computed it: bit-identical to a CPU run of the same request.
  const Tensor cpu = run_cpu(la_d(), in, o).y;
  ASSERT_EQ(r.y.numel(), cpu.numel());
  for (int64_t i = 0; i < cpu.numel(); ++i) ASSERT_EQ(r.y[i], cpu[i]) << i;
  // And the GPU works again once the failure is gone.
  EXPECT_LE(compare(gpu().run(la_d(), in, o).y, cpu).max_rel, 1e-4);
}

}  // namespace
}  // namespace linscope::gpu_test
