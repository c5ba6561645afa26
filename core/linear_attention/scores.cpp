// The masked score block (Q K^T) ⊙ M of MODELS.md §1 (parallel form, and the intra-chunk part
// of the chunkwise form).
#include <algorithm>
#include <cmath>

#include "core/base/log_space.h"
#include "core/base/row_blocks.h"
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

namespace {

// Rows of this many tokens share one reference point in the per-channel factorization below.
constexpr int64_t kSub = 8;
// Rows per parallel block of the scalar-decay scores.
constexpr int64_t kRowBlock = 64;

}  // namespace

void masked_scores(const Eigen::Ref<const RowMatrix>& q, const Eigen::Ref<const RowMatrix>& k,
                   const std::vector<double>& B, int64_t width, Eigen::Ref<RowMatrix> P) {
  const int64_t n = q.rows(), Dk = q.cols();
  if (width == 1) {
    // Scalar decay: M factors out of the dot product, so the scores are one GEMM (lower half
    // only) and the mask one exp per entry; the exponent B_i − B_j is formed in double.
    // Row blocks in parallel; each forms its scores only up to its last column.
    for_each_row_block(n, kRowBlock, [&](int64_t r0, int64_t rows) {
      P.block(r0, 0, rows, r0 + rows).noalias() =
          q.middleRows(r0, rows) * k.topRows(r0 + rows).transpose();
      Eigen::ArrayXf m(r0 + rows);
      for (int64_t i = r0; i < r0 + rows; ++i) {
        const double Bi = B[static_cast<size_t>(i)];
        for (int64_t j = 0; j <= i; ++j) m(j) = static_cast<float>(Bi - B[static_cast<size_t>(j)]);
        exp_or_zero(m.head(i + 1));
        P.row(i).head(i + 1).array() *= m.head(i + 1).transpose();
        P.row(i).tail(n - i - 1).setZero();
      }
    });
    return;
  }
  // Per-channel gate: M_ij differs per channel, so it cannot be pulled out of the dot product.
  // Rows come in blocks I of kSub tokens starting at s_I. Inside the diagonal block each
  // factor exp(B_ic − B_jc) is formed elementwise. For j before the block, the factor splits
  // through r = s_I − 1 (j <= r < i) as exp(B_ic − B_rc) · exp(B_rc − B_jc), both <= 1 (decays
  // <= 0), so the off-diagonal part is one GEMM of decayed Q_I and decayed K, and nothing can
  // overflow (unlike exp(B_i)·exp(−B_j), which overflows once the decay sums past −88).
  RowMatrix Qr(kSub, Dk), Kr(n, Dk);
  Eigen::ArrayXf e(Dk);
  for (int64_t s = 0; s < n; s += kSub) {
    const int64_t m = std::min(kSub, n - s);
    for (int64_t i = s; i < s + m; ++i) {
      const double* Bi = B.data() + i * width;
      for (int64_t j = s; j <= i; ++j) {
        const double* Bj = B.data() + j * width;
        for (int64_t c = 0; c < Dk; ++c) e(c) = static_cast<float>(Bi[c] - Bj[c]);
        exp_or_zero(e);
        P(i, j) = (q.row(i).array() * k.row(j).array() * e.transpose()).sum();
      }
      P.row(i).tail(n - i - 1).setZero();
    }
    if (s == 0) continue;
    const double* Br = B.data() + (s - 1) * width;
    for (int64_t i = 0; i < m; ++i) {
      const double* Bi = B.data() + (s + i) * width;
      for (int64_t c = 0; c < Dk; ++c) e(c) = static_cast<float>(Bi[c] - Br[c]);
      exp_or_zero(e);
      Qr.row(i) = q.row(s + i).array() * e.transpose();
    }
    for (int64_t j = 0; j < s; ++j) {
      const double* Bj = B.data() + j * width;
      for (int64_t c = 0; c < Dk; ++c) e(c) = static_cast<float>(Br[c] - Bj[c]);
      exp_or_zero(e);
      Kr.row(j) = k.row(j).array() * e.transpose();
    }
    P.block(s, 0, m, s).noalias() = Qr.topRows(m) * Kr.topRows(s).transpose();
  }
}

}  // namespace linscope::linear_attention::detail
