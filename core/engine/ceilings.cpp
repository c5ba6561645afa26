// The CPU's two ceilings for the profiler's roofline, measured rather than taken from a data
// sheet (METHOD.md: measure the copy bandwidth and a large matrix product once per session).
#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "core/engine/backend.h"

namespace linscope {

Ceilings measure_cpu_ceilings() {
  using clock = std::chrono::steady_clock;
  Ceilings c;
  {
    const size_t n = size_t(256) << 20;
    std::vector<char> a(n, 1), b(n, 0);
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
      const auto t0 = clock::now();
      std::memcpy(b.data(), a.data(), n);
      best = std::min(best, std::chrono::duration<double>(clock::now() - t0).count());
      a[rep] = b[n - 1 - rep];  // keep the copies observable
    }
    c.gbytes_per_s = 2.0 * n / best * 1e-9;  // read + write
  }
  {
    const int n = 1024;
    Eigen::MatrixXf x = Eigen::MatrixXf::Random(n, n), y = Eigen::MatrixXf::Random(n, n), z(n, n);
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
      const auto t0 = clock::now();
      z.noalias() = x * y;
      best = std::min(best, std::chrono::duration<double>(clock::now() - t0).count());
      x(0, 0) = z(1, 1) * 1e-9f;
    }
    c.gflops_per_s = 2.0 * n * n * n / best * 1e-9;
  }
  c.how = "memcpy 256 MiB; Eigen fp32 GEMM 1024^3";
  return c;
}

}  // namespace linscope
