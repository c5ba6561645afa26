#include "gpu/sm90a.h"

#include <cuda_runtime.h>

#include <cstdlib>
#include <string>

namespace linscope::gpu {
namespace {

bool device_is_cc90() {
  static const bool ok = [] {
    int dev = 0, major = 0, minor = 0;
    if (cudaGetDevice(&dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess) {
      cudaGetLastError();  // no device or no driver: clear the error, answer no
      return false;
    }
    return major == 9 && minor == 0;
  }();
  return ok;
}

}  // namespace

bool sm90a_runs_here(const char* off_variable) {
#ifdef LINSCOPE_SM90A
  const char* e = off_variable ? std::getenv(off_variable) : nullptr;
  if (e && std::string(e) == "mma") return false;
  return device_is_cc90();
#else
  (void)off_variable;
  return false;
#endif
}

}  // namespace linscope::gpu
