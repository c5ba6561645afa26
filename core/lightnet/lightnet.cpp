// LightNet's additive recurrence on a 1-D sequence (MODELS.md §6; arXiv 2405.21022,
// the additive linear recurrence that replaces λ_t S_{t−1} + k_t v_t^T):
//
//   δ_t = Σ_{s≤t} exp(f_s),   S_t = (δ_{t−1}/δ_t) S_{t−1} + (exp(f_t)/δ_t) k_t v_t^T,
//   y_t = q_t^T S_t   ⇔   y_i = Σ_{j≤i} (q_i^T k_j) exp(f_j)/δ_i · v_j          (parallel)
//
// log_weight f is [B,H,L] (one weight per token, the paper's "scalar decay" variant) or
// [B,H,L,Dk] (one per key channel, the paper's default where f = k: then δ, the decay and the
// weight are per channel c and A_ij = Σ_c q_ic k_jc exp(f_jc)/δ_ic).
//
// Numerics: with z_t = log δ_t (running log-sum-exp, in double) the decay is
// exp(z_{t−1} − z_t) ∈ (0, 1] and the weight exp(f_t − z_t) ∈ (0, 1]: exp(f) itself is never
// formed, so f of any size stays finite at any L.
//
// Direction::Bidirectional is LightNet's non-causal (N-D, bidirectional LM) form: one scan,
// then every token reads the final state, y_i = q_i^T S_L = Σ_j (q_i^T k_j) e^{f_j}/δ_L v_j
// (a softmax of f over the whole sequence; the 1 × L case of grid.h).
//
// MD-TPE and MD-LRPE (position.h) are their N = 1 cases, in the paper's order: MD-TPE on the
// token features first (u ← u + T u for u = q, k, v: x_t + (1 − λ) Σ_{s≤t} λ^{t−s} x_s, one
// causal scan each), then MD-LRPE on q and k (rotation by position t). With MD-TPE the
// implicit attention of the given v is A (I + T). With per-channel f the weights act on the
// rotated channels, A_ij = Σ_c q̃_ic k̃_jc e^{f_jc − z_ic}; the authors' code weights k before
// rotating it instead. The two agree for scalar f, the only case in which q^T k depends on
// the offset alone.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "core/base/error.h"
#include "core/base/heads.h"
#include "core/lightnet/lightnet.h"
#include "core/lightnet/position.h"

namespace linscope::lightnet {
namespace {

double log_add_exp(double a, double b) {
  const double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::abs(a - b)));
}

struct Head {
  RowMatrix q, k;   // [L, Dk], after MD-TPE and MD-LRPE when on
  RowMatrix v;      // [L, Dv], after MD-TPE when on
  RowMatrixD f, z;  // [L, nf] log weights and z_t = log δ_t; nf = Dk or 1
  bool global;      // bidirectional: every token reads the final state (δ_L normalizes)
};

// A of the parallel form, y = A v for the head's (encoded) v. Causal: A_ij for j ≤ i with
// δ_i; bidirectional: every j with δ_L, i.e. A = Q (K ⊙ W)^T with W_jc = e^{f_jc} / δ_{L,c}.
RowMatrix attention_matrix(const Head& h) {
  const int64_t L = h.q.rows(), nf = h.f.cols();
  if (h.global) {
    RowMatrix Kw = h.k;
    for (int64_t j = 0; j < L; ++j)
      for (int64_t c = 0; c < Kw.cols(); ++c) {
        const int64_t g = nf == 1 ? 0 : c;
        Kw(j, c) *= static_cast<float>(std::exp(h.f(j, g) - h.z(L - 1, g)));
      }
    return h.q * Kw.transpose();
  }
  // Causal, in C×C tiles so that no weight is formed per (i, j, c) off the diagonal: with the
  // last index r before row tile I, e^{f_jc − z_ic} = e^{f_jc − z_rc} · e^{z_rc − z_ic} for
  // j ≤ r < i, both factors in (0, 1] (z is increasing), so A[I, 0..r] is one matrix product
  // (Q_I ⊙ e^{z_r − z_I}) (K_{0..r} ⊙ e^{f − z_r})^T. Diagonal tiles are formed entry by entry.
  constexpr int64_t C = 64;
  const int64_t Dk = h.q.cols();
  RowMatrix A = RowMatrix::Zero(L, L);
  for (int64_t i0 = 0; i0 < L; i0 += C) {
    const int64_t i1 = std::min(L, i0 + C);
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t j = i0; j <= i; ++j) {
        double acc = 0;
        if (nf == 1) {
          acc = h.q.row(i).dot(h.k.row(j)) * std::exp(h.f(j, 0) - h.z(i, 0));
        } else {
          for (int64_t c = 0; c < Dk; ++c)
            acc += double(h.q(i, c)) * h.k(j, c) * std::exp(h.f(j, c) - h.z(i, c));
        }
        A(i, j) = static_cast<float>(acc);
      }
    if (i0 == 0) continue;
    const int64_t r = i0 - 1;
    RowMatrix Qs(i1 - i0, Dk), Ks(i0, Dk);
    for (int64_t c = 0; c < Dk; ++c) {
      const int64_t g = nf == 1 ? 0 : c;
      for (int64_t i = i0; i < i1; ++i)
        Qs(i - i0, c) = h.q(i, c) * static_cast<float>(std::exp(h.z(r, g) - h.z(i, g)));
      for (int64_t j = 0; j <= r; ++j)
        Ks(j, c) = h.k(j, c) * static_cast<float>(std::exp(h.f(j, g) - h.z(r, g)));
    }
    A.block(i0, 0, i1 - i0, i0).noalias() = Qs * Ks.transpose();
  }
  return A;
}

// A (I + T): the attention of the v given to run() when MD-TPE mixed it into the head's v.
// (A (I + T))^T = (I + T^T) A^T, one backward scan along t per row of A.
RowMatrix with_tpe(const RowMatrix& A) {
  RowMatrix At = A.transpose();
  md_tpe_apply(At, {A.rows()}, true);
  return At.transpose();
}

// The recurrence; writes y (when given) and the states at `steps` (when given).
void recurrence(const Head& h, float* y, Tensor* states, int64_t bh,
                const std::vector<int64_t>& steps) {
  const int64_t L = h.q.rows(), Dk = h.q.cols(), Dv = h.v.cols(), nf = h.f.cols();
  RowMatrix S = RowMatrix::Zero(Dk, Dv);
  size_t next = 0;
  for (int64_t t = 0; t < L; ++t) {
    if (nf == 1) {  // one decay and one weight for the whole state: a rank-1 update
      const float decay = t == 0 ? 0.0f : static_cast<float>(std::exp(h.z(t - 1, 0) - h.z(t, 0)));
      const float weight = static_cast<float>(std::exp(h.f(t, 0) - h.z(t, 0)));
      S *= decay;
      S.noalias() += (weight * h.k.row(t).transpose()) * h.v.row(t);
    } else {
      for (int64_t c = 0; c < Dk; ++c) {
        const float decay = t == 0 ? 0.0f : static_cast<float>(std::exp(h.z(t - 1, c) - h.z(t, c)));
        const float weight = static_cast<float>(std::exp(h.f(t, c) - h.z(t, c)));
        S.row(c) = decay * S.row(c) + (weight * h.k(t, c)) * h.v.row(t);
      }
    }
    if (y && !h.global) Eigen::Map<Eigen::RowVectorXf>(y + t * Dv, Dv) = h.q.row(t) * S;
    if (states && next < steps.size() && steps[next] == t)
      trace_state(*states, bh, static_cast<int64_t>(next++)) = S;
  }
  // Bidirectional: the one scan is done; every token reads S_L (LightNet's global form).
  if (y && h.global) Eigen::Map<RowMatrix>(y, L, Dv) = h.q * S;
}

}  // namespace

Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts) {
  if (opts.form != Form::Recurrent && opts.form != Form::Parallel)
    throw Error(describe(spec) + ": no " + to_string(opts.form) +
                " form (LightNet has recurrent and parallel)");
  const Shape s = in.shape();
  const bool per_channel = expect_decay_shape(in, "log_weight", s);
  in.check_finite();
  const int64_t L = s.L, Dk = s.Dk, Dv = s.Dv, nf = per_channel ? Dk : 1;
  const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v"), &f = in.get("log_weight");

  Result r;
  r.y = Tensor({s.B, s.H, L, Dv});
  if (opts.attention) r.attention = Tensor({s.B, s.H, L, L});
  std::vector<int64_t> steps;
  if (opts.trace.states) {
    steps = trace_steps(L, opts.trace.stride, opts.trace.max_bytes, Dk * Dv * s.heads() * 4);
    r.trace.states = Tensor({s.B, s.H, static_cast<int64_t>(steps.size()), Dk, Dv});
    r.trace.steps = steps;
  }
  const bool tpe = spec.lightnet.md_tpe, lrpe = spec.lightnet.md_lrpe;

  for_each_head(s.heads(), [&](int64_t bh) {
    Head h{head_matrix(q, bh), head_matrix(k, bh), head_matrix(v, bh),
           RowMatrixD(L, nf),  RowMatrixD(L, nf),  spec.direction == Direction::Bidirectional};
    const float* fh = f.data() + bh * L * nf;
    for (int64_t t = 0; t < L; ++t)
      for (int64_t c = 0; c < nf; ++c) {
        h.f(t, c) = fh[t * nf + c];
        h.z(t, c) = t == 0 ? h.f(t, c) : log_add_exp(h.z(t - 1, c), h.f(t, c));
      }
    if (tpe)
      for (RowMatrix* u : {&h.q, &h.k, &h.v}) md_tpe_apply(*u, {L});
    if (lrpe)
      for (int64_t t = 0; t < L; ++t) {
        md_lrpe_rotate(h.q.row(t).data(), Dk, {t});
        md_lrpe_rotate(h.k.row(t).data(), Dk, {t});
      }
    float* y = r.y.data() + bh * L * Dv;
    Tensor* states = opts.trace.states ? &r.trace.states : nullptr;
    if (opts.form == Form::Recurrent) {
      recurrence(h, y, states, bh, steps);
      if (opts.attention) {
        const RowMatrix A = attention_matrix(h);
        head_square(r.attention, bh) = tpe ? with_tpe(A) : A;
      }
    } else {
      const RowMatrix A = attention_matrix(h);
      Eigen::Map<RowMatrix>(y, L, Dv) = A * h.v;
      if (opts.attention) head_square(r.attention, bh) = tpe ? with_tpe(A) : A;
      // The states are not part of the parallel path; the recurrence records them.
      if (states) recurrence(h, nullptr, states, bh, steps);
    }
  });
  return r;
}

}  // namespace linscope::lightnet
