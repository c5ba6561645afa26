// A parallel loop over row blocks of an L x L matrix, for the O(L^2) forms with one head (the
// explorer's case: for_each_head then opens no parallel region, so this one has the cores; with
// several heads it runs inside theirs, single-threaded). Row blocks write disjoint rows.
#pragma once
#include <algorithm>
#include <cstdint>

#include "core/base/flush_denormals.h"

namespace linscope {

// Calls f(first_row, rows) for [0, rows_total) cut into blocks of `block` rows. Later blocks of
// a causal matrix have more columns, so they are handed out first, dynamically.
template <typename F>
void for_each_row_block(int64_t rows_total, int64_t block, F&& f) {
  const int64_t blocks = (rows_total + block - 1) / block;
#pragma omp parallel for schedule(dynamic) if (blocks > 1)
  for (int64_t b = blocks - 1; b >= 0; --b) {
    const FlushDenormals ftz;  // per thread; flush_denormals.h says why
    f(b * block, std::min(block, rows_total - b * block));
  }
}

}  // namespace linscope
