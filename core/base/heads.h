// Per-head views of [B,H,L,D] tensors and a parallel loop over heads. Heads and batch entries
// are independent in every model (MODELS.md, top), so each form is written for one head and
// for_each_head spreads B*H heads over the cores.
#pragma once
#include <Eigen/Dense>
#include <cstdint>

#include "core/base/flush_denormals.h"
#include "core/base/tensor.h"

namespace linscope {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixView = Eigen::Map<RowMatrix>;
using ConstMatrixView = Eigen::Map<const RowMatrix>;
using VectorView = Eigen::Map<Eigen::VectorXf>;
using ConstVectorView = Eigen::Map<const Eigen::VectorXf>;

// Head `bh` (= b*H + h) of a [B,H,L,D] tensor as an L x D matrix.
inline ConstMatrixView head_matrix(const Tensor& t, int64_t bh) {
  const int64_t L = t.dim(2), D = t.dim(3);
  return ConstMatrixView(t.data() + bh * L * D, L, D);
}
inline MatrixView head_matrix(Tensor& t, int64_t bh) {
  const int64_t L = t.dim(2), D = t.dim(3);
  return MatrixView(t.data() + bh * L * D, L, D);
}
// Head `bh` of a [B,H,L] tensor as a length-L vector.
inline ConstVectorView head_vector(const Tensor& t, int64_t bh) {
  const int64_t L = t.dim(2);
  return ConstVectorView(t.data() + bh * L, L);
}
// Head `bh` of a [B,H,L,L] attention tensor.
inline MatrixView head_square(Tensor& t, int64_t bh) {
  const int64_t L = t.dim(2);
  return MatrixView(t.data() + bh * L * L, L, L);
}
// Slot `i` of a [B,H,n,Dk,Dv] trace tensor for head bh.
inline MatrixView trace_state(Tensor& t, int64_t bh, int64_t i) {
  const int64_t n = t.dim(2), Dk = t.dim(3), Dv = t.dim(4);
  return MatrixView(t.data() + (bh * n + i) * Dk * Dv, Dk, Dv);
}

// Runs f(bh) for bh in [0, heads) on all cores (OpenMP). f must only write head bh's data.
// One head opens no parallel region, so a form's own parallel loop (the L x L matrices) can
// still use the cores.
template <typename F>
void for_each_head(int64_t heads, F&& f) {
#pragma omp parallel for schedule(dynamic) if (heads > 1)
  for (int64_t bh = 0; bh < heads; ++bh) {
    const FlushDenormals ftz;  // per thread; flush_denormals.h says why
    f(bh);
  }
}

}  // namespace linscope
