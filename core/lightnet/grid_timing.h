// Timings of LightNet's one additive scan against multiplicative decay run in 1, 2 and 4 scan
// directions on an N x N grid (issue 7): the CPU timings here, the GPU's in gpu/grid_timing.h,
// in the same rows so the multi-dimensional view and `linscope-cli grid` print them side by side.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace linscope::lightnet {

struct GridTiming {
  std::string approach;  // "additive (LightNet), 1 scan", "multiplicative, 4 scans", ...
  int64_t side = 0;      // the grid is side x side tokens
  std::string backend;   // "CPU" or the GPU's name
  double ms = 0;         // median
  std::string note;      // how it was timed
};

// The approaches in the order they are reported, with their scan counts.
struct GridApproach {
  const char* name;
  int scans;
  bool additive;
};
const std::vector<GridApproach>& grid_approaches();

// Median wall-clock milliseconds of `repetitions` calls of fn after one untimed warm-up call.
double median_wall_ms(int repetitions, const std::function<void()>& fn);

// Median of `repetitions` wall-clock runs of each approach on random inputs (seeded) of
// Dk x Dv heads, one thread per run as the core computes one head.
std::vector<GridTiming> time_grid_cpu(const std::vector<int64_t>& sides, int64_t Dk, int64_t Dv,
                                      int repetitions);

}  // namespace linscope::lightnet
