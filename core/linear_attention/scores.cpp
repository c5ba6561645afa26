// The masked score block (Q K^T) ⊙ M of MODELS.md §1 (parallel form, and the intra-chunk part
// of the chunkwise form).
#include <algorithm>
#include <cmath>

#include "core/base/log_space.h"
#include "core/linear_attention/detail.h"

namespace linscope::linear_attention::detail {

void cumulative_from(const HeadDecay& decay, int64_t t0, int64_t n, std::vector<double>& B) {
  const int64_t w = decay.width;
  B.resize(static_cast<size_t>(n * w));
  for (int64_t c = 0; c < w; ++c) {
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      s += decay.log[static_cast<size_t>((t0 + i) * w + c)];
      B[static_cast<size_t>(i * w + c)] = s;
    }
  }
}

void masked_scores(const Eigen::Ref<const RowMatrix>& q, const Eigen::Ref<const RowMatrix>& k,
                   const std::vector<double>& B, int64_t width, Eigen::Ref<RowMatrix> P) {
  const int64_t n = q.rows(), Dk = q.cols();
  if (width == 1) {
    P.noalias() = q * k.transpose();
    for (int64_t i = 0; i < n; ++i) {
      const double Bi = B[static_cast<size_t>(i)];
      for (int64_t j = 0; j <= i; ++j) P(i, j) *= decay_exp(Bi - B[static_cast<size_t>(j)]);
      for (int64_t j = i + 1; j < n; ++j) P(i, j) = 0.0f;
    }
    return;
  }
  // Per-channel gate: the decay differs per channel, so the mask cannot be pulled out of the
  // dot product; the factor exp(B_ic − B_jc) <= 1 is formed per entry (GLA's intra-chunk part).
  for (int64_t i = 0; i < n; ++i) {
    const double* Bi = B.data() + i * width;
    for (int64_t j = 0; j <= i; ++j) {
      const double* Bj = B.data() + j * width;
      float s = 0.0f;
      for (int64_t c = 0; c < Dk; ++c) s += q(i, c) * k(j, c) * decay_exp(Bi[c] - Bj[c]);
      P(i, j) = s;
    }
    for (int64_t j = i + 1; j < n; ++j) P(i, j) = 0.0f;
  }
}

}  // namespace linscope::linear_attention::detail
