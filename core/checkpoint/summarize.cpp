// Recognition and checks of the supported checkpoint layouts. Parameter names follow the
// public code of each model (read, not copied):
//  - fla-hub / flash-linear-attention HF models: "model.layers.<i>.attn.{q,k,v,o}_proj.weight";
//    RetNet (model_type "retnet") has no decay parameter: γ_h = 1 − 2^(−5−h) is fixed per head;
//    GLA ("gla") gates keys with gk_proj = Linear(hidden, r) ∘ Linear(r, key_dim, bias),
//    log λ_t = logsigmoid(gk_proj x_t) / gate_logit_normalizer per channel; DeltaNet
//    ("delta_net") writes with β_t = σ(b_proj x_t), b_proj: [heads, hidden]; GSA ("gsa")
//    forgets per slot with f_proj: [kv_heads * num_slots, hidden].
//  - LION (LIONS-EPFL/LION, DeiT layout): "blocks.<i>.attn.qkv.weight" [3d, d], "attn.proj";
//    LION-D learns a_i [heads] with λ = σ(a_i); LION-S projects a_i: Linear(d, heads) per token.
//  - linscope's tiny models (assets/, core/tiny/weights.cpp): "layers.<i>.{q,k,v,o}.weight",
//    decay.logit [H] (LION-D, λ = σ), decay.{weight,bias} (LION-S), magnitude/phase (GateLoop),
//    beta.{weight,bias} (DeltaNet).
#include "core/checkpoint/summarize.h"

#include <cmath>
#include <filesystem>
#include <limits>

#include "core/base/error.h"
#include "core/checkpoint/checkpoint.h"
#include "core/checkpoint/layers.h"

namespace linscope::checkpoint {
namespace {

// λ = σ(a) and its memory 1/(1−λ) = 1 + e^a, the latter exact where 1 − σ(a) would cancel.
double sigmoid(double a) {
  return 1.0 / (1.0 + std::exp(-a));
}
double memory_of_logit(double a) {
  return 1.0 + std::exp(a);
}

class Summarizer {
 public:
  Summarizer(const Checkpoint& ck, Summary& s)
      : ck_(ck), s_(s), cfg_(ck.config()), lay_(index_layers(ck.tensor_names())) {}

  void run();

 private:
  const Checkpoint& ck_;
  Summary& s_;
  const nlohmann::json& cfg_;
  LayerIndex lay_;

  std::string cfg_file() const {
    return ck_.config_path().empty() ? "config.json" : ck_.config_path();
  }
  std::string file_of(const std::string& tensor) const {
    return (std::filesystem::path(ck_.directory()) / ck_.shard_of(tensor)).string();
  }

  // First integer config value among keys, or -1.
  int64_t cfg_int(std::initializer_list<const char*> keys) const {
    for (const char* k : keys)
      if (cfg_.contains(k) && cfg_[k].is_number_integer()) return cfg_[k].get<int64_t>();
    return -1;
  }
  double cfg_num(const char* key, double fallback) const {
    return cfg_.contains(key) && cfg_[key].is_number() ? cfg_[key].get<double>() : fallback;
  }
  std::string cfg_str(const char* key) const {
    return cfg_.contains(key) && cfg_[key].is_string() ? cfg_[key].get<std::string>() : "";
  }
  int64_t need_cfg(std::initializer_list<const char*> keys) const {
    const int64_t v = cfg_int(keys);
    if (v <= 0)
      throw Error(cfg_file() + ": missing or non-positive integer '" + *keys.begin() +
                  "' (needed by " + s_.architecture + ")");
    return v;
  }

  std::string need(int64_t layer, const std::string& suffix) const {
    if (auto n = lay_.find(layer, suffix)) return *n;
    throw Error(ck_.path() + ": layer " + std::to_string(layer) + " lacks tensor '" +
                lay_.name(layer, suffix) + "' that " + s_.architecture + " requires");
  }
  std::optional<std::string> find(int64_t layer, const std::string& suffix) const {
    return lay_.find(layer, suffix);
  }
  const std::vector<int64_t>& shape(const std::string& tensor) const {
    return ck_.info(tensor).shape;
  }
  void expect(const std::string& tensor, const std::vector<int64_t>& want,
              const std::string& why) const {
    const auto& got = shape(tensor);
    if (got != want)
      throw Error(
          file_of(tensor) + ": tensor '" + tensor + "' has shape " + shape_to_string(got) +
          ", but " +
          (ck_.config_path().empty() ? std::string("the architecture") : ck_.config_path()) +
          " implies " + shape_to_string(want) + " (" + why + ")");
  }

  void add_gate(int64_t layer, const std::string& tensor, const std::string& role) const;
  void add_static_decay(int64_t layer, const std::string& tensor) const;

  void detect();
  void check_layers() const;
  void fla();
  void lion();
  void tiny();
};

void Summarizer::add_gate(int64_t layer, const std::string& tensor, const std::string& role) const {
  const Tensor t = ck_.read_f32(tensor);
  GateStats g;
  g.layer = layer;
  g.tensor = tensor;
  g.role = role;
  g.count = t.numel();
  if (g.count > 0) {
    double sum = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (float v : t.values()) {
      sum += v;
      lo = std::min(lo, double(v));
      hi = std::max(hi, double(v));
    }
    g.mean = sum / double(g.count);
    double ss = 0;  // two-pass variance: no cancellation of large means
    for (float v : t.values()) ss += (v - g.mean) * (v - g.mean);
    g.std = std::sqrt(ss / double(g.count));
    g.min = lo;
    g.max = hi;
  }
  s_.gates.push_back(g);
}

void Summarizer::add_static_decay(int64_t layer, const std::string& tensor) const {
  const Tensor t = ck_.read_f32(tensor);
  LayerDecay d;
  d.layer = layer;
  d.tensor = tensor;
  for (float a : t.values()) {
    d.lambda.push_back(sigmoid(a));
    d.memory.push_back(memory_of_logit(a));
  }
  s_.decays.push_back(std::move(d));
}

void Summarizer::detect() {
  const std::string mt = cfg_str("model_type");
  for (const char* known : {"retnet", "gla", "delta_net", "gsa", "linscope-lion",
                            "linscope-gateloop", "linscope-deltanet"})
    if (mt == known) {
      s_.architecture = mt;
      s_.detected_by = "config.json model_type \"" + mt + "\"";
      return;
    }
  const std::string from = "tensor names (" + lay_.prefix + "<i>.";
  const auto by = [&](const char* arch, const std::string& suffix) {
    s_.architecture = arch;
    s_.detected_by = from + suffix + ")";
  };
  if (lay_.any("attn.qkv.weight") && (lay_.any("attn.a_i") || lay_.any("attn.a_i.weight")))
    by("lion", lay_.any("attn.a_i") ? "attn.a_i" : "attn.a_i.weight");
  else if (lay_.any("attn.gk_proj.0.weight"))
    by("gla", "attn.gk_proj.0.weight");
  else if (lay_.any("attn.b_proj.weight"))
    by("delta_net", "attn.b_proj.weight");
  else if (lay_.any("attn.f_proj.weight"))
    by("gsa", "attn.f_proj.weight");
  else if (lay_.any("attn.q_proj.weight") && lay_.any("attn.g_proj.weight"))
    by("retnet", "attn.g_proj.weight without a decay or gate projection");
  else if (lay_.any("decay.logit") || lay_.any("decay.weight"))
    by("linscope-lion", lay_.any("decay.logit") ? "decay.logit" : "decay.weight");
  else if (lay_.any("magnitude.weight"))
    by("linscope-gateloop", "magnitude.weight");
  else if (lay_.any("beta.weight"))
    by("linscope-deltanet", "beta.weight");
  else if (lay_.any("attn.qkv.weight"))
    by("lion", "attn.qkv.weight without a_i: LION-LIT, or a plain ViT");
  else {
    s_.architecture = "unknown";
    s_.detected_by = mt.empty() ? "no config model_type and no known tensor-name pattern"
                                : "model_type \"" + mt + "\" is not one linscope knows";
  }
}

// Layers are numbered 0..n-1 without gaps and agree with config.json when it counts them.
void Summarizer::check_layers() const {
  int64_t expect_i = 0;
  for (const auto& [i, m] : lay_.layers) {
    if (i != expect_i)
      throw Error(ck_.path() + ": layer " + std::to_string(expect_i) + " is missing (no tensor '" +
                  lay_.prefix + std::to_string(expect_i) + ".*', but layer " + std::to_string(i) +
                  " exists)");
    ++expect_i;
  }
  const int64_t n = cfg_int({"num_hidden_layers", "num_layers", "n_layers", "depth"});
  if (n >= 0 && n != lay_.count())
    throw Error(cfg_file() + ": config counts " + std::to_string(n) +
                " layers, but the checkpoint holds tensors for " + std::to_string(lay_.count()) +
                " (" + lay_.prefix + "<i>.*)");
  s_.layers = lay_.count();
}

void Summarizer::fla() {
  const std::string& a = s_.architecture;
  const int64_t L = s_.layers;
  for (int64_t i = 0; i < L; ++i)
    for (const char* p :
         {"attn.q_proj.weight", "attn.k_proj.weight", "attn.v_proj.weight", "attn.o_proj.weight"})
      need(i, p);
  int64_t hidden = cfg_int({"hidden_size"});
  if (hidden <= 0 && L > 0) hidden = shape(need(0, "attn.q_proj.weight")).back();
  const int64_t heads = cfg_int({"num_heads"});
  s_.hidden = hidden;
  s_.heads = std::max<int64_t>(heads, 0);
  int64_t kv = cfg_int({"num_kv_heads"});
  if (kv <= 0) kv = heads;
  if (heads > 0 && heads % kv != 0)
    throw Error(cfg_file() + ": num_heads " + std::to_string(heads) +
                " is not a multiple of num_kv_heads " + std::to_string(kv));
  const int64_t groups = heads > 0 ? heads / kv : 1;

  // Key/value widths: hidden * expand_k / expand_v with each model's defaults (GSA's layer
  // sizes depend on more options, so only its gate is checked).
  double ek = 1, ev = 1;
  if (a == "retnet") ev = 2;
  if (a == "gla") ek = 0.5;
  ek = cfg_num("expand_k", ek);
  ev = cfg_num("expand_v", ev);
  const int64_t key = std::llround(hidden * ek), value = std::llround(hidden * ev);
  const bool sized = heads > 0 && hidden > 0 && a != "gsa";
  if (sized && (key % heads != 0 || value % heads != 0))
    throw Error(cfg_file() + ": hidden_size*expand_k = " + std::to_string(key) +
                " and hidden_size*expand_v = " + std::to_string(value) +
                " must be multiples of num_heads " + std::to_string(heads));
  for (int64_t i = 0; sized && i < L; ++i) {
    const std::string hk = "num_heads*head_k_dim = hidden_size*expand_k";
    expect(need(i, "attn.q_proj.weight"), {key, hidden}, hk + ", hidden_size");
    expect(need(i, "attn.k_proj.weight"), {key / groups, hidden}, hk + " / kv groups, hidden_size");
    expect(need(i, "attn.v_proj.weight"), {value / groups, hidden},
           "hidden_size*expand_v / kv groups, hidden_size");
    expect(need(i, "attn.o_proj.weight"), {hidden, value}, "hidden_size, hidden_size*expand_v");
  }

  if (a == "retnet") {
    s_.decay_kind = "fixed";
    s_.decay_rule = "γ_h = 1 − 2^(−5−h) per head h = 0..H−1, same in every layer (RetNet)";
    if (heads <= 0) {
      s_.decay_rule += "; num_heads unknown (no config.json), so not listed";
      return;
    }
    for (int64_t i = 0; i < L; ++i) {
      LayerDecay d;
      d.layer = i;
      for (int64_t h = 0; h < heads; ++h) {
        d.lambda.push_back(1.0 - std::ldexp(1.0, int(-5 - h)));
        d.memory.push_back(std::ldexp(1.0, int(5 + h)));  // 1/(1−γ) = 2^(5+h) exactly
      }
      s_.decays.push_back(std::move(d));
    }
  } else if (a == "gla") {
    s_.decay_kind = "data-dependent";
    s_.decay_rule = "log λ_t = logsigmoid(gk_proj(x_t)) / gate_logit_normalizer, per key channel";
    for (int64_t i = 0; i < L; ++i) {
      const std::string g0 = need(i, "attn.gk_proj.0.weight"),
                        g1 = need(i, "attn.gk_proj.1.weight");
      const int64_t r =
          cfg_int({"gate_low_rank_dim"}) > 0 ? cfg_int({"gate_low_rank_dim"}) : shape(g0).front();
      if (hidden > 0) expect(g0, {r, hidden}, "gate_low_rank_dim, hidden_size");
      if (sized) expect(g1, {key / groups, r}, "key dim / kv groups, gate_low_rank_dim");
      add_gate(i, g0, "weight");
      add_gate(i, g1, "weight");
      if (auto b = find(i, "attn.gk_proj.1.bias")) add_gate(i, *b, "bias");
    }
  } else if (a == "delta_net") {
    s_.decay_kind = "data-dependent";
    s_.decay_rule = "no decay; write strength β_t = σ(b_proj x_t) per head (delta rule)";
    const bool beta = !(cfg_.contains("use_beta") && cfg_["use_beta"] == false);
    for (int64_t i = 0; beta && i < L; ++i) {
      const std::string b = need(i, "attn.b_proj.weight");
      if (heads > 0 && hidden > 0) expect(b, {heads, hidden}, "num_heads, hidden_size");
      add_gate(i, b, "weight");
    }
  } else {  // gsa
    s_.decay_kind = "data-dependent";
    s_.decay_rule = "per slot: log α_t = logsigmoid(f_proj x_t) / gate_logit_normalizer";
    const int64_t slots = cfg_int({"num_slots"});
    for (int64_t i = 0; i < L; ++i) {
      const std::string f = need(i, "attn.f_proj.weight");
      if (slots > 0 && kv > 0 && hidden > 0)
        expect(f, {kv * slots, hidden}, "num_kv_heads*num_slots, hidden_size");
      add_gate(i, f, "weight");
    }
  }
}

void Summarizer::lion() {
  const int64_t L = s_.layers;
  for (int64_t i = 0; i < L; ++i) {
    need(i, "attn.qkv.weight");
    need(i, "attn.proj.weight");
  }
  if (L == 0) return;
  const int64_t d = shape(need(0, "attn.qkv.weight")).back();
  s_.hidden = d;
  const bool D = lay_.any("attn.a_i"), S = lay_.any("attn.a_i.weight");
  s_.variant = D ? "LION-D" : S ? "LION-S" : "LION-LIT";
  int64_t heads = cfg_int({"num_heads", "n_heads"});
  if (heads <= 0 && (D || S)) heads = shape(need(0, D ? "attn.a_i" : "attn.a_i.weight")).front();
  s_.heads = std::max<int64_t>(heads, 0);
  if (heads > 0 && d % heads != 0)
    throw Error(ck_.path() + ": embedding width " + std::to_string(d) + " is not a multiple of " +
                std::to_string(heads) + " heads");
  for (int64_t i = 0; i < L; ++i) {
    expect(need(i, "attn.qkv.weight"), {3 * d, d}, "3*dim, dim");
    expect(need(i, "attn.proj.weight"), {d, d}, "dim, dim");
    if (D) {
      const std::string a = need(i, "attn.a_i");
      expect(a, {heads}, "num_heads");
      add_static_decay(i, a);
    } else if (S) {
      const std::string w = need(i, "attn.a_i.weight");
      expect(w, {heads, d}, "num_heads, dim");
      add_gate(i, w, "weight");
      if (auto b = find(i, "attn.a_i.bias")) {
        expect(*b, {heads}, "num_heads");
        add_gate(i, *b, "bias");
      }
    }
  }
  s_.decay_kind = D ? "static (learned)" : S ? "data-dependent" : "none";
  s_.decay_rule =
      D   ? "λ_h = σ(a_h) per head (LION-D)"
      : S ? "a_t = a_i(x_t) per head and token; LION's code uses log λ_t = log(1 − σ(a_t))"
          : "no decay (LION-LIT: mask of ones)";
}

void Summarizer::tiny() {
  const std::string& a = s_.architecture;
  const int64_t D = need_cfg({"d_model"}), H = need_cfg({"n_heads"}), dh = need_cfg({"d_head"});
  const int64_t HD = H * dh, L = s_.layers;
  s_.hidden = D;
  s_.heads = H;
  const std::string hd = "n_heads*d_head, d_model";
  std::string decay = cfg_str("decay");
  if (a == "linscope-lion" && decay.empty()) decay = lay_.any("decay.logit") ? "D" : "S";
  if (a == "linscope-lion" && decay != "S" && decay != "D")
    throw Error(cfg_file() + ": key 'decay' must be \"S\" or \"D\", got \"" + decay + "\"");
  for (int64_t i = 0; i < L; ++i) {
    expect(need(i, "q.weight"), {HD, D}, hd);
    expect(need(i, "k.weight"), {HD, D}, hd);
    expect(need(i, "v.weight"), {HD, D}, hd);
    expect(need(i, "o.weight"), {D, HD}, "d_model, n_heads*d_head");
    if (a == "linscope-lion" && decay == "D") {
      const std::string l = need(i, "decay.logit");
      expect(l, {H}, "n_heads");
      add_static_decay(i, l);
    } else if (a == "linscope-lion") {
      expect(need(i, "decay.weight"), {H, D}, "n_heads, d_model");
      expect(need(i, "decay.bias"), {H}, "n_heads");
      add_gate(i, need(i, "decay.weight"), "weight");
      add_gate(i, need(i, "decay.bias"), "bias");
    } else if (a == "linscope-gateloop") {
      expect(need(i, "magnitude.weight"), {HD, D}, hd);
      expect(need(i, "magnitude.bias"), {HD}, "n_heads*d_head");
      expect(need(i, "phase.weight"), {HD, D}, hd);
      add_gate(i, need(i, "magnitude.weight"), "weight");
      add_gate(i, need(i, "magnitude.bias"), "bias");
      add_gate(i, need(i, "phase.weight"), "weight");
    } else {
      expect(need(i, "beta.weight"), {H, D}, "n_heads, d_model");
      expect(need(i, "beta.bias"), {H}, "n_heads");
      add_gate(i, need(i, "beta.weight"), "weight");
      add_gate(i, need(i, "beta.bias"), "bias");
    }
  }
  if (a == "linscope-lion") {
    s_.variant = decay == "D" ? "LION-D" : "LION-S";
    s_.decay_kind = decay == "D" ? "static (learned)" : "data-dependent";
    s_.decay_rule = decay == "D" ? "λ_h = σ(decay.logit_h) per head"
                                 : "log λ_t = log σ(decay.weight · x_t + decay.bias) per head";
  } else if (a == "linscope-gateloop") {
    s_.decay_kind = "data-dependent";
    s_.decay_rule = "a_t = σ(magnitude(x_t)) · e^{i·phase(x_t)} per channel (GateLoop)";
  } else {
    s_.decay_kind = "data-dependent";
    s_.decay_rule = "no decay; β_t = σ(beta · x_t + bias) per head (delta rule)";
  }
}

void Summarizer::run() {
  s_.path = ck_.path();
  s_.shards = ck_.shard_files();
  // Every tensor's header entry: opens every shard, so a missing shard or a tensor missing
  // from its shard is reported here.
  for (const auto& n : ck_.tensor_names()) {
    const io::TensorInfo& t = ck_.info(n);
    s_.tensors.push_back({n, io::to_string(t.dtype), t.shape, t.bytes(), ck_.shard_of(n)});
    s_.parameters += numel_of(t.shape);
    s_.bytes += t.bytes();
  }
  detect();
  s_.decay_kind = "none";
  if (s_.architecture == "unknown") return;
  check_layers();
  const std::string& a = s_.architecture;
  if (a == "lion")
    lion();
  else if (a.rfind("linscope-", 0) == 0)
    tiny();
  else
    fla();
}

}  // namespace

Summary summarize(const Checkpoint& ck) {
  Summary s;
  Summarizer(ck, s).run();
  return s;
}

}  // namespace linscope::checkpoint
