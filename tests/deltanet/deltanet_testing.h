// Shared by the DeltaNet tests: seeded inputs (L2-normalized keys, β = σ(N(0,1)) as the paper's
// gate) and an independent reference — the delta rule (MODELS.md §4) stepped in double.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/base/inputs.h"
#include "core/base/random.h"
#include "core/base/spec.h"
#include "core/deltanet/deltanet.h"

namespace linscope::deltanet_test {

struct Case {
  int64_t B = 2, H = 3, L = 7, Dk = 4, Dv = 6;
  uint64_t seed = 1;
};

inline ModelSpec deltanet_spec() {
  ModelSpec m;
  m.family = Family::DeltaNet;
  return m;
}

inline Inputs make_inputs(const Case& c) {
  Rng rng(c.seed);
  const std::vector<int64_t> qk{c.B, c.H, c.L, c.Dk};
  Inputs in;
  in.set("q", random_normal(qk, rng));
  Tensor k = random_normal(qk, rng);
  l2_normalize_last(k);
  in.set("k", std::move(k));
  in.set("v", random_normal({c.B, c.H, c.L, c.Dv}, rng));
  Tensor beta = random_normal({c.B, c.H, c.L}, rng);
  for (auto& x : beta.values()) x = static_cast<float>(sigmoid(x));
  in.set("beta", std::move(beta));
  return in;
}

// y [B,H,L,Dv] and S_t for every t [B,H,L,Dk,Dv], by the delta rule in double:
// S_t = S_{t−1} − β_t k_t (k_t^T S_{t−1} − v_t^T), y_t = q_t^T S_t.
struct Reference {
  std::vector<double> y, states;
};
inline Reference reference(const Inputs& in) {
  const Shape s = in.shape();
  const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v"), &beta = in.get("beta");
  Reference r;
  r.y.assign(static_cast<size_t>(s.heads() * s.L * s.Dv), 0.0);
  r.states.assign(static_cast<size_t>(s.heads() * s.L * s.Dk * s.Dv), 0.0);
  std::vector<double> S(static_cast<size_t>(s.Dk * s.Dv)), err(static_cast<size_t>(s.Dv));
  for (int64_t bh = 0; bh < s.heads(); ++bh) {
    std::fill(S.begin(), S.end(), 0.0);
    for (int64_t t = 0; t < s.L; ++t) {
      const int64_t row = bh * s.L + t;
      const float* kt = k.data() + row * s.Dk;
      for (int64_t d = 0; d < s.Dv; ++d) {
        double kS = 0;
        for (int64_t c = 0; c < s.Dk; ++c) kS += double(kt[c]) * S[c * s.Dv + d];
        err[d] = kS - v[row * s.Dv + d];
      }
      for (int64_t c = 0; c < s.Dk; ++c)
        for (int64_t d = 0; d < s.Dv; ++d) S[c * s.Dv + d] -= double(beta[row]) * kt[c] * err[d];
      for (int64_t d = 0; d < s.Dv; ++d) {
        double y = 0;
        for (int64_t c = 0; c < s.Dk; ++c) y += double(q[row * s.Dk + c]) * S[c * s.Dv + d];
        r.y[row * s.Dv + d] = y;
      }
      std::copy(S.begin(), S.end(), r.states.begin() + row * s.Dk * s.Dv);
    }
  }
  return r;
}

inline double relative_error(const Tensor& a, const std::vector<double>& b) {
  EXPECT_EQ(a.numel(), static_cast<int64_t>(b.size()));
  double num = 0, den = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (!std::isfinite(a[i])) return INFINITY;
    num = std::max(num, std::abs(a[i] - b[static_cast<size_t>(i)]));
    den = std::max(den, std::abs(b[static_cast<size_t>(i)]));
  }
  return num / std::max(den, 1e-30);
}

// Every form, with the chunk sizes asked for (C = L and C > L included by the caller).
inline std::vector<RunOptions> all_forms(const std::vector<int64_t>& chunks) {
  std::vector<RunOptions> out{RunOptions{Form::Recurrent}, RunOptions{Form::Parallel}};
  for (int64_t C : chunks) {
    RunOptions o{Form::Chunkwise};
    o.chunk = C;
    out.push_back(o);
  }
  return out;
}

}  // namespace linscope::deltanet_test
