// Causal linear attention with scalar or per-channel decay, LIT / D / S (MODELS.md §1).
#pragma once
#include "core/base/inputs.h"
#include "core/base/result.h"
#include "core/base/spec.h"
#include "core/linear_attention/forms.h"  // per-head forms, reusable by other families

namespace linscope::linear_attention {

// Evaluates the model in opts.form. Throws linscope::Error on a missing or misshapen input.
// log_decay is optional (absent: λ = 1, LIT), [B,H,L] (scalar λ_t) or [B,H,L,Dk] (per-channel
// gate); every entry must be finite and <= kMaxLogDecay (|λ| <= 1 up to rounding).
Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts);

// Positive log decays up to this are accepted as rounding of log λ = 0 (e.g. log σ(x) for
// large x in float); they are used as given.
inline constexpr double kMaxLogDecay = 1e-6;

// The log decays of head bh of `in` (zeros when log_decay is absent). Assumes run()'s checks.
HeadDecay head_decay(const Inputs& in, int64_t bh, const Shape& s);

}  // namespace linscope::linear_attention
