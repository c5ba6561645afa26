// The dense pieces of a tiny model's layer, on [L, features] row-major tensors (float32, Eigen).
#pragma once
#include "core/base/tensor.h"

namespace linscope::tiny {

// x * rsqrt(mean(x^2) + eps) * weight over the last axis (RMSNorm, Zhang & Sennrich 2019).
Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps);
// x W^T (+ bias): x [L, in], W [out, in] as torch.nn.Linear stores it.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor* bias = nullptr);
// GELU with the exact erf, as torch's default F.gelu.
void gelu(Tensor& x);
void add_in_place(Tensor& x, const Tensor& y);
// [L, H*dh] -> [1, H, L, dh] (the core's [B,H,L,D]) and back.
Tensor split_heads(const Tensor& x, int64_t heads);
Tensor merge_heads(const Tensor& y);

}  // namespace linscope::tiny
