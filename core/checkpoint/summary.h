// What `linscope-cli inspect` and the GUI's checkpoint panel show about a trained checkpoint:
// the architecture and how it was recognized, every tensor, the static decays per layer x head
// (with their memory length 1/(1-λ)) and, for data-dependent gates, statistics of the gate
// projections' weights.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace linscope::checkpoint {

struct TensorEntry {
  std::string name;   // full name, e.g. "model.layers.0.attn.q_proj.weight" (dots = tree path)
  std::string dtype;  // "F32", "BF16", ...
  std::vector<int64_t> shape;
  uint64_t bytes = 0;
  std::string shard;  // file name (relative to the checkpoint directory) holding it
};

// Static decays of one layer: λ per head and the memory length 1/(1-λ) (tokens over which a
// contribution falls by a factor e^-1 roughly; infinite when λ = 1).
struct LayerDecay {
  int64_t layer = 0;
  std::string tensor;          // source tensor, or "" when fixed by the architecture (RetNet)
  std::vector<double> lambda;  // per head
  std::vector<double> memory;  // per head, 1/(1-λ)
};

// Statistics of one gate projection tensor (weight or bias) of one layer, for models whose
// decay/gate depends on the token (λ_t = f(W x_t + b)).
struct GateStats {
  int64_t layer = 0;
  std::string tensor;  // full name
  std::string role;    // "weight" or "bias"
  int64_t count = 0;
  double mean = 0, std = 0, min = 0, max = 0;
};

struct Summary {
  std::string path;          // what was opened
  std::string architecture;  // "retnet", "gla", "delta_net", "gsa", "lion", "linscope-lion",
                             // "linscope-gateloop", "linscope-deltanet" or "unknown"
  std::string variant;       // e.g. "LION-S", "LION-D", "LION-LIT"; "" when not applicable
  std::string detected_by;   // e.g. "config.json model_type \"gla\"" or "tensor names (...)"
  std::string decay_kind;    // "fixed", "static (learned)", "data-dependent" or "none"
  std::string decay_rule;    // the formula, e.g. "γ_h = 1 − 2^(−5−h)"
  int64_t layers = 0, heads = 0, hidden = 0;  // 0 when unknown
  int64_t parameters = 0;
  uint64_t bytes = 0;
  std::vector<std::string> shards;   // file names, one for an unsharded checkpoint
  std::vector<TensorEntry> tensors;  // sorted by name
  std::vector<LayerDecay> decays;    // one per layer where the decay is static
  std::vector<GateStats> gates;      // per layer and gate tensor where it is data-dependent
};

// JSON for `inspect --json`; infinite memory lengths become null.
nlohmann::json to_json(const Summary&);
// Human-readable report: header lines, decay table (layer x head), gate statistics, tensors.
std::string to_text(const Summary&);

}  // namespace linscope::checkpoint
