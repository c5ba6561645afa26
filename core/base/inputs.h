// Named input tensors, exactly as in the safetensors exchange format (README, "Tensors"):
//   q, k [B,H,L,Dk]   v [B,H,L,Dv]
//   log_decay [B,H,L] (log λ_t, scalar decay) or [B,H,L,Dk] (per-channel gate)
//   beta [B,H,L] (DeltaNet)   log_magnitude, phase [B,H,L,Dk] (GateLoop: a_t = e^{log_magnitude}
//   e^{i phase}) log_weight [B,H,L] or [B,H,L,Dk] (LightNet: f_t, weights exp(f_t))
#pragma once
#include <map>
#include <string>

#include "core/base/tensor.h"

namespace linscope {

struct Shape {
  int64_t B = 1, H = 1, L = 16, Dk = 8, Dv = 8;
  int64_t heads() const { return B * H; }
};

class Inputs {
 public:
  std::map<std::string, Tensor> tensors;

  bool has(const std::string& name) const { return tensors.count(name) != 0; }
  // Throws Error("missing input tensor 'beta'") when absent.
  const Tensor& get(const std::string& name) const;
  Tensor& get(const std::string& name);
  void set(const std::string& name, Tensor t) { tensors[name] = std::move(t); }

  // Shape from q and v; checks that q, k, v are rank 4 and agree. Throws Error naming the tensor.
  Shape shape() const;
  // Throws Error naming the tensor and the first non-finite element if any input holds NaN/Inf.
  void check_finite() const;
};

// Shape checks used by every family; messages name the tensor, the expected and the given shape.
void expect_shape(const Inputs&, const std::string& name, const std::vector<int64_t>& shape);
// log_decay may be [B,H,L] or [B,H,L,Dk]; returns true when per-channel.
bool expect_decay_shape(const Inputs&, const std::string& name, const Shape&);

}  // namespace linscope
