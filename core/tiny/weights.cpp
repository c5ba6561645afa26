#include "core/tiny/weights.h"

#include "core/base/error.h"
#include "core/io/safetensors.h"

namespace linscope::tiny {
namespace {

class Reader {
 public:
  explicit Reader(const std::string& path) : file_(io::SafetensorsFile::open(path)), path_(path) {}

  Tensor get(const std::string& name, const std::vector<int64_t>& shape) const {
    if (!file_.has(name)) throw Error(path_ + ": missing tensor '" + name + "'");
    const auto& info = file_.info(name);
    if (info.shape != shape)
      throw Error(path_ + ": tensor '" + name + "' has shape " + shape_to_string(info.shape) +
                  ", config.json implies " + shape_to_string(shape));
    Tensor t = file_.read_f32(name);
    const int64_t bad = t.first_non_finite();
    if (bad >= 0)
      throw Error(path_ + ": tensor '" + name + "' holds a non-finite value at element " +
                  std::to_string(bad));
    return t;
  }

 private:
  io::SafetensorsFile file_;
  std::string path_;
};

}  // namespace

TinyWeights read_weights(const TinyConfig& c) {
  const Reader r(c.dir + "/model.safetensors");
  const int64_t D = c.d_model, H = c.n_heads, HD = c.n_heads * c.d_head, F = c.d_mlp;
  TinyWeights w;
  w.embed = r.get("embed.weight", {c.vocab_size, D});
  w.final_norm = r.get("final_norm.weight", {D});
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    LayerWeights l;
    l.attn_norm = r.get(p + "attn_norm.weight", {D});
    l.mlp_norm = r.get(p + "mlp_norm.weight", {D});
    l.q = r.get(p + "q.weight", {HD, D});
    l.k = r.get(p + "k.weight", {HD, D});
    l.v = r.get(p + "v.weight", {HD, D});
    l.o = r.get(p + "o.weight", {D, HD});
    l.up = r.get(p + "mlp.up.weight", {F, D});
    l.up_bias = r.get(p + "mlp.up.bias", {F});
    l.down = r.get(p + "mlp.down.weight", {D, F});
    l.down_bias = r.get(p + "mlp.down.bias", {D});
    switch (c.spec.family) {
      case Family::Lion:
        if (c.spec.decay == Decay::S) {
          l.decay = r.get(p + "decay.weight", {H, D});
          l.decay_bias = r.get(p + "decay.bias", {H});
        } else {
          l.decay = r.get(p + "decay.logit", {H});
        }
        break;
      case Family::GateLoop:
        l.magnitude = r.get(p + "magnitude.weight", {HD, D});
        l.magnitude_bias = r.get(p + "magnitude.bias", {HD});
        l.phase = r.get(p + "phase.weight", {HD, D});
        l.head_norm = r.get(p + "head_norm.weight", {c.d_head});
        break;
      default:  // DeltaNet (read_config admits no other family)
        l.beta = r.get(p + "beta.weight", {H, D});
        l.beta_bias = r.get(p + "beta.bias", {H});
        l.head_norm = r.get(p + "head_norm.weight", {c.d_head});
        break;
    }
    w.layers.push_back(std::move(l));
  }
  return w;
}

}  // namespace linscope::tiny
