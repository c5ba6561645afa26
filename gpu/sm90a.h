// Whether this process may launch the warpgroup (wgmma) kernels, which exist only as sm_90a code.
// No Qt; host code.
#pragma once

namespace linscope::gpu {

// True when the build has sm_90a code (LINSCOPE_SM90A, set by gpu/CMakeLists.txt when the
// architectures name 90a) and the current device is of compute capability 9.0, whose driver loads
// that code; false where no device answers. `off_variable` names an environment variable that,
// set to "mma", keeps the caller's older mma.sync kernel instead (for measuring one against the
// other).
bool sm90a_runs_here(const char* off_variable);

}  // namespace linscope::gpu
