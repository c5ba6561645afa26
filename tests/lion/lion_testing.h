// Shared by the LION tests: seeded inputs, and an independent double-precision reference built
// straight from the full-attention definition (MODELS.md §2) with the mask formed entry by
// entry as a product of λ's, so no test compares a form only against another form.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/base/inputs.h"
#include "core/base/random.h"
#include "core/base/spec.h"
#include "core/lion/lion.h"

namespace linscope::lion_test {

struct Case {
  int64_t B = 2, H = 3, L = 7, Dk = 5, Dv = 3;
  Decay decay = Decay::S;
  bool normalize = true;
  uint64_t seed = 1;
};

inline ModelSpec spec_of(Decay decay, bool normalize,
                         Direction direction = Direction::Bidirectional) {
  ModelSpec m;
  m.family = Family::Lion;
  m.decay = decay;
  m.direction = direction;
  m.normalize = normalize;
  return m;
}

// Scaled cases get LION's feature map (q^T k > 0, so C_i > 0 as in the paper); unscaled cases
// keep raw Gaussian q, k so that mixed signs are exercised too.
inline Inputs make_inputs(const Case& c) {
  Rng rng(c.seed);
  Tensor q = random_normal({c.B, c.H, c.L, c.Dk}, rng);
  Tensor k = random_normal({c.B, c.H, c.L, c.Dk}, rng);
  if (c.normalize) {
    lion_feature_map(q);
    lion_feature_map(k);
  }
  Tensor a({c.B, c.H, c.L});
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.H; ++h)
      for (int64_t t = 0; t < c.L; ++t) {
        double la = 0.0;                                                  // LIT: λ = 1
        if (c.decay == Decay::D) la = std::log(0.95 - 0.15 * h);          // one λ per head
        if (c.decay == Decay::S) la = log_sigmoid(rng.normal(1.5, 1.5));  // λ_t ≈ 0.2..0.99
        a[(b * c.H + h) * c.L + t] = static_cast<float>(la);
      }
  Inputs in;
  in.set("q", std::move(q));
  in.set("k", std::move(k));
  in.set("v", random_normal({c.B, c.H, c.L, c.Dv}, rng));
  in.set("log_decay", std::move(a));
  return in;
}

// Double reference: y (row-major [B,H,L,Dv]) and, per row, the magnitude the float forms'
// rounding is proportional to: scale_i = Σ_j M_ij (Σ_d |q_id k_jd|) max_e |v_je|, divided by
// |C_i| when scaled. Rows farther than `band` from i are skipped (band < 0: all); used only for
// λ = 0.5 at L = 16384 where 0.5^band is far below float resolution.
struct Reference {
  std::vector<double> y, scale;
  std::vector<double> attention;  // [B,H,L,L] scaled rows (filled when band < 0)
  int64_t L = 0, Dv = 0;
};

inline Reference reference(const Inputs& in, bool normalize, bool causal = false,
                           int64_t band = -1) {
  const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v");
  const int64_t B = q.dim(0), H = q.dim(1), L = q.dim(2), Dk = q.dim(3), Dv = v.dim(3);
  Reference r;
  r.L = L;
  r.Dv = Dv;
  r.y.assign(static_cast<size_t>(B * H * L * Dv), 0.0);
  r.scale.assign(static_cast<size_t>(B * H * L), 0.0);
  if (band < 0) r.attention.assign(static_cast<size_t>(B * H * L * L), 0.0);
  for (int64_t bh = 0; bh < B * H; ++bh) {
    std::vector<double> lam(static_cast<size_t>(L), 1.0);
    if (in.has("log_decay"))
      for (int64_t t = 0; t < L; ++t) lam[t] = std::exp(double(in.get("log_decay")[bh * L + t]));
    for (int64_t i = 0; i < L; ++i) {
      const int64_t lo = band < 0 ? 0 : std::max<int64_t>(0, i - band);
      const int64_t hi = band < 0 ? L - 1 : std::min<int64_t>(L - 1, i + band);
      std::vector<double> num(static_cast<size_t>(Dv), 0.0);
      double c = 0, mag = 0;
      std::vector<double> row(static_cast<size_t>(L), 0.0);
      for (int64_t j = lo; j <= hi; ++j) {
        if (causal && j > i) break;
        // M_ij = Π_{m=min(i,j)+1..max(i,j)} λ_m, M_ii = 1 (the empty product).
        double m = 1.0;
        for (int64_t t = std::min(i, j) + 1; t <= std::max(i, j); ++t) m *= lam[t];
        double qk = 0, qk_abs = 0, vmax = 0;
        for (int64_t d = 0; d < Dk; ++d) {
          const double x = double(q[(bh * L + i) * Dk + d]) * k[(bh * L + j) * Dk + d];
          qk += x;
          qk_abs += std::abs(x);
        }
        for (int64_t e = 0; e < Dv; ++e) {
          const double ve = v[(bh * L + j) * Dv + e];
          num[e] += m * qk * ve;
          vmax = std::max(vmax, std::abs(ve));
        }
        c += m * qk;
        mag += m * qk_abs * vmax;
        row[j] = m * qk;
      }
      const double div = normalize ? c : 1.0;
      for (int64_t e = 0; e < Dv; ++e) r.y[(bh * L + i) * Dv + e] = div == 0 ? 0.0 : num[e] / div;
      r.scale[bh * L + i] = div == 0 ? 1.0 : mag / std::abs(div);
      if (band < 0)
        for (int64_t j = 0; j < L; ++j)
          r.attention[(bh * L + i) * L + j] = div == 0 ? 0.0 : row[j] / div;
    }
  }
  return r;
}

// max over entries of |a − b| / scale_row (b given as doubles). Non-finite a gives +inf.
template <typename Values>
double scaled_error(const Tensor& a, const Values& b, const Reference& r) {
  EXPECT_EQ(a.numel(), static_cast<int64_t>(r.y.size()));
  double worst = 0;
  for (int64_t n = 0; n < a.numel(); ++n) {
    if (!std::isfinite(a[n])) return std::numeric_limits<double>::infinity();
    worst = std::max(worst, std::abs(double(a[n]) - double(b[n])) / r.scale[n / r.Dv]);
  }
  return worst;
}

// Worst-case float32 rounding bound for sums of n terms: γ_n ≈ n·eps. Every LION form forms
// dot products over Dk, sums over at most L tokens (in any order: the RNN's chain of λ
// multiplications, the chunkwise two-factor decays and the ½-diagonal subtraction each add at
// most a few eps per term), and the scaled forms divide by a normalizer carrying the same
// relative error. Hence |y_form − y_exact| <= 4 (L + Dk + Dv) eps · scale_i, the constant 4
// covering numerator, normalizer, the mask exponentials and the diagonal correction.
inline double fp32_bound(int64_t L, int64_t Dk, int64_t Dv) {
  return 4.0 * static_cast<double>(L + Dk + Dv) * std::numeric_limits<float>::epsilon();
}

}  // namespace linscope::lion_test
