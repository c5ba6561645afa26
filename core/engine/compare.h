// How far one form's output is from the reference's.
#pragma once
#include "core/base/tensor.h"

namespace linscope {

struct Difference {
  double max_abs = 0;  // max_i |a_i - r_i|
  double max_rel = 0;  // max_abs / max_i |r_i|: relative to the output's scale, so it is stable
                       // where individual entries of r are near zero
  bool finite = true;  // false when a holds NaN/Inf
};

// Throws Error when the shapes differ.
Difference compare(const Tensor& a, const Tensor& reference);

}  // namespace linscope
