// The tensors of a tiny model, checked against its config when read.
#pragma once
#include <string>
#include <vector>

#include "core/base/tensor.h"
#include "core/tiny/tiny_model.h"

namespace linscope::tiny {

struct LayerWeights {
  Tensor attn_norm, mlp_norm;           // [D]
  Tensor q, k, v;                       // [H*dh, D]
  Tensor o;                             // [D, H*dh]
  Tensor up, up_bias, down, down_bias;  // [F,D] [F] [D,F] [D]
  Tensor decay, decay_bias;             // LION-S: [H,D] [H]; LION-D: decay = logits a_h [H]
  Tensor magnitude, magnitude_bias;     // GateLoop: [H*dh, D] [H*dh]
  Tensor phase;                         // GateLoop: [H*dh, D]
  Tensor beta, beta_bias;               // DeltaNet: [H,D] [H]
  Tensor head_norm;                     // GateLoop, DeltaNet: [dh]
};

struct TinyWeights {
  Tensor embed;       // [V, D], also the (tied) output head
  Tensor final_norm;  // [D]
  std::vector<LayerWeights> layers;
};

// Reads <c.dir>/model.safetensors. Throws Error naming the file and the tensor that is missing
// or whose shape disagrees with config.json.
TinyWeights read_weights(const TinyConfig& c);

}  // namespace linscope::tiny
