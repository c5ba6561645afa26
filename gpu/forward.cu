#include "gpu/forward.h"

#include <algorithm>

namespace linscope::gpu {
namespace {

// The linear-attention model whose kernels compute LightNet on the inputs lightnet_inputs()
// writes: causal LightNet is causal linear attention with a selective decay; the global
// (bidirectional) form is unnormalized LION-LIT bidirectional (gpu/lightnet.cu; its recurrent
// form reads S_L directly, lightnet_global_readout).
ModelSpec lightnet_as_linear_attention(const ModelSpec& spec) {
  ModelSpec m;
  m.normalize = false;
  if (spec.direction == Direction::Bidirectional) {
    m.family = Family::Lion;
    m.decay = Decay::LIT;
    m.direction = Direction::Bidirectional;
  } else {
    m.family = Family::LinearAttention;
    m.decay = Decay::S;
    m.direction = Direction::Causal;
  }
  return m;
}

// LCSM's EOS recurrence m_t = o_t ⊙ m_{t−1} + e_t i_t^T, y_t = m_t^T s_t is causal linear
// attention with a selective decay and no normalizer, exactly as core/lcsm/run.cpp delegates.
ModelSpec lcsm_as_linear_attention() {
  ModelSpec m;
  m.family = Family::LinearAttention;
  m.decay = Decay::S;
  m.direction = Direction::Causal;
  m.normalize = false;
  return m;
}

bool is_bidirectional(const ModelSpec& spec) {
  return spec.family == Family::Lion && spec.direction == Direction::Bidirectional;
}

// LION's row scaling C^-1 is spec.normalize (on by default in the LION presets), exactly as
// core/lion/run.cpp reads it; causal LION is causal linear attention with the same flag.
bool normalizes(const ModelSpec& spec) {
  return spec.normalize;
}

// Causal numerators of one direction in the requested form.
void causal_numerators(const RunOptions& opts, const float* q, const float* k, const float* v,
                       const float* a, const double* A, float* num, DeviceBuffer& states,
                       const Dims& d, int64_t Dc, cudaStream_t s) {
  switch (opts.form) {
    case Form::Recurrent:
      la_recurrent(q, k, v, a, num, d, Dc, s);
      return;
    case Form::Parallel:
      la_block_attention(q, k, v, A, nullptr, num, d, Dc, d.L, false, s);
      return;
    case Form::Chunkwise: {
      const int64_t C = std::min(opts.chunk, d.L);
      const int64_t NC = (d.L + C - 1) / C;
      states.ensure(sizeof(float) * d.BH * NC * d.Dk * Dc);
      la_chunk_states(k, v, A, states.as<float>(), d, Dc, C, s);
      la_chunk_scan(states.as<float>(), A, d, Dc, C, s);
      la_block_attention(q, k, v, A, states.as<float>(), num, d, Dc, C, false, s);
      return;
    }
    case Form::Scan:
      break;
  }
  throw BackendError("no CUDA kernel for this form");
}

// The tensor-core kernels take bf16 rows: `given` when the caller has them (the bench's "bf16
// in"), else x converted into buf.
const void* bf16_copy(const void* given, const float* x, int64_t n, DeviceBuffer& buf,
                      cudaStream_t s) {
  if (given) return given;
  buf.ensure(2 * n);
  to_bf16(x, buf.as<void>(), n, s);
  return buf.as<void>();
}

// q, k, v as bf16 rows for a tensor-core kernel, and the bytes the copies need at most.
struct Bf16Rows {
  const void *q, *k, *v;
};
Bf16Rows bf16_rows(const DeviceInputs& in, Workspace& ws, cudaStream_t s) {
  const Dims& d = in.d;
  return {bf16_copy(in.q16, in.q, d.BH * d.L * d.Dk, ws.q16, s),
          bf16_copy(in.k16, in.k, d.BH * d.L * d.Dk, ws.k16, s),
          bf16_copy(in.v16, in.v, d.BH * d.L * d.Dv, ws.v16, s)};
}
size_t bf16_rows_bytes(const Dims& d) {
  return 2 * static_cast<size_t>(d.BH * d.L * (2 * d.Dk + d.Dv));
}

// Per-channel decay (a gate per key channel: GLA-style linear attention, LCSM's per-channel
// o_t), MODELS.md §1 with diag(λ_t). Chunkwise: the linear-attention chunk kernels with A per
// channel. Recurrent and parallel: S_t = diag(λ_t) S_{t−1} + k_t v_t^T is GateLoop's recurrence
// with a zero phase, so GateLoop's kernels compute it (the parallel form through its surrogate
// attention, which with cos 0 = 1 is the per-channel masked attention). The normalizer is the
// extra value column of ones in every form, as for scalar decay.
void per_channel_forward(const ModelSpec& spec, const RunOptions& opts, const DeviceInputs& in,
                         float* y, float* att, Workspace& ws, cudaStream_t s) {
  const Dims& d = in.d;
  if (is_bidirectional(spec))
    throw BackendError("per-channel decay: LION takes one scalar decay per token");
  const bool norm = normalizes(spec);
  const int64_t Dc = d.Dv + (norm ? 1 : 0);
  float* num = y;
  if (norm) {
    ws.num.ensure(sizeof(float) * d.BH * d.L * Dc);
    num = ws.num.as<float>();
  }
  if (opts.form == Form::Chunkwise) {
    ws.A.ensure(sizeof(double) * d.BH * d.L * d.Dk);
    const double* A = ws.A.as<double>();
    cumulative_log_channels(in.a, ws.A.as<double>(), d.BH, d.L, d.Dk, s);
    const int64_t C = std::min(opts.chunk, d.L), NC = (d.L + C - 1) / C;
    ws.states.ensure(sizeof(float) * d.BH * NC * d.Dk * Dc);
    float* states = ws.states.as<float>();
    la_chunk_states(in.k, in.v, A, states, d, Dc, C, s, true);
    la_chunk_scan(states, A, d, Dc, C, s, true);
    la_block_attention(in.q, in.k, in.v, A, states, num, d, Dc, C, false, s, true);
  } else {
    ws.phase0.ensure(sizeof(float) * d.BH * d.L * d.Dk);
    check(cudaMemsetAsync(ws.phase0.as<float>(), 0, ws.phase0.bytes(), s), "cudaMemsetAsync");
    const float* v = in.v;
    Dims dc = d;
    if (norm) {
      ws.v_ones.ensure(sizeof(float) * d.BH * d.L * Dc);
      append_ones_column(in.v, ws.v_ones.as<float>(), d.BH * d.L, d.Dv, s);
      v = ws.v_ones.as<float>();
      dc.Dv = Dc;
    }
    if (opts.form == Form::Recurrent) {
      gateloop_recurrent(in.q, in.k, v, in.a, ws.phase0.as<float>(), num, dc, s);
    } else if (opts.form == Form::Parallel) {
      ws.gl.ensure(gateloop_attention_workspace(dc));
      gateloop_attention(in.q, in.k, v, in.a, ws.phase0.as<float>(), num, att, ws.gl.as<void>(), dc,
                         s);
    } else {
      throw BackendError("per-channel decay has no " + to_string(opts.form) + " form");
    }
  }
  if (!norm) return;
  finish_numerators(num, y, d, Dc, s);
  if (att) normalize_score_rows(att, num, d, s);
}

}  // namespace

bool forward_supported(const ModelSpec& spec, const RunOptions& opts, std::string* why) {
  auto no = [&](const std::string& reason) {
    if (why) *why = reason;
    return false;
  };
  if (spec.family == Family::GateLoop) {
    if (opts.attention && opts.form != Form::Parallel)
      return no("GateLoop's attention matrix comes from its parallel form");
    return true;  // recurrent, scan and parallel (surrogate attention)
  }
  if (spec.family == Family::Lcsm) return forward_supported(lcsm_as_linear_attention(), opts, why);
  if (spec.family == Family::LightNet) {
    if (opts.form != Form::Recurrent && opts.form != Form::Parallel)
      return no("LightNet has recurrent and parallel forms");
    // Its matrix, like the CPU's, comes with either form: the rewritten model has no normalizer,
    // so forward() forms it from q, k and the decays alone, whatever computed y.
    RunOptions as_la = opts;
    if (opts.attention) as_la.form = Form::Parallel;
    return forward_supported(lightnet_as_linear_attention(spec), as_la, why);
  }
  if (spec.family == Family::DeltaNet) {  // recurrent, chunkwise, parallel; the matrix with any
    if (opts.form == Form::Scan) return no("DeltaNet has no scan form");
    if (opts.form == Form::Chunkwise && opts.chunk < 1) return no("chunk size must be at least 1");
    return true;
  }
  const bool la = spec.family == Family::LinearAttention ||
                  (spec.family == Family::Lion && spec.direction == Direction::Causal);
  if (!la && !is_bidirectional(spec))
    return no(
        "the CUDA backend implements linear attention, LION, GateLoop, DeltaNet, LCSM and LightNet "
        "only");
  if (spec.family == Family::LinearAttention && spec.direction != Direction::Causal)
    return no("linear attention is causal");
  if (opts.form == Form::Scan) return no("no scan form for this model");
  if (opts.form == Form::Chunkwise && opts.chunk < 1) return no("chunk size must be at least 1");
  if (opts.attention && opts.form != Form::Parallel)
    return no("the CUDA backend returns the attention matrix for the parallel form only");
  return true;
}

bool uses_tensor_cores(const ModelSpec& spec, const RunOptions& opts, const Dims& d) {
  if (spec.family == Family::DeltaNet) {  // gpu/deltanet_tc.cu; the matrix from the fp32 kernels
    if (!opts.bf16 || opts.attention) return false;
    if (opts.form == Form::Parallel) return deltanet_parallel_tc_supported(d);
    return opts.form == Form::Chunkwise && deltanet_chunk_tc_supported(d, opts.chunk);
  }
  if (spec.family == Family::GateLoop) {  // gpu/gateloop_scan_tc.cu, gpu/gateloop_attention_tc.cu
    if (!opts.bf16 || opts.attention) return false;
    if (opts.form == Form::Scan) return gateloop_scan_tc_supported(d);
    return opts.form == Form::Parallel && gateloop_attention_tc_supported(d);
  }
  // Causal linear attention and LION in both directions (bidirectional chunkwise: two causal
  // sweeps); the parallel form without its matrix (the matrix comes from the fp32 kernels).
  const bool la = spec.family == Family::LinearAttention || spec.family == Family::Lion;
  if (!opts.bf16 || !la || opts.attention) return false;
  if (opts.form == Form::Parallel) return la_parallel_tc_supported(d);
  return opts.form == Form::Chunkwise && la_chunk_tc_supported(d.Dk, opts.chunk);
}

size_t workspace_bytes(const ModelSpec& spec, const RunOptions& opts, const Dims& d) {
  if (spec.family == Family::DeltaNet) {
    if (uses_tensor_cores(spec, opts, d))
      return bf16_rows_bytes(d) + (opts.form == Form::Parallel ? deltanet_parallel_tc_workspace(d)
                                                               : deltanet_chunk_tc_workspace(d));
    if (opts.form == Form::Parallel) return sizeof(float) * d.BH * d.L * d.L;  // the scores
    return opts.form == Form::Chunkwise ? deltanet_chunk_workspace(d) : 0;
  }
  if (spec.family == Family::Lcsm) return workspace_bytes(lcsm_as_linear_attention(), opts, d);
  if (spec.family == Family::LightNet) {
    const bool encoded = spec.lightnet.md_tpe || spec.lightnet.md_lrpe;
    // Upper bound: the decays as if per channel.
    return sizeof(float) * d.BH * d.L * (1 + 2 * d.Dk + (encoded ? 2 * d.Dk + d.Dv : 0)) +
           workspace_bytes(lightnet_as_linear_attention(spec), opts, d) +
           (spec.direction == Direction::Bidirectional ? lightnet_global_workspace(d) : 0);
  }
  if (spec.family == Family::GateLoop) {
    if (opts.form != Form::Parallel && opts.form != Form::Scan) return 0;
    // The fp32 kernels' workspace stays needed: the tensor-core paths hand back to them.
    const size_t fp32 = opts.form == Form::Parallel
                            ? gateloop_attention_workspace(d)
                            : gateloop_scan_workspace(d, gateloop_scan_segment(d));
    if (!uses_tensor_cores(spec, opts, d)) return fp32;
    return fp32 + bf16_rows_bytes(d) +
           (opts.form == Form::Parallel ? gateloop_attention_tc_workspace(d) : 0);
  }
  const int64_t Dc = d.Dv + (normalizes(spec) ? 1 : 0);
  const int64_t C = std::max<int64_t>(1, std::min(opts.chunk, d.L));
  const int64_t NC = (d.L + C - 1) / C;
  size_t b = sizeof(double) * d.BH * d.L + sizeof(float) * d.BH * d.L * Dc;
  if (opts.form == Form::Chunkwise) b += sizeof(float) * d.BH * NC * d.Dk * Dc;
  if (is_bidirectional(spec) && opts.form != Form::Parallel) b *= 2;
  if (is_bidirectional(spec)) b += sizeof(float) * d.BH * d.L * (2 * d.Dk + d.Dv + 1);
  return b;
}

DeviceInputs lightnet_encoded(const ModelSpec& spec, const DeviceInputs& in, Workspace& ws,
                              cudaStream_t s) {
  const bool tpe = spec.lightnet.md_tpe, lrpe = spec.lightnet.md_lrpe;
  if (!tpe && !lrpe) return in;
  const Dims& d = in.d;
  auto copy = [&](const float* x, int64_t D, DeviceBuffer& buf) {
    const size_t bytes = sizeof(float) * d.BH * d.L * D;
    buf.ensure(bytes);
    check(cudaMemcpyAsync(buf.as<float>(), x, bytes, cudaMemcpyDeviceToDevice, s),
          "cudaMemcpyAsync (LightNet encodings)");
    return buf.as<float>();
  };
  DeviceInputs out = in;
  float* q = copy(in.q, d.Dk, ws.ln_q);
  float* k = copy(in.k, d.Dk, ws.ln_kx);
  if (tpe) {
    float* v = copy(in.v, d.Dv, ws.ln_v);
    const TokenGrid line{1, 1, d.L};  // the 1-D model: one axis of L tokens
    for (float* x : {q, k}) lightnet_md_tpe(x, nullptr, d.BH, line, d.Dk, false, s);
    lightnet_md_tpe(v, nullptr, d.BH, line, d.Dv, false, s);
    out.v = v;
  }
  if (lrpe)
    for (float* x : {q, k}) lightnet_md_lrpe(x, d.BH, TokenGrid{1, 1, d.L}, d.Dk, s);
  out.q = q;
  out.k = k;
  out.q16 = out.k16 = out.v16 = nullptr;
  return out;
}

void forward(const ModelSpec& spec, const RunOptions& opts, const DeviceInputs& in, float* y,
             float* att, Workspace& ws, cudaStream_t s) {
  std::string why;
  if (!forward_supported(spec, opts, &why)) throw BackendError(why);
  const Dims& d = in.d;
  if (spec.family == Family::DeltaNet) {
    if (uses_tensor_cores(spec, opts, d) && opts.form == Form::Parallel) {
      const Bf16Rows r = bf16_rows(in, ws, s);
      ws.states.ensure(deltanet_parallel_tc_workspace(d));
      deltanet_parallel_tc(r.q, r.k, r.v, in.beta, y, ws.states.as<void>(), d, s);
      return;
    }
    if (opts.form == Form::Parallel || att) {
      // The matrix (gpu/deltanet_attention.cu); the parallel form is y = A v.
      float* A = att;
      if (!A) {
        ws.scores.ensure(sizeof(float) * d.BH * d.L * d.L);
        A = ws.scores.as<float>();
      }
      deltanet_attention(in.q, in.k, in.beta, A, d, s);
      if (opts.form == Form::Parallel) {
        apply_causal_scores(A, in.v, y, d, s);
        return;
      }
    }
    if (uses_tensor_cores(spec, opts, d)) {
      const Bf16Rows r = bf16_rows(in, ws, s);
      const void *q16 = r.q, *k16 = r.k, *v16 = r.v;
      ws.states.ensure(deltanet_chunk_tc_workspace(d));
      deltanet_chunk_tc(q16, k16, v16, in.beta, y, ws.states.as<void>(), d, opts.chunk, s);
      return;
    }
    if (opts.form == Form::Chunkwise) {
      ws.states.ensure(deltanet_chunk_workspace(d));
      deltanet_chunkwise(in.q, in.k, in.v, in.beta, y, ws.states.as<void>(), d, opts.chunk, s);
      return;
    }
    deltanet_recurrent(in.q, in.k, in.v, in.beta, y, d, s);
    return;
  }
  if (spec.family == Family::Lcsm) {
    forward(lcsm_as_linear_attention(), opts, in, y, att, ws, s);
    return;
  }
  if (spec.family == Family::LightNet) {  // in.a holds the log weights f
    // The rewritten k is the rounded k times fp32 weights: LightNet's bf16 mode stays the CPU's
    // (rounded q, k, v, fp32 arithmetic) rather than rounding that product again on the way
    // into the tensor cores.
    RunOptions ln_opts = opts;
    ln_opts.bf16 = false;
    DeviceInputs la = lightnet_encoded(spec, in, ws, s);
    const bool global = spec.direction == Direction::Bidirectional;
    // Per-channel f ([BH, L, Dk], in.per_channel_decay): causal, a decay per key channel for
    // per_channel_forward; global, a scalar zero decay as for scalar f.
    const bool channels = in.per_channel_decay && !global;
    ws.ln_a.ensure(sizeof(float) * d.BH * d.L * (channels ? d.Dk : 1));
    ws.ln_w.ensure(sizeof(float) * d.BH * d.L);
    ws.ln_k.ensure(sizeof(float) * d.BH * d.L * d.Dk);
    lightnet_inputs(in.a, la.k, ws.ln_a.as<float>(), ws.ln_w.as<float>(), ws.ln_k.as<float>(), d,
                    global, in.per_channel_decay, s);
    la.k = ws.ln_k.as<float>();
    la.a = ws.ln_a.as<float>();
    la.per_channel_decay = channels;
    la.q16 = la.k16 = la.v16 = nullptr;
    const ModelSpec as_la = lightnet_as_linear_attention(spec);
    if (global && ln_opts.form == Form::Recurrent) {
      // The CPU's global recurrent form: one scan to S_L, then y = Q S_L (not LION-LIT's two
      // sweeps, which give the same y at twice the sequential work); the matrix, when asked
      // for, from the parallel form as below.
      ws.ln_s.ensure(lightnet_global_workspace(d));
      lightnet_global_readout(la.q, la.k, la.v, y, ws.ln_s.as<void>(), d, s);
      if (att) {
        RunOptions parallel = ln_opts;
        parallel.form = Form::Parallel;
        ws.ln_y.ensure(sizeof(float) * d.BH * d.L * d.Dv);
        forward(as_la, parallel, la, ws.ln_y.as<float>(), att, ws, s);
      }
    } else if (att && ln_opts.form != Form::Parallel) {
      // The recurrent form with the matrix: y from the recurrence, the matrix from the parallel
      // form (as the CPU forms it apart), its y into scratch.
      RunOptions recurrent = ln_opts, parallel = ln_opts;
      recurrent.attention = false;
      parallel.form = Form::Parallel;
      forward(as_la, recurrent, la, y, nullptr, ws, s);
      ws.ln_y.ensure(sizeof(float) * d.BH * d.L * d.Dv);
      forward(as_la, parallel, la, ws.ln_y.as<float>(), att, ws, s);
    } else {
      forward(as_la, ln_opts, la, y, att, ws, s);
    }
    // The matrix above acts on the encoded v = (I + T) v; for the v given it is A (I + T).
    if (att && spec.lightnet.md_tpe)
      lightnet_md_tpe(att, nullptr, d.BH * d.L, TokenGrid{1, 1, d.L}, 1, true, s);
    return;
  }
  if (spec.family == Family::GateLoop) {
    if (opts.form == Form::Recurrent) {
      gateloop_recurrent(in.q, in.k, in.v, in.log_magnitude, in.phase, y, d, s);
      return;
    }
    if (opts.form == Form::Parallel && uses_tensor_cores(spec, opts, d)) {
      const Bf16Rows r = bf16_rows(in, ws, s);
      const void *q16 = r.q, *k16 = r.k, *v16 = r.v;
      ws.gl.ensure(gateloop_attention_tc_workspace(d));
      ws.gl_flag.ensure(sizeof(int));
      if (gateloop_attention_tc(q16, k16, v16, in.log_magnitude, in.phase, y, ws.gl.as<void>(),
                                ws.gl_flag.as<int>(), d, s))
        return;
      // A 64-token tile decays faster than the kernel's range: the fp32 kernels below, on the
      // same (bf16-rounded) q, k, v.
    }
    if (opts.form == Form::Parallel) {
      ws.gl.ensure(gateloop_attention_workspace(d));
      gateloop_attention(in.q, in.k, in.v, in.log_magnitude, in.phase, y, att, ws.gl.as<void>(), d,
                         s);
      return;
    }
    if (uses_tensor_cores(spec, opts, d)) {
      const Bf16Rows r = bf16_rows(in, ws, s);
      const void *q16 = r.q, *k16 = r.k, *v16 = r.v;
      ws.gl_flag.ensure(sizeof(int));
      if (gateloop_scan_tc(q16, k16, v16, in.log_magnitude, in.phase, y, ws.gl_flag.as<int>(), d,
                           s))
        return;
      // A chunk decays faster than the blocked scan's range: the fp32 scan on the same
      // (bf16-rounded) q, k, v below.
    }
    const int64_t seg = gateloop_scan_segment(d);
    if (seg >= d.L) {  // one segment: the scan is the recurrence (gateloop_scan_segment says why)
      gateloop_recurrent(in.q, in.k, in.v, in.log_magnitude, in.phase, y, d, s);
      return;
    }
    ws.gl.ensure(gateloop_scan_workspace(d, seg));
    gateloop_scan(in.q, in.k, in.v, in.log_magnitude, in.phase, y, ws.gl.as<void>(), d, seg, s);
    return;
  }
  if (in.per_channel_decay) {
    per_channel_forward(spec, opts, in, y, att, ws, s);
    return;
  }
  const bool bidir = is_bidirectional(spec);
  const int64_t Dc = d.Dv + (normalizes(spec) ? 1 : 0);
  if (uses_tensor_cores(spec, opts, d)) {
    ws.A.ensure(sizeof(double) * d.BH * d.L);
    cumulative_log(in.a, ws.A.as<double>(), d, s);
    const Bf16Rows r = bf16_rows(in, ws, s);
    const void *q16 = r.q, *k16 = r.k, *v16 = r.v;
    // The normalizers come apart from the numerators (la_chunk_tc: no extra value column).
    const bool norm = Dc > d.Dv;
    if (opts.form == Form::Parallel) {  // one pass: the row sums divide in its epilogue
      la_parallel_tc(q16, k16, v16, ws.A.as<double>(), y, d, bidir, norm, s);
      return;
    }
    float* den = nullptr;
    if (norm) {
      ws.den.ensure(sizeof(float) * d.BH * d.L);
      den = ws.den.as<float>();
    }
    if (!bidir) {  // the numerators go straight into y, divided in place when normalized
      if (norm)
        la_chunk_tc_normalized(q16, k16, v16, ws.A.as<double>(), y, den, d, opts.chunk, s);
      else
        la_chunk_tc(q16, k16, v16, ws.A.as<double>(), y, nullptr, d, opts.chunk, s);
      return;
    }
    // LION: the forward sweep's numerators into y, then the backward sweep on the same bf16
    // rows read backwards with decays λ_{t+1} (MODELS.md §2), combined in its epilogue.
    la_chunk_tc(q16, k16, v16, ws.A.as<double>(), y, den, d, opts.chunk, s);
    ws.A_rev.ensure(sizeof(double) * d.BH * d.L);
    reversed_cumulative(ws.A.as<double>(), ws.A_rev.as<double>(), d.BH, d.L, s);
    lion_backward_tc(q16, k16, v16, ws.A_rev.as<double>(), y, den, d, opts.chunk, s);
    return;
  }
  ws.A.ensure(sizeof(double) * d.BH * d.L);
  ws.num.ensure(sizeof(float) * d.BH * d.L * Dc);
  cumulative_log(in.a, ws.A.as<double>(), d, s);
  float* num = ws.num.as<float>();
  const double* A = ws.A.as<double>();
  if (opts.form == Form::Parallel) {
    la_block_attention(in.q, in.k, in.v, A, nullptr, num, d, Dc, d.L, bidir, s);
  } else {
    causal_numerators(opts, in.q, in.k, in.v, in.a, A, num, ws.states, d, Dc, s);
  }
  if (bidir && opts.form != Form::Parallel) {
    // Backward sweep = the causal form on the reversed sequence with decays λ_{t+1}.
    const size_t qk = sizeof(float) * d.BH * d.L * d.Dk;
    ws.q_rev.ensure(qk);
    ws.k_rev.ensure(qk);
    ws.v_rev.ensure(sizeof(float) * d.BH * d.L * d.Dv);
    ws.a_rev.ensure(sizeof(float) * d.BH * d.L);
    ws.A_rev.ensure(sizeof(double) * d.BH * d.L);
    ws.num_rev.ensure(sizeof(float) * d.BH * d.L * Dc);
    reverse_rows(in.q, ws.q_rev.as<float>(), d.BH, d.L, d.Dk, s);
    reverse_rows(in.k, ws.k_rev.as<float>(), d.BH, d.L, d.Dk, s);
    reverse_rows(in.v, ws.v_rev.as<float>(), d.BH, d.L, d.Dv, s);
    reverse_shift_decay(in.a, ws.a_rev.as<float>(), d.BH, d.L, s);
    cumulative_log(ws.a_rev.as<float>(), ws.A_rev.as<double>(), d, s);
    causal_numerators(opts, ws.q_rev.as<float>(), ws.k_rev.as<float>(), ws.v_rev.as<float>(),
                      ws.a_rev.as<float>(), ws.A_rev.as<double>(), ws.num_rev.as<float>(),
                      ws.states, d, Dc, s);
    ws.qk.ensure(sizeof(float) * d.BH * d.L);
    lion_combine(num, ws.num_rev.as<float>(), in.q, in.k, in.v, ws.qk.as<float>(), y, d, Dc, s);
  } else {
    finish_numerators(num, y, d, Dc, s);
  }
  if (att) {
    if (d.L > 65535) throw BackendError("attention matrix: L > 65535 is not supported");
    attention_matrix(in.q, in.k, A, num, att, d, Dc, bidir, s);
  }
}

}  // namespace linscope::gpu
