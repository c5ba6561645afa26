#include "core/checkpoint/layers.h"

#include <cctype>

namespace linscope::checkpoint {
namespace {

struct Split {
  std::string prefix, suffix;
  int64_t layer = -1;
};

// Finds the last "layers.<digits>." or "blocks.<digits>." in a name.
bool split(const std::string& n, Split* out) {
  for (const char* key : {"layers.", "blocks."}) {
    const std::string k = key;
    size_t pos = n.rfind(k);
    while (pos != std::string::npos) {
      const bool at_boundary = pos == 0 || n[pos - 1] == '.';
      size_t i = pos + k.size(), j = i;
      while (j < n.size() && std::isdigit(static_cast<unsigned char>(n[j]))) ++j;
      if (at_boundary && j > i && j < n.size() && n[j] == '.' && j - i < 10) {
        out->prefix = n.substr(0, i);
        out->layer = std::stoll(n.substr(i, j - i));
        out->suffix = n.substr(j + 1);
        return true;
      }
      if (pos == 0) break;
      pos = n.rfind(k, pos - 1);
    }
  }
  return false;
}

}  // namespace

bool LayerIndex::any(const std::string& suffix) const {
  for (const auto& [i, m] : layers)
    if (m.count(suffix)) return true;
  return false;
}

std::optional<std::string> LayerIndex::find(int64_t layer, const std::string& suffix) const {
  const auto l = layers.find(layer);
  if (l == layers.end()) return std::nullopt;
  const auto s = l->second.find(suffix);
  if (s == l->second.end()) return std::nullopt;
  return s->second;
}

LayerIndex index_layers(const std::vector<std::string>& names) {
  std::map<std::string, int64_t> votes;
  std::vector<std::pair<std::string, Split>> splits;
  for (const auto& n : names) {
    Split s;
    if (split(n, &s)) {
      ++votes[s.prefix];
      splits.emplace_back(n, s);
    }
  }
  LayerIndex out;
  int64_t best = 0;
  for (const auto& [p, v] : votes)
    if (v > best) best = v, out.prefix = p;
  for (const auto& [n, s] : splits)
    if (s.prefix == out.prefix) out.layers[s.layer][s.suffix] = n;
  return out;
}

}  // namespace linscope::checkpoint
