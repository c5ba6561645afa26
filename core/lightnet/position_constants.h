// The fixed constants of LightNet's positional encodings (position.h explains them), apart so
// that the CUDA kernels (gpu/lightnet.cu) use the same values without Eigen.
#pragma once

namespace linscope::lightnet {

constexpr double kLrpeBase = 10000.0;  // MD-LRPE: θ_m = base^{−2⌊m/N⌋N/D}
constexpr double kTpeDecay = 0.9;      // MD-TPE: the Toeplitz kernel's decay λ

}  // namespace linscope::lightnet
