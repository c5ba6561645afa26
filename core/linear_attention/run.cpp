// Dispatch for causal linear attention (MODELS.md §1): checks the inputs, runs one form per
// head, and records the attention matrix and the states on the side, never touching y's path.
#include <cmath>
#include <sstream>

#include "core/base/error.h"
#include "core/linear_attention/linear_attention.h"

namespace linscope::linear_attention {
namespace {

// log_decay, when present: [B,H,L] or [B,H,L,Dk], finite, and <= kMaxLogDecay (|λ| <= 1: a
// positive log decay would make the state grow without bound, and the stable forms rely on
// every exp(difference of cumulative logs) being <= 1).
void check_log_decay(const Inputs& in, const Shape& s) {
  if (!in.has("log_decay")) return;
  const bool per_channel = expect_decay_shape(in, "log_decay", s);
  const Tensor& t = in.get("log_decay");
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float a = t[i];
    if (std::isfinite(a) && a <= kMaxLogDecay) continue;
    const int64_t per_step = per_channel ? s.Dk : 1;
    const int64_t bh = i / (s.L * per_step), step = (i / per_step) % s.L;
    std::ostringstream m;
    m << "log_decay: entry " << a << " at head " << bh << " (b=" << bh / s.H << ", h=" << bh % s.H
      << "), step " << step;
    if (per_channel) m << ", channel " << i % s.Dk;
    if (!std::isfinite(a))
      m << " is not finite (log λ must be a finite number <= 0; use a large negative value for"
           " λ ≈ 0)";
    else
      m << " is positive: log λ must be <= 0 (|λ| <= 1), with a tolerance of " << kMaxLogDecay
        << " for rounding";
    throw Error(m.str());
  }
}

}  // namespace

HeadDecay head_decay(const Inputs& in, int64_t bh, const Shape& s) {
  HeadDecay d;
  if (!in.has("log_decay")) {
    d.log.assign(static_cast<size_t>(s.L), 0.0);  // LIT: λ = 1
    return d;
  }
  const Tensor& t = in.get("log_decay");
  d.width = t.rank() == 4 ? s.Dk : 1;
  const int64_t n = s.L * d.width;
  const float* p = t.data() + bh * n;
  d.log.assign(p, p + n);
  return d;
}

Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts) {
  if (spec.direction != Direction::Causal)
    throw Error(describe(spec) + ": linear attention is causal; bidirectional is LION");
  if (!has_form(spec, opts.form))
    throw Error(describe(spec) + ": no " + to_string(opts.form) + " form");
  if (opts.form == Form::Chunkwise && opts.chunk < 1)
    throw Error("chunk: chunk size must be >= 1, got " + std::to_string(opts.chunk));
  const Shape s = in.shape();
  check_log_decay(in, s);
  const Tensor& q = in.get("q");
  const Tensor& k = in.get("k");
  const Tensor& v = in.get("v");

  Result r;
  r.y = Tensor({s.B, s.H, s.L, s.Dv});
  if (opts.attention) r.attention = Tensor({s.B, s.H, s.L, s.L});
  std::vector<int64_t> steps;
  if (opts.trace.states) {
    const int64_t bytes_per_step = s.heads() * s.Dk * s.Dv * 4;
    steps = trace_steps(s.L, opts.trace.stride, opts.trace.max_bytes, bytes_per_step);
    r.trace.steps = steps;
    r.trace.states = Tensor({s.B, s.H, static_cast<int64_t>(steps.size()), s.Dk, s.Dv});
    if (opts.form == Form::Chunkwise) {
      const int64_t C = std::min(opts.chunk, s.L);
      r.trace.chunk_states = Tensor({s.B, s.H, (s.L + C - 1) / C, s.Dk, s.Dv});
    }
  }

  for_each_head(s.heads(), [&](int64_t bh) {
    const ConstMatrixView qh = head_matrix(q, bh), kh = head_matrix(k, bh), vh = head_matrix(v, bh);
    MatrixView y = head_matrix(r.y, bh);
    const HeadDecay decay = head_decay(in, bh, s);
    StateRecord record;
    if (opts.trace.states) record = {&r.trace.states, &steps, bh};
    switch (opts.form) {
      case Form::Recurrent:
        recurrent_head(qh, kh, vh, decay, spec.normalize, y, record);
        break;
      case Form::Parallel:
        if (opts.attention) {  // the matrix y is made from is the attention: keep it
          RowMatrix P;
          parallel_head(qh, kh, vh, decay, spec.normalize, y, &P);
          head_square(r.attention, bh) = P;
        } else {
          parallel_head(qh, kh, vh, decay, spec.normalize, y);
        }
        break;
      case Form::Chunkwise:
        chunkwise_head(qh, kh, vh, decay, opts.chunk, spec.normalize, y,
                       opts.trace.states ? &r.trace.chunk_states : nullptr, bh);
        break;
      case Form::Scan:
        break;  // rejected by has_form above
    }
    if (opts.trace.states && opts.form != Form::Recurrent) record_states(kh, vh, decay, record);
    if (opts.attention && opts.form != Form::Parallel)
      head_square(r.attention, bh) = attention_head(qh, kh, decay, spec.normalize);
  });
  return r;
}

}  // namespace linscope::linear_attention
