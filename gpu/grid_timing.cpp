#include "gpu/grid_timing.h"

#include <cuda_runtime.h>

#include <string>

#include "core/engine/backend.h"
#include "gpu/bench.h"
#include "gpu/lightnet_grid.h"

namespace linscope::gpu {

std::vector<lightnet::GridTiming> time_grid_gpu(const std::vector<int64_t>& sides, int64_t Dk,
                                                int64_t Dv, int repetitions) {
  int device = 0;
  cudaDeviceProp prop{};
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error of a failed query
    throw BackendError("grid timing: no usable CUDA device");
  }
  const std::string name = prop.name;
  std::vector<lightnet::GridTiming> out;
  for (int64_t side : sides) {
    for (const auto& a : lightnet::grid_approaches()) {
      BenchCase c;
      c.spec.family = Family::LinearAttention;
      c.spec.decay = a.additive ? Decay::LIT : Decay::D;
      c.spec.direction = Direction::Causal;
      c.opts.form = Form::Recurrent;
      c.B = 1;
      c.H = a.scans;  // independent directions run side by side
      c.L = side * side;
      c.Dk = Dk;
      c.Dv = Dv;
      c.warmup = 2;
      c.reps = repetitions;
      const BenchResult r = run_bench_case(c);
      out.push_back({a.name, side, name, r.ms,
                     a.scans > 1 ? std::to_string(a.scans) + " scans as heads of one launch"
                                 : std::string("recurrent kernel")});
    }
    // The whole one-scan model as a user calls it, the twin of the CPU's run_grid row: weights
    // in log space, the scan in order, y back in pixel order, inputs and y through the host.
    const lightnet::Grid g{side, side};
    const lightnet::GridInputs in = lightnet::random_grid_inputs(g, Dk, Dv, 0);
    const auto order = lightnet::scan_order(g, lightnet::ScanOrder::RowMajor);
    const double ms = lightnet::median_wall_ms(
        repetitions, [&] { gpu::run_grid(in, order, Form::Recurrent, {}); });
    out.push_back({std::string(lightnet::grid_approaches()[0].name) + ", whole model", side, name,
                   ms, "gpu::run_grid, recurrent form, host in and out"});
  }
  return out;
}

}  // namespace linscope::gpu
