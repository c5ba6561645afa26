// LightNet's grid approaches timed on the GPU, next to time_grid_cpu (core/lightnet/
// grid_timing.h). A directional scan over a grid is a causal linear recurrence over the tokens in
// scan order, so each approach runs the backend's recurrent linear-attention kernel on n = side²
// tokens: the additive one-scan as decay LIT (no decay; LightNet's weights e^{f_t} scale k and
// its normalization divides each output by δ_t, O(n·Dv) work the kernel's cost dwarfs), the
// multiplicative ones as decay D. A GPU runs independent scans at once, so k directions are k
// heads of one launch; the CPU runs them one after another. CUDA-event medians on device-resident
// inputs (gpu/bench.h). After each side's four rows, a fifth: the whole one-scan model,
// gpu::run_grid (gpu/lightnet_grid.h), wall-clock with inputs and y through the host, the
// twin of the CPU's run_grid row.
#pragma once
#include <cstdint>
#include <vector>

#include "core/lightnet/grid_timing.h"

namespace linscope::gpu {

// Throws BackendError when there is no device or a CUDA call fails.
std::vector<lightnet::GridTiming> time_grid_gpu(const std::vector<int64_t>& sides, int64_t Dk,
                                                int64_t Dv, int repetitions);

}  // namespace linscope::gpu
