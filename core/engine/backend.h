// One interface for the CPU core and the CUDA backend (gpu/). The CLI's --backend and the
// GUI's selector choose one; a CUDA failure (no device, no driver, out of memory, a launch
// error) never aborts: run_with_fallback() reports it and computes on the CPU instead.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>

#include "core/base/inputs.h"
#include "core/base/result.h"
#include "core/base/spec.h"

namespace linscope {

// The device's own limits, measured in this session (a large copy; a large matrix product).
struct Ceilings {
  double gbytes_per_s = 0;  // bytes read + written per second
  double gflops_per_s =
      0;            // the fastest matrix product available (fp32 on the CPU, bf16 GEMM on the GPU)
  std::string how;  // what was measured, for the plot's legend
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;    // "cpu" or "cuda"
  virtual std::string device() const = 0;  // "CPU (16 threads)", "NVIDIA H100 80GB HBM3"
  // Whether this backend implements the model in this form with these options.
  virtual bool supports(const ModelSpec& spec, const RunOptions& opts) const = 0;
  // Throws linscope::Error (bad input) or BackendError (the device failed).
  virtual Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts) = 0;
  // Measures the ceilings (takes up to a second or two). Default: nothing known.
  virtual Ceilings measure_ceilings() { return {}; }
  // Device memory in GiB, when the backend can tell.
  virtual bool memory_info(double* used_gib, double* total_gib) const {
    (void)used_gib;
    (void)total_gib;
    return false;
  }
};

// The CPU's ceilings: a 256 MiB memcpy and an Eigen float32 GEMM (1024^3), best of a few.
Ceilings measure_cpu_ceilings();

// A failure of the device, not of the input: the caller may retry on the CPU.
class BackendError : public std::runtime_error {
 public:
  explicit BackendError(const std::string& what) : std::runtime_error(what) {}
};

std::unique_ptr<Backend> make_cpu_backend();

struct BackendChoice {
  std::unique_ptr<Backend> backend;
  std::string note;  // why the choice differs from the request ("no CUDA device: using CPU")
};
// which: "cpu", "cuda" or "auto" (CUDA when a device is usable, else CPU). Never throws for a
// missing GPU; throws Error for an unknown name.
BackendChoice select_backend(const std::string& which);

// Runs on `backend`; when it does not support the request, or fails with BackendError, runs on
// the CPU and writes the reason to *note (if given).
Result run_with_fallback(Backend& backend, const ModelSpec& spec, const Inputs& in,
                         const RunOptions& opts, std::string* note = nullptr);

}  // namespace linscope
