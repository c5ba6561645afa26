// Timing engine of `linscope-cli bench`: CUDA-event timings of the backend's forms on
// device-generated inputs, and the device's own ceilings measured in the same run.
#pragma once
#include <cstdint>
#include <string>

#include "core/base/spec.h"

namespace linscope::gpu {

struct DeviceCeilings {
  double copy_gbytes_per_s = 0;  // device-to-device copy, bytes read + written per second
  double gemm_tflops = 0;        // cuBLAS bf16 GEMM 8192^3, fp32 accumulate
  std::string how;
};
// Throws BackendError when the device or cuBLAS fails.
DeviceCeilings measure_device_ceilings();

struct BenchCase {
  ModelSpec spec;
  RunOptions opts;  // form, chunk
  int64_t B = 8, H = 16, L = 1024, Dk = 128, Dv = 128;
  int warmup = 3, reps = 10;
};

struct BenchResult {
  double ms = 0;  // median over reps
  double ms_min = 0, ms_max = 0;
  double tokens_per_s = 0;
  double bytes = 0;  // fewest bytes the algorithm must move: q, k, v, log λ read, y written
  double flops = 0;  // the algorithm's count (MODELS.md forms; see bench.cu)
  double gbytes_per_s = 0, tflops = 0;
};

// Algorithmic counts, exposed for the tests and the docs.
double bench_flops(const BenchCase& c);
double bench_bytes(const BenchCase& c);

// Times one case (inputs generated on the device, seeded). Throws BackendError.
BenchResult run_bench_case(const BenchCase& c);

}  // namespace linscope::gpu
