// The CUDA backend: device discovery, host<->device transfers and dispatch to forward().
#include <cuda_runtime.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "gpu/bench.h"
#include "gpu/cuda_backend.h"
#include "gpu/forward.h"
#include "gpu/trace.h"

namespace linscope::gpu {
namespace {

void upload(DeviceBuffer& buf, const Tensor& t, cudaStream_t s) {
  buf.ensure(sizeof(float) * t.numel());
  check(cudaMemcpyAsync(buf.as<float>(), t.data(), sizeof(float) * t.numel(),
                        cudaMemcpyHostToDevice, s),
        "cudaMemcpyAsync (upload)");
}

class CudaBackend final : public Backend {
 public:
  CudaBackend(int device, std::string name) : device_(device), name_(std::move(name)) {}

  std::string name() const override { return "cuda"; }
  std::string device() const override { return name_; }

  bool supports(const ModelSpec& spec, const RunOptions& opts) const override {
    return has_form(spec, opts.form) && forward_supported(spec, opts, nullptr);
  }

  Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts) override {
    std::string why;
    if (!has_form(spec, opts.form))
      throw Error(describe(spec) + " has no " + to_string(opts.form) + " form");
    if (!forward_supported(spec, opts, &why)) throw BackendError(why);
    const Shape sh = in.shape();
    in.check_finite();
    expect_shape(in, "k", {sh.B, sh.H, sh.L, sh.Dk});
    if (spec.family == Family::GateLoop) return run_gateloop(spec, in, opts, sh);
    if (spec.family == Family::LightNet) return run_lightnet(spec, in, opts, sh);
    const bool delta = spec.family == Family::DeltaNet;
    const bool has_decay = !delta && in.has("log_decay");
    if (delta) expect_shape(in, "beta", {sh.B, sh.H, sh.L});
    if (has_decay && expect_decay_shape(in, "log_decay", sh)) {
      if (spec.family == Family::Lion)  // the CPU core's check (core/lion/inputs.cpp)
        throw Error("log_decay: LION uses one scalar decay per token, expected shape " +
                    shape_to_string({sh.B, sh.H, sh.L}) + ", got the per-channel " +
                    in.get("log_decay").shape_string());
      return run_per_channel(spec, in, opts, sh);
    }
    if (!delta && !has_decay && spec.decay != Decay::LIT) in.get("log_decay");  // missing: Error
    check(cudaSetDevice(device_), "cudaSetDevice");
    Stream stream;
    const cudaStream_t s = stream.get();
    const Dims d{sh.heads(), sh.L, sh.Dk, sh.Dv};
    DeviceBuffer q, k, v, a;
    upload_qkv(in, opts, d, q, k, v, s);
    if (delta) {
      upload(a, in.get("beta"), s);
    } else if (has_decay) {
      upload(a, in.get("log_decay"), s);
    } else {  // LIT: λ = 1
      a.ensure(sizeof(float) * d.BH * d.L);
      check(cudaMemsetAsync(a.as<float>(), 0, a.bytes(), s), "cudaMemsetAsync");
    }
    DeviceInputs din{q.as<float>(), k.as<float>(), v.as<float>(), a.as<float>(), nullptr, d};
    TraceInputs tr;
    tr.k = k.as<float>();
    tr.v = v.as<float>();
    if (delta) {
      din = DeviceInputs{q.as<float>(), k.as<float>(), v.as<float>(), nullptr, a.as<float>(), d};
      tr.update = TraceInputs::Update::Delta;
      tr.beta = a.as<float>();
    } else {
      tr.log_decay = a.as<float>();
    }
    return run_on_device(spec, opts, din, sh, s, &tr);
  }

  // Runs forward() on inputs already on the device and downloads y (and the attention matrix
  // when asked): the common tail of every family's run.
  // With opts.trace.states, `trace` says how to walk the model's recurrence for the states.
  static Result run_on_device(const ModelSpec& spec, const RunOptions& opts,
                              const DeviceInputs& din, const Shape& sh, cudaStream_t s,
                              const TraceInputs* trace = nullptr) {
    DeviceBuffer y, att;
    Result r;
    r.y = Tensor({sh.B, sh.H, sh.L, sh.Dv});
    y.ensure(sizeof(float) * r.y.numel());
    if (opts.attention) {
      r.attention = Tensor({sh.B, sh.H, sh.L, sh.L});
      att.ensure(sizeof(float) * r.attention.numel());
    }
    Workspace ws;
    forward(spec, opts, din, y.as<float>(), opts.attention ? att.as<float>() : nullptr, ws, s);
    check(cudaMemcpyAsync(r.y.data(), y.as<float>(), y.bytes(), cudaMemcpyDeviceToHost, s),
          "cudaMemcpyAsync (download)");
    if (opts.attention)
      check(cudaMemcpyAsync(r.attention.data(), att.as<float>(), att.bytes(),
                            cudaMemcpyDeviceToHost, s),
            "cudaMemcpyAsync (download attention)");
    check(cudaStreamSynchronize(s), "running the CUDA kernels");
    if (opts.trace.states) {
      if (!trace) throw BackendError("no state trace on the GPU for " + describe(spec));
      record_trace(spec, opts, *trace, sh, r, s);
    }
    return r;
  }

  // The records the CPU core returns for RunOptions::trace (core/base/result.h), at the same
  // steps: trace_steps with the same bytes per step.
  static void record_trace(const ModelSpec& spec, const RunOptions& opts, const TraceInputs& tr,
                           const Shape& sh, Result& r, cudaStream_t s) {
    const Dims d{sh.heads(), sh.L, sh.Dk, sh.Dv};
    const bool complex = tr.update == TraceInputs::Update::Complex;
    const bool both = spec.family == Family::Lion && spec.direction == Direction::Bidirectional;
    const int64_t per_step = sh.heads() * sh.Dk * sh.Dv * 4 * (complex || both ? 2 : 1);
    const std::vector<int64_t> steps =
        trace_steps(sh.L, opts.trace.stride, opts.trace.max_bytes, per_step);
    r.trace.steps = steps;
    auto record = [&](const TraceInputs& how, const std::vector<int64_t>& at, Tensor& re,
                      Tensor* im) {
      const auto slots = static_cast<int64_t>(at.size());
      re = Tensor({sh.B, sh.H, slots, sh.Dk, sh.Dv});
      DeviceBuffer out(sizeof(float) * re.numel()), out_im;
      if (im) {
        *im = Tensor(re.shape());
        out_im.allocate(sizeof(float) * re.numel());
      }
      trace_states(how, d, at, out.as<float>(), im ? out_im.as<float>() : nullptr, s);
      check(cudaMemcpy(re.data(), out.as<float>(), out.bytes(), cudaMemcpyDeviceToHost),
            "cudaMemcpy (download states)");
      if (im)
        check(cudaMemcpy(im->data(), out_im.as<float>(), out_im.bytes(), cudaMemcpyDeviceToHost),
              "cudaMemcpy (download states, imaginary part)");
    };
    record(tr, steps, r.trace.states, complex ? &r.trace.states_imag : nullptr);
    if (both) {
      TraceInputs back = tr;
      back.backward = true;
      record(back, steps, r.trace.states_backward, nullptr);
    }
    if (opts.form == Form::Chunkwise) {
      // Slot m: the state entering chunk m, S_{mC−1} (−1: the zero state).
      const int64_t C = std::min(opts.chunk, sh.L);
      std::vector<int64_t> ends;
      for (int64_t m = 0; m * C < sh.L; ++m) ends.push_back(m * C - 1);
      record(tr, ends, r.trace.chunk_states, nullptr);
    }
  }

  // q, k, v to the device; in bf16 mode rounded there, the same question as the CPU's bf16 mode
  // asks (q, k, v rounded to bf16, fp32 arithmetic).
  static void upload_qkv(const Inputs& in, const RunOptions& opts, const Dims& d, DeviceBuffer& q,
                         DeviceBuffer& k, DeviceBuffer& v, cudaStream_t s) {
    upload(q, in.get("q"), s);
    upload(k, in.get("k"), s);
    upload(v, in.get("v"), s);
    if (!opts.bf16) return;
    round_bf16(q.as<float>(), d.BH * d.L * d.Dk, s);
    round_bf16(k.as<float>(), d.BH * d.L * d.Dk, s);
    round_bf16(v.as<float>(), d.BH * d.L * d.Dv, s);
  }

  // Per-channel decay (GLA-style linear attention, LCSM with o_t per channel), every form,
  // normalized or not (forward.cu: per_channel_forward).
  Result run_per_channel(const ModelSpec& spec, const Inputs& in, const RunOptions& opts,
                         const Shape& sh) {
    check(cudaSetDevice(device_), "cudaSetDevice");
    Stream stream;
    const cudaStream_t s = stream.get();
    const Dims d{sh.heads(), sh.L, sh.Dk, sh.Dv};
    DeviceBuffer q, k, v, m;
    upload_qkv(in, opts, d, q, k, v, s);
    upload(m, in.get("log_decay"), s);
    DeviceInputs din{q.as<float>(), k.as<float>(), v.as<float>(), m.as<float>(), nullptr, d};
    din.per_channel_decay = true;
    TraceInputs tr;  // real states: the decay per channel
    tr.k = k.as<float>();
    tr.v = v.as<float>();
    tr.log_decay = m.as<float>();
    tr.decay_width = sh.Dk;
    return run_on_device(spec, opts, din, sh, s, &tr);
  }

  // LightNet 1-D: q, k, v and the log weights f [B,H,L], or [B,H,L,Dk] per key channel
  // (MODELS.md §6).
  Result run_lightnet(const ModelSpec& spec, const Inputs& in, const RunOptions& opts,
                      const Shape& sh) {
    const bool per_channel = expect_decay_shape(in, "log_weight", sh);
    check(cudaSetDevice(device_), "cudaSetDevice");
    Stream stream;
    const cudaStream_t s = stream.get();
    const Dims d{sh.heads(), sh.L, sh.Dk, sh.Dv};
    DeviceBuffer q, k, v, f;
    upload_qkv(in, opts, d, q, k, v, s);
    upload(f, in.get("log_weight"), s);
    DeviceInputs din{q.as<float>(), k.as<float>(), v.as<float>(), f.as<float>(), nullptr, d};
    din.per_channel_decay = per_channel;
    if (!opts.trace.states) return run_on_device(spec, opts, din, sh, s);
    // LightNet's state S_t (core/lightnet/lightnet.cpp, also in the global form, whose one scan
    // is the causal one) is the state of its causal rewrite: decay e^{z_{t−1} − z_t}, keys
    // e^{f_t − z_t} k_t of the encoded k, values the encoded v (gpu/lightnet.cu); per channel
    // when f is.
    Workspace enc_ws;
    const DeviceInputs enc = lightnet_encoded(spec, din, enc_ws, s);
    const int64_t width = per_channel ? d.Dk : 1;
    DeviceBuffer decay(sizeof(float) * d.BH * d.L * width), weight(sizeof(float) * d.BH * d.L),
        keys(sizeof(float) * d.BH * d.L * d.Dk);
    lightnet_inputs(f.as<float>(), enc.k, decay.as<float>(), weight.as<float>(), keys.as<float>(),
                    d, false, per_channel, s);
    TraceInputs tr;
    tr.k = keys.as<float>();
    tr.v = enc.v;
    tr.log_decay = decay.as<float>();
    if (per_channel) tr.decay_width = d.Dk;
    return run_on_device(spec, opts, din, sh, s, &tr);
  }

  // GateLoop: q, k, v, log_magnitude, phase (MODELS.md §3); the same checks as the CPU core.
  Result run_gateloop(const ModelSpec& spec, const Inputs& in, const RunOptions& opts,
                      const Shape& sh) {
    const std::vector<int64_t> per_channel{sh.B, sh.H, sh.L, sh.Dk};
    expect_shape(in, "log_magnitude", per_channel);
    expect_shape(in, "phase", per_channel);
    const Tensor& lm = in.get("log_magnitude");
    for (int64_t i = 0; i < lm.numel(); ++i)
      if (!(lm[i] <= 0.0f))
        throw Error("log_magnitude: must be <= 0 (|a_t| <= 1), got " + std::to_string(lm[i]) +
                    " at flat index " + std::to_string(i));
    check(cudaSetDevice(device_), "cudaSetDevice");
    Stream stream;
    const cudaStream_t s = stream.get();
    const Dims d{sh.heads(), sh.L, sh.Dk, sh.Dv};
    DeviceBuffer q, k, v, m, p;
    upload_qkv(in, opts, d, q, k, v, s);
    upload(m, lm, s);
    upload(p, in.get("phase"), s);
    DeviceInputs din{q.as<float>(), k.as<float>(), v.as<float>(), nullptr, nullptr, d};
    din.log_magnitude = m.as<float>();
    din.phase = p.as<float>();
    TraceInputs tr;
    tr.update = TraceInputs::Update::Complex;
    tr.k = k.as<float>();
    tr.v = v.as<float>();
    tr.log_magnitude = m.as<float>();
    tr.phase = p.as<float>();
    return run_on_device(spec, opts, din, sh, s, &tr);
  }

  Ceilings measure_ceilings() override {
    check(cudaSetDevice(device_), "cudaSetDevice");
    const DeviceCeilings c = measure_device_ceilings();
    Ceilings out;
    out.gbytes_per_s = c.copy_gbytes_per_s;
    out.gflops_per_s = c.gemm_tflops * 1e3;
    out.how = c.how;
    return out;
  }

  bool memory_info(double* used_gib, double* total_gib) const override {
    if (cudaSetDevice(device_) != cudaSuccess) return false;
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) {
      cudaGetLastError();
      return false;
    }
    if (used_gib) *used_gib = static_cast<double>(total_b - free_b) / (1ull << 30);
    if (total_gib) *total_gib = static_cast<double>(total_b) / (1ull << 30);
    return true;
  }

 private:
  int device_;
  std::string name_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(std::string* why) {
  auto fail = [&](const std::string& reason) -> std::unique_ptr<Backend> {
    if (why) *why = reason;
    return nullptr;
  };
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return fail(std::string("no usable CUDA device (") + cudaGetErrorString(status) + ")");
  }
  if (count == 0) return fail("no CUDA device found");
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
    cudaGetLastError();
    return fail("cannot query CUDA device 0");
  }
  // Touch the context now, so that a broken driver is reported here rather than mid-run.
  if (cudaSetDevice(0) != cudaSuccess || cudaFree(nullptr) != cudaSuccess) {
    const cudaError_t e = cudaGetLastError();
    return fail(std::string("cannot initialize CUDA device 0 (") + cudaGetErrorString(e) + ")");
  }
  try {
    return std::make_unique<CudaBackend>(0, prop.name);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

}  // namespace linscope::gpu
