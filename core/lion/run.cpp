// Dispatch for LION: causal LION is causal masked linear attention (delegated); bidirectional
// LION runs one of its three forms per head, and records the attention matrix and the states
// on the side without touching the y path.
#include "core/base/error.h"
#include "core/linear_attention/linear_attention.h"
#include "core/lion/detail.h"
#include "core/lion/lion.h"

namespace linscope::lion {

Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts) {
  if (spec.direction == Direction::Causal) {
    // LION-causal (LION §3, MODELS.md §1/§2): the forward RNN alone, i.e. causal masked linear
    // attention with the same λ_t and the same optional normalizer.
    ModelSpec causal = spec;
    causal.family = Family::LinearAttention;
    return linear_attention::run(causal, in, opts);
  }
  if (!has_form(spec, opts.form))
    throw Error(describe(spec) + ": no " + to_string(opts.form) + " form");
  if (opts.form == Form::Chunkwise && opts.chunk < 1)
    throw Error("chunk: chunk size must be >= 1, got " + std::to_string(opts.chunk));
  const Shape s = detail::check_inputs(in);
  const Tensor& q = in.get("q");
  const Tensor& k = in.get("k");
  const Tensor& v = in.get("v");

  Result r;
  r.y = Tensor({s.B, s.H, s.L, s.Dv});
  if (opts.attention) r.attention = Tensor({s.B, s.H, s.L, s.L});
  std::vector<int64_t> steps;
  if (opts.trace.states) {
    // Two states per step (S^F_t and S^B_t) of Dk x Dv floats for every head.
    const int64_t bytes_per_step = 2 * s.heads() * s.Dk * s.Dv * 4;
    steps = trace_steps(s.L, opts.trace.stride, opts.trace.max_bytes, bytes_per_step);
    const int64_t n = static_cast<int64_t>(steps.size());
    r.trace.steps = steps;
    r.trace.states = Tensor({s.B, s.H, n, s.Dk, s.Dv});
    r.trace.states_backward = Tensor({s.B, s.H, n, s.Dk, s.Dv});
    if (opts.form == Form::Chunkwise) {
      const int64_t C = std::min(opts.chunk, s.L);
      r.trace.chunk_states = Tensor({s.B, s.H, (s.L + C - 1) / C, s.Dk, s.Dv});
    }
  }
  detail::StateRecord record;
  if (opts.trace.states) record = {&r.trace.states, &r.trace.states_backward, &steps};

  for_each_head(s.heads(), [&](int64_t bh) {
    const ConstMatrixView qh = head_matrix(q, bh), kh = head_matrix(k, bh), vh = head_matrix(v, bh);
    MatrixView y = head_matrix(r.y, bh);
    const std::vector<double> a = detail::head_log_decay(in, bh, s.L);
    const std::vector<double> A = detail::cumulative(a);
    switch (opts.form) {
      case Form::Parallel:
        if (opts.attention) {  // y's own score matrix, row-scaled, is the attention
          RowMatrix P;
          detail::parallel_head(qh, kh, vh, A, spec.normalize, y, &P);
          head_square(r.attention, bh) = P;
        } else {
          detail::parallel_head(qh, kh, vh, A, spec.normalize, y);
        }
        break;
      case Form::Recurrent:
        detail::recurrent_head(qh, kh, vh, a, spec.normalize, &y, record, bh);
        break;
      case Form::Chunkwise:
        detail::chunkwise_head(qh, kh, vh, A, opts.chunk, spec.normalize, y,
                               opts.trace.states ? &r.trace.chunk_states : nullptr, bh);
        break;
      case Form::Scan:
        break;  // rejected above
    }
    // Side records, computed apart from y so that asking for them never changes y.
    if (opts.trace.states && opts.form != Form::Recurrent)
      detail::recurrent_head(qh, kh, vh, a, spec.normalize, nullptr, record, bh);
    if (opts.attention && opts.form != Form::Parallel) {
      RowMatrix P = detail::masked_scores(qh, kh, A);
      const Eigen::VectorXf c = P.rowwise().sum();
      detail::scale_rows(P, c, spec.normalize);
      head_square(r.attention, bh) = P;
    }
  });
  return r;
}

}  // namespace linscope::lion
