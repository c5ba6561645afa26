#include "core/engine/run.h"

#include <cstdint>
#include <cstring>

#include "core/base/error.h"
#include "core/deltanet/deltanet.h"
#include "core/gateloop/gateloop.h"
#include "core/lcsm/lcsm.h"
#include "core/lightnet/lightnet.h"
#include "core/linear_attention/linear_attention.h"
#include "core/lion/lion.h"

namespace linscope {

Result run_cpu(const ModelSpec& spec, const Inputs& in, const RunOptions& opts) {
  if (!has_form(spec, opts.form))
    throw Error(describe(spec) + " has no " + to_string(opts.form) + " form");
  if (opts.form == Form::Chunkwise && opts.chunk < 1)
    throw Error("chunk size must be at least 1, got " + std::to_string(opts.chunk));
  in.shape();  // q, k, v present, rank 4 and consistent
  in.check_finite();
  if (opts.bf16) {
    // Round q, k, v to bf16 (as the GPU's tensor-core path reads them), then compute in fp32.
    Inputs rounded = in;
    for (const char* name : {"q", "k", "v"}) round_to_bf16(rounded.get(name));
    RunOptions fp32 = opts;
    fp32.bf16 = false;
    return run_cpu(spec, rounded, fp32);
  }
  switch (spec.family) {
    case Family::LinearAttention:
      return linear_attention::run(spec, in, opts);
    case Family::Lion:
      return lion::run(spec, in, opts);
    case Family::GateLoop:
      return gateloop::run(spec, in, opts);
    case Family::DeltaNet:
      return deltanet::run(spec, in, opts);
    case Family::Lcsm:
      return lcsm::run(spec, in, opts);
    case Family::LightNet:
      return lightnet::run(spec, in, opts);
  }
  throw Error("unknown model family");
}

void round_to_bf16(Tensor& t) {
  for (float& x : t.values()) {
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    // Round to nearest, ties to even; Inf and NaN keep their class.
    if ((bits & 0x7f800000u) != 0x7f800000u) bits += 0x7fffu + ((bits >> 16) & 1u);
    bits &= 0xffff0000u;
    std::memcpy(&x, &bits, 4);
  }
}

}  // namespace linscope
