// Dispatch for GateLoop: one of three forms per head; the attention matrix and the state trace
// are computed on the side and never feed the y path.
#include "core/base/error.h"
#include "core/gateloop/detail.h"
#include "core/gateloop/gateloop.h"

namespace linscope::gateloop {

Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts) {
  if (!has_form(spec, opts.form))
    throw Error(describe(spec) + ": no " + to_string(opts.form) + " form");
  const Shape s = detail::check_inputs(in);
  const Tensor& q = in.get("q");
  const Tensor& k = in.get("k");
  const Tensor& v = in.get("v");
  const Tensor& lm = in.get("log_magnitude");
  const Tensor& ph = in.get("phase");

  Result r;
  r.y = Tensor({s.B, s.H, s.L, s.Dv});
  if (opts.attention) r.attention = Tensor({s.B, s.H, s.L, s.L});
  std::vector<int64_t> steps;
  detail::StateRecord record;
  if (opts.trace.states) {
    // Re(S_t) and Im(S_t): two Dk x Dv float matrices per head and step.
    const int64_t bytes_per_step = 2 * s.heads() * s.Dk * s.Dv * 4;
    steps = trace_steps(s.L, opts.trace.stride, opts.trace.max_bytes, bytes_per_step);
    const int64_t n = static_cast<int64_t>(steps.size());
    r.trace.steps = steps;
    r.trace.states = Tensor({s.B, s.H, n, s.Dk, s.Dv});
    r.trace.states_imag = Tensor({s.B, s.H, n, s.Dk, s.Dv});
    record = {&r.trace.states, &r.trace.states_imag, &steps};
  }

  for_each_head(s.heads(), [&](int64_t bh) {
    const ConstMatrixView qh = head_matrix(q, bh), kh = head_matrix(k, bh), vh = head_matrix(v, bh);
    const ConstMatrixView lmh = head_matrix(lm, bh), phh = head_matrix(ph, bh);
    MatrixView y = head_matrix(r.y, bh);
    RowMatrix A;
    const bool need_A = opts.form == Form::Parallel || opts.attention;
    if (need_A) A = detail::surrogate_attention(qh, kh, lmh, phh);
    switch (opts.form) {
      case Form::Recurrent:
        detail::recurrent_head(qh, kh, vh, lmh, phh, &y, record, bh);
        break;
      case Form::Scan:
        detail::scan_head(qh, kh, vh, lmh, phh, y, record, bh);
        break;
      case Form::Parallel:
        y.noalias() = A.triangularView<Eigen::Lower>() * vh;  // A is causal
        // States are not part of the surrogate form: the recurrence records them.
        if (opts.trace.states) detail::recurrent_head(qh, kh, vh, lmh, phh, nullptr, record, bh);
        break;
      case Form::Chunkwise:
        break;  // rejected above
    }
    if (opts.attention) head_square(r.attention, bh) = A;
  });
  return r;
}

}  // namespace linscope::gateloop
