#include "core/engine/generate.h"

#include <cmath>

#include "core/base/random.h"
#include "core/lcsm/lcsm.h"

namespace linscope {
namespace {

Tensor scalar_log_decay(const Shape& s, Decay decay, const GenerateOptions& o, Rng& rng) {
  Tensor a({s.B, s.H, s.L});
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.H; ++h)
      for (int64_t t = 0; t < s.L; ++t) {
        double la = 0.0;  // LIT: λ = 1
        if (decay == Decay::D)
          la = o.lambda > 0 ? std::log(o.lambda) : std::log1p(-std::pow(2.0, -5.0 - h));
        else if (decay == Decay::S)
          la = log_sigmoid(rng.normal(o.selective_bias, 1.0));
        a[(b * s.H + h) * s.L + t] = static_cast<float>(la);
      }
  return a;
}

}  // namespace

Inputs generate_inputs(const ModelSpec& spec, const Shape& s, const GenerateOptions& o) {
  if (spec.family == Family::Lcsm) return lcsm::build_inputs(spec.lcsm, s, o.seed);
  Rng rng(o.seed);
  Inputs in;
  const std::vector<int64_t> qk{s.B, s.H, s.L, s.Dk}, vs{s.B, s.H, s.L, s.Dv};
  // Raw Gaussian q, k scaled so that q^T k is O(1) whatever Dk.
  const double scale = 1.0 / std::sqrt(std::sqrt(static_cast<double>(s.Dk)));
  Tensor q = random_normal(qk, rng, 0, scale);
  Tensor k = random_normal(qk, rng, 0, scale);
  Tensor v = random_normal(vs, rng);
  switch (spec.family) {
    case Family::LinearAttention:
    case Family::Lion:
      // LION's feature map (positive q^T k) wherever a normalizer divides by q^T z.
      if (spec.family == Family::Lion || spec.normalize) {
        lion_feature_map(q);
        lion_feature_map(k);
      }
      in.set("log_decay", scalar_log_decay(s, spec.decay, o, rng));
      break;
    case Family::GateLoop: {
      // |a_t| = σ(N(3,1)) ≈ 0.95: memories of tens of tokens; phases up to ~±0.3 rad.
      Tensor lm = random_normal(qk, rng, 3.0, 1.0);
      for (auto& x : lm.values()) x = static_cast<float>(log_sigmoid(x));
      in.set("log_magnitude", std::move(lm));
      in.set("phase", random_normal(qk, rng, 0.0, 0.3));
      break;
    }
    case Family::DeltaNet: {
      l2_normalize_last(k);  // required for stability (MODELS.md §4)
      Tensor beta = random_normal({s.B, s.H, s.L}, rng);
      for (auto& x : beta.values()) x = static_cast<float>(sigmoid(x));
      in.set("beta", std::move(beta));
      break;
    }
    case Family::LightNet:
      lion_feature_map(q);
      lion_feature_map(k);
      in.set("log_weight", random_normal({s.B, s.H, s.L}, rng));
      break;
    case Family::Lcsm:
      break;
  }
  in.set("q", std::move(q));
  in.set("k", std::move(k));
  in.set("v", std::move(v));
  return in;
}

}  // namespace linscope
