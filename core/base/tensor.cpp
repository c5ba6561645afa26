#include "core/base/tensor.h"

#include <cmath>
#include <sstream>

#include "core/base/error.h"

namespace linscope {

int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw Error("negative dimension in shape " + shape_to_string(shape));
    n *= d;
  }
  return n;
}

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << '[';
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  s << ']';
  return s.str();
}

Tensor::Tensor(std::vector<int64_t> shape, float fill)
    : shape_(std::move(shape)), values_(static_cast<size_t>(numel_of(shape_)), fill) {}

Tensor::Tensor(std::vector<int64_t> shape, std::vector<float> values)
    : shape_(std::move(shape)), values_(std::move(values)) {
  if (numel_of(shape_) != static_cast<int64_t>(values_.size()))
    throw Error("tensor of shape " + shape_to_string(shape_) + " given " +
                std::to_string(values_.size()) + " values");
}

int64_t Tensor::dim(int i) const {
  const int r = rank();
  const int j = i < 0 ? r + i : i;
  if (j < 0 || j >= r)
    throw Error("axis " + std::to_string(i) + " out of range for shape " + shape_string());
  return shape_[static_cast<size_t>(j)];
}

std::string Tensor::shape_string() const {
  return shape_to_string(shape_);
}

int64_t Tensor::first_non_finite() const {
  for (size_t i = 0; i < values_.size(); ++i)
    if (!std::isfinite(values_[i])) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace linscope
