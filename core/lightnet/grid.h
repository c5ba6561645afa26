// LightNet on a 2-D grid of tokens, one head (arXiv 2405.21022, "You Only Scan Once";
// MODELS.md §6), and the receptive fields that show why one scan suffices.
//
// The additive recurrence S_t = (δ_{t−1}/δ_t) S_{t−1} + (exp(f_t)/δ_t) k_t v_t^T run over all
// n pixels in any order ends in S_n = Σ_p exp(f_p)/δ_n k_p v_p^T with δ_n = Σ_p exp(f_p): a sum,
// so the same whatever the order. The N-D LightNet reads that final state from every pixel
// (y_p = q_p^T S_n: the global normalization, a softmax of f over the whole grid), so its
// receptive field covers every pixel after ONE scan and does not depend on the scan order.
// A multiplicative decay λ^{distance along the scan} instead sees only what came before in the
// scan, so it needs several directional scans to cover the grid.
//
// Pixels are numbered row-major, p = r·width + c, whatever the scan order; q, k, v hold one
// row per pixel in that numbering, and a scan order is a permutation of pixel numbers.
#pragma once
#include <cstdint>
#include <vector>

#include "core/base/heads.h"
#include "core/base/spec.h"

namespace linscope::lightnet {

struct Grid {
  int64_t height = 1, width = 1;
  int64_t size() const { return height * width; }
};

enum class ScanOrder { RowMajor, ColumnMajor, Snake, Random };

// The pixels in scan order. Snake: row-major with every other row reversed (boustrophedon).
// Random: a seeded permutation.
std::vector<int64_t> scan_order(const Grid& grid, ScanOrder order, uint64_t seed = 0);

struct GridInputs {
  Grid grid;
  RowMatrix q, k;              // [n, Dk], row p = pixel p
  RowMatrix v;                 // [n, Dv]
  Eigen::VectorXd log_weight;  // [n], f_p (one weight per pixel)
};

// Seeded inputs: q, k through LION's positive feature map (as the 1-D generator does),
// v and f standard normal.
GridInputs random_grid_inputs(const Grid& grid, int64_t Dk, int64_t Dv, uint64_t seed);

struct GridResult {
  RowMatrix y;          // [n, Dv], row p = pixel p
  RowMatrix attention;  // [n, n] when asked: y = attention · v
};

// Throws linscope::Error naming what is wrong: a grid side below 1, q, k, v or log_weight
// without one row per pixel, q and k of different widths, a non-finite log weight, or an order
// that is not a permutation of the pixels. run_grid and the GPU's twin check with it.
void check_grid(const GridInputs& in, const std::vector<int64_t>& order);

// The one-scan N-D LightNet. Form::Recurrent runs the additive recurrence once over the grid in
// `order` and every pixel reads the final state; Form::Parallel forms
// A_{p,p'} = (q_p^T k_p') exp(f_p') / Σ_s exp(f_s) directly. settings.md_lrpe rotates q, k by
// the 2-D position (MD-LRPE, position.h); settings.md_tpe adds the per-axis Toeplitz branch
// (MD-TPE, position.h: q, k, v ← (I + T)·, one fixed-decay scan per axis and tensor); with
// MD-TPE the reported attention is A (I + T), so y = attention · v for the given v.
GridResult run_grid(const GridInputs& in, const std::vector<int64_t>& order, Form form,
                    const LightNetSettings& settings, bool attention = false);

// Ways to give a pixel a receptive field over the grid, for receptive_field().
//  Additive           LightNet, one scan (global normalization: order-independent).
//  Multiplicative1    λ^{s(p) − s(p')} for p' at or before p in one scan order s (causal).
//  Multiplicative2    forward + backward row-major scans (Vim-style bidirectional scan).
//  Multiplicative4    forward/backward × row-/column-major scans (VMamba's cross-scan).
// The directional scans are combined by summing their outputs, as Vim and VMamba's cross-merge
// do, so a pixel's own token is counted once per scan.
enum class Approach { Additive, Multiplicative1, Multiplicative2, Multiplicative4 };

// Scans over the n tokens' states each approach needs: 1, 1, 2, 4. MD-LRPE costs none (it is
// a per-token rotation); MD-TPE adds one cheap scan per axis (N = 2) over feature vectors, not
// over Dk×Dv states (per q, k and v), reported separately by tpe_scans().
int64_t state_scans(Approach approach);
int64_t tpe_scans(const LightNetSettings& settings, int64_t axes = 2);

struct ReceptiveFieldOptions {
  Approach approach = Approach::Additive;
  double lambda = 0.9;         // multiplicative decay per scan step
  std::vector<int64_t> order;  // the scan of Multiplicative1 (empty: row-major)
  LightNetSettings settings;   // MD-TPE / MD-LRPE on or off (for every approach)
};

// The attention weights A_{p, ·} of pixel `query` as a height × width map.
RowMatrixD receptive_field(const GridInputs& in, int64_t query, const ReceptiveFieldOptions& o);

}  // namespace linscope::lightnet
