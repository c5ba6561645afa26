// `linscope-cli grid`: LightNet's one additive scan against multiplicative decay run in 1, 2 and
// 4 scan directions on side x side grids, timed on the CPU and, when there is one, the GPU
// (issue 7). Figures only; docs/multidimensional.md records a run.
#include <cstdio>
#include <string>
#include <vector>

#include "app/cli/args.h"
#include "core/base/error.h"
#include "core/lightnet/grid_timing.h"
#ifdef LINSCOPE_HAVE_CUDA
#include "gpu/grid_timing.h"
#endif

namespace linscope::cli {

std::vector<int64_t> parse_int_list(const std::string& s, const std::string& option);

int cmd_grid(int argc, char** argv) {
  Args a("grid",
         "Times LightNet's one additive scan and multiplicative decay in 1, 2 and 4 scan "
         "directions on side x side token grids, on the CPU and the GPU.");
  a.option("sides", "N1,N2,..", "grid sides (the grid is N x N tokens)", "64,256")
      .option("dim", "D", "Dk = Dv of the head", "16")
      .option("repetitions", "N", "timed repetitions (median)", "5")
      .option("backend", "NAME", "cpu | cuda | all", "all");
  if (!a.parse(argc, argv)) return 0;
  const auto sides = parse_int_list(a.get("sides"), "sides");
  const int64_t D = a.get_int("dim", 1, 256);
  const int reps = static_cast<int>(a.get_int("repetitions", 1, 1000));
  const std::string backend = a.get("backend");
  if (backend != "cpu" && backend != "cuda" && backend != "all")
    throw UsageError{"--backend: expected cpu, cuda or all, got '" + backend + "'"};
  std::vector<lightnet::GridTiming> rows;
  if (backend != "cuda") rows = lightnet::time_grid_cpu(sides, D, D, reps);
  std::string gpu_note;
  if (backend != "cpu") {
#ifdef LINSCOPE_HAVE_CUDA
    try {
      const auto g = gpu::time_grid_gpu(sides, D, D, reps);
      rows.insert(rows.end(), g.begin(), g.end());
    } catch (const std::exception& e) {
      gpu_note = e.what();
    }
#else
    gpu_note = "this build has no CUDA backend";
#endif
    if (!gpu_note.empty() && backend == "cuda") throw Error("grid: " + gpu_note);
  }
  std::printf("LightNet grid scans, Dk = Dv = %lld, median of %d\n", static_cast<long long>(D),
              reps);
  std::printf("%-30s %9s %-26s %10s   %s\n", "approach", "grid", "backend", "ms", "how");
  for (const auto& r : rows)
    std::printf("%-30s %4lldx%-4lld %-26s %10.3f   %s\n", r.approach.c_str(),
                static_cast<long long>(r.side), static_cast<long long>(r.side), r.backend.c_str(),
                r.ms, r.note.c_str());
  if (!gpu_note.empty()) std::printf("GPU: not timed (%s)\n", gpu_note.c_str());
  return 0;
}

}  // namespace linscope::cli
