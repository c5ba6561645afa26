// Helpers for the causal linear attention tests: seeded inputs (core/base/random.h only) and an
// independent double-precision reference written straight from the recurrence of MODELS.md §1,
// S_t = diag(λ_t) S_{t-1} + k_t v_t^T, with λ_t = exp(log λ_t) of each step (no cumulative sums,
// no chunks), so that it cannot share a mistake with the forms under test.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/base/inputs.h"
#include "core/base/random.h"
#include "core/base/spec.h"

namespace linscope::la_test {

// How log_decay is made: absent (LIT), one value per head (D), per step (S), per step and channel.
enum class DecayKind { LIT, D, S, PerChannel };

inline const char* name(DecayKind d) {
  switch (d) {
    case DecayKind::LIT:
      return "LIT";
    case DecayKind::D:
      return "D";
    case DecayKind::S:
      return "S";
    case DecayKind::PerChannel:
      return "per-channel";
  }
  return "?";
}

struct Case {
  int64_t B = 2, H = 3, L = 16, Dk = 8, Dv = 5;
  DecayKind decay = DecayKind::S;
  bool normalize = false;
  uint64_t seed = 7;
};

// q, k ~ N(0,1) (elu+1 when normalizing, so q^T z > 0 as with Katharopoulos' feature map),
// v ~ N(0,1); log λ = log σ(x), x ~ N(2, 1) (λ mostly 0.7..0.98, as LION/GLA gates start).
inline Inputs make_inputs(const Case& c) {
  Rng rng(c.seed);
  Inputs in;
  Tensor q = random_normal({c.B, c.H, c.L, c.Dk}, rng);
  Tensor k = random_normal({c.B, c.H, c.L, c.Dk}, rng);
  if (c.normalize) {
    elu_plus_one(q);
    elu_plus_one(k);
  }
  in.set("q", q);
  in.set("k", k);
  in.set("v", random_normal({c.B, c.H, c.L, c.Dv}, rng));
  switch (c.decay) {
    case DecayKind::LIT:
      break;
    case DecayKind::D: {
      Tensor a({c.B, c.H, c.L});
      for (int64_t bh = 0; bh < c.B * c.H; ++bh) {
        const float head = static_cast<float>(log_sigmoid(rng.normal(2, 1)));
        for (int64_t t = 0; t < c.L; ++t) a[bh * c.L + t] = head;
      }
      in.set("log_decay", a);
      break;
    }
    case DecayKind::S:
    case DecayKind::PerChannel: {
      std::vector<int64_t> shape{c.B, c.H, c.L};
      if (c.decay == DecayKind::PerChannel) shape.push_back(c.Dk);
      Tensor a(shape);
      for (int64_t i = 0; i < a.numel(); ++i)
        a[i] = static_cast<float>(log_sigmoid(rng.normal(2, 1)));
      in.set("log_decay", a);
      break;
    }
  }
  return in;
}

inline ModelSpec spec_of(bool normalize) {
  ModelSpec s;
  s.family = Family::LinearAttention;
  s.decay = Decay::S;
  s.normalize = normalize;
  return s;
}

// log λ_{t,c} of head bh (0 when log_decay is absent; scalar decays broadcast over c).
inline double log_lambda(const Inputs& in, int64_t bh, int64_t t, int64_t c) {
  if (!in.has("log_decay")) return 0.0;
  const Tensor& a = in.get("log_decay");
  const int64_t L = a.dim(2);
  if (a.rank() == 3) return a[bh * L + t];
  const int64_t Dk = a.dim(3);
  return a[(bh * L + t) * Dk + c];
}

// y from the recurrence in double. If `states_at` is given, also the state S_t of every head at
// those steps, [heads][step][Dk*Dv].
struct Reference {
  Tensor y;
  std::vector<std::vector<std::vector<double>>> states;
};

inline Reference reference(const Inputs& in, bool normalize,
                           const std::vector<int64_t>& states_at = {}) {
  const Shape s = in.shape();
  const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v");
  Reference r;
  r.y = Tensor({s.B, s.H, s.L, s.Dv});
  r.states.resize(static_cast<size_t>(s.heads()));
  for (int64_t bh = 0; bh < s.heads(); ++bh) {
    std::vector<double> S(static_cast<size_t>(s.Dk * s.Dv), 0.0), z(static_cast<size_t>(s.Dk), 0.0);
    size_t next = 0;
    for (int64_t t = 0; t < s.L; ++t) {
      const float* qt = q.data() + (bh * s.L + t) * s.Dk;
      const float* kt = k.data() + (bh * s.L + t) * s.Dk;
      const float* vt = v.data() + (bh * s.L + t) * s.Dv;
      for (int64_t a = 0; a < s.Dk; ++a) {
        const double lam = std::exp(log_lambda(in, bh, t, a));
        z[a] = lam * z[a] + kt[a];
        for (int64_t b = 0; b < s.Dv; ++b)
          S[a * s.Dv + b] = lam * S[a * s.Dv + b] + static_cast<double>(kt[a]) * vt[b];
      }
      double den = 0;
      for (int64_t a = 0; a < s.Dk; ++a) den += qt[a] * z[a];
      for (int64_t b = 0; b < s.Dv; ++b) {
        double yb = 0;
        for (int64_t a = 0; a < s.Dk; ++a) yb += qt[a] * S[a * s.Dv + b];
        if (normalize) yb = den == 0 ? 0 : yb / den;
        r.y[(bh * s.L + t) * s.Dv + b] = static_cast<float>(yb);
      }
      if (next < states_at.size() && states_at[next] == t) {
        r.states[bh].push_back(S);
        ++next;
      }
    }
  }
  return r;
}

}  // namespace linscope::la_test
