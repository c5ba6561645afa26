#include "core/tiny/ops.h"

#include <cmath>

#include "core/base/heads.h"

namespace linscope::tiny {

Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps) {
  const int64_t L = x.dim(0), D = x.dim(1);
  Tensor out({L, D});
  for (int64_t t = 0; t < L; ++t) {
    double ss = 0;  // in double: the mean of squares is the one reduction here
    for (int64_t d = 0; d < D; ++d) ss += double(x[t * D + d]) * x[t * D + d];
    const double inv = 1.0 / std::sqrt(ss / D + eps);
    for (int64_t d = 0; d < D; ++d)
      out[t * D + d] = static_cast<float>(x[t * D + d] * inv * weight[d]);
  }
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor* bias) {
  const int64_t L = x.dim(0), in = x.dim(1), out = weight.dim(0);
  Tensor y({L, out});
  ConstMatrixView X(x.data(), L, in), W(weight.data(), out, in);
  MatrixView Y(y.data(), L, out);
  Y.noalias() = X * W.transpose();
  if (bias) Y.rowwise() += ConstVectorView(bias->data(), out).transpose();
  return y;
}

void gelu(Tensor& x) {
  for (float& v : x.values())
    v = static_cast<float>(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
}

void add_in_place(Tensor& x, const Tensor& y) {
  for (int64_t i = 0; i < x.numel(); ++i) x[i] += y[i];
}

Tensor split_heads(const Tensor& x, int64_t heads) {
  const int64_t L = x.dim(0), dh = x.dim(1) / heads;
  Tensor out({1, heads, L, dh});
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t t = 0; t < L; ++t)
      for (int64_t d = 0; d < dh; ++d) out[(h * L + t) * dh + d] = x[t * heads * dh + h * dh + d];
  return out;
}

Tensor merge_heads(const Tensor& y) {
  const int64_t H = y.dim(1), L = y.dim(2), dh = y.dim(3);
  Tensor out({L, H * dh});
  for (int64_t h = 0; h < H; ++h)
    for (int64_t t = 0; t < L; ++t)
      for (int64_t d = 0; d < dh; ++d) out[t * H * dh + h * dh + d] = y[(h * L + t) * dh + d];
  return out;
}

}  // namespace linscope::tiny
