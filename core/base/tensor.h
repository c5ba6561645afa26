// A dense, row-major float32 tensor. The core computes in float32 (with double where
// cumulative log decays are summed); files may hold other dtypes and are converted on read.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace linscope {

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape, float fill = 0.0f);
  Tensor(std::vector<int64_t> shape, std::vector<float> values);

  const std::vector<int64_t>& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  // Size of axis i; negative i counts from the end (-1 is the last axis).
  int64_t dim(int i) const;
  int64_t numel() const { return static_cast<int64_t>(values_.size()); }
  bool empty() const { return values_.empty() && shape_.empty(); }

  float* data() { return values_.data(); }
  const float* data() const { return values_.data(); }
  std::vector<float>& values() { return values_; }
  const std::vector<float>& values() const { return values_; }

  float& operator[](int64_t i) { return values_[static_cast<size_t>(i)]; }
  float operator[](int64_t i) const { return values_[static_cast<size_t>(i)]; }

  // "[2, 4, 128, 64]"
  std::string shape_string() const;
  // Index of the first non-finite value, or -1.
  int64_t first_non_finite() const;

 private:
  std::vector<int64_t> shape_;
  std::vector<float> values_;
};

int64_t numel_of(const std::vector<int64_t>& shape);
std::string shape_to_string(const std::vector<int64_t>& shape);

}  // namespace linscope
