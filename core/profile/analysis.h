// What a sweep says, computed once here so the CLI and the GUI agree: where the chunkwise form
// overtakes the recurrence, and which chunk size was fastest.
#pragma once
#include <optional>
#include <vector>

#include "core/profile/sweep.h"

namespace linscope::profile {

// The smallest L at which `fast` is faster than `slow` and stays faster at every larger
// measured L (same model, backend, d and heads as the first matching point), interpolated
// geometrically between the two measured lengths around the crossing. nullopt when `fast` never
// overtakes, or there are fewer than two common lengths.
std::optional<double> crossover_length(const std::vector<SweepResult>& results, Form fast,
                                       Form slow);

// The chunk size with the smallest median time among chunkwise points at the largest measured L.
std::optional<int64_t> best_chunk(const std::vector<SweepResult>& results);

}  // namespace linscope::profile
