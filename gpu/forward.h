// One model's forward pass on device-resident inputs: the pipeline the backend (which uploads
// host tensors) and the bench (which times it on device-generated inputs) share.
#pragma once
#include <cuda_runtime.h>

#include "core/base/spec.h"
#include "gpu/cuda_check.h"
#include "gpu/kernels.h"

namespace linscope::gpu {

// q, k [BH, L, Dk], v [BH, L, Dv], a [BH, L] (log λ_t), all fp32 on the device.
struct DeviceInputs {
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  const float* a = nullptr;     // log λ_t [BH, L] (linear attention, LION)
  const float* beta = nullptr;  // β_t [BH, L] (DeltaNet)
  Dims d;
  // Optional bf16 copies of q, k, v (the bench's "bf16 in"); when null and the tensor-core
  // path runs, forward() converts q, k, v into the workspace first.
  const void* q16 = nullptr;
  const void* k16 = nullptr;
  const void* v16 = nullptr;
  // GateLoop: log|a_t| and arg a_t [BH, L, Dk].
  const float* log_magnitude = nullptr;
  const float* phase = nullptr;
  // Linear attention / LCSM: a is [BH, L, Dk], a gate per key channel (causal only).
  // LightNet: its log weights f in a are [BH, L, Dk], one per key channel.
  bool per_channel_decay = false;
};

// Scratch memory kept across calls, so that timed repetitions allocate nothing.
struct Workspace {
  DeviceBuffer A, A_rev, num, num_rev, states, q_rev, k_rev, v_rev, a_rev, qk, q16, k16, v16, gl;
  DeviceBuffer scores;             // DeltaNet's parallel form without a requested matrix
  DeviceBuffer phase0, v_ones;     // per-channel decay on GateLoop's kernels
  DeviceBuffer den;                // normalizers of the tensor-core sweep(s)
  DeviceBuffer ln_a, ln_w, ln_k;   // LightNet's rewritten inputs (gpu/lightnet.cu)
  DeviceBuffer ln_q, ln_kx, ln_v;  // LightNet's q, k, v after MD-TPE / MD-LRPE
  DeviceBuffer ln_y;               // LightNet: y of the matrix's parallel pass
  DeviceBuffer ln_s;               // LightNet global: S_L and its per-segment parts
  DeviceBuffer gl_flag;            // GateLoop's tensor-core kernels: their out-of-range flag
};

// Whether the pipeline implements the model in this form; otherwise *why says what is missing.
bool forward_supported(const ModelSpec& spec, const RunOptions& opts, std::string* why);

// Whether forward() runs a bf16 tensor-core kernel for this request (GateLoop's scan: unless a
// chunk's decay is out of its range, gpu/gateloop_scan_tc.cu).
bool uses_tensor_cores(const ModelSpec& spec, const RunOptions& opts, const Dims& d);

// Bytes of device memory forward() needs beyond its inputs and outputs (for OOM messages).
size_t workspace_bytes(const ModelSpec& spec, const RunOptions& opts, const Dims& d);

// LightNet's q, k, v after MD-TPE and MD-LRPE when the spec turns them on (copies in ws, in
// the CPU's order); `in` itself when neither is on. The states of a LightNet trace are those of
// the causal rewrite (lightnet_inputs) of these.
DeviceInputs lightnet_encoded(const ModelSpec& spec, const DeviceInputs& in, Workspace& ws,
                              cudaStream_t s);

// y [BH, L, Dv]; att [BH, L, L] or nullptr (the parallel form only, except DeltaNet's, whose
// matrix comes with every form, as on the CPU). Throws BackendError.
void forward(const ModelSpec& spec, const RunOptions& opts, const DeviceInputs& in, float* y,
             float* att, Workspace& ws, cudaStream_t s);

}  // namespace linscope::gpu
