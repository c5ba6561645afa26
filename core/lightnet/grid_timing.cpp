#include "core/lightnet/grid_timing.h"

#include <algorithm>
#include <chrono>

#include "core/base/error.h"
#include "core/lightnet/grid.h"
#include "core/lightnet/grid_scans.h"

namespace linscope::lightnet {

const std::vector<GridApproach>& grid_approaches() {
  static const std::vector<GridApproach> a = {{"additive (LightNet), 1 scan", 1, true},
                                              {"multiplicative, 1 scan", 1, false},
                                              {"multiplicative, 2 scans", 2, false},
                                              {"multiplicative, 4 scans", 4, false}};
  return a;
}

double median_wall_ms(int repetitions, const std::function<void()>& fn) {
  // profile::median sits above this library (profile -> engine -> lightnet), hence the upper
  // median of an odd count here; repetitions are few and odd by default.
  if (repetitions < 1) throw Error("grid timing: repetitions must be at least 1");
  using clock = std::chrono::steady_clock;
  std::vector<double> ms;
  fn();  // warm-up, not counted: first-touch page faults, thread-pool start-up, allocations
  for (int i = 0; i < repetitions; ++i) {
    const auto t0 = clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

std::vector<GridTiming> time_grid_cpu(const std::vector<int64_t>& sides, int64_t Dk, int64_t Dv,
                                      int repetitions) {
  if (repetitions < 1) throw Error("grid timing: repetitions must be at least 1");
  std::vector<GridTiming> out;
  for (int64_t side : sides) {
    if (side < 1) throw Error("grid timing: grid side must be at least 1");
    const Grid g{side, side};
    const GridInputs in = random_grid_inputs(g, Dk, Dv, 0);
    const auto order = scan_order(g, ScanOrder::RowMajor);
    const Approach mult[] = {Approach::Multiplicative1, Approach::Multiplicative2,
                             Approach::Multiplicative4};
    const auto& names = grid_approaches();
    out.push_back({names[0].name, side, "CPU",
                   median_wall_ms(repetitions, [&] { run_grid(in, order, Form::Recurrent, {}); }),
                   "run_grid, recurrent form"});
    for (int i = 0; i < 3; ++i)
      out.push_back({names[size_t(i) + 1].name, side, "CPU",
                     median_wall_ms(repetitions, [&] { run_directional(in, mult[i], 0.9, {}); }),
                     "run_directional, scans one after another"});
  }
  return out;
}

}  // namespace linscope::lightnet
