// Tiny trained models bundled in assets/ (tools/train/train.py) and their forward pass on the
// core: embedding -> layers (RMSNorm, q/k/v and gate projections, sequence mixing through
// run_cpu, output projection, MLP) -> tied head. The inspector shows the logits, the per-layer
// gates and the implicit attention matrices.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/spec.h"
#include "core/base/tensor.h"

namespace linscope::tiny {

// A model directory's config.json (written by tools/train/train.py).
struct TinyConfig {
  std::string dir;         // the directory it was loaded from
  std::string name;        // the directory's last component, e.g. "lion_s_bidirectional"
  std::string model_type;  // "linscope-lion" | "linscope-gateloop" | "linscope-deltanet"
  ModelSpec spec;          // family, decay, direction (LION: normalize = true)
  int64_t n_layers = 0, n_heads = 0, d_model = 0, d_head = 0, d_mlp = 0, vocab_size = 0;
  double norm_eps = 1e-6;
  std::vector<std::string> vocab;          // one character per token id
  std::string mask_char;                   // the masked-character token, "" if none
  std::string task;                        // "next character" | "masked characters"
  std::map<std::string, double> training;  // numbers recorded by train.py (loss, accuracy...)
};

// Where the sequence mixing is computed.
enum class Mixing {
  Core,       // run_cpu: linscope's forms (the point of these models)
  Reference,  // core/tiny's own O(L^2) attention-form evaluation in double (a cross-check)
  Auto,       // Core; Reference only when the core reports the family "not implemented"
};

struct ForwardOptions {
  bool attention = false;  // also return each layer's attention matrices [H,L,L]
  // Default Parallel: the attention form the models were trained in (tools/train/model.py),
  // which every tiny family has; any form of forms_of(spec) gives the same logits.
  Form form = Form::Parallel;
  int64_t chunk = 64;  // for Form::Chunkwise
  Mixing mixing = Mixing::Auto;
};

struct LayerForward {
  // Per-head gates, named as in test_vector.safetensors:
  //   LION-S "lambda" [H,L] (λ_t)   LION-D "lambda" [H] (λ_h)   DeltaNet "beta" [H,L] (β_t)
  //   GateLoop "magnitude", "phase" [H,L,d_head] (|a_t| and arg a_t)
  std::map<std::string, Tensor> gates;
  Tensor attention;  // [H,L,L], y = A v per head; empty unless requested
};

struct Forward {
  std::vector<int64_t> tokens;
  Tensor logits;  // [L, vocab_size]
  std::vector<LayerForward> layers;
  std::string mixing;  // what computed the mixing, e.g. "core Parallel" or "reference"
};

struct TinyWeights;  // core/tiny/weights.h

class TinyModel {
 public:
  // Reads dir/config.json and dir/model.safetensors. Throws linscope::Error naming the file and
  // the key or tensor that is missing or misshapen.
  static TinyModel load(const std::string& dir);
  TinyModel(TinyModel&&) noexcept;
  TinyModel& operator=(TinyModel&&) noexcept;
  ~TinyModel();

  const TinyConfig& config() const { return config_; }
  // One token per character; throws Error naming a character that is not in the vocabulary.
  std::vector<int64_t> tokenize(const std::string& text) const;
  std::string detokenize(const std::vector<int64_t>& tokens) const;
  // For free text typed by a user: the vocabulary holds only the training corpus's characters
  // (no 'A', no digits), so a character (a UTF-8 code point) that is not in it becomes its
  // lowercase form when that is in the vocabulary, else ' ' (else the first vocabulary entry
  // when there is no space). Never throws. When replaced is given it receives each distinct
  // replacement once, in order of first appearance, e.g. "A→a, 7→' '" ("" when none).
  std::vector<int64_t> tokenize_lenient(const std::string& text, std::string* replaced) const;

  Forward forward(const std::string& text, bool attention = false) const;
  Forward forward(const std::string& text, const ForwardOptions& opts) const;
  // forward() on tokenize_lenient(text, replaced).
  Forward forward_lenient(const std::string& text, const ForwardOptions& opts,
                          std::string* replaced = nullptr) const;
  Forward forward_tokens(const std::vector<int64_t>& tokens, const ForwardOptions& opts) const;

 private:
  TinyModel();
  TinyConfig config_;
  std::unique_ptr<TinyWeights> weights_;
};

// The assets/ directory: $LINSCOPE_ASSETS, then assets/ next to the executable or one or two
// levels above it, then ./assets and ../assets, then the source tree's assets/ (compile-time
// LINSCOPE_SOURCE_ASSETS). Throws Error listing the places tried.
std::string find_assets_dir();
// Names of the model directories under assets_dir (those holding a config.json), sorted.
std::vector<std::string> bundled_models(const std::string& assets_dir);

}  // namespace linscope::tiny
