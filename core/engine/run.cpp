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

}  // namespace linscope
