// What a run returns: the output, and optionally the implicit attention matrix and the trace.
#pragma once
#include <vector>

#include "core/base/tensor.h"

namespace linscope {

struct Trace {
  std::vector<int64_t> steps;  // token index t of each recorded state (ascending)
  // [B,H,n,Dk,Dv], n = steps.size(). For GateLoop the real part; states_imag holds the rest.
  Tensor states;
  Tensor states_imag;
  // Bidirectional only: the backward sweep's S^B_t at the same steps.
  Tensor states_backward;
  // Chunkwise only: the carried state entering each chunk [B,H,n_chunks,Dk,Dv].
  Tensor chunk_states;
};

struct Result {
  Tensor y;          // [B,H,L,Dv]
  Tensor attention;  // [B,H,L,L] when RunOptions::attention; else empty
  Trace trace;
};

// The steps a trace records for length L: every `stride`-th, the last always, and the stride
// raised until n * Dk * Dv * B * H * 4 bytes (twice for bidirectional) fit in max_bytes.
std::vector<int64_t> trace_steps(int64_t L, int64_t stride, int64_t max_bytes,
                                 int64_t bytes_per_step);

}  // namespace linscope
