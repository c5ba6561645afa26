#include "core/engine/backend.h"

#include <thread>

#include "core/base/error.h"
#include "core/engine/run.h"
#ifdef LINSCOPE_HAVE_CUDA
#include "gpu/cuda_backend.h"
#endif

namespace linscope {
namespace {

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  std::string device() const override {
    return "CPU (" + std::to_string(std::thread::hardware_concurrency()) + " threads)";
  }
  bool supports(const ModelSpec& spec, const RunOptions& opts) const override {
    return has_form(spec, opts.form);
  }
  Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts) override {
    return run_cpu(spec, in, opts);
  }
  Ceilings measure_ceilings() override { return measure_cpu_ceilings(); }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() {
  return std::make_unique<CpuBackend>();
}

BackendChoice select_backend(const std::string& which) {
  if (which == "cpu") return {make_cpu_backend(), ""};
  if (which != "cuda" && which != "auto")
    throw Error("unknown backend '" + which + "' (accepted: cpu, cuda, auto)");
#ifdef LINSCOPE_HAVE_CUDA
  std::string why;
  if (auto gpu = gpu::make_cuda_backend(&why)) return {std::move(gpu), ""};
  return {make_cpu_backend(), why + ": using the CPU backend"};
#else
  return {make_cpu_backend(),
          which == "cuda" ? "this build has no CUDA backend: using the CPU backend" : ""};
#endif
}

Result run_with_fallback(Backend& backend, const ModelSpec& spec, const Inputs& in,
                         const RunOptions& opts, std::string* note) {
  if (backend.name() != "cpu") {
    if (!backend.supports(spec, opts)) {
      if (note)
        *note = backend.name() + " has no " + to_string(opts.form) + " kernel for " +
                describe(spec) + ": computed on the CPU";
    } else {
      try {
        return backend.run(spec, in, opts);
      } catch (const BackendError& e) {
        if (note) *note = std::string(e.what()) + ": computed on the CPU";
      }
    }
  }
  return run_cpu(spec, in, opts);
}

}  // namespace linscope
