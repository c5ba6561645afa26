// The bidirectional mask M and its forward/backward split (MODELS.md §2), and the masked
// scores P = QK^T ⊙ M every full-attention computation starts from.
#include "core/base/error.h"
#include "core/base/log_space.h"
#include "core/lion/detail.h"
#include "core/lion/lion.h"

namespace linscope::lion {
namespace detail {

RowMatrix masked_scores(const ConstMatrixView& q, const ConstMatrixView& k,
                        const std::vector<double>& A) {
  const int64_t L = q.rows();
  RowMatrix P = q * k.transpose();
  // M is symmetric (both triangles are products over the same λ's): one exp per pair.
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < i; ++j) {
      const float m = decay_exp(log_mask(A, i, j));
      P(i, j) *= m;
      P(j, i) *= m;
    }
  return P;
}

}  // namespace detail

MaskParts mask_parts(const Inputs& in, int64_t bh) {
  const Shape s = detail::check_inputs(in);
  if (bh < 0 || bh >= s.heads())
    throw Error("mask_parts: head index " + std::to_string(bh) + " is outside [0, " +
                std::to_string(s.heads()) + ")");
  const std::vector<double> A = detail::cumulative(detail::head_log_decay(in, bh, s.L));
  MaskParts parts;
  parts.full = RowMatrix::Identity(s.L, s.L);
  parts.forward = RowMatrix::Identity(s.L, s.L);
  parts.backward = RowMatrix::Identity(s.L, s.L);
  for (int64_t i = 0; i < s.L; ++i)
    for (int64_t j = 0; j < i; ++j) {
      const float m = decay_exp(detail::log_mask(A, i, j));
      parts.full(i, j) = parts.full(j, i) = m;
      parts.forward(i, j) = m;   // M^F: lower triangle, λ's between j and i
      parts.backward(j, i) = m;  // M^B: upper triangle, the mirror image
    }
  return parts;
}

}  // namespace linscope::lion
