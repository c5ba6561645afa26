#include "core/io/half.h"

#include <cmath>
#include <cstring>

namespace linscope::io {
namespace {
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
}  // namespace

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x3FFu;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24 is exact in float32 (mant < 2^10).
    const float mag = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -mag : mag;
  }
  if (exp == 0x1F) {
    // Inf keeps a zero mantissa; NaN keeps its payload (shifted into the f32 mantissa) so that
    // a NaN stays a NaN.
    return from_bits(sign | 0x7F800000u | (mant << 13));
  }
  // Normal: rebias the exponent from 15 to 127, widen the mantissa from 10 to 23 bits.
  return from_bits(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

float bf16_to_f32(uint16_t b) {
  return from_bits(static_cast<uint32_t>(b) << 16);
}

}  // namespace linscope::io
