// LCSM: Expand / Oscillation / Shrink (MODELS.md §5; Qin et al., "Unlocking the Secrets of
// Linear Complexity Sequence Model from a Unified Perspective", arXiv 2405.17383).
//
//   m_t = o_t ⊙ m_{t−1} + e_t i_t^T,   y_t = m_t^T s_t          (LCSM's EOS recurrence)
//
// In linscope's tensors: s_t → q, e_t → k, i_t → v, log o_t → log_decay. That recurrence is
// causal linear attention with a (per-channel) decay, so run() hands it to linear_attention.
#pragma once
#include <string>

#include "core/base/inputs.h"
#include "core/base/result.h"
#include "core/base/spec.h"

namespace linscope::lcsm {

// The Expand–Oscillation–Shrink builder: inputs q (= Shrink s_t), k (= Expand e_t), v (= the
// input i_t) and log_decay (= log o_t, [B,H,L] or per channel [B,H,L,Dk]) from a seeded random
// token sequence x, each of e, o, s data-dependent (a projection of x) or hand-crafted.
// See build_inputs.cpp for what each LcsmSource means and which LCSM table row each preset is.
Inputs build_inputs(const LcsmSettings& settings, const Shape& shape, uint64_t seed);

// Evaluates the model in opts.form (Recurrent, Chunkwise or Parallel; never normalized).
// Throws linscope::Error on a missing or misshapen input or an unsupported form.
Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts);

// One line for the GUI: "e: data, o: fixed per-channel, s: data".
std::string describe_settings(const LcsmSettings& settings);

}  // namespace linscope::lcsm
