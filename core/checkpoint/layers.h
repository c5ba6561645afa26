// Tensor names grouped by layer: "<prefix><i>.<suffix>" with prefix ending in "layers." or
// "blocks." (fla: "model.layers.3.attn.q_proj.weight", LION/DeiT: "blocks.3.attn.qkv.weight",
// linscope tiny models: "layers.3.q.weight").
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace linscope::checkpoint {

struct LayerIndex {
  std::string prefix;  // e.g. "model.layers."; "" when no name has a layer index
  std::map<int64_t, std::map<std::string, std::string>> layers;  // i -> suffix -> full name

  int64_t count() const { return static_cast<int64_t>(layers.size()); }
  // True when some layer holds a tensor whose suffix is `suffix`.
  bool any(const std::string& suffix) const;
  std::optional<std::string> find(int64_t layer, const std::string& suffix) const;
  std::string name(int64_t layer, const std::string& suffix) const {
    return prefix + std::to_string(layer) + "." + suffix;
  }
};

// The most common layered prefix wins (a model may also hold e.g. a separate encoder stack).
LayerIndex index_layers(const std::vector<std::string>& names);

}  // namespace linscope::checkpoint
