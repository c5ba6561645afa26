#include "core/engine/compare.h"

#include <algorithm>
#include <cmath>

#include "core/base/error.h"

namespace linscope {

Difference compare(const Tensor& a, const Tensor& r) {
  if (a.shape() != r.shape())
    throw Error("cannot compare tensors of shapes " + a.shape_string() + " and " +
                r.shape_string());
  Difference d;
  double scale = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (!std::isfinite(a[i])) d.finite = false;
    d.max_abs = std::max(d.max_abs, std::abs(static_cast<double>(a[i]) - r[i]));
    scale = std::max(scale, std::abs(static_cast<double>(r[i])));
  }
  if (!d.finite)
    d.max_abs = d.max_rel = INFINITY;
  else
    d.max_rel = scale > 0 ? d.max_abs / scale : d.max_abs;
  return d;
}

}  // namespace linscope
