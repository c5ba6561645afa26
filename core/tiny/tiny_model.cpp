#include "core/tiny/tiny_model.h"

#include <algorithm>
#include <cmath>

#include "core/base/error.h"
#include "core/base/inputs.h"
#include "core/base/random.h"
#include "core/engine/run.h"
#include "core/tiny/config.h"
#include "core/tiny/ops.h"
#include "core/tiny/reference_mixing.h"
#include "core/tiny/weights.h"

namespace linscope::tiny {
namespace {

// The projections one layer feeds to the sequence mixing, as run_cpu's Inputs, and the gates
// in the inspector's (natural, not log) units.
struct MixerInputs {
  Inputs in;
  std::map<std::string, Tensor> gates;
};

// w_h^T x_t + b_h for every head and token: [L, D] -> [1, H, L] (LION-S decay, DeltaNet β).
Tensor per_head_logits(const Tensor& x, const Tensor& w, const Tensor& b) {
  const Tensor z = linear(x, w, &b);  // [L, H]
  const int64_t L = z.dim(0), H = z.dim(1);
  Tensor out({1, H, L});
  for (int64_t h = 0; h < H; ++h)
    for (int64_t t = 0; t < L; ++t) out[h * L + t] = z[t * H + h];
  return out;
}

Tensor drop_batch(const Tensor& t) {
  std::vector<int64_t> shape(t.shape().begin() + 1, t.shape().end());
  return Tensor(shape, t.values());
}

MixerInputs project(const TinyConfig& c, const LayerWeights& w, const Tensor& x) {
  MixerInputs m;
  Tensor q = split_heads(linear(x, w.q), c.n_heads);
  Tensor k = split_heads(linear(x, w.k), c.n_heads);
  const int64_t L = x.dim(0), H = c.n_heads;
  switch (c.spec.family) {
    case Family::Lion: {
      lion_feature_map(q);  // φ(x) = (SiLU(x)+0.5)/||.|| (MODELS.md §2)
      lion_feature_map(k);
      Tensor log_decay({1, H, L});
      Tensor lambda;
      if (c.spec.decay == Decay::S) {  // log λ_t = log σ(w_h^T x_t + b_h)
        log_decay = per_head_logits(x, w.decay, w.decay_bias);
        for (float& a : log_decay.values()) a = static_cast<float>(log_sigmoid(a));
        lambda = drop_batch(log_decay);
        for (float& a : lambda.values()) a = std::exp(a);
      } else {  // λ_h = σ(a_h), the same at every step
        lambda = Tensor({H});
        for (int64_t h = 0; h < H; ++h) {
          lambda[h] = static_cast<float>(sigmoid(w.decay[h]));
          for (int64_t t = 0; t < L; ++t)
            log_decay[h * L + t] = static_cast<float>(log_sigmoid(w.decay[h]));
        }
      }
      m.in.set("log_decay", std::move(log_decay));
      m.gates["lambda"] = std::move(lambda);
      break;
    }
    case Family::GateLoop: {  // a_t = σ(magnitude(x_t)) e^{i phase(x_t)} (MODELS.md §3)
      Tensor lm = split_heads(linear(x, w.magnitude, &w.magnitude_bias), H);
      Tensor phase = split_heads(linear(x, w.phase), H);
      for (float& a : lm.values()) a = static_cast<float>(log_sigmoid(a));
      Tensor magnitude = drop_batch(lm);
      for (float& a : magnitude.values()) a = std::exp(a);
      m.gates["magnitude"] = std::move(magnitude);
      m.gates["phase"] = drop_batch(phase);
      m.in.set("log_magnitude", std::move(lm));
      m.in.set("phase", std::move(phase));
      break;
    }
    default: {  // DeltaNet: q, k L2-normalised, β_t = σ(w_h^T x_t + b_h) (MODELS.md §4)
      l2_normalize_last(q);
      l2_normalize_last(k);
      Tensor beta = per_head_logits(x, w.beta, w.beta_bias);
      for (float& a : beta.values()) a = static_cast<float>(sigmoid(a));
      m.gates["beta"] = drop_batch(beta);
      m.in.set("beta", std::move(beta));
      break;
    }
  }
  m.in.set("q", std::move(q));
  m.in.set("k", std::move(k));
  m.in.set("v", split_heads(linear(x, w.v), H));
  return m;
}

Result mix(const TinyConfig& c, const Inputs& in, const ForwardOptions& opts, std::string& how) {
  if (opts.mixing != Mixing::Reference) {
    RunOptions ro;
    ro.form = opts.form;
    ro.chunk = opts.chunk;
    ro.attention = opts.attention;
    try {
      Result r = run_cpu(c.spec, in, ro);
      how = "core " + to_string(ro.form);
      return r;
    } catch (const Error& e) {
      // Auto stands in for a family the core does not have yet; any other error is real.
      const bool missing = std::string(e.what()).find("not implemented") != std::string::npos;
      if (opts.mixing == Mixing::Core || !missing) throw;
    }
  }
  how = "reference";
  return reference_mixing(c.spec, in);
}

// Per-head RMSNorm over d_head after the mixing (GateLoop, DeltaNet): [1,H,L,dh] in place.
void head_rms_norm(Tensor& y, const Tensor& weight, double eps) {
  const int64_t rows = y.numel() / y.dim(3), dh = y.dim(3);
  const Tensor normed = rms_norm(Tensor({rows, dh}, y.values()), weight, eps);
  y.values() = normed.values();
}

}  // namespace

TinyModel::TinyModel() = default;
TinyModel::TinyModel(TinyModel&&) noexcept = default;
TinyModel& TinyModel::operator=(TinyModel&&) noexcept = default;
TinyModel::~TinyModel() = default;

TinyModel TinyModel::load(const std::string& dir) {
  TinyModel m;
  m.config_ = read_config(dir);
  m.weights_ = std::make_unique<TinyWeights>(read_weights(m.config_));
  return m;
}

std::vector<int64_t> TinyModel::tokenize(const std::string& text) const {
  std::vector<int64_t> ids;
  ids.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    int64_t id = -1;
    for (size_t v = 0; v < config_.vocab.size() && id < 0; ++v)
      if (config_.vocab[v][0] == text[i]) id = static_cast<int64_t>(v);
    if (id < 0)
      throw Error("model " + config_.name + ": character '" + std::string(1, text[i]) + "' (byte " +
                  std::to_string(static_cast<unsigned char>(text[i])) + ") at position " +
                  std::to_string(i) + " is not in its vocabulary");
    ids.push_back(id);
  }
  return ids;
}

namespace {

// Length in bytes of the UTF-8 sequence starting at text[i]; 1 for a stray or truncated byte,
// so malformed input still advances one byte at a time.
size_t utf8_length(const std::string& text, size_t i) {
  const auto b = static_cast<unsigned char>(text[i]);
  const size_t n = b < 0x80           ? 1
                   : (b >> 5) == 0x6  ? 2
                   : (b >> 4) == 0xE  ? 3
                   : (b >> 3) == 0x1E ? 4
                                      : 1;
  if (i + n > text.size()) return 1;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 1;
  return n;
}

// How a character appears in the "replaced" list: blanks quoted, control characters escaped.
std::string shown(const std::string& ch) {
  if (ch == " ") return "' '";
  if (ch == "\n") return "\\n";
  if (ch == "\t") return "\\t";
  if (ch.size() == 1 && static_cast<unsigned char>(ch[0]) < 0x20)
    return "\\x" + std::string(1, "0123456789abcdef"[ch[0] >> 4]) + "0123456789abcdef"[ch[0] & 15];
  return ch;
}

}  // namespace

std::vector<int64_t> TinyModel::tokenize_lenient(const std::string& text,
                                                 std::string* replaced) const {
  const auto& vocab = config_.vocab;
  auto find = [&](const std::string& ch) -> int64_t {
    for (size_t v = 0; v < vocab.size(); ++v)
      if (vocab[v] == ch) return static_cast<int64_t>(v);
    return -1;
  };
  const int64_t space = find(" ");
  const int64_t fallback = space >= 0 ? space : 0;
  std::vector<int64_t> ids;
  std::vector<std::string> seen;  // characters already listed in *replaced
  if (replaced) replaced->clear();
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_length(text, i);
    const std::string ch = text.substr(i, n);
    i += n;
    int64_t id = find(ch);
    if (id >= 0) {
      ids.push_back(id);
      continue;
    }
    if (n == 1 && ch[0] >= 'A' && ch[0] <= 'Z') id = find(std::string(1, char(ch[0] - 'A' + 'a')));
    if (id < 0) id = fallback;
    ids.push_back(id);
    if (replaced && std::find(seen.begin(), seen.end(), ch) == seen.end()) {
      seen.push_back(ch);
      if (!replaced->empty()) *replaced += ", ";
      *replaced +=
          shown(ch) + "\xe2\x86\x92" + shown(vocab.empty() ? std::string() : vocab[size_t(id)]);
    }
  }
  return ids;
}

std::string TinyModel::detokenize(const std::vector<int64_t>& tokens) const {
  std::string s;
  for (int64_t id : tokens) {
    if (id < 0 || id >= config_.vocab_size)
      throw Error("model " + config_.name + ": token id " + std::to_string(id) +
                  " is outside the vocabulary [0, " + std::to_string(config_.vocab_size) + ")");
    s += config_.vocab[static_cast<size_t>(id)];
  }
  return s;
}

Forward TinyModel::forward(const std::string& text, bool attention) const {
  ForwardOptions o;
  o.attention = attention;
  return forward(text, o);
}

Forward TinyModel::forward(const std::string& text, const ForwardOptions& opts) const {
  return forward_tokens(tokenize(text), opts);
}

Forward TinyModel::forward_lenient(const std::string& text, const ForwardOptions& opts,
                                   std::string* replaced) const {
  return forward_tokens(tokenize_lenient(text, replaced), opts);
}

Forward TinyModel::forward_tokens(const std::vector<int64_t>& tokens,
                                  const ForwardOptions& opts) const {
  const TinyConfig& c = config_;
  const TinyWeights& w = *weights_;
  if (tokens.empty()) throw Error("model " + c.name + ": empty input text");
  detokenize(tokens);  // range check
  const int64_t L = static_cast<int64_t>(tokens.size()), D = c.d_model;
  Forward f;
  f.tokens = tokens;
  Tensor x({L, D});
  for (int64_t t = 0; t < L; ++t)
    for (int64_t d = 0; d < D; ++d) x[t * D + d] = w.embed[tokens[t] * D + d];

  for (const LayerWeights& lw : w.layers) {
    // Pre-norm mixing block: x += o(mix(q, k, v, gates)(RMSNorm(x))).
    const Tensor h = rms_norm(x, lw.attn_norm, c.norm_eps);
    MixerInputs m = project(c, lw, h);
    Result r = mix(c, m.in, opts, f.mixing);
    if (!lw.head_norm.empty()) head_rms_norm(r.y, lw.head_norm, c.norm_eps);
    add_in_place(x, linear(merge_heads(r.y), lw.o));
    // Pre-norm MLP block: x += down(GELU(up(RMSNorm(x)))).
    Tensor u = linear(rms_norm(x, lw.mlp_norm, c.norm_eps), lw.up, &lw.up_bias);
    gelu(u);
    add_in_place(x, linear(u, lw.down, &lw.down_bias));

    LayerForward lf;
    lf.gates = std::move(m.gates);
    if (opts.attention) lf.attention = drop_batch(r.attention);
    f.layers.push_back(std::move(lf));
  }
  f.logits = linear(rms_norm(x, w.final_norm, c.norm_eps), w.embed);  // tied head
  return f;
}

}  // namespace linscope::tiny
