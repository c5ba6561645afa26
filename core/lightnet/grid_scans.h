// What the multi-dimensional view animates and times: directional multiplicative scans over a
// grid (the baseline LightNet's one additive scan replaces), the states a scan passes through,
// and grid inputs made from an image or a synthetic pattern.
#pragma once
#include <cstdint>
#include <vector>

#include "core/lightnet/grid.h"

namespace linscope::lightnet {

// The scan orders an approach runs: Additive and Multiplicative1 one row-major scan;
// Multiplicative2 row-major forward and backward; Multiplicative4 also column-major both ways.
std::vector<std::vector<int64_t>> approach_orders(const Grid& grid, Approach approach);

// y over the grid for a multiplicative decay λ run as the approach's directional scans, each
// S ← λ S + k v^T, y_p = q_p^T S read when the scan reaches p, summed over the scans (Vim /
// VMamba combine their directions by summing). With MD-TPE / MD-LRPE applied as in run_grid.
RowMatrix run_directional(const GridInputs& in, Approach approach, double lambda,
                          const LightNetSettings& settings);

// The Dk×Dv state after the first `steps[i]` tokens of `order` (steps ascending, each in
// [1, n]): additive (LightNet: S_t = (δ_{t−1}/δ_t) S_{t−1} + (e^{f_t}/δ_t) k v^T) or
// multiplicative (S_t = λ S_{t−1} + k v^T). One pass, so the animation costs O(n·Dk·Dv).
std::vector<RowMatrix> scan_states(const GridInputs& in, const std::vector<int64_t>& order,
                                   bool additive, double lambda, const std::vector<int64_t>& steps);

// The weight each pixel has in the state after the first `steps` tokens of `order`, as an
// H × W map (0 for pixels not yet scanned): additive e^{f_p}/δ_t, multiplicative λ^{t − s(p)}.
RowMatrixD scan_weights(const GridInputs& in, const std::vector<int64_t>& order, bool additive,
                        double lambda, int64_t steps);

enum class Pattern { Checkerboard, Rings, Gradient, Blobs };
// Intensities in [0, 1], row-major, height × width.
std::vector<float> synthetic_pattern(const Grid& grid, Pattern pattern);

// Inputs whose features come from pixel intensities I_p in [0, 1]: q_p, k_p = φ(W [I_p, 1 − I_p,
// row/H, col/W] + small seeded noise) with LION's positive feature map φ, v_p = W_v [I_p, 1],
// and f_p = 2 I_p, so bright pixels weigh more in the additive sum. W, W_v are seeded.
GridInputs image_grid_inputs(const std::vector<float>& intensity, const Grid& grid, int64_t Dk,
                             int64_t Dv, uint64_t seed);

}  // namespace linscope::lightnet
