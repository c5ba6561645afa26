// Builders of small checkpoints on disk following each architecture's naming scheme, with
// values chosen so decays and gate statistics can be worked out by hand in the tests.
#pragma once
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/base/tensor.h"
#include "core/io/safetensors.h"
#include "io/raw_file.h"

namespace linscope::test {

using Weights = std::map<std::string, Tensor>;

inline void write_json(const std::string& path, const nlohmann::json& j) {
  std::ofstream(path) << j.dump(1);
}

// Values 0, 1, 2, ... scaled: distinct, deterministic, hand-checkable.
inline Tensor ramp(std::vector<int64_t> shape, float scale = 0.01f) {
  Tensor t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = scale * float(i);
  return t;
}

// fla-hub layout: model.embeddings, model.layers.<i>.attn.*, model.norm, lm_head.
// key = hidden*expand_k, value = hidden*expand_v as in the fla configs.
inline Weights fla_weights(const std::string& arch, int64_t layers, int64_t heads, int64_t hidden,
                           int64_t key, int64_t value) {
  Weights w;
  w["model.embeddings.weight"] = ramp({10, hidden});
  w["model.norm.weight"] = ramp({hidden});
  w["lm_head.weight"] = ramp({10, hidden});
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    w[p + "attn_norm.weight"] = ramp({hidden});
    w[p + "attn.q_proj.weight"] = ramp({key, hidden});
    w[p + "attn.k_proj.weight"] = ramp({key, hidden});
    w[p + "attn.v_proj.weight"] = ramp({value, hidden});
    w[p + "attn.o_proj.weight"] = ramp({hidden, value});
    if (arch == "retnet" || arch == "gla") w[p + "attn.g_proj.weight"] = ramp({value, hidden});
    if (arch == "gla") {
      w[p + "attn.gk_proj.0.weight"] = ramp({4, hidden});
      w[p + "attn.gk_proj.1.weight"] = ramp({key, 4});
      w[p + "attn.gk_proj.1.bias"] = ramp({key});
    }
    if (arch == "delta_net") w[p + "attn.b_proj.weight"] = ramp({heads, hidden});
    w[p + "mlp.gate_proj.weight"] = ramp({2 * hidden, hidden});
  }
  return w;
}

inline nlohmann::json fla_config(const std::string& arch, int64_t layers, int64_t heads,
                                 int64_t hidden, double ek, double ev) {
  return {{"model_type", arch},     {"num_hidden_layers", layers},
          {"num_heads", heads},     {"hidden_size", hidden},
          {"expand_k", ek},         {"expand_v", ev},
          {"gate_low_rank_dim", 4}, {"vocab_size", 10}};
}

}  // namespace linscope::test
