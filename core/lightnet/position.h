// LightNet's multi-dimensional positional encodings (Qin et al., "You Only Scan Once",
// arXiv 2405.21022, §MD-TPE and §MD-LRPE), for N axes; the 1-D model is the N = 1 case.
//
// MD-LRPE (multi-dimensional linearized relative positional encoding). LRPE (Qin et al. 2023)
// multiplies q and k by a unitary W(p) with W(p)^H W(p') = W(p' − p), here the block-diagonal
// rotation of channel pairs. The MD version splits the channel pairs over the N axes: pair m
// (channels 2m, 2m+1) belongs to axis a = m mod N and turns by φ = θ_m · p_a, with
// θ_m = base^{−2 ⌊m/N⌋ N / D} so that every axis spans the full range of frequencies
// (N = 1: RoPE's θ_m = base^{−2m/D}). Then (R(p) q)^T (R(p') k) = q^T R(p' − p) k depends
// only on the offset p' − p, per axis. A last odd channel is left as is.
//
// MD-TPE (multi-dimensional Toeplitz positional encoding). TPE mixes tokens along one axis
// with a Toeplitz kernel t_{i−j}, realised as a fixed-decay linear recurrence (an SSM with a
// decay λ and fixed q, k vectors: t_r = (q_tpe^T k_tpe) λ^r for r ≥ 0, causal along the axis);
// MD-TPE sums one TPE per axis and acts on the token features right after the input embedding,
// x ← x + Σ_a TPE_a(x), before q, k, v are computed. q, k, v are linear maps of x and the
// Toeplitz mixing is the same for every channel, so linscope, which receives q, k, v, applies
// u ← (I + T) u to each of them. Here the learned constants are fixed: λ = kTpeDecay and
// q_tpe^T k_tpe = 1 − λ (each axis' weights then sum to at most 1), so
//   T_{p,p'} = Σ_a [p' differs from p only along a, p'_a ≤ p_a] (1 − λ) λ^{p_a − p'_a}
// (p' = p counts once per axis). The implicit attention becomes A (I + T).
#pragma once
#include <cstdint>
#include <vector>

#include "core/base/heads.h"
#include "core/lightnet/position_constants.h"

namespace linscope::lightnet {

// θ_m of channel pair m for a head dimension `dim` and `axes` axes.
double lrpe_theta(int64_t pair, int64_t dim, int64_t axes);

// Rotates x[0..dim) in place for the N-axis position `position` (size N = number of axes).
void md_lrpe_rotate(float* x, int64_t dim, const std::vector<int64_t>& position);

// The MD-TPE entry T_{query,key} for two positions of the same rank N.
double md_tpe_weight(const std::vector<int64_t>& query, const std::vector<int64_t>& key);

// x ← x + T x (transposed: x ← x + T^T x) for tokens on an N-d grid with the given extents,
// numbered row-major (the last axis fastest), one token per row of x. One causal scan per
// axis, u ← λ u + (1 − λ) x along every line (transposed: the same scan run backwards).
void md_tpe_apply(RowMatrix& x, const std::vector<int64_t>& extents, bool transposed = false);

}  // namespace linscope::lightnet
