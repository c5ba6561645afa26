// Shared by the GateLoop tests: seeded inputs and an independent reference — the recurrence of
// GateLoop eq. 1 (MODELS.md §3) in std::complex<double>, with a_t formed from its polar parts
// step by step, so no test compares a form only against another form.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <vector>

#include "core/base/inputs.h"
#include "core/base/random.h"
#include "core/base/spec.h"
#include "core/gateloop/gateloop.h"

namespace linscope::gateloop_test {

struct Case {
  int64_t B = 2, H = 3, L = 7, Dk = 4, Dv = 6;
  uint64_t seed = 1;
  double magnitude_mean = 3.0;  // |a| = σ(N(mean, 1)): ≈ 0.95 for 3
};

inline ModelSpec gateloop_spec() {
  ModelSpec m;
  m.family = Family::GateLoop;
  return m;
}

inline Inputs make_inputs(const Case& c) {
  Rng rng(c.seed);
  const std::vector<int64_t> qk{c.B, c.H, c.L, c.Dk};
  Inputs in;
  in.set("q", random_normal(qk, rng, 0, 0.7));
  in.set("k", random_normal(qk, rng, 0, 0.7));
  in.set("v", random_normal({c.B, c.H, c.L, c.Dv}, rng));
  Tensor lm = random_normal(qk, rng, c.magnitude_mean, 1.0);
  for (auto& x : lm.values()) x = static_cast<float>(log_sigmoid(x));
  in.set("log_magnitude", std::move(lm));
  in.set("phase", random_normal(qk, rng, 0.0, 0.5));
  return in;
}

// y [B,H,L,Dv] (double) and, when wanted, S_t for every t: the complex recurrence in double.
struct Reference {
  std::vector<double> y;
  std::vector<std::complex<double>> states;  // [B,H,L,Dk,Dv]
};
inline Reference reference(const Inputs& in, bool keep_states = false) {
  const Shape s = in.shape();
  const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v");
  const Tensor &lm = in.get("log_magnitude"), &ph = in.get("phase");
  Reference r;
  r.y.assign(static_cast<size_t>(s.heads() * s.L * s.Dv), 0.0);
  if (keep_states) r.states.resize(static_cast<size_t>(s.heads() * s.L * s.Dk * s.Dv));
  std::vector<std::complex<double>> S(static_cast<size_t>(s.Dk * s.Dv));
  for (int64_t bh = 0; bh < s.heads(); ++bh) {
    std::fill(S.begin(), S.end(), 0.0);
    for (int64_t t = 0; t < s.L; ++t) {
      const int64_t row = bh * s.L + t;
      for (int64_t c = 0; c < s.Dk; ++c) {
        const std::complex<double> a =
            std::polar(std::exp(double(lm[row * s.Dk + c])), double(ph[row * s.Dk + c]));
        for (int64_t d = 0; d < s.Dv; ++d) {
          auto& x = S[static_cast<size_t>(c * s.Dv + d)];
          x = a * x + double(k[row * s.Dk + c]) * double(v[row * s.Dv + d]);
        }
      }
      // y_t = Re(q_t^H S_t), q real so q^H = q^T.
      for (int64_t d = 0; d < s.Dv; ++d) {
        std::complex<double> acc = 0.0;
        for (int64_t c = 0; c < s.Dk; ++c)
          acc += std::conj(std::complex<double>(q[row * s.Dk + c])) *
                 S[static_cast<size_t>(c * s.Dv + d)];
        r.y[static_cast<size_t>(row * s.Dv + d)] = acc.real();
      }
      if (keep_states) std::copy(S.begin(), S.end(), r.states.begin() + row * s.Dk * s.Dv);
    }
  }
  return r;
}

// max|a − b| / max|b|.
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

}  // namespace linscope::gateloop_test
