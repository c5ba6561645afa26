// Dispatch for DeltaNet: recurrent, chunkwise (WY/UT) or parallel (the implicit attention
// matrix of one chunk covering the sequence). Attention and states are side records.
#include "core/base/error.h"
#include "core/deltanet/deltanet.h"
#include "core/deltanet/detail.h"

namespace linscope::deltanet {

Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts) {
  if (!has_form(spec, opts.form))
    throw Error(describe(spec) + ": no " + to_string(opts.form) + " form");
  if (opts.form == Form::Chunkwise && opts.chunk < 1)
    throw Error("chunk: chunk size must be >= 1, got " + std::to_string(opts.chunk));
  const Shape s = detail::check_inputs(in);
  const Tensor& q = in.get("q");
  const Tensor& k = in.get("k");
  const Tensor& v = in.get("v");
  const Tensor& beta = in.get("beta");

  Result r;
  r.y = Tensor({s.B, s.H, s.L, s.Dv});
  if (opts.attention) r.attention = Tensor({s.B, s.H, s.L, s.L});
  std::vector<int64_t> steps;
  detail::StateRecord record;
  if (opts.trace.states) {
    const int64_t bytes_per_step = s.heads() * s.Dk * s.Dv * 4;
    steps = trace_steps(s.L, opts.trace.stride, opts.trace.max_bytes, bytes_per_step);
    const int64_t n = static_cast<int64_t>(steps.size());
    r.trace.steps = steps;
    r.trace.states = Tensor({s.B, s.H, n, s.Dk, s.Dv});
    record = {&r.trace.states, &steps};
    if (opts.form == Form::Chunkwise) {
      const int64_t C = std::min(opts.chunk, s.L);
      r.trace.chunk_states = Tensor({s.B, s.H, (s.L + C - 1) / C, s.Dk, s.Dv});
    }
  }

  for_each_head(s.heads(), [&](int64_t bh) {
    const ConstMatrixView qh = head_matrix(q, bh), kh = head_matrix(k, bh), vh = head_matrix(v, bh);
    const ConstVectorView bt = head_vector(beta, bh);
    MatrixView y = head_matrix(r.y, bh);
    RowMatrix A;
    if (opts.form == Form::Parallel || opts.attention) A = detail::attention_matrix(qh, kh, bt);
    switch (opts.form) {
      case Form::Recurrent:
        detail::recurrent_head(qh, kh, vh, bt, &y, record, bh);
        break;
      case Form::Chunkwise:
        detail::chunkwise_head(qh, kh, vh, bt, opts.chunk, y,
                               opts.trace.states ? &r.trace.chunk_states : nullptr, record, bh);
        break;
      case Form::Parallel:
        y.noalias() = A.triangularView<Eigen::Lower>() * vh;  // A is causal
        if (opts.trace.states) detail::recurrent_head(qh, kh, vh, bt, nullptr, record, bh);
        break;
      case Form::Scan:
        break;  // rejected above
    }
    if (opts.attention) head_square(r.attention, bh) = A;
  });
  return r;
}

}  // namespace linscope::deltanet
