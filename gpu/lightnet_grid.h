// LightNet on a 2-D grid of tokens on the CUDA device: the GPU twin of lightnet::run_grid
// (core/lightnet/grid.h, MODELS.md §6), with the same inputs, forms, encodings and result.
#pragma once
#include <cstdint>
#include <vector>

#include "core/base/spec.h"
#include "core/lightnet/grid.h"

namespace linscope::gpu {

// The one-scan N-D LightNet of one head on the GPU. Form::Recurrent runs the additive
// recurrence once over the pixels in `order` and every pixel reads the final state;
// Form::Parallel forms A_{p,p'} = (q_p^T k_p') e^{f_p' − Z}; MD-TPE / MD-LRPE on the 2-D
// positions as on the CPU; with `attention` the matrix (A (I + T) with MD-TPE). Throws
// linscope::Error for bad input (lightnet::check_grid, before any device work) and
// BackendError when there is no usable GPU or a CUDA call fails (out of memory included), so
// a caller can compute on the CPU instead.
lightnet::GridResult run_grid(const lightnet::GridInputs& in, const std::vector<int64_t>& order,
                              Form form, const LightNetSettings& settings, bool attention = false);

}  // namespace linscope::gpu
