// State traces on the GPU (the views' "trace mode"): S_t at chosen steps, the same records the
// CPU core's RunOptions::trace returns (core/base/result.h). One kernel walks the recurrence
// of the model (MODELS.md §1–4) and writes the state when it passes a recorded step; y is
// computed apart, by the requested form, so asking for a trace never changes y.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "gpu/kernels.h"

namespace linscope::gpu {

struct TraceInputs {
  enum class Update {
    Decay,    // S_t = diag(λ_t) S_{t−1} + k_t v_t^T (linear attention, LION, LCSM)
    Delta,    // S_t = S_{t−1} − β_t k_t (k_t^T S_{t−1} − v_t^T) (DeltaNet)
    Complex,  // S_t = diag(a_t) S_{t−1} + k_t v_t^T, a_t = |a| e^{iφ} (GateLoop)
  };
  Update update = Update::Decay;
  // LION's backward sweep: S^B_t = λ_{t+1} S^B_{t+1} + k_t v_t^T, walked from t = L−1 down.
  bool backward = false;
  const float* k = nullptr;          // [BH, L, Dk]
  const float* v = nullptr;          // [BH, L, Dv]
  const float* log_decay = nullptr;  // Decay: log λ, [BH, L] (width 1) or [BH, L, Dk]
  int64_t decay_width = 1;
  const float* beta = nullptr;           // Delta: [BH, L]
  const float* log_magnitude = nullptr;  // Complex: [BH, L, Dk]
  const float* phase = nullptr;          // Complex: [BH, L, Dk]
};

// out [BH, n, Dk, Dv] (out_imag too for Complex) receives S_t for t = steps[i], ascending;
// a step of −1 is the zero state before the first token (the state entering chunk 0).
// Throws BackendError on a CUDA error.
void trace_states(const TraceInputs& in, const Dims& d, const std::vector<int64_t>& steps,
                  float* out, float* out_imag, cudaStream_t s);

}  // namespace linscope::gpu
