#include "widgets/md/md_compute.h"

#include <algorithm>

#include "core/lightnet/grid_timing.h"
#ifdef LINSCOPE_HAVE_CUDA
#include "gpu/grid_timing.h"
#endif

namespace linscope::widgets {

using namespace lightnet;

MdResult compute_md(const MdRequest& r) {
  MdResult out;
  out.grid = r.grid;
  try {
    const Grid g{r.grid, r.grid};
    std::vector<float> img = r.image.empty() ? synthetic_pattern(g, r.pattern) : r.image;
    const GridInputs in = r.random_features ? random_grid_inputs(g, r.dk, r.dv, r.seed)
                                            : image_grid_inputs(img, g, r.dk, r.dv, r.seed);
    out.intensity = Eigen::Map<const Eigen::Matrix<float, -1, -1, Eigen::RowMajor>>(
                        img.data(), g.height, g.width)
                        .cast<double>();
    const int64_t query = int64_t(std::clamp(r.query_row, 0, r.grid - 1)) * r.grid +
                          std::clamp(r.query_col, 0, r.grid - 1);
    const Approach approaches[4] = {Approach::Additive, Approach::Multiplicative1,
                                    Approach::Multiplicative2, Approach::Multiplicative4};
    for (int a = 0; a < 4; ++a) {
      ReceptiveFieldOptions o;
      o.approach = approaches[a];
      o.lambda = r.lambda;
      o.settings = r.settings;
      out.field[a] = receptive_field(in, query, o);
    }
    const auto order = scan_order(g, r.order, r.seed);
    const int64_t n = g.size();
    for (int f = 1; f <= r.frames; ++f) {
      const int64_t step = std::max<int64_t>(1, n * f / r.frames);
      if (out.frame_steps.empty() || step > out.frame_steps.back()) out.frame_steps.push_back(step);
    }
    for (int64_t s : out.frame_steps) {
      out.frame_weights_additive.push_back(scan_weights(in, order, true, 0, s));
      out.frame_weights_multiplicative.push_back(scan_weights(in, order, false, r.lambda, s));
    }
    out.frame_states = scan_states(in, order, true, 0, out.frame_steps);
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

QVector<MdTiming> time_md(const QVector<int>& grids, int dk, int dv, int repetitions,
                          QString* gpu_note) {
  const std::vector<int64_t> sides(grids.begin(), grids.end());
  std::vector<GridTiming> rows = time_grid_cpu(sides, dk, dv, repetitions);
  QString note;
#ifdef LINSCOPE_HAVE_CUDA
  try {
    const auto g = gpu::time_grid_gpu(sides, dk, dv, repetitions);
    rows.insert(rows.end(), g.begin(), g.end());
  } catch (const std::exception& e) {
    note = QString("GPU timings: %1").arg(e.what());
  }
#else
  note = "GPU timings: this build has no CUDA backend";
#endif
  if (gpu_note) *gpu_note = note;
  QVector<MdTiming> out;
  for (const auto& r : rows)
    out.push_back({QString::fromStdString(r.approach), int(r.side),
                   QString::fromStdString(r.backend), r.ms, QString::fromStdString(r.note)});
  return out;
}

}  // namespace linscope::widgets
