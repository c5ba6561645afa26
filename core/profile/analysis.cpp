#include "core/profile/analysis.h"

#include <cmath>
#include <map>

namespace linscope::profile {

std::optional<double> crossover_length(const std::vector<SweepResult>& results, Form fast,
                                       Form slow) {
  const SweepResult* anchor = nullptr;
  for (const auto& r : results)
    if (r.error.empty() && (r.point.form == fast || r.point.form == slow)) {
      anchor = &r;
      break;
    }
  if (!anchor) return std::nullopt;
  auto same_series = [&](const SweepResult& r) {
    return r.error.empty() && describe(r.point.model) == describe(anchor->point.model) &&
           r.point.backend == anchor->point.backend && r.point.shape.Dk == anchor->point.shape.Dk &&
           r.point.shape.H == anchor->point.shape.H;
  };
  std::map<int64_t, double> t_fast, t_slow;
  for (const auto& r : results) {
    if (!same_series(r)) continue;
    if (r.point.form == fast && !t_fast.count(r.point.shape.L))
      t_fast[r.point.shape.L] = r.median_ms;
    if (r.point.form == slow) t_slow[r.point.shape.L] = r.median_ms;
  }
  std::vector<std::pair<double, double>> ratio;  // (L, log(t_fast / t_slow))
  for (const auto& [L, tf] : t_fast)
    if (t_slow.count(L) && tf > 0 && t_slow[L] > 0)
      ratio.push_back({double(L), std::log(tf / t_slow[L])});
  if (ratio.size() < 2 || ratio.back().second >= 0) return std::nullopt;
  size_t i = ratio.size() - 1;  // walk back while fast stays faster
  while (i > 0 && ratio[i - 1].second < 0) --i;
  if (i == 0) return ratio[0].first;  // faster from the start
  // Interpolate log(ratio) linearly in log(L) between the last slower and the first faster.
  const double l0 = std::log(ratio[i - 1].first), l1 = std::log(ratio[i].first);
  const double r0 = ratio[i - 1].second, r1 = ratio[i].second;
  return std::exp(l0 + (l1 - l0) * r0 / (r0 - r1));
}

std::optional<int64_t> best_chunk(const std::vector<SweepResult>& results) {
  int64_t L = -1;
  for (const auto& r : results)
    if (r.error.empty() && r.point.form == Form::Chunkwise) L = std::max(L, r.point.shape.L);
  std::optional<int64_t> best;
  double best_ms = 0;
  for (const auto& r : results)
    if (r.error.empty() && r.point.form == Form::Chunkwise && r.point.shape.L == L &&
        (!best || r.median_ms < best_ms)) {
      best = r.point.chunk;
      best_ms = r.median_ms;
    }
  return best;
}

}  // namespace linscope::profile
