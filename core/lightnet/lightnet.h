// LightNet: additive recurrence, 1-D and multi-dimensional (MODELS.md §6; arXiv 2405.21022).
// The 1-D model is here; the 2-D grid, scan orders and receptive fields are in grid.h, the
// MD-TPE / MD-LRPE encodings in position.h.
#pragma once
#include "core/base/inputs.h"
#include "core/base/result.h"
#include "core/base/spec.h"

namespace linscope::lightnet {

// Inputs q, k [B,H,L,Dk], v [B,H,L,Dv], log_weight f [B,H,L] (scalar) or [B,H,L,Dk] (per
// channel). Forms Recurrent and Parallel; Direction::Causal (δ_t normalizes token t) or
// Bidirectional (δ_L normalizes every token: the global one-scan form). spec.lightnet.md_tpe /
// md_lrpe switch the encodings on. Throws linscope::Error on a missing, misshapen or
// non-finite input or another form.
Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts);

}  // namespace linscope::lightnet
