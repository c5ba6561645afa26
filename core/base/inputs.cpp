#include "core/base/inputs.h"

#include "core/base/error.h"

namespace linscope {

const Tensor& Inputs::get(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw Error("missing input tensor '" + name + "'");
  return it->second;
}

Tensor& Inputs::get(const std::string& name) {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw Error("missing input tensor '" + name + "'");
  return it->second;
}

Shape Inputs::shape() const {
  const Tensor& q = get("q");
  const Tensor& v = get("v");
  if (q.rank() != 4) throw Error("q: expected rank 4 [B,H,L,Dk], got " + q.shape_string());
  if (v.rank() != 4) throw Error("v: expected rank 4 [B,H,L,Dv], got " + v.shape_string());
  Shape s{q.dim(0), q.dim(1), q.dim(2), q.dim(3), v.dim(3)};
  if (s.L < 1) throw Error("q: sequence length L must be at least 1, got " + q.shape_string());
  if (s.Dk < 1 || s.Dv < 1) throw Error("q/v: head dimensions must be at least 1");
  expect_shape(*this, "k", {s.B, s.H, s.L, s.Dk});
  expect_shape(*this, "v", {s.B, s.H, s.L, s.Dv});
  return s;
}

void Inputs::check_finite() const {
  for (const auto& [name, t] : tensors) {
    const int64_t i = t.first_non_finite();
    if (i >= 0)
      throw Error("input tensor '" + name + "' holds a non-finite value (" + std::to_string(t[i]) +
                  ") at flat index " + std::to_string(i));
  }
}

void expect_shape(const Inputs& in, const std::string& name, const std::vector<int64_t>& shape) {
  const Tensor& t = in.get(name);
  if (t.shape() != shape)
    throw Error(name + ": expected shape " + shape_to_string(shape) + ", got " + t.shape_string());
}

bool expect_decay_shape(const Inputs& in, const std::string& name, const Shape& s) {
  const Tensor& t = in.get(name);
  if (t.shape() == std::vector<int64_t>{s.B, s.H, s.L}) return false;
  if (t.shape() == std::vector<int64_t>{s.B, s.H, s.L, s.Dk}) return true;
  throw Error(name + ": expected shape " + shape_to_string({s.B, s.H, s.L}) + " or " +
              shape_to_string({s.B, s.H, s.L, s.Dk}) + ", got " + t.shape_string());
}

}  // namespace linscope
