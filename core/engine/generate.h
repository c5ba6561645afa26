// Seeded inputs for any model, as the views, the CLI's `forms` and the tests use them.
#pragma once
#include <cstdint>

#include "core/base/inputs.h"
#include "core/base/spec.h"

namespace linscope {

struct GenerateOptions {
  uint64_t seed = 0;
  // LIT/D/S decays. D: λ fixed for every head when lambda in (0,1]; when lambda <= 0, RetNet's
  // per-head γ_h = 1 - 2^{-5-h}. S: log λ_t = log σ(w^T x_t + b) with w^T x_t ~ N(0,1),
  // b = selective_bias (LION-S; σ(4) ≈ 0.98, a memory of ~50 tokens).
  double lambda = 0.9;
  double selective_bias = 4.0;
};

Inputs generate_inputs(const ModelSpec& spec, const Shape& shape, const GenerateOptions& opts);

}  // namespace linscope
