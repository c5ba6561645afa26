// The LCSM builder: a seeded random token sequence x_t ∈ R^{d} (d = Dv) per head, and from it
// the three EOS stages of arXiv 2405.17383 (MODELS.md §5), each chosen by an LcsmSource:
//
//   DataDependent  a projection of x_t with seeded random weights (the "data-driven" choice):
//                    e_t = W_e x_t,  s_t = W_s x_t,  o_t = σ(W_o x_t + b)  (log o = log σ(·))
//   Fixed          hand-crafted and the same for every t (the paper's "hand-crafted" choice):
//                    e, s fixed random vectors; o from an S4D-real-like spectrum
//                    λ_c = exp(−Δ_h (c+1)) per channel c (scalar: λ = exp(−Δ_h))
//   Constant       all ones: e = s = 1, o = 1 (log o = 0, no forgetting)
//
// The input i_t is x_t itself (v = x), so d_model = Dv.
//
// Presets (spec.cpp lcsm_preset) and the rows of the LCSM paper's table of special cases that
// they reproduce:
//   linear-attention  Linear attention (Katharopoulos et al.): e_t = k_t, s_t = q_t projections
//                     of x, o = 1. y_t = q_t^T Σ_{j≤t} k_j x_j^T, the unnormalised form.
//   mamba             Mamba / selective SSM: e_t = B_t, s_t = C_t projections of x_t and a
//                     per-channel, data-dependent o_t = exp(Δ_t A) written as σ(W_o x_t + b)
//                     (its log is ≤ 0 and moves with t, like Δ_t A with A < 0).
//   long-convolution  Long convolution (S4/TNN-style SSM-parametrised kernel): e, o, s all
//                     hand-crafted and time-invariant, so y_t = Σ_j h_{t−j} x_j with the fixed
//                     kernel h_r = Σ_c s_c λ_c^r e_c — a convolution whose kernel is as long as
//                     the sequence, computed by the recurrence in O(L).
//   linear-rnn        Element-wise linear RNN with a fixed decay (e.g. an EMA / fixed-gate LRU):
//                     e = s = 1 and a fixed scalar o = λ, so every memory row holds
//                     m_t = λ m_{t−1} + x_t and y_t = Dk · Σ_j λ^{t−j} x_j.
//   custom            whatever the LcsmSettings fields say.
#include <cmath>

#include "core/base/error.h"
#include "core/base/heads.h"
#include "core/base/random.h"
#include "core/lcsm/lcsm.h"

namespace linscope::lcsm {
namespace {

// Δ_h of the fixed spectrum: head h forgets on a time scale of ~20·(h+1) tokens per channel
// rate (λ_0 = exp(−0.05/(h+1)) ≈ 0.95 for h = 0), so heads show different memory lengths.
double fixed_step(int64_t h) {
  return 0.05 / static_cast<double>(h + 1);
}

// Bias of the data-dependent oscillation: σ(b) ≈ 0.95 for b = 3, spread over channels from
// b = 1 (σ ≈ 0.73, short memory) to b = 5 (σ ≈ 0.993, long memory), as Mamba's per-channel
// Δ initialisation spans several time scales.
double oscillation_bias(int64_t c, int64_t n) {
  return n <= 1 ? 3.0 : 1.0 + 4.0 * static_cast<double>(c) / static_cast<double>(n - 1);
}

// One head's hand-crafted and projection parameters, shared by every batch entry (they are a
// layer's weights, not data).
struct HeadParams {
  std::vector<double> W_e, W_s;     // [Dk, Dv]
  std::vector<double> e, s;         // [Dk] fixed vectors
  std::vector<double> W_o, b_o;     // [n_o, Dv], [n_o]; n_o = Dk per channel, else 1
  std::vector<double> log_o_fixed;  // [n_o]
};

std::vector<double> normals(Rng& rng, int64_t n, double stddev) {
  std::vector<double> out(static_cast<size_t>(n));
  for (auto& x : out) x = rng.normal(0.0, stddev);
  return out;
}

}  // namespace

Inputs build_inputs(const LcsmSettings& st, const Shape& sh, uint64_t seed) {
  if (sh.B < 1 || sh.H < 1 || sh.L < 1 || sh.Dk < 1 || sh.Dv < 1)
    throw Error("LCSM builder: every shape entry must be at least 1, got B=" +
                std::to_string(sh.B) + " H=" + std::to_string(sh.H) + " L=" + std::to_string(sh.L) +
                " Dk=" + std::to_string(sh.Dk) + " Dv=" + std::to_string(sh.Dv));
  Rng rng(seed);
  const int64_t B = sh.B, H = sh.H, L = sh.L, Dk = sh.Dk, Dv = sh.Dv;
  const int64_t n_o = st.oscillation_per_channel ? Dk : 1;
  // Projections with entries N(0, 1/(Dv sqrt(Dk))) give e, s components of variance
  // 1/sqrt(Dk) for unit-variance x, so s^T e is O(1) whatever Dk (as generate.cpp does).
  const double proj_std = 1.0 / std::sqrt(static_cast<double>(Dv) * std::sqrt(double(Dk)));
  const double vec_std = 1.0 / std::sqrt(std::sqrt(static_cast<double>(Dk)));

  std::vector<HeadParams> heads(static_cast<size_t>(H));
  for (int64_t h = 0; h < H; ++h) {
    HeadParams& p = heads[static_cast<size_t>(h)];
    p.W_e = normals(rng, Dk * Dv, proj_std);
    p.W_s = normals(rng, Dk * Dv, proj_std);
    p.e = normals(rng, Dk, vec_std);
    p.s = normals(rng, Dk, vec_std);
    p.W_o = normals(rng, n_o * Dv, 1.0 / std::sqrt(static_cast<double>(Dv)));
    for (int64_t c = 0; c < n_o; ++c) {
      p.b_o.push_back(oscillation_bias(c, n_o));
      // S4D-real: A_c = −(c+1); scalar o uses the slowest rate.
      p.log_o_fixed.push_back(-fixed_step(h) * static_cast<double>(c + 1));
    }
  }

  Tensor x = random_normal({B, H, L, Dv}, rng);
  Tensor q({B, H, L, Dk}), k({B, H, L, Dk});
  Tensor log_o = st.oscillation_per_channel ? Tensor({B, H, L, Dk}) : Tensor({B, H, L});

  // One head's e, s (or log o) rows for all L tokens at once: X W^T, the fixed row, or ones.
  using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  auto as_matrix = [](const std::vector<double>& w, int64_t rows, int64_t cols) {
    return Eigen::Map<const MatD>(w.data(), rows, cols);
  };
  auto stage = [&](LcsmSource src, const MatD& X, const std::vector<double>& W,
                   const std::vector<double>& fixed) -> MatD {
    if (src == LcsmSource::DataDependent) return X * as_matrix(W, Dk, Dv).transpose();
    if (src == LcsmSource::Fixed) return as_matrix(fixed, 1, Dk).replicate(L, 1);
    return MatD::Ones(L, Dk);
  };

  // x and the parameters are drawn above in a fixed order, so spreading heads over cores
  // leaves the inputs a function of the seed alone.
  for_each_head(B * H, [&](int64_t bh) {
    const HeadParams& p = heads[static_cast<size_t>(bh % H)];
    const MatD X = Eigen::Map<const RowMatrix>(x.data() + bh * L * Dv, L, Dv).cast<double>();
    Eigen::Map<RowMatrix>(q.data() + bh * L * Dk, L, Dk) =
        stage(st.shrink, X, p.W_s, p.s).cast<float>();
    Eigen::Map<RowMatrix>(k.data() + bh * L * Dk, L, Dk) =
        stage(st.expand, X, p.W_e, p.e).cast<float>();
    MatD lo = MatD::Zero(L, n_o);  // Constant: o = 1
    if (st.oscillation == LcsmSource::DataDependent) {
      lo = X * as_matrix(p.W_o, n_o, Dv).transpose();
      for (int64_t t = 0; t < L; ++t)
        for (int64_t c = 0; c < n_o; ++c)
          lo(t, c) = log_sigmoid(lo(t, c) + p.b_o[static_cast<size_t>(c)]);
    } else if (st.oscillation == LcsmSource::Fixed) {
      lo = as_matrix(p.log_o_fixed, 1, n_o).replicate(L, 1);
    }
    Eigen::Map<RowMatrix>(log_o.data() + bh * L * n_o, L, n_o) = lo.cast<float>();
  });

  Inputs in;
  in.set("q", std::move(q));
  in.set("k", std::move(k));
  in.set("v", std::move(x));
  in.set("log_decay", std::move(log_o));
  return in;
}

}  // namespace linscope::lcsm
